"""The log store's errors; ``str(error)`` is the message AWS would send."""

from __future__ import annotations


class LogStoreError(Exception):
    """Base of the store's errors; ``str(error)`` is AWS's message."""


class NotFound(LogStoreError):
    """The named log group, stream or metric filter does not exist."""


class AlreadyExists(LogStoreError):
    """The named log group or stream already exists."""


class InvalidRequest(LogStoreError):
    """The request breaks a rule (InvalidParameterException)."""


class LimitExceeded(LogStoreError):
    """A per-group quota is full (LimitExceededException)."""
