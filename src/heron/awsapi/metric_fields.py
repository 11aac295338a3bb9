"""Checks of the metric members CloudWatch's metric operations share, with CloudWatch's messages."""

from __future__ import annotations

import itertools
import math
from typing import Any

from heron.awsapi.errors import constraint, invalid, missing
from heron.monitor.metrics import model
from heron.types import Dimensions

#: StandardUnit in the API model's order (used in enum-constraint messages).
UNIT_ENUM = (*model.UNITS[1:], "None")
_FORBIDDEN = ("\x00", "\x01")


def check_length(value: str, path: str, low: int, high: int) -> None:
    """Refuse a string shorter than ``low`` or longer than ``high`` (member ``path``)."""
    if len(value) < low:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {low}"
        )
    if len(value) > high:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {high}"
        )


def string_member(value: Any, name: str, path: str, high: int) -> str:
    """A required string parameter ``name``: present, a string, 1 to ``high`` characters."""
    if value is None:
        raise missing(name)
    if not isinstance(value, str):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    check_length(value, path, 1, high)
    if any(c in value for c in _FORBIDDEN):
        raise invalid(f"The value {value!r} for parameter {name} is invalid.")
    return value


def namespace_member(value: Any, *, public: bool) -> str:
    """A Namespace; ``public`` refuses the ``AWS/`` namespaces, as PutMetricData does."""
    ns = string_member(value, "Namespace", "namespace", 255)
    if ns.startswith(":"):
        raise constraint(
            f"Value '{ns}' at 'namespace' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [^:].*"
        )
    if not ns.isascii() or (public and ns.startswith("AWS/")):
        raise invalid(f"The value {ns} for parameter Namespace is invalid.")
    return ns


def unit_member(value: Any, path: str) -> int:
    """A StandardUnit's code in the metric model (0 when absent)."""
    if value is None:
        return 0
    code = model.UNIT_CODES.get(value) if isinstance(value, str) else None
    if code is None:
        raise constraint(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(UNIT_ENUM)}]"
        )
    return code


def dimensions_member(raw: Any, name: str, path: str) -> Dimensions:
    """Validated, sorted dimensions of a metric (``name`` is the query-style member path)."""
    if not raw:
        return ()
    if len(raw) > model.MAX_DIMENSIONS:
        raise constraint(
            f"Value at '{path}' failed to satisfy constraint: Member must have length "
            f"less than or equal to {model.MAX_DIMENSIONS}"
        )
    pairs = []
    for j, dim in enumerate(raw, 1):
        dim_name = string_member(
            dim.get("Name"), f"{name}.member.{j}.Name", f"{path}.{j}.member.name", 255
        )
        dim_value = string_member(
            dim.get("Value"), f"{name}.member.{j}.Value", f"{path}.{j}.member.value", 1024
        )
        if dim_name.startswith(":") or not dim_name.isascii():
            raise invalid(f"The value {dim_name} for parameter {name}.member.{j}.Name is invalid.")
        pairs.append((dim_name, dim_value))
    pairs.sort()
    for (a, _), (b, _) in itertools.pairwise(pairs):
        if a == b:  # [Inferred] wording
            raise invalid(f"The dimension {a} is duplicated in parameter {name}.")
    return tuple(pairs)


def number_member(value: Any, name: str) -> float:
    """A datapoint value: finite, within +-2**360."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    v = float(value)
    if v != v or v > model.MAX_MAGNITUDE or v < -model.MAX_MAGNITUDE:
        if v != v:
            shown = "NaN"
        elif math.isinf(v):
            shown = "Infinity" if v > 0 else "-Infinity"
        else:
            shown = repr(v)
        raise invalid(f"The value {shown} for parameter {name} is invalid.")
    return v
