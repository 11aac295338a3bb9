"""Fixtures for the gateway tests (helpers live in gateway_support, a uniquely named module)."""

from gateway_support import live_factory

__all__ = ["live_factory"]
