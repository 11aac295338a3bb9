"""Heron: a serverless real-time messaging backend with its own monitoring and alerting."""

__version__ = "0.1.0"

__all__ = ["__version__"]
