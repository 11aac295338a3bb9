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


# CloudWatch is awsQueryCompatible: JSON/CBOR clients see the modelled exception name, Query
# clients (and boto3, through the x-amzn-query-error header) the Query code.


def invalid(message: str) -> AwsError:
    """CloudWatch's InvalidParameterValue."""
    return AwsError("InvalidParameterValueException", message, query_code="InvalidParameterValue")


def combination(message: str) -> AwsError:
    """CloudWatch's InvalidParameterCombination."""
    return AwsError(
        "InvalidParameterCombinationException", message, query_code="InvalidParameterCombination"
    )


def missing(name: str) -> AwsError:
    """CloudWatch's MissingParameter for a required member."""
    return AwsError(
        "MissingRequiredParameterException",
        f"The parameter {name} is required.",
        query_code="MissingParameter",
    )


def constraint(problem: str) -> AwsError:
    """A model-constraint failure (length, enum) as AWS's ValidationError words it."""
    return validation_error(f"1 validation error detected: {problem}")


def limit_exceeded(message: str) -> AwsError:
    """CloudWatch's LimitExceeded (the model's LimitExceededFault)."""
    return AwsError("LimitExceededFault", message, query_code="LimitExceeded")
