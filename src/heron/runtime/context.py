"""The Lambda context object handed to handlers, with the fields and method AWS's Python runtime has.

Lives in the child worker, so it imports nothing beyond the standard library's ``time``.
"""

from __future__ import annotations

import time
from typing import Any


def function_arn(region: str, account_id: str, function_name: str) -> str:
    """The unqualified ARN Lambda reports as ``invoked_function_arn`` for a by-name invoke."""
    return f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"


class LambdaContext:
    """What ``handler(event, context)`` receives: identity of the function and of this request.

    ``identity`` and ``client_context`` are ``None`` as they are on AWS outside the mobile SDKs.
    """

    __slots__ = (
        "_deadline_ms",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(
        self,
        *,
        aws_request_id: str,
        deadline_ms: int,
        function_name: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        log_group_name: str,
        log_stream_name: str,
        function_version: str = "$LATEST",
    ) -> None:
        self.aws_request_id = aws_request_id
        self._deadline_ms = deadline_ms
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        # AWS's runtime exposes the memory size as a string (it comes from an environment variable),
        # but documents it as the configured memory in MB; an int is what handlers compare against.
        self.memory_limit_in_mb = memory_limit_in_mb
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out; never negative."""
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r}, "
            f"remaining_ms={self.get_remaining_time_in_millis()})"
        )
