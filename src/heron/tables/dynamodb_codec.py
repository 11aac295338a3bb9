"""Items to DynamoDB's wire format and back: the low-level client's typed AttributeValues.

Heron items are JSON-shaped (str, int, float, bool, None, list, dict); DynamoDB spells them
``{"S": ...}``, ``{"N": "..."}``, ``{"BOOL": ...}``, ``{"NULL": true}``, ``{"L": [...]}`` and
``{"M": {...}}``. Numbers travel as decimal strings; on the way back an integral number becomes
an ``int`` (DynamoDB does not keep ``3.0`` apart from ``3``) and any other a ``float``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from heron.errors import TableError
from heron.tables.base import TableSchema
from heron.types import Item, Key

#: A DynamoDB AttributeValue in the low-level client's dict form.
AttributeValue = dict[str, Any]
#: DynamoDB's scalar type letter of a key attribute.
KEY_TYPES = ("S", "N")
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def number_text(value: int | float) -> str:
    """The decimal string DynamoDB receives for a number (shortest round-trip form for floats)."""
    if isinstance(value, int):
        return str(value)
    # repr() is the shortest string that reads back as the same float, so 0.1 stays "0.1".
    return str(Decimal(repr(value)))


def parse_number(text: str) -> int | float:
    """A DynamoDB number string as an int when integral (and 64-bit), else a float."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise TableError(f"DynamoDB returned a malformed number {text!r}") from None
    if number == number.to_integral_value():
        whole = int(number)
        if _INT_MIN <= whole <= _INT_MAX:
            return whole
    return float(number)


def encode(value: Any) -> AttributeValue:
    """One validated Heron value as an AttributeValue."""
    # bool before int: True is an int in Python but a BOOL in DynamoDB.
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | float):
        return {"N": number_text(value)}
    if isinstance(value, list | tuple):
        return {"L": [encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {str(k): encode(v) for k, v in value.items()}}
    raise TypeError(f"cannot encode {type(value).__name__} for DynamoDB")


def decode(attribute: Mapping[str, Any]) -> Any:
    """One AttributeValue as a Heron value (sets become lists, binary becomes bytes)."""
    if len(attribute) != 1:
        raise TableError(f"DynamoDB returned a malformed attribute value {attribute!r}")
    ((kind, raw),) = attribute.items()
    if kind == "S":
        return raw
    if kind == "N":
        return parse_number(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [decode(v) for v in raw]
    if kind == "M":
        return {k: decode(v) for k, v in raw.items()}
    if kind == "SS":
        return list(raw)
    if kind == "NS":
        return [parse_number(v) for v in raw]
    if kind in ("B", "BS"):
        return raw if kind == "B" else list(raw)
    raise TableError(f"DynamoDB returned an unknown attribute type {kind!r}")


def type_letter(value: Any) -> str:
    """The AttributeValue type a Heron value is stored as (``S``, ``N``, ``BOOL``, ``L``...)."""
    ((kind, _),) = encode(value).items()
    return str(kind)


def encode_item(item: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """A whole item (or key) as a map of AttributeValues."""
    return {name: encode(value) for name, value in item.items()}


def decode_item(raw: Mapping[str, Mapping[str, Any]]) -> Item:
    """A map of AttributeValues as a Heron item."""
    return {name: decode(value) for name, value in raw.items()}


def key_type(value: Any) -> str:
    """The key type letter (``S`` or ``N``) a validated key value has."""
    return "S" if isinstance(value, str) else "N"


def key_of(schema: TableSchema, item: Mapping[str, Any]) -> Key:
    """The table key attributes of an item."""
    key: Key = {schema.partition_key: item[schema.partition_key]}
    if schema.sort_key:
        key[schema.sort_key] = item[schema.sort_key]
    return key


def key_attribute_types(
    schema: TableSchema, types: Mapping[str, str], default: str = "S"
) -> dict[str, str]:
    """Every key attribute of the table and its indexes, with its DynamoDB type letter."""
    names = [schema.partition_key, schema.sort_key]
    for index in schema.indexes:
        names += [index.partition_key, index.sort_key]
    out: dict[str, str] = {}
    for name in names:
        if name and name not in out:
            kind = types.get(name, default)
            if kind not in KEY_TYPES:
                raise ValueError(f"key attribute {name} must be of type S or N, got {kind!r}")
            out[name] = kind
    return out
