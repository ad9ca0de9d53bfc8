"""``Bag``: the attribute-dict handlers receive as ``q`` (their arguments) and ``ctx``.

``q.a`` and ``q["a"]`` are the same value. A nested dict comes back as a ``Bag`` over the same
storage, so ``q.user.name = "x"`` changes the dict the Bag wraps. A Bag wraps the dict it is given
without copying it (``as_dict()`` returns that very dict): the ``opts`` dict passed to
:class:`~webshoes.WebShoesApp` is shared, as ``ctx.opts``, by every handler.

A missing key reads as a placeholder that is falsy and equal to nothing, so ``if q.name:`` and
``q.name == "x"`` work without ``KeyError``; turning it into a string or a number raises (a
handler that needs the value fails loudly instead of computing with ``""``). Assigning through it
creates the path: ``q.a.b = 1`` makes ``{"a": {"b": 1}}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from wirecore import codec

__all__ = ["Bag", "Missing"]


class Missing:
    """What a missing key of a :class:`Bag` reads as."""

    __slots__ = ("_bag", "_path")

    _bag: Bag
    _path: tuple[str, ...]

    def __init__(self, bag: Bag, path: tuple[str, ...]) -> None:
        object.__setattr__(self, "_bag", bag)
        object.__setattr__(self, "_path", path)

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Missing:
        if name.startswith("__"):
            raise AttributeError(name)
        return Missing(self._bag, (*self._path, name))

    def __getitem__(self, name: str) -> Missing:
        return Missing(self._bag, (*self._path, name))

    def __setattr__(self, name: str, value: Any) -> None:
        target = self._bag.as_dict()
        for key in self._path:
            target = target.setdefault(key, {})
        target[name] = value

    __setitem__ = __setattr__

    def __str__(self) -> str:
        raise ValueError(f"No such key : {'.'.join(self._path)}")

    def __int__(self) -> int:
        raise TypeError(f"No such key : {'.'.join(self._path)}")

    __float__ = __int__
    __index__ = __int__

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"<missing key {'.'.join(self._path)!r}>"


class Bag(MutableMapping[str, Any]):
    """A dict seen through attributes (see the module docs).

    ``Bag()`` or ``Bag(dict_to_wrap)`` or ``Bag(key=value, ...)``.
    """

    __slots__ = ("_d",)

    def __init__(self, data: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        if isinstance(data, Bag):
            d = data._d
        elif isinstance(data, dict):
            d = data
        elif data is None:
            d = {}
        else:
            d = dict(data)
        if more:
            d.update(more)
        object.__setattr__(self, "_d", d)

    # mapping ------------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        value = self._d[key]
        return Bag(value) if type(value) is dict else value

    def __setitem__(self, key: str, value: Any) -> None:
        self._d[key] = value._d if isinstance(value, Bag) else value

    def __delitem__(self, key: str) -> None:
        del self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Bag):
            return bool(self._d == other._d)
        return bool(self._d == other) if isinstance(other, dict) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    # attributes ---------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            return Missing(self, (name,))

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._d[name]
        except KeyError:
            raise AttributeError(name) from None

    # the original's helpers -----------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """The wrapped dict itself (not a copy)."""
        d: dict[str, Any] = self._d
        return d

    def get(self, key: str, default: Any = None) -> Any:
        """``key``'s value, or ``default``; a dotted key (``"a.b"``) looks into nested dicts."""
        value: Any = self._d
        for part in key.split(".") if "." in key and key not in self._d else (key,):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return Bag(value) if type(value) is dict else value

    def exists(self, key: str) -> bool:
        """Whether ``key`` (dotted for nested dicts) is present."""
        marker = object()
        return self.get(key, marker) is not marker

    def toJson(self) -> str:
        """The wrapped dict as JSON."""
        return codec.encode(self._d).decode()

    def __str__(self) -> str:
        return self.toJson()

    def __repr__(self) -> str:
        return f"Bag({self._d!r})"
