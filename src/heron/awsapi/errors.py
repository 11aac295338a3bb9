"""AWS-shaped API errors: what an operation raises and the protocol layer renders."""

from __future__ import annotations


class AwsError(Exception):
    """An error answered the way the AWS service answers it.

    ``code`` is the service's error code as clients see it (``InvalidParameterValue``,
    ``ResourceNotFoundException``, ...); ``status`` the HTTP status; ``sender`` whether the fault
    is the caller's (``Sender``) or the service's (``Receiver``). For CloudWatch's
    awsQueryCompatible errors ``query_code`` is the Query-protocol code and ``code`` the modelled
    exception name (e.g. ``InvalidParameterValueException``); set both.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        sender: bool = True,
        query_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.query_code = query_code


def validation_error(message: str) -> AwsError:
    """A ``ValidationException`` (constraint or enum failure), as Logs and CloudWatch send it."""
    return AwsError("ValidationException", message, query_code="ValidationError")
