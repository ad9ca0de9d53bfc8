"""A helper the pgwidgets browser tests share (their ``make_app`` fixture is in conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def wait_until(cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``cond`` (state the application's own threads change) until it holds."""
    ev = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if cond():
            return
        ev.wait(0.02)
    raise AssertionError(f"timed out waiting for {what}")
