"""DynamoDB attribute values to and from Python, by boto3's rules, without boto3.

The clients are botocore's (see aws_clients): boto3 would add nothing to them, and
importing it costs every cold start tens of milliseconds, since its package imports
s3transfer and, through that, multiprocessing. It would be imported only for its
TypeSerializer and TypeDeserializer, so these two functions follow their rules exactly
(tests/unit/test_attribute_values.py compares them on generated values):

- numbers are int or Decimal, held to DynamoDB's 38 digits and exponent range with
  nothing rounded; a float is refused, as is infinity or NaN; numbers read back are
  Decimal;
- a set is a number, string or binary set by its members (an empty one is a number
  set, which DynamoDB itself refuses);
- binary is read back as bytes, where boto3 wraps it in its `Binary` (`bytes()` of either
  is the same).
"""

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

# What DynamoDB stores: 38 significant digits, exponents from -128 to 126; any value
# that would not fit exactly is an error, never rounded.
_NUMBERS = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
_BINARY = (bytes, bytearray)


def _number(value: int | Decimal) -> str:
    text = str(_NUMBERS.create_decimal(value))
    if text in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return text


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def serialize(value: Any) -> dict[str, Any]:
    """One attribute value, e.g. `{"S": "org_acme"}` for "org_acme"."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, _BINARY):
        return {"B": value}
    if isinstance(value, AbstractSet):
        if all(_is_number(member) for member in value):
            return {"NS": [_number(member) for member in value]}
        if all(isinstance(member, str) for member in value):
            return {"SS": list(value)}
        if all(isinstance(member, _BINARY) for member in value):
            return {"BS": list(value)}
    if isinstance(value, Mapping):
        return {"M": {key: serialize(member) for key, member in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(member) for member in value]}
    raise TypeError(f"Unsupported type {type(value)} for value {value!r}")


def deserialize(value: Mapping[str, Any]) -> Any:
    """The Python value of one attribute value (its first, and only, type key)."""
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind, data = next(iter(value.items()))
    match kind:
        case "NULL":
            return None
        case "BOOL" | "S" | "B":
            return data
        case "N":
            return _NUMBERS.create_decimal(data)
        case "SS" | "BS":
            return set(data)
        case "NS":
            return {_NUMBERS.create_decimal(member) for member in data}
        case "L":
            return [deserialize(member) for member in data]
        case "M":
            return {key: deserialize(member) for key, member in data.items()}
    raise TypeError(f"Dynamodb type {kind} is not supported")
