"""Thread-based sessions: a plain-function app runs in its own daemon thread and blocks in
``next_client_event()`` while it waits for the browser."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from ..exceptions import SessionClosedException, SessionException, SessionNotFoundException
from ..utils import ObjectDict, get_function_name
from .base import Event, Session, bind_thread, callback_id, current, new_task_id, unbind_thread

__all__ = ["ThreadBasedSession"]

logger = logging.getLogger("pywebio")

EVENT_QUEUE_LIMIT = 1000
"""Events waiting for one task beyond this are dropped (and logged): a task that never reads
its events must not grow memory without bound."""

_CLOSED = object()  # the sentinel that wakes a waiting task when the session closes


class ThreadBasedSession(Session):
    """Run ``target()`` (a plain function) in a new thread (``target=None``: the calling thread
    is the app, as in script mode).

    Callbacks run each in a new registered thread (so they may call ``input()``), or one after
    the other in a per-session worker thread when registered with ``serial_mode=True``.
    """

    def __init__(
        self,
        target: Callable[[], Any] | None,
        session_info: ObjectDict | None = None,
        on_task_command: Callable[[Session], None] | None = None,
        on_session_close: Callable[[], None] | None = None,
        loop: Any = None,
        debug: bool | None = None,
    ) -> None:
        super().__init__(session_info, on_task_command, on_session_close, debug)
        self.loop = loop  # kept for API compatibility; the transport owns its loop
        self._queues: dict[str, queue.SimpleQueue[Any]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._serial_queue: queue.SimpleQueue[Any] | None = None
        self._serial_task_id: str | None = None
        if target is None:  # script mode: the calling thread is the app
            self._main_task_id = new_task_id("script")
            self._attach(threading.current_thread(), self._main_task_id)
            return
        self._main_task_id = new_task_id(get_function_name(target, "main"))
        thread = threading.Thread(
            target=self._run_main, args=(target,), daemon=True, name=f"pywebio-{self._main_task_id}"
        )
        self._attach(thread, self._main_task_id)
        thread.start()

    # task bookkeeping ------------------------------------------------------------------------

    def _attach(self, thread: threading.Thread, task_id: str) -> None:
        with self._lock:
            self._queues[task_id] = queue.SimpleQueue()
            self._threads[task_id] = thread
        bind_thread(thread, self, task_id)
        if self._closed:  # closed meanwhile: the new task must not wait forever
            self._queues[task_id].put(_CLOSED)

    def _detach(self, thread: threading.Thread, task_id: str) -> None:
        with self._lock:
            self._queues.pop(task_id, None)
            self._threads.pop(task_id, None)
        unbind_thread(thread)
        self._forget_task(task_id)

    def register_thread(self, thread: threading.Thread) -> None:
        """Let ``thread`` (not started yet, ideally) use this session; it gets its own task id."""
        task_id = new_task_id(thread.name.replace(" ", "_"))
        self._attach(thread, task_id)
        if not thread.is_alive():
            run = thread.run

            def run_registered() -> None:
                try:
                    run()
                except SessionException as exc:
                    logger.debug("registered thread %s ended: %r", task_id, exc)
                finally:
                    self._detach(thread, task_id)

            thread.run = run_registered  # type: ignore[method-assign]

    def _run_main(self, target: Callable[[], Any]) -> None:
        me = threading.current_thread()
        try:
            target()
        except Exception as exc:
            self.on_task_exception(exc, self._main_task_id)
        try:
            # the session lasts as long as the threads the app registered...
            for task_id, thread in list(self._threads.items()):
                if (
                    thread is not me
                    and task_id not in (self._main_task_id, self._serial_task_id)
                    and thread.is_alive()
                ):
                    thread.join()
        finally:
            self._detach(me, self._main_task_id)
        # ...and, when callbacks exist, until the browser leaves ("auto hold": no thread kept)
        if not self.callbacks:
            self.finish()

    # events --------------------------------------------------------------------------------------

    def send_client_event(self, event: Event) -> None:
        task_id = event.get("task_id")
        if self._closed:
            logger.debug("event for a closed session dropped: %s", event.get("event"))
            return
        entry = self.callbacks.get(task_id) if isinstance(task_id, str) else None
        if entry is not None:
            self._dispatch_callback(entry, event.get("data"))
            return
        q = self._queues.get(task_id) if isinstance(task_id, str) else None
        if q is None:
            logger.warning("event %r for unknown task %r ignored", event.get("event"), task_id)
            return
        if q.qsize() >= EVENT_QUEUE_LIMIT:
            logger.error("task %s is not reading its events: event %r dropped", task_id, event.get("event"))
            return
        q.put(event)

    def next_client_event(self) -> Event:
        """Block until the next event for the calling thread's task arrives.

        :raises SessionClosedException: when the session is (or gets) closed.
        """
        found = current()
        if found is None or found[0] is not self:
            raise SessionNotFoundException("next_client_event() called from a thread of another session")
        q = self._queues.get(found[1])
        if q is None or self._closed:
            raise SessionClosedException("the session is closed")
        event = q.get()
        if event is _CLOSED:
            q.put(_CLOSED)  # later calls fail too
            raise SessionClosedException("the session is closed")
        return event  # type: ignore[no-any-return]

    # callbacks ---------------------------------------------------------------------------------

    def register_callback(
        self, callback: Callable[[Any], Any], serial_mode: bool = False, mutex_mode: bool = False
    ) -> str:
        """Register ``callback(data)`` for ``callback`` events; returns the callback id.

        ``mutex_mode`` only matters for coroutine sessions and is ignored here.
        """
        if self._closed:
            raise SessionClosedException("the session is closed")
        cid = callback_id(callback)
        self.callbacks[cid] = (callback, serial_mode)
        return cid

    def _dispatch_callback(self, entry: tuple[Callable[[Any], Any], bool], data: Any) -> None:
        callback, serial = entry
        if serial:
            if self._serial_queue is None:
                self._serial_queue = queue.SimpleQueue()
                worker = threading.Thread(target=self._serial_worker, daemon=True, name="pywebio-callbacks")
                self._serial_task_id = new_task_id("callbacks")
                self._attach(worker, self._serial_task_id)
                worker.start()
            self._serial_queue.put((callback, data))
            return
        thread = threading.Thread(target=self._run_callback, args=(callback, data), daemon=True)
        task_id = new_task_id(get_function_name(callback, "callback"))
        thread.name = f"pywebio-{task_id}"
        self._attach(thread, task_id)
        thread.start()

    def _run_callback(self, callback: Callable[[Any], Any], data: Any) -> None:
        me = threading.current_thread()
        found = current()
        try:
            callback(data)
        except Exception as exc:
            self.on_task_exception(exc, get_function_name(callback))
        finally:
            if found is not None:
                self._detach(me, found[1])

    def _serial_worker(self) -> None:
        q = self._serial_queue
        assert q is not None
        while True:
            item = q.get()
            if item is _CLOSED:
                break
            callback, data = item
            try:
                callback(data)
            except Exception as exc:
                self.on_task_exception(exc, get_function_name(callback))
        found = current()
        if found is not None:
            self._detach(threading.current_thread(), found[1])

    # closing -------------------------------------------------------------------------------------

    def _cleanup(self) -> None:
        with self._lock:
            queues = list(self._queues.values())
            ended = [t for t in self._threads.values() if t.ident is not None and not t.is_alive()]
        for thread in ended:
            unbind_thread(thread)
        for q in queues:
            q.put(_CLOSED)
        if self._serial_queue is not None:
            self._serial_queue.put(_CLOSED)
        self.callbacks.clear()
