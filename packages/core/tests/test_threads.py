"""The worker threads plain handlers run in: results, errors, and slow calls not blocking quick ones."""

from __future__ import annotations

import asyncio
import threading

import pytest

from wirecore._threads import MAX_WORKERS
from wirecore.routing import run_sync


async def test_results_and_errors_come_back_on_the_loop() -> None:
    loop = asyncio.get_running_loop()
    assert await run_sync(loop, lambda a, b: a + b, 3, 4) == 7
    assert await run_sync(loop, threading.get_ident) != threading.get_ident()

    def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        await run_sync(loop, boom)
    results = await asyncio.gather(*(run_sync(loop, lambda i=i: i * i) for i in range(500)))
    assert results == [i * i for i in range(500)]


async def test_a_quick_call_is_not_stuck_behind_busy_workers() -> None:
    loop = asyncio.get_running_loop()
    release = threading.Event()
    blocked = [run_sync(loop, release.wait, 30) for _ in range(min(40, MAX_WORKERS - 1))]
    try:
        # every worker that exists is busy; a new one must start for this call
        assert await asyncio.wait_for(run_sync(loop, lambda: "quick"), 10) == "quick"
        assert not any(f.done() for f in blocked)
    finally:
        release.set()
    assert all(await asyncio.gather(*blocked))


async def test_a_cancelled_call_is_dropped_quietly() -> None:
    loop = asyncio.get_running_loop()
    gate = threading.Event()
    fut = run_sync(loop, gate.wait, 5)
    fut.cancel()
    gate.set()
    assert await run_sync(loop, lambda: "after") == "after"
    assert fut.cancelled()
