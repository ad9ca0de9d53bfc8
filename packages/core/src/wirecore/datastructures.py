"""Case-insensitive headers and query parameters, built lazily from the raw request."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload
from urllib.parse import parse_qsl

__all__ = ["Headers", "QueryParams", "convert"]

T = TypeVar("T")

_FALSE = frozenset({"", "0", "false", "no", "off", "f", "n"})
_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})


def _to_bool(value: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def convert(value: str, type_: Callable[[str], T]) -> T:
    """Convert a query or path string; ``bool`` understands true/false/1/0/yes/no/on/off."""
    if type_ is bool:
        return _to_bool(value)  # type: ignore[return-value]
    if type_ is str:
        return value  # type: ignore[return-value]
    return type_(value)


class _MultiMap(Mapping[str, str]):
    """An immutable multi-valued mapping; ``m[key]`` is the last value, ``getlist`` all."""

    __slots__ = ("_dict", "_items")

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = list(items)
        self._dict = dict(self._items)

    def __getitem__(self, key: str) -> str:
        return self._dict[self._key(key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._key(key) in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def _key(self, key: str) -> str:
        return key

    def getlist(self, key: str) -> list[str]:
        k = self._key(key)
        return [v for name, v in self._items if name == k]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class Headers(_MultiMap):
    """Request headers; names are case-insensitive."""

    __slots__ = ()

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def _key(self, key: str) -> str:
        return key.lower()

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str | T) -> str | T: ...
    def get(self, key: str, default: Any = None) -> Any:
        return self._dict.get(key.lower(), default)


class QueryParams(_MultiMap):
    """Decoded query-string parameters (``a=1&a=2&b=x``)."""

    __slots__ = ()

    def __init__(self, query: str | Iterable[tuple[str, str]] = "") -> None:
        if isinstance(query, str):
            super().__init__(_parse_query(query))
        else:
            super().__init__(query)


def _parse_query(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)``, with a quick path for the common query
    that has nothing to decode (no ``%`` and no ``+``)."""
    if "%" in query or "+" in query or ";" in query:
        return parse_qsl(query, keep_blank_values=True)
    items = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            items.append((name, value))
    return items
