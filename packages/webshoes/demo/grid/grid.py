"""A 10x10 grid of digits shared by every browser tab.

Run ``python3 demo/grid/grid.py [--port N]`` and open http://127.0.0.1:12909/site/squares.html in a
few tabs: clicking a cell bumps its digit (0-9) on the server, which pushes the new grid to every
subscribed tab through the ``matrixUpdate`` event.
"""

from __future__ import annotations

import argparse
import threading
import uuid
from pathlib import Path
from typing import Any

import webshoes

DEFAULT_PORT = 12909
SITE = Path(__file__).resolve().parent / "site"
INSTANCE = uuid.uuid4().hex
EVENT = "matrixUpdate"

# Sync handlers run in a thread pool: read-modify-write of the matrix happens under this lock.
_lock = threading.Lock()


def cmdHeartbeat(ctx: Any, q: Any) -> dict[str, Any]:
    return {"id": INSTANCE, "info": webshoes.__info__}


def cmdGetMatrix(ctx: Any, q: Any) -> dict[str, Any]:
    with _lock:
        return {"m": ctx.opts.m}


def cmdIncMatrix(ctx: Any, q: Any) -> dict[str, Any]:
    args = q.as_dict()
    if "x" not in args or "y" not in args:
        raise ValueError("incMatrix needs x and y")
    x, y = int(args["x"]), int(args["y"])
    w, h = int(ctx.opts.w), int(ctx.opts.h)
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError("cell out of range")
    with _lock:
        m = ctx.opts.m
        i = y * w + x
        m = m[:i] + str((int(m[i]) + 1) % 10) + m[i + 1 :]
        ctx.opts.m = m
        # Triggered under the lock so the event versions follow the order of the updates.
        ctx.wsa.triggerEvent(EVENT, {"m": m})
    return {"m": m}


def make_app(port: int = DEFAULT_PORT, addr: str = "127.0.0.1") -> webshoes.WebShoesApp:
    """The demo's server, configured but not started."""
    opts: dict[str, Any] = {"w": 10, "h": 10, "m": "0" * 100}
    app = webshoes.WebShoesApp(addr, port, opts)
    app.register("webshoes", "", "", "", "", {"*": {"root": webshoes.libPath("web")}})
    app.register("site", "", "", "", "", {"*": {"root": str(SITE), "defpage": "squares.html"}})
    app.register(
        "api",
        "cmd",
        "q",
        "evt",
        "r",
        {"heartbeat": cmdHeartbeat, "getMatrix": cmdGetMatrix, "incMatrix": cmdIncMatrix},
    )
    # Prime the event: webshoes keeps an event's latest value (also across start/stop), so every
    # tab gets the grid the moment it subscribes.
    app.triggerEvent(EVENT, {"m": opts["m"]})
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="webshoes grid demo")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    args = parser.parse_args(argv)
    app = make_app(port=args.port)
    app.start()
    print(f"http://127.0.0.1:{app.port}/site/squares.html", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()


if __name__ == "__main__":
    main()
