"""The one JSON codec: what it encodes, how it fails."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal

import msgspec
import pytest

from wirecore import codec


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class User(msgspec.Struct):
    id: uuid.UUID
    joined: dt.datetime
    tags: list[str] = []


def test_encodes_the_common_python_types() -> None:
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    when = dt.datetime(2026, 11, 21, 12, 30, tzinfo=dt.UTC)
    data = {
        "point": Point(1, 2),
        "user": User(uid, when, ["a"]),
        "day": dt.date(2026, 11, 21),
        "price": Decimal("1.50"),
        "colour": Colour.RED,
        "set": [1, 2],
    }
    assert codec.decode(codec.encode(data)) == {
        "point": {"x": 1, "y": 2},
        "user": {"id": str(uid), "joined": "2026-11-21T12:30:00Z", "tags": ["a"]},
        "day": "2026-11-21",
        "price": "1.50",
        "colour": "red",
        "set": [1, 2],
    }
    assert codec.encode_str({"a": 1}) == '{"a":1}'


def test_typed_decoding_round_trips_structs() -> None:
    uid = uuid.uuid4()
    raw = codec.encode(User(uid, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    user = codec.decode(raw, User)
    assert user.id == uid and user.joined.year == 2026


def test_unencodable_values_raise_instead_of_being_stringified() -> None:
    with pytest.raises(codec.EncodeError):
        codec.encode({"f": object()})


def test_malformed_and_mismatched_json_raise_distinct_errors() -> None:
    with pytest.raises(codec.DecodeError) as malformed:
        codec.decode(b'{"a": ')
    assert not isinstance(malformed.value, codec.ValidationError)
    with pytest.raises(codec.ValidationError):
        codec.decode(b'{"id": "not-a-uuid", "joined": "x"}', User)


def test_any_mapping_encodes_as_an_object() -> None:
    from types import MappingProxyType

    assert codec.decode(codec.encode({"a": MappingProxyType({"b": [1]})})) == {"a": {"b": [1]}}
    with pytest.raises(codec.EncodeError, match="not JSON serializable"):
        codec.encode({"a": object()})
