"""Fixtures for the dashboard tests (defined in ``helpers`` and, for the browser, ``browser``)."""

from .browser import demo, driver
from .helpers import client, setup

__all__ = ["client", "demo", "driver", "setup"]
