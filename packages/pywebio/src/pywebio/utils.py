"""Small helpers shared by the session layer and the platform module."""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import socket
import string
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "ObjectDict",
    "get_free_port",
    "get_function_attr",
    "get_function_doc",
    "get_function_name",
    "iscoroutinefunction",
    "isgeneratorfunction",
    "parse_file_size",
    "random_str",
    "strip_space",
    "wait_host_port",
]

_ALPHABET = string.ascii_letters + string.digits
_rng = random.SystemRandom()


def random_str(length: int = 16) -> str:
    """A random string of ASCII letters and digits (not for secrets shorter than ~22 chars)."""
    return "".join(_rng.choices(_ALPHABET, k=length))


_SIZE_UNITS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_file_size(size: int | float | str) -> int:
    """Bytes from an int or a string like ``'200M'``, ``'1.5k'``, ``'40KB'`` (units of 1024).

    :raises ValueError: for a string that is not a number with an optional K/M/G/T/P suffix.
    """
    if isinstance(size, bool):
        raise ValueError(f"not a size: {size!r}")
    if isinstance(size, (int, float)):
        return int(size)
    text = str(size).strip().lower().replace("b", "")
    power = 0
    if text and text[-1] in _SIZE_UNITS:
        power = _SIZE_UNITS[text[-1]]
        text = text[:-1]
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"not a size: {size!r} (use e.g. 500, '40K', '3M', '1G')") from None
    if number < 0:
        raise ValueError(f"a size cannot be negative: {size!r}")
    return int(number * 1024**power)


def _unwrap(func: Any) -> Any:
    while isinstance(func, functools.partial):
        func = func.func
    return func


def iscoroutinefunction(func: Any) -> bool:
    """Whether ``func`` (looking through ``functools.partial``) is an ``async def`` function."""
    return inspect.iscoroutinefunction(_unwrap(func))


def isgeneratorfunction(func: Any) -> bool:
    """Whether ``func`` (looking through ``functools.partial``) is a generator function."""
    return inspect.isgeneratorfunction(_unwrap(func))


def get_function_name(func: Any, default: str | None = None) -> str:
    """The ``__name__`` of ``func`` (looking through partials), else ``default`` or ``'func'``."""
    name = getattr(_unwrap(func), "__name__", None)
    return name if isinstance(name, str) else (default or "func")


def get_function_doc(func: Any) -> str:
    """The docstring of ``func`` (looking through partials), or ``''``."""
    return inspect.getdoc(_unwrap(func)) or ""


def get_function_attr(func: Any, attrs: list[str]) -> dict[str, Any]:
    """The named attributes that ``func`` or the function it wraps carries (first found wins)."""
    found: dict[str, Any] = {}
    seen: set[int] = set()
    obj: Any = func
    while obj is not None and id(obj) not in seen:
        seen.add(id(obj))
        for attr in attrs:
            if attr not in found and hasattr(obj, attr):
                found[attr] = getattr(obj, attr)
        obj = obj.func if isinstance(obj, functools.partial) else getattr(obj, "__wrapped__", None)
    return found


def strip_space(text: str, n: int) -> str:
    """Remove up to ``n`` leading spaces from every line but the first."""
    lines = text.splitlines()
    out = [lines[0]] if lines else []
    for line in lines[1:]:
        stripped = line.lstrip(" ")
        out.append(line[min(n, len(line) - len(stripped)) :])
    return "\n".join(out)


class ObjectDict(dict[str, Any]):
    """A dict whose keys are also attributes; a missing attribute is ``None``."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        self.pop(name, None)


def get_free_port(host: str = "") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_host_port(host: str, port: int, duration: float = 10, delay: float = 0.05) -> bool:
    """Poll until ``host:port`` accepts TCP connections (True) or ``duration`` passes (False)."""
    host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=delay * 10):
                return True
        except OSError:
            time.sleep(delay)
    return False


def run_as_function(gen: Any) -> Any:
    """Run a generator to completion, sending each yielded value back in; return its value."""
    res = None
    while True:
        try:
            res = gen.send(res)
        except StopIteration as e:
            return e.value


async def to_coroutine(gen: Any) -> Any:
    """Drive a generator from a coroutine: each yielded awaitable is awaited and its result sent in."""
    res: Any = None
    exc: BaseException | None = None
    while True:
        try:
            yielded = gen.throw(exc) if exc is not None else gen.send(res)
        except StopIteration as e:
            return e.value
        exc = None
        try:
            res = await yielded if inspect.isawaitable(yielded) else yielded
        except (Exception, asyncio.CancelledError) as e:  # hand it to the generator
            res, exc = None, e


def catch_exp_call(func: Callable[[], Any], logger: Any) -> Any:
    """Call ``func()``, logging (not raising) any exception."""
    try:
        return func()
    except Exception:
        logger.exception("error in %s", get_function_name(func))
        return None
