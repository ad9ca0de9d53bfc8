"""The apps of the pywebio benchmark (bench/pywebio_bench.py), one script for every implementation.

    python bench/apps/pywebio_app.py --port N [--outputs 100] [--backend tornado|wirecore|...]

It runs unchanged under the original ``pywebio==1.8.4`` and under this repository's pywebio: it
uses only ``start_server``, ``put_text`` and ``hold``, as the original documents them. Served at
``/`` with ``?app=NAME``:

- ``thread``: a plain function (thread-based session) doing ``--outputs`` put_text and returning;
- ``coro``: the same as an ``async def`` (coroutine-based session);
- ``thread_hold`` / ``coro_hold``: the same, then ``hold()`` so that the session stays open until
  the browser leaves (the memory measurement).

The texts are ``line 0``, ``line 1``...: the load client checks the first and the last of every
session. ``--backend B`` serves with ``pywebio.platform.B.start_server`` instead of tornado's
(``from pywebio import start_server``): ``wirecore`` (granian; this repository's pywebio only),
``aiohttp`` and ``fastapi`` over WebSocket, ``tornado_http``, ``flask`` and ``django`` over HTTP
short polling. The original runs the ``tornado`` and ``flask`` ones.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from pywebio.output import put_text
from pywebio.session import hold

BACKENDS = ["tornado", "wirecore", "aiohttp", "fastapi", "tornado_http", "flask", "django"]


def make_apps(outputs: int) -> dict[str, Callable[..., Any]]:
    """The four apps, each doing ``outputs`` put_text."""

    def thread() -> None:
        for i in range(outputs):
            put_text(f"line {i}")

    async def coro() -> None:
        for i in range(outputs):
            put_text(f"line {i}")

    def thread_hold() -> None:
        for i in range(outputs):
            put_text(f"line {i}")
        hold()

    async def coro_hold() -> None:
        for i in range(outputs):
            put_text(f"line {i}")
        await hold()

    return {
        "index": thread,
        "thread": thread,
        "coro": coro,
        "thread_hold": thread_hold,
        "coro_hold": coro_hold,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--outputs", type=int, default=100, help="put_text calls per session")
    p.add_argument("--backend", choices=BACKENDS, default="tornado")
    args = p.parse_args()
    # the default backend is the original's ``from pywebio import start_server``
    platform = importlib.import_module(
        "pywebio" if args.backend == "tornado" else f"pywebio.platform.{args.backend}"
    )
    platform.start_server(make_apps(args.outputs), port=args.port, host=args.host, cdn=False)


if __name__ == "__main__":
    main()
