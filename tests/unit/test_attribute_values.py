"""The layer's attribute values against boto3's TypeSerializer and TypeDeserializer: the
same wire format for every value the tables hold, the same values read back, the same
refusals. boto3 is the independent implementation here (the layer no longer imports it)."""

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_log.attribute_values import deserialize, serialize

_boto3_out: Any = TypeSerializer().serialize  # typed with the stubs' TypedDicts
_boto3_in: Any = TypeDeserializer().deserialize

# Numbers DynamoDB stores exactly: up to 38 digits, exponents within its range.
numbers = st.one_of(
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda value: len(value.as_tuple().digits) <= 38 and -120 <= value.adjusted() <= 120
    ),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(), st.binary())
sets = st.one_of(
    st.frozensets(st.text(), min_size=1),
    st.frozensets(st.integers(min_value=-(10**20), max_value=10**20), min_size=1),
    st.frozensets(st.binary(), min_size=1),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)),
    max_leaves=12,
)


def comparable(wire: dict[str, Any]) -> dict[str, Any]:
    """Set members come in no particular order; lists and maps recursively alike."""
    ((kind, data),) = wire.items()
    if kind in ("SS", "NS", "BS"):
        return {kind: sorted(data)}
    if kind == "L":
        return {kind: [comparable(member) for member in data]}
    if kind == "M":
        return {kind: {key: comparable(member) for key, member in data.items()}}
    return wire


def typed(value: Any) -> Any:
    """A value with the type of every part spelt out (boto3's Binary counted as bytes), so
    that equal-comparing values of different types (1 and Decimal(1)) do not pass."""
    if isinstance(value, Binary):
        value = value.__bytes__()  # what bytes() of a Binary gives
    if isinstance(value, dict):
        return ("dict", {key: typed(member) for key, member in value.items()})
    if isinstance(value, list):
        return ("list", [typed(member) for member in value])
    if isinstance(value, set):
        return ("set", sorted((typed(member) for member in value), key=repr))
    return (type(value).__name__, value)


@settings(max_examples=400)
@given(values)
def test_values_are_written_as_boto3_writes_them(value: Any) -> None:
    assert comparable(serialize(value)) == comparable(_boto3_out(value))


@settings(max_examples=400)
@given(values)
def test_values_read_back_as_boto3_reads_them(value: Any) -> None:
    wire = _boto3_out(value)
    assert typed(deserialize(wire)) == typed(_boto3_in(wire))


def test_numbers_come_back_as_decimals_and_binary_as_bytes() -> None:
    assert deserialize({"N": "12"}) == Decimal(12) and isinstance(deserialize({"N": "12"}), Decimal)
    assert deserialize({"B": b"\x00\x01"}) == b"\x00\x01"
    assert bytes(deserialize({"B": b"\x00"})) == bytes(_boto3_in({"B": b"\x00"}))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(1.5, id="float"),
        pytest.param([1.0], id="float in a list"),
        pytest.param({"a": 0.1}, id="float in a map"),
        pytest.param(Decimal("Infinity"), id="infinity"),
        pytest.param(Decimal("NaN"), id="NaN"),
        pytest.param(Decimal("1E+200"), id="exponent beyond DynamoDB's"),
        pytest.param(Decimal("1." + "1" * 40), id="41 digits, would be rounded"),
        pytest.param(object(), id="an object"),
        pytest.param(frozenset({1, "a"}), id="a set of mixed members"),
    ],
)
def test_what_boto3_refuses_is_refused(value: Any) -> None:
    with pytest.raises((TypeError, ArithmeticError)) as theirs:  # decimal errors are ArithmeticErrors
        _boto3_out(value)
    with pytest.raises(type(theirs.value)):
        serialize(value)


@pytest.mark.parametrize("wire", [{}, {"X": "1"}], ids=["empty", "unknown type"])
def test_unknown_wire_values_are_refused(wire: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        _boto3_in(wire)
    with pytest.raises(TypeError):
        deserialize(wire)
