"""A shared 500x500 drawing canvas.

Run ``python3 demo/canvas/canvas.py [--port N]`` and open http://127.0.0.1:12910/site/canvas.html in
a few tabs.  Every finished stroke is sent to the server, stored, and broadcast to all tabs; a tab that
opens later fetches the stored strokes and replays them.

Commands (group ``api``; over WebSocket ``{"cmd": "api/<name>", "q": {...}}``):

``api/stroke``   q: ``{points: [[x, y], ...], color: "#rrggbb", width: n, erase: bool}``
                 → ``{seq, epoch, count}``; pushes event ``stroke`` ``{stroke, epoch, count}``
``api/clear``    → ``{epoch, seq, count: 0}``; pushes event ``cleared`` ``{epoch, seq, count: 0}``
``api/strokes``  → ``{strokes: [...], epoch, seq, count}`` (everything stored, oldest first)

Every stroke gets a sequence number ``seq`` (increasing, never reused, not reset by a clear) so
clients can drop duplicates and notice gaps; ``epoch`` counts clears so a stale ``cleared`` push
never wipes a newer picture.  webshoes events deliver the *latest* value: a client that falls
behind may skip a ``stroke`` push, sees the gap in ``seq`` and fetches ``api/strokes`` again.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import threading
from pathlib import Path
from typing import Any

import webshoes

DEFAULT_PORT = 12910
SITE = Path(__file__).resolve().parent / "site"
SIZE = 500
MAX_POINTS = 2000  # per stroke
MAX_STROKES = 10000  # stored; the oldest are dropped beyond this
MAX_WIDTH = 100
COLOR = re.compile(r"#[0-9a-fA-F]{6}")

_lock = threading.Lock()  # sync handlers run in a thread pool


class Board:
    """The stored picture: strokes in drawing order, plus the counters clients use to stay in step."""

    def __init__(self, max_strokes: int = MAX_STROKES) -> None:
        self.max_strokes = max_strokes
        self.strokes: list[dict[str, Any]] = []
        self.seq = 0
        self.epoch = 0

    def add(self, stroke: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        stored = {"seq": self.seq, **stroke}
        self.strokes.append(stored)
        if len(self.strokes) > self.max_strokes:
            del self.strokes[: len(self.strokes) - self.max_strokes]
        return stored

    def clear(self) -> None:
        self.strokes = []
        self.epoch += 1


def validate(args: dict[str, Any]) -> dict[str, Any]:
    """A clean stroke from the request's arguments, or ValueError."""
    points = args.get("points")
    if isinstance(points, str):  # over HTTP every value is a string
        points = json.loads(points)
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_POINTS:
        raise ValueError(f"points must be a list of 1..{MAX_POINTS} [x, y] pairs")
    clean: list[list[float]] = []
    for p in points:
        if not isinstance(p, list | tuple) or len(p) != 2:
            raise ValueError("each point is [x, y]")
        x, y = (_number(v, 0, SIZE) for v in p)
        clean.append([round(x, 1), round(y, 1)])
    color = args.get("color", "#000000")
    if not isinstance(color, str) or not COLOR.fullmatch(color):
        raise ValueError("color must be #rrggbb")
    width = _number(args.get("width", 4), 1, MAX_WIDTH)
    erase = args.get("erase", False)
    if isinstance(erase, str):
        erase = erase.lower() in ("1", "true", "yes", "on")
    return {"points": clean, "color": color.lower(), "width": round(width, 1), "erase": bool(erase)}


def _number(value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool):
        raise ValueError("not a number")
    v = float(value)
    if not math.isfinite(v) or not lo <= v <= hi:
        raise ValueError(f"number out of range {lo}..{hi}")
    return v


def _board(ctx: Any) -> Board:
    board = ctx.opts.get("board")
    if not isinstance(board, Board):
        raise RuntimeError("canvas board missing from opts")
    return board


def cmdStroke(ctx: Any, q: Any) -> dict[str, Any]:
    stroke = validate(q.as_dict())
    with _lock:
        board = _board(ctx)
        stored = board.add(stroke)
        count = len(board.strokes)
        ctx.wsa.triggerEvent("stroke", {"stroke": stored, "epoch": board.epoch, "count": count})
        return {"seq": stored["seq"], "epoch": board.epoch, "count": count}


def cmdClear(ctx: Any, q: Any) -> dict[str, Any]:
    with _lock:
        board = _board(ctx)
        board.clear()
        state = {"epoch": board.epoch, "seq": board.seq, "count": 0}
        ctx.wsa.triggerEvent("cleared", state)
        return state


def cmdStrokes(ctx: Any, q: Any) -> dict[str, Any]:
    with _lock:
        board = _board(ctx)
        return {
            "strokes": list(board.strokes),
            "epoch": board.epoch,
            "seq": board.seq,
            "count": len(board.strokes),
        }


def make_app(port: int = DEFAULT_PORT, addr: str = "127.0.0.1") -> webshoes.WebShoesApp:
    """The demo's server, configured but not started."""
    app = webshoes.WebShoesApp(addr, port, {"board": Board()})
    app.register("webshoes", "", "", "", "", {"*": {"root": webshoes.libPath("web")}})
    app.register("site", "", "", "", "", {"*": {"root": str(SITE), "defpage": "canvas.html"}})
    app.register(
        "api", "cmd", "q", "evt", "r", {"stroke": cmdStroke, "clear": cmdClear, "strokes": cmdStrokes}
    )
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="webshoes shared canvas demo")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    args = parser.parse_args(argv)
    app = make_app(port=args.port)
    app.start()
    print(f"http://127.0.0.1:{app.port}/site/canvas.html", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()


if __name__ == "__main__":
    main()
