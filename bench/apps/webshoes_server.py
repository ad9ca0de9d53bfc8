"""The webshoes benchmark server: the same script for this repository's webshoes and the original.

    python bench/apps/webshoes_server.py --port 8000                                  # ours
    bench/.venvs/webshoes-1.0.0/bin/python bench/apps/webshoes_server.py --port 8000   # the original

It uses only the API both implementations share (the README's): group ``cmd`` registered with
``register('cmd', 'cmd', 'q', 'evt', 'r', {...})``, plain (sync) handlers, ``ctx.wsa.triggerEvent``
from a thread of its own. Handlers:

- ``add``: ``{"result": int(q.a) + int(q.b)}``, as in the README; ``addasync``: the same as an
  ``async def`` (a diagnostic: ours runs plain handlers in a thread pool, the original on its loop);
- ``fire``: starts a thread that calls ``triggerEvent(q.name, data)`` ``q.count`` times, ``data``
  being ``{"n": i, "data": "x" * q.size}`` (the last one also has ``"last": true``), ``q.gap_us``
  microseconds apart (default 0: as fast as it can); returns at once;
- ``fired``: when the last ``fire`` thread called ``triggerEvent`` first and last (``time.monotonic()``,
  the same clock in every process on the machine) and how many times.

Once the port accepts connections it prints ``READY <port> <implementation>``; SIGINT or SIGTERM
stops it (the original's ``stop()`` may wait up to a minute for open WebSockets, so it is given
two seconds and the process then ends anyway).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

import webshoes as ws

_state: dict[str, Any] = {"first": None, "last": None, "count": 0, "running": False}
_lock = threading.Lock()


def cmd_add(ctx: Any, q: Any) -> dict[str, Any]:
    return {"result": int(q.a) + int(q.b)}


async def cmd_add_async(ctx: Any, q: Any) -> dict[str, Any]:
    return {"result": int(q.a) + int(q.b)}


def _fire(wsa: Any, name: str, count: int, size: int, gap: float) -> None:
    pad = "x" * size
    trigger = wsa.triggerEvent
    first = time.monotonic()
    for i in range(count - 1):
        trigger(name, {"n": i, "data": pad})
        if gap:
            time.sleep(gap)
    trigger(name, {"n": count - 1, "data": pad, "last": True})
    last = time.monotonic()
    with _lock:
        _state.update(first=first, last=last, count=count, running=False)


def cmd_fire(ctx: Any, q: Any) -> dict[str, Any]:
    count, size = int(q.count), int(q.size)
    name = str(q.name) if q.name else "tick"
    gap = int(q.gap_us) / 1e6 if q.gap_us else 0.0
    with _lock:
        if _state["running"]:
            return {"error": "already firing"}
        _state.update(first=None, last=None, count=0, running=True)
    threading.Thread(target=_fire, args=(ctx.wsa, name, count, size, gap), daemon=True).start()
    return {"started": count}


def cmd_fired(ctx: Any, q: Any) -> dict[str, Any]:
    with _lock:
        return dict(_state)


def implementation() -> str:
    version = getattr(ws, "__version__", "?")
    where = "installed" if "site-packages" in (ws.__file__ or "") else "this repository"
    return f"webshoes-{version} ({where})"


def wait_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()

    wsa = ws.WebShoesApp(args.host, args.port, {"verbose": False})
    wsa.register(
        "cmd",
        "cmd",
        "q",
        "evt",
        "r",
        {"add": cmd_add, "addasync": cmd_add_async, "fire": cmd_fire, "fired": cmd_fired},
    )
    wsa.start()  # ours returns once bound; the original at once, binding in its thread
    if not wait_port(args.host, args.port, 30):
        print(f"FAILED: nothing listens on {args.host}:{args.port}", flush=True)
        os._exit(1)
    print(f"READY {args.port} {implementation()}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    stopper = threading.Thread(target=wsa.stop, daemon=True)
    stopper.start()
    stopper.join(2.0)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
