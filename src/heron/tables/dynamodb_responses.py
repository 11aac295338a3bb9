"""What DynamoDB answers, in the protocol's terms: its errors as Heron's, its consumed capacity.

Errors: a failed condition is ``ConditionFailedError`` (as from SQLite), throttling that
outlasted the SDK's retries is ``ThrottledError``, a cancelled transaction carries its per-item
reasons, bad input is ``TableValidationError``; anything else (a missing table, refused
credentials, an unreachable endpoint) is a ``TableError`` that says what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from heron.errors import (
    ConditionFailedError,
    TableError,
    TableValidationError,
    ThrottledError,
    TransactionCanceledError,
)

THROTTLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_THROTTLE_REASONS = frozenset({"ProvisionedThroughputExceeded", "ThrottlingError"})
_VALIDATION_CODES = frozenset(
    {"ValidationException", "ItemCollectionSizeLimitExceededException", "SerializationException"}
)
AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "AccessDeniedException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
        "InvalidClientTokenId",
        "IncompleteSignatureException",
    }
)


@dataclass(frozen=True, slots=True)
class Consumed:
    """Capacity units one response reported: the base table's and each index's."""

    table: float = 0.0
    indexes: dict[str, float] = field(default_factory=dict)
    reported: bool = False

    def read_units(self, index: str | None) -> float:
        """Units a read consumed: the queried index's, else the table's."""
        if index is None:
            return self.table
        # A TOTAL-shaped report has no per-index entry; then the whole amount is the index's.
        return self.indexes.get(index, self.table + sum(self.indexes.values()))

    def plus(self, other: Consumed) -> Consumed:
        """The sum of two responses' capacity (a page read in several requests)."""
        merged = dict(self.indexes)
        for name, units in other.indexes.items():
            merged[name] = merged.get(name, 0.0) + units
        return Consumed(self.table + other.table, merged, self.reported or other.reported)


def consumed(raw: Mapping[str, Any] | None) -> Consumed:
    """Parse one ConsumedCapacity entry (TOTAL or INDEXES shape); empty when absent."""
    if not raw:
        return Consumed()
    indexes: dict[str, float] = {}
    for group in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for name, units in (raw.get(group) or {}).items():
            indexes[str(name)] = indexes.get(str(name), 0.0) + _units(units)
    total = float(raw.get("CapacityUnits") or 0.0)
    table = _units(raw["Table"]) if raw.get("Table") else max(0.0, total - sum(indexes.values()))
    return Consumed(table, indexes, True)


def consumed_by_table(raw: Any) -> dict[str, Consumed]:
    """A transaction's ConsumedCapacity list, by table name."""
    out: dict[str, Consumed] = {}
    for entry in raw or ():
        name = str(entry.get("TableName", ""))
        out[name] = out.get(name, Consumed()).plus(consumed(entry))
    return out


def _units(raw: Mapping[str, Any]) -> float:
    return float(raw.get("CapacityUnits") or 0.0)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None for any other exception."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None
    code = (response.get("Error") or {}).get("Code")
    return None if code is None else str(code)


def cancellation_reasons(exc: BaseException) -> list[str | None]:
    """A TransactionCanceledException's per-operation reason codes (None where it was fine)."""
    response = getattr(exc, "response", None) or {}
    reasons: list[str | None] = []
    for reason in response.get("CancellationReasons") or ():
        code = reason.get("Code")
        reasons.append(None if code in (None, "None") else str(code))
    return reasons


def map_error(exc: BaseException, table: str, endpoint: str) -> TableError | None:
    """The TableError a botocore exception stands for, or None if ``exc`` is not botocore's."""
    from botocore import exceptions as bce  # type: ignore[import-untyped]

    where = endpoint or "AWS"
    if isinstance(exc, bce.ClientError):
        code = error_code(exc) or "Error"
        message = str(exc.response.get("Error", {}).get("Message") or exc)
        if code == "ConditionalCheckFailedException":
            return ConditionFailedError("The conditional request failed")
        if code in THROTTLE_CODES:
            return ThrottledError(message)
        if code == "TransactionCanceledException":
            reasons = cancellation_reasons(exc)
            if not any(r == "ConditionalCheckFailed" for r in reasons) and any(
                r in _THROTTLE_REASONS for r in reasons
            ):
                return ThrottledError(message)
            return TransactionCanceledError(message, reasons)
        if code in _VALIDATION_CODES:
            return TableValidationError(message)
        if code == "ResourceNotFoundException":
            return TableError(
                f"Table {table} does not exist at {where} ({message}); "
                "create the tables with `heron tables create`"
            )
        if code in AUTH_CODES:
            return TableError(
                f"DynamoDB at {where} refused the AWS credentials: {message} ({code})"
            )
        return TableError(f"DynamoDB at {where} failed: {message} ({code})")
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return TableError(
            f"No AWS credentials for DynamoDB at {where}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
        )
    if isinstance(
        exc, bce.EndpointConnectionError | bce.ConnectTimeoutError | bce.ConnectionClosedError
    ):
        return TableError(f"Cannot reach DynamoDB at {where}: {exc}")
    if isinstance(exc, bce.BotoCoreError):
        return TableError(f"DynamoDB at {where} failed: {exc}")
    return None
