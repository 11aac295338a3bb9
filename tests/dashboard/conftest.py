"""Fixtures for the dashboard tests (defined in ``helpers``)."""

from .helpers import client, setup

__all__ = ["client", "setup"]
