"""Coroutine-based sessions: an ``async def`` app runs as asyncio tasks on the transport's loop.

Each task carries ``(session, task id)`` in a context variable, so the session API finds its
session from inside the task and from anything the task awaits. ``next_client_event()`` returns
an asyncio future resolved by the next event addressed to the calling task.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from ..exceptions import SessionClosedException, SessionNotFoundException
from ..utils import ObjectDict, get_function_name, isgeneratorfunction, to_coroutine
from .base import Event, Session, callback_id, current, current_task, new_task_id

__all__ = ["CoroutineBasedSession", "TaskHandler"]

logger = logging.getLogger("pywebio")

EVENT_QUEUE_LIMIT = 1000


class TaskHandler:
    """Handle of a task started with :func:`pywebio.session.run_async`."""

    def __init__(self, close: Callable[[], None], closed: Callable[[], bool]) -> None:
        self.close = close
        """Cancel the task."""
        self.closed = closed
        """Whether the task has finished."""

    def __repr__(self) -> str:
        return f"<TaskHandler closed={self.closed()}>"


class CoroutineBasedSession(Session):
    """Run ``target`` (an ``async def`` or generator-based coroutine function) on the event loop.

    Must be created on the loop's thread. The session closes when the main task and every task
    started with ``run_async`` have finished, unless callbacks are registered (auto hold).
    """

    def __init__(
        self,
        target: Callable[[], Any],
        session_info: ObjectDict | None = None,
        on_task_command: Callable[[Session], None] | None = None,
        on_session_close: Callable[[], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        debug: bool | None = None,
    ) -> None:
        super().__init__(session_info, on_task_command, on_session_close, debug)
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError(
                    "a coroutine-based session must be created on a running asyncio event loop "
                    "(use pywebio.platform.run_event_loop() for frameworks without one)"
                ) from None
        self.loop = loop
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._lifetime: set[str] = set()  # main + run_async tasks: the session ends with them
        self._waiters: dict[str, asyncio.Future[Event]] = {}
        self._pending: dict[str, deque[Event]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        coro = _as_coroutine(target)
        self._main_task_id = self._spawn(coro, get_function_name(target, "main"), lifetime=True)

    # tasks -------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str, lifetime: bool) -> str:
        task_id = new_task_id(name)
        ctx = contextvars.copy_context()
        ctx.run(current_task.set, (self, task_id))
        task = self.loop.create_task(coro, context=ctx)
        self._tasks[task_id] = task
        if lifetime:
            self._lifetime.add(task_id)
        task.add_done_callback(lambda t: self._task_done(task_id, t))
        return task_id

    def _task_done(self, task_id: str, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task_id, None)
        self._pending.pop(task_id, None)
        self._waiters.pop(task_id, None)
        self._forget_task(task_id)
        if not task.cancelled():
            exc = task.exception()
            if exc is not None:
                self.on_task_exception(exc, task_id)
        self._lifetime.discard(task_id)
        if task_id in self._locks:
            del self._locks[task_id]
        if not self._lifetime and not self.callbacks and not self._closed:
            self.finish()

    def run_async(self, coro_obj: Coroutine[Any, Any, Any]) -> TaskHandler:
        """Run ``coro_obj`` as a new task of this session; the session lives until it ends."""
        if self._closed:
            coro_obj.close()
            raise SessionClosedException("the session is closed")
        if not inspect.iscoroutine(coro_obj) and inspect.isgenerator(coro_obj):
            coro_obj = to_coroutine(coro_obj)
        task_id = self._spawn(coro_obj, getattr(coro_obj, "__name__", "task"), lifetime=True)
        task = self._tasks[task_id]

        def close() -> None:
            task.cancel()

        return TaskHandler(close=close, closed=task.done)

    # events --------------------------------------------------------------------------------------

    def send_client_event(self, event: Event) -> None:
        task_id = event.get("task_id")
        if self._closed:
            logger.debug("event for a closed session dropped: %s", event.get("event"))
            return
        if not isinstance(task_id, str):
            logger.warning("event %r without a task id ignored", event.get("event"))
            return
        entry = self.callbacks.get(task_id)
        if entry is not None:
            self._dispatch_callback(task_id, entry, event.get("data"))
            return
        waiter = self._waiters.pop(task_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(event)
            return
        if task_id not in self._tasks:
            logger.warning("event %r for unknown task %r ignored", event.get("event"), task_id)
            return
        pending = self._pending.setdefault(task_id, deque())
        if len(pending) >= EVENT_QUEUE_LIMIT:
            logger.error("task %s is not reading its events: event %r dropped", task_id, event.get("event"))
            return
        pending.append(event)

    def next_client_event(self) -> asyncio.Future[Event]:
        """An awaitable of the next event for the calling task.

        :raises SessionClosedException: when the session is closed (the future raises it too if
            the session closes while waiting).
        """
        found = current()
        if found is None or found[0] is not self:
            raise SessionNotFoundException("next_client_event() called outside this session's tasks")
        if self._closed:
            raise SessionClosedException("the session is closed")
        task_id = found[1]
        future: asyncio.Future[Event] = self.loop.create_future()
        pending = self._pending.get(task_id)
        if pending:
            future.set_result(pending.popleft())
        else:
            old = self._waiters.get(task_id)
            if old is not None and not old.done():
                old.cancel()
            self._waiters[task_id] = future
        return future

    # callbacks ---------------------------------------------------------------------------------

    def register_callback(
        self, callback: Callable[[Any], Any], serial_mode: bool = False, mutex_mode: bool = False
    ) -> str:
        """Register ``callback(data)``: plain functions run at once, in event order; coroutine
        functions run as new tasks, one at a time with ``mutex_mode=True``."""
        if self._closed:
            raise SessionClosedException("the session is closed")
        cid = callback_id(callback)
        self.callbacks[cid] = (callback, mutex_mode)
        return cid

    def _dispatch_callback(self, cid: str, entry: tuple[Callable[[Any], Any], bool], data: Any) -> None:
        callback, mutex = entry
        if inspect.iscoroutinefunction(callback) or isgeneratorfunction(callback):
            coro = _as_coroutine(lambda: callback(data))
            if mutex:
                lock = self._locks.setdefault(cid, asyncio.Lock())
                coro = _locked(lock, coro)
            self._spawn(coro, get_function_name(callback, "callback"), lifetime=False)
            return
        token = current_task.set((self, cid))
        try:
            result = callback(data)
            if inspect.isawaitable(result):  # a plain function that returned a coroutine
                self._spawn(_await(result), get_function_name(callback, "callback"), lifetime=False)
        except Exception as exc:
            self.on_task_exception(exc, cid)
        finally:
            current_task.reset(token)
            self._forget_task(cid)

    # closing -------------------------------------------------------------------------------------

    def _cleanup(self) -> None:
        waiting = set()
        for task_id, waiter in list(self._waiters.items()):
            if not waiter.done():
                waiter.set_exception(SessionClosedException("the session is closed"))
                waiting.add(task_id)
        self._waiters.clear()
        try:
            me = asyncio.current_task()
        except RuntimeError:
            me = None
        for task_id, task in list(self._tasks.items()):
            if task is not me and task_id not in waiting and not task.done():
                if self.loop.is_closed():
                    continue
                self.loop.call_soon_threadsafe(task.cancel)
        self.callbacks.clear()
        self._pending.clear()


async def _locked(lock: asyncio.Lock, coro: Coroutine[Any, Any, Any]) -> Any:
    async with lock:
        return await coro


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _as_coroutine(target: Callable[[], Any]) -> Coroutine[Any, Any, Any]:
    try:
        result = target()
    except Exception as exc:  # e.g. an app that needs arguments: reported like any app error
        error = exc

        async def fail() -> Any:
            raise error

        return fail()
    if inspect.iscoroutine(result):
        return result
    if inspect.isgenerator(result):
        return to_coroutine(result)
    if inspect.isawaitable(result):
        return _await(result)

    async def done() -> Any:
        return result

    return done()
