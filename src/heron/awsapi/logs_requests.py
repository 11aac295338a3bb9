"""Request checks, paging and error translation shared by the CloudWatch Logs operations."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import orjson

from heron.awsapi.errors import AwsError
from heron.monitor.logs.metric_filters import FilterDefinitionError
from heron.monitor.logs.patterns import PatternError
from heron.monitor.logs.store import AlreadyExists, InvalidRequest, LimitExceeded, NotFound

Handler = Callable[[dict[str, Any]], dict[str, Any]]

#: Name patterns from the Logs API model (GROUP_PATTERN is how error messages spell it).
GROUP_RE = re.compile(r"[\.\-_/#A-Za-z0-9]+")
GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
STREAM_RE = re.compile(r"[^:*]*")
FILTER_NAME_RE = re.compile(r"[^:*]*")
METRIC_NAME_RE = re.compile(r"[^:*$]*")


def invalid(message: str) -> AwsError:
    """An ``InvalidParameterException``."""
    return AwsError("InvalidParameterException", message)


class Checks:
    """Collects AWS-style constraint violations and raises them together."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.errors: list[str] = []

    def group_name(self) -> str | None:
        """The required ``logGroupName``, checked against the log-group name pattern."""
        return self.string("logGroupName", required=True, regex=GROUP_RE, regex_text=GROUP_PATTERN)

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        low: int = 1,
        high: int = 512,
        regex: re.Pattern[str] | None = None,
        regex_text: str | None = None,
    ) -> str | None:
        """The string member ``name`` (None if absent or not a string), its violations noted."""
        value = self._member(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.errors.append(f"Value at '{name}' failed to satisfy constraint: must be a string")
            return None
        if regex is not None and not regex.fullmatch(value):
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy "
                f"regular expression pattern: {regex_text or regex.pattern}"
            )
        if len(value) < low:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"length greater than or equal to {low}"
            )
        elif len(value) > high:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"length less than or equal to {high}"
            )
        return value

    def integer(self, name: str, low: int, high: int, *, required: bool = False) -> int | None:
        """The integer member ``name`` (None if absent or not an integer), its violations noted."""
        value = self._member(name, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.errors.append(f"Value '{value}' at '{name}' failed to satisfy constraint: integer")
            return None
        if value < low:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"value greater than or equal to {low}"
            )
        elif value > high:
            self.errors.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must have "
                f"value less than or equal to {high}"
            )
        return value

    def _member(self, name: str, required: bool) -> Any:
        """The member ``name`` as sent; a required one that is absent is noted."""
        value = self.request.get(name)
        if value is None and required:
            self.errors.append(
                f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
            )
        return value

    def done(self) -> None:
        """Raise every violation noted so far as one InvalidParameterException."""
        if self.errors:
            n = len(self.errors)
            raise invalid(
                f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(self.errors)
            )


def group_name_of(request: dict[str, Any]) -> str:
    """``logGroupName`` or ``logGroupIdentifier`` (name or ARN), validated."""
    ident = request.get("logGroupIdentifier")
    if ident is not None and request.get("logGroupName") is not None:
        raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if isinstance(ident, str) and ident.startswith("arn:"):
        parts = ident.split(":")
        if len(parts) < 7 or parts[5] != "log-group":
            raise invalid("Invalid logGroupIdentifier")
        return parts[6]
    checks = Checks(request)
    field = "logGroupIdentifier" if ident is not None else "logGroupName"
    name = checks.string(field, required=True, regex=GROUP_RE, regex_text=GROUP_PATTERN)
    checks.done()
    assert name is not None
    return name


def _encode_token(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


def _decode_token(token: str | None) -> Any:
    if token is None:
        return None
    try:
        return orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise invalid("The specified nextToken is invalid.") from exc


def page_items(
    items: list[Any], key: Callable[[Any], Any], token: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """Page a sorted list, starting after the item whose key the token names."""
    after = _decode_token(token)
    start = 0
    if after is not None:
        start = next((n + 1 for n, item in enumerate(items) if key(item) == after), 0)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, (_encode_token(key(page[-1])) if more and page else None)


def store_call(fn: Callable[[], Any]) -> Any:
    """Run a store call and translate its errors into AWS's."""
    try:
        return fn()
    except NotFound as exc:
        raise AwsError("ResourceNotFoundException", str(exc)) from exc
    except AlreadyExists as exc:
        raise AwsError("ResourceAlreadyExistsException", str(exc)) from exc
    except LimitExceeded as exc:
        raise AwsError("LimitExceededException", str(exc)) from exc
    except InvalidRequest as exc:
        raise invalid(str(exc)) from exc
    except FilterDefinitionError as exc:
        raise invalid(str(exc)) from exc
    except PatternError as exc:
        raise invalid(str(exc)) from exc
