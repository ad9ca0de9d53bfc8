"""The thread pool plain ``def`` handlers run in.

``loop.run_in_executor`` costs about 25 µs a call on a busy server: a concurrent Future wrapped
in an asyncio one, and one self-pipe wake-up of the loop per result. Here a call is a tuple put on
a ``SimpleQueue``; workers hand results back through a per-loop mailbox that wakes its loop once
per burst (``call_soon_threadsafe`` only when the loop is not already due to look), about ten
times cheaper. Workers are daemon threads. Few of them keep up with quick calls (more would only
fight over the GIL); when calls wait and no worker has taken one for :data:`STALL` seconds (all
are busy with slow calls: sleeping, waiting on I/O), one more starts per waiting call, up to :data:`MAX_WORKERS`,
so slow handlers never hold up quick ones for long.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

__all__ = ["MAX_WORKERS", "run_in_thread"]

MAX_WORKERS = max(32, 8 * (os.cpu_count() or 1))
"""At most this many handlers run at once; later calls wait for a free worker."""


class _Mailbox:
    """Results for one event loop, delivered in bursts."""

    __slots__ = ("done", "loop", "watching", "woken")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.done: deque[tuple[asyncio.Future[Any], Any, BaseException | None]] = deque()
        self.woken = False
        self.watching = False

    def post(self, fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        """Called by a worker thread."""
        self.done.append((fut, result, error))
        if not self.woken:
            self.woken = True
            try:
                self.loop.call_soon_threadsafe(self.deliver)
            except RuntimeError:  # the loop is closed: nobody waits for these results
                self.done.clear()

    def deliver(self) -> None:
        """Runs on the loop: settle every finished call."""
        self.woken = False  # before draining: a result posted from now on schedules another pass
        done = self.done
        while done:
            fut, result, error = done.popleft()
            if fut.done():  # cancelled meanwhile
                continue
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)


_Job = tuple[_Mailbox, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]

_jobs: SimpleQueue[_Job] = SimpleQueue()
_mailboxes: dict[asyncio.AbstractEventLoop, _Mailbox] = {}
_lock = threading.Lock()
_workers = 0
_taken = 0  # jobs taken by workers so far

STALL = 0.02
"""Seconds without any worker taking a job, with jobs waiting, after which one more worker starts."""


def _work() -> None:
    global _taken
    get = _jobs.get
    while True:
        mailbox, fut, fn, args = get()
        _taken += 1
        result = error = None
        try:
            result = fn(*args)
        except BaseException as exc:
            error = exc
        mailbox.post(fut, result, error)
        del mailbox, fut, fn, args, result, error  # nothing of a finished call outlives it


def _spawn() -> None:
    global _workers
    _workers += 1
    threading.Thread(target=_work, name=f"wirecore-worker-{_workers}", daemon=True).start()


def _watch(mailbox: _Mailbox, taken: int) -> None:
    """Runs on a loop while jobs wait: if no worker took one for :data:`STALL` seconds (every
    worker is busy with a slow call), start one per waiting job, up to :data:`MAX_WORKERS`."""
    if _jobs.empty():
        mailbox.watching = False
        return
    if _taken == taken:
        with _lock:
            for _ in range(min(_jobs.qsize(), MAX_WORKERS - _workers)):
                _spawn()
    mailbox.loop.call_later(STALL, _watch, mailbox, _taken)


def run_in_thread(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run ``fn(*args)`` in a worker thread; the future settles on ``loop``."""
    mailbox = _mailboxes.get(loop)
    if mailbox is None:
        with _lock:
            for old in [lp for lp in _mailboxes if lp.is_closed()]:
                del _mailboxes[old]  # servers that stopped
            mailbox = _mailboxes[loop] = _Mailbox(loop)
            if _workers == 0:
                _spawn()
    fut = loop.create_future()
    _jobs.put((mailbox, fut, fn, args))
    if not mailbox.watching:
        mailbox.watching = True
        loop.call_later(STALL, _watch, mailbox, _taken)
    return fut
