"""The one JSON codec every package uses: msgspec, created once.

msgspec encodes dicts, lists, dataclasses, ``msgspec.Struct``, ``datetime``, ``UUID``,
``Decimal`` and enums natively, and any other ``Mapping`` as an object; anything else raises
:class:`EncodeError` instead of being silently stringified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, overload

import msgspec

__all__ = ["DecodeError", "EncodeError", "ValidationError", "decode", "encode", "encode_str"]

T = TypeVar("T")

EncodeError = TypeError
"""Raised by :func:`encode` for a value msgspec cannot encode (a ``TypeError``)."""
DecodeError = msgspec.DecodeError
"""Raised by :func:`decode` for malformed JSON or JSON that does not match the type."""
ValidationError = msgspec.ValidationError
"""The :class:`DecodeError` subclass for well-formed JSON that does not match the type."""



def _fallback(obj: Any) -> Any:
    """What msgspec cannot encode by itself: mappings (attribute-dicts and the like) as dicts."""
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_encoder = msgspec.json.Encoder(enc_hook=_fallback)
_decoder = msgspec.json.Decoder()
_typed_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}

encode = _encoder.encode
"""Encode ``obj`` to JSON bytes."""


def encode_str(obj: Any) -> str:
    """Encode ``obj`` to a JSON ``str``."""
    return _encoder.encode(obj).decode()


@overload
def decode(data: bytes | str) -> Any: ...
@overload
def decode(data: bytes | str, type: type[T]) -> T: ...
def decode(data: bytes | str, type: Any = None) -> Any:
    """Decode JSON; with ``type``, validate and convert into that type."""
    if type is None:
        return _decoder.decode(data)
    dec = _typed_decoders.get(type)
    if dec is None:
        dec = _typed_decoders[type] = msgspec.json.Decoder(type)
    return dec.decode(data)
