"""Heron's exception tree, one base per layer; errors carry the data a caller needs.

HeronError
├── ConfigError                  a setting or function declaration is invalid
├── TableError                   the tables layer
│   ├── ConditionFailedError     a conditional write's condition did not hold
│   ├── ThrottledError           provisioned capacity exceeded (ProvisionedThroughputExceededException)
│   ├── TransactionCanceledError a transactional write was cancelled
│   └── TableValidationError     an item or request breaks DynamoDB's rules
├── RuntimeLayerError            the Lambda runtime emulation
│   ├── FunctionNotFoundError    no function with that name is declared
│   └── TooManyRequestsError     concurrency exhausted (TooManyRequestsException, carries reason)
└── GoneError                    a WebSocket connection no longer exists (GoneException, 410)
"""

from __future__ import annotations


class HeronError(Exception):
    """Base of every error Heron raises on purpose."""


class ConfigError(HeronError):
    """A setting, config file or function declaration is invalid; the message names it."""


class TableError(HeronError):
    """Base of errors from the tables layer."""

    code = "InternalServerError"


class ConditionFailedError(TableError):
    """A conditional write's condition did not hold; nothing was written."""

    code = "ConditionalCheckFailedException"


class ThrottledError(TableError):
    """The table's provisioned capacity is exhausted; nothing was done."""

    code = "ProvisionedThroughputExceededException"


class TransactionCanceledError(TableError):
    """A transactional write was cancelled; ``reasons`` holds one code (or None) per operation."""

    code = "TransactionCanceledException"

    def __init__(self, message: str, reasons: list[str | None]) -> None:
        super().__init__(message)
        self.reasons = reasons


class TableValidationError(TableError):
    """An item or request breaks DynamoDB's rules (size, key shape, reserved values)."""

    code = "ValidationException"


class RuntimeLayerError(HeronError):
    """Base of errors from the Lambda runtime emulation."""


class FunctionNotFoundError(RuntimeLayerError):
    """No function with the given name is declared."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Function not found: {name}")
        self.name = name


class TooManyRequestsError(RuntimeLayerError):
    """The invocation was throttled; ``reason`` is one of Lambda's documented reasons."""

    def __init__(self, function: str, reason: str) -> None:
        super().__init__(f"Rate Exceeded. ({reason}) for function {function}")
        self.function = function
        self.reason = reason


class GoneError(HeronError):
    """The WebSocket connection does not exist (any more): API Gateway's GoneException, HTTP 410."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"Connection {connection_id} is gone")
        self.connection_id = connection_id
