"""pgwidgets.sync: a blocking facade over :mod:`pgwidgets.async_`.

The async application runs on an event loop in a background thread. Every widget method and
constructor blocks until the browser answers. Handlers (``on_connect``, ``on_disconnect``,
callbacks) and ``Session.gui_do`` jobs run on threads that depend on ``concurrency_handling``:

- ``"per_session"`` (default): each session has one callback thread of its own
  (``session.get_session_thread()``) that runs them in order;
- ``"serialized"``: the thread that calls ``app.run()`` or ``app.process_events(timeout)``;
- ``"concurrent"``: a new thread for each one.

::

    from pgwidgets.sync import Application

    app = Application()

    @app.on_connect
    def setup(session):
        W = session.get_widgets()
        top = W.TopLevel(title="Hello")
        top.set_widget(W.Button("Click me"))
        top.show()

    app.run()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from . import async_ as _aio
from .protocol import Buffer

__all__ = ["Application", "Buffer", "Session", "Widget", "Widgets"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

Widgets = _aio.Widgets
"""The generated classes (async); in sync code use ``session.get_widgets()``."""


class _Runner:
    """The event loop thread of one started sync Application."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="pgwidgets-loop", daemon=True)
        self.waiting: set[concurrent.futures.Future[Any]] = set()
        self.thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:  # what is left (a connection handler...) is cancelled, then the loop is closed
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            if tasks:
                self.loop.run_until_complete(asyncio.wait(tasks, timeout=1))
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("pgwidgets.sync calls block: do not make them on the event loop thread")
        try:
            fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:  # the loop is closed
            coro.close()
            raise RuntimeError("the application is closed") from None
        self.waiting.add(fut)
        fut.add_done_callback(self.waiting.discard)
        if self.loop.is_closed():  # closed meanwhile: stop() may not have seen this one
            fut.cancel()
        return fut

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        for fut in self.waiting.copy():  # calls the stopped loop will never answer
            fut.cancel()


class _Job:
    """A call to make on a callback thread, and the future of its result."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run(self) -> None:
        """Call ``fn`` into the future (unless it was cancelled). KeyboardInterrupt and SystemExit
        are raised again after that, so Ctrl-C still stops ``app.run()``."""
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.fn()
        except Exception as exc:
            self.future.set_exception(exc)
        except BaseException as exc:
            self.future.set_exception(RuntimeError(f"interrupted by {exc!r}"))
            raise
        else:
            self.future.set_result(result)


def _run_logged(job: _Job, logger: logging.Logger) -> None:
    try:
        job.run()
    except BaseException:
        logger.error("Exception in callback thread", exc_info=True)


class _SessionThread(threading.Thread):
    """A session's callback thread (``per_session``): runs its queued jobs one by one, in order."""

    def __init__(self, name: str, logger: logging.Logger) -> None:
        super().__init__(name=name, daemon=True)
        self.logger = logger
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.stopped = False

    def put(self, job: _Job) -> bool:
        with self.lock:
            if not self.stopped:
                self.jobs.put(job)
            return not self.stopped

    def stop(self) -> None:
        """End the thread once the jobs queued so far have run."""
        with self.lock:
            if not self.stopped:
                self.stopped = True
                self.jobs.put(None)

    def run(self) -> None:
        while (job := self.jobs.get()) is not None:
            _run_logged(job, self.logger)


class _AsyncApplication(_aio.Application):
    """The async Application, telling the sync one when a session ends (to end its thread)."""

    def __init__(self, ended: Callable[[_aio.Session], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ended = ended

    def _forget_session(self, session: _aio.Session) -> None:
        super()._forget_session(session)
        self._ended(session)


def _unwrap(value: Any) -> Any:
    if isinstance(value, Widget):
        return value._w
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value: Any, app: Application) -> Any:
    if isinstance(value, _aio.Widget):
        return app._widget(value)
    if isinstance(value, _aio.Session):
        return app._session(value)
    if isinstance(value, list):
        return [_wrap(v, app) for v in value]
    if isinstance(value, tuple):
        return tuple(_wrap(v, app) for v in value)
    return value


class Widget:
    """A blocking view of an async widget: the same methods, without ``await``."""

    __slots__ = ("__weakref__", "_app", "_w")

    def __init__(self, app: Application, widget: _aio.Widget) -> None:
        self._app = app
        self._w = widget

    def __repr__(self) -> str:
        return repr(self._w)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Widget) and other._w is self._w

    def __hash__(self) -> int:
        return hash(self._w)

    @property
    def wid(self) -> int | None:
        return self._w.wid

    @property
    def session(self) -> Session:
        return self._app._session(self._w.session)

    @property
    def app(self) -> Application:
        return self._app

    @property
    def async_widget(self) -> _aio.Widget:
        return self._w

    def on(self, action: str, handler: Callable[..., Any], *extra_args: Any, **extra_kwargs: Any) -> None:
        """Call ``handler(*callback_args, *extra_args, **extra_kwargs)`` on a callback thread."""
        handler = self._app._threaded(handler, self._w.session)
        self._app._run(self._w.on(action, handler, *extra_args, **extra_kwargs))

    def add_callback(
        self, action: str, handler: Callable[..., Any], *extra_args: Any, **extra_kwargs: Any
    ) -> None:
        """Call ``handler(widget, *callback_args, *extra_args, **extra_kwargs)`` on a callback thread."""
        handler = self._app._threaded(handler, self._w.session)
        self._app._run(self._w.add_callback(action, handler, *extra_args, **extra_kwargs))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._w, name)
        if not callable(attr):
            return _wrap(attr, self._app)
        if inspect.iscoroutinefunction(attr):

            def blocking(*args: Any, **kwargs: Any) -> Any:
                result = self._app._run(attr(*_unwrap(args), **_unwrap(kwargs)))
                return _wrap(result, self._app)

            blocking.__name__ = name
            blocking.__doc__ = attr.__doc__
            return blocking

        def plain(*args: Any, **kwargs: Any) -> Any:
            return _wrap(attr(*_unwrap(args), **_unwrap(kwargs)), self._app)

        plain.__name__ = name
        plain.__doc__ = attr.__doc__
        return plain


class _BoundClass:
    def __init__(self, session: Session, cls: type[_aio.Widget]) -> None:
        self._session = session
        self._cls = cls

    def __call__(self, *args: Any, **kwargs: Any) -> Widget:
        s = self._session
        widget = s._app._run(self._cls(s._s, *_unwrap(args), **_unwrap(kwargs))._initialize())
        return s._app._widget(widget)

    def __repr__(self) -> str:
        return f"<sync {self._cls.__name__} bound to session {self._session.id!r}>"


class _SyncNamespace:
    def __init__(self, session: Session) -> None:
        for name, cls in session._s.app._widget_classes.items():
            setattr(self, name, _BoundClass(session, cls))


class Session:
    """A blocking view of an async Session."""

    def __init__(self, app: Application, session: _aio.Session) -> None:
        self._app = app
        self._s = session
        self._ns: _SyncNamespace | None = None
        self._thread: _SessionThread | None = None

    def __repr__(self) -> str:
        return repr(self._s)

    id = property(lambda self: self._s.id, doc="Unique session identifier.")
    token = property(lambda self: self._s.token, doc="Security token for reconnection.")
    is_connected = property(lambda self: self._s.is_connected, doc="True if a browser is connected.")
    connections = property(lambda self: self._s.connections, doc="The browsers attached.")

    @property
    def app(self) -> Application:
        return self._app

    @property
    def async_session(self) -> _aio.Session:
        return self._s

    def get_url(self) -> str | None:
        return self._s.get_url()

    def rotate_token(self) -> str:
        """Replace the link token; see :meth:`pgwidgets.async_.Session.rotate_token`."""
        return self._s.rotate_token()

    def get_widgets(self) -> Any:
        """Widget classes bound to this session: ``W.Button("x")`` blocks and returns the widget."""
        if self._ns is None:
            self._ns = _SyncNamespace(self)
        return self._ns

    def make_timer(self, duration: float = 0) -> Widget:
        return self._app._widget(self._app._run(self._s.make_timer(duration)))

    def walk_widget_tree(self) -> Iterator[Widget]:
        for w in list(self._s.walk_widget_tree()):
            yield self._app._widget(w)

    def reconstruct(self) -> None:
        self._app._run(self._s.reconstruct())

    def close(self) -> None:
        self._app._run(self._s.close())

    destroy = close

    @contextlib.contextmanager
    def batch(self) -> Iterator[Session]:
        """Buffer the calls made in the block and send them as one message at its end."""
        cm = self._s.batch()
        self._app._run(cm.__aenter__())
        try:
            yield self
        except BaseException as exc:
            self._app._run(cm.__aexit__(type(exc), exc, exc.__traceback__))
            raise
        else:
            self._app._run(cm.__aexit__(None, None, None))

    def get_session_thread(self) -> threading.Thread | None:
        """The thread that runs this session's handlers and ``gui_do`` jobs: its own thread
        (``per_session``), the one that last called ``app.run()``/``process_events()``
        (``serialized``) or None (``concurrent``, or the application is not running)."""
        mode = self._app._async._concurrency
        if mode == "per_session":
            return self._callback_thread()
        return self._app._pump_thread if mode == "serialized" else None

    def _callback_thread(self) -> _SessionThread | None:
        """This session's thread (``per_session``), started on first use."""
        app = self._app
        with app._lock:
            if self._thread is None and app._runner is not None and not self._s.closed:
                self._thread = _SessionThread(f"pgwidgets-session-{self.id}", app._async._logger)
                self._thread.start()
            return self._thread

    def _stop_thread(self) -> _SessionThread | None:
        with self._app._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()
        return thread

    def gui_do(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Queue ``fn(*args, **kwargs)`` for this session's callback thread (``concurrent``: a new
        thread) and return at once with a future of its result. An exception is logged too."""
        app = self._app
        if app._runner is None:
            raise RuntimeError("the application is not started")
        fut = app._submit(self._s, functools.partial(fn, *args, **kwargs))
        fut.add_done_callback(functools.partial(app._log_failure, "gui_do function"))
        return fut

    def gui_call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` on this session's callback thread and return its result.
        On that thread itself (and in ``concurrent`` mode) it is called directly."""
        app = self._app
        runner = app._runner
        if runner is None:
            raise RuntimeError("the application is not started")
        if threading.current_thread() is runner.thread:
            raise RuntimeError("gui_call blocks: do not call it on the event loop thread")
        mode = app._async._concurrency
        here = threading.current_thread()
        if (
            mode == "concurrent"
            or (mode == "per_session" and here is self._thread)
            or (mode == "serialized" and here is app._pump_thread)
        ):
            return fn(*args, **kwargs)
        return app._submit(self._s, functools.partial(fn, *args, **kwargs)).result()


class Application:
    """The blocking Application: same parameters as :class:`pgwidgets.async_.Application`."""

    def __init__(
        self,
        ws_port: int = 9500,
        http_port: int = 9501,
        host: str = "127.0.0.1",
        http_server: bool = True,
        concurrency_handling: str = "per_session",
        max_sessions: int | None = 1,
        logger: Any = None,
        **options: Any,
    ) -> None:
        self._async = _AsyncApplication(
            self._session_ended,
            ws_port,
            http_port,
            host,
            http_server,
            concurrency_handling,
            max_sessions,
            logger,
            **options,
        )
        self._runner: _Runner | None = None
        self._sessions: dict[int, Session] = {}
        self._widgets_map: dict[int, Widget] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # serialized mode's queue
        self._pump_thread: threading.Thread | None = None  # the last to call run/process_events
        self._run_thread: threading.Thread | None = None  # the one in run()
        self._threads: set[threading.Thread] = set()  # concurrent mode's running threads

    # wrapping ----------------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        runner = self._runner
        if runner is None:
            coro.close()
            raise RuntimeError("the application is not started: call app.start() or app.run() first")
        return runner.run(coro)

    def _widget(self, widget: _aio.Widget) -> Widget:
        with self._lock:
            proxy = self._widgets_map.get(id(widget))
            if proxy is None or proxy._w is not widget:
                proxy = self._widgets_map[id(widget)] = Widget(self, widget)
            return proxy

    def _session(self, session: _aio.Session) -> Session:
        with self._lock:
            proxy = self._sessions.get(id(session))
            if proxy is None or proxy._s is not session:
                proxy = self._sessions[id(session)] = Session(self, session)
            return proxy

    def _session_ended(self, session: _aio.Session) -> None:
        """Called on the loop when a session ends: its thread ends after the jobs it holds."""
        with self._lock:
            proxy = self._sessions.get(id(session))
            if proxy is None or proxy._s is not session:
                return
            del self._sessions[id(session)]
        proxy._stop_thread()

    def _submit(self, session: _aio.Session, fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        """Hand ``fn`` to the callback thread of ``session`` under the concurrency mode."""
        job = _Job(fn)
        mode = self._async._concurrency
        if mode == "per_session":
            own = self._session(session)._callback_thread()
            if own is None or not own.put(job):
                job.future.set_exception(RuntimeError(f"session {session.id!r} has ended"))
        elif mode == "serialized":
            self._jobs.put(job)
        else:
            thread = threading.Thread(target=self._run_alone, args=(job,), name="pgwidgets-callback")
            thread.daemon = True
            with self._lock:
                self._threads.add(thread)
            thread.start()
        return job.future

    def _run_alone(self, job: _Job) -> None:
        try:
            _run_logged(job, self._async._logger)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _log_failure(self, what: str, fut: concurrent.futures.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception() is not None:
            self._async._logger.error("Exception in %s", what, exc_info=fut.exception())

    def _threaded(
        self, handler: Callable[..., Any], session: _aio.Session | None = None
    ) -> Callable[..., Any]:
        """An async handler that runs the sync ``handler`` on the callback thread of ``session``
        (default: its first argument) and awaits it, so the async layer's concurrency lock covers
        it. A coroutine function is used as it is (it runs on the loop with the async objects)."""
        if inspect.iscoroutinefunction(handler):
            return handler

        async def run_in_thread(*args: Any, **kwargs: Any) -> Any:
            call = functools.partial(handler, *[_wrap(a, self) for a in args], **kwargs)
            fut = self._submit(session if session is not None else args[0], call)
            try:
                return await asyncio.wrap_future(fut)
            except asyncio.CancelledError:  # the app is closing: still log what the handler raises
                fut.add_done_callback(functools.partial(self._log_failure, "callback handler"))
                raise

        return run_in_thread

    # configuration -------------------------------------------------------------------------------

    def on_connect(self, handler: F) -> F:
        """Register the handler run (on the session's callback thread) with each new Session."""
        self._async.on_connect(self._threaded(handler))
        return handler

    def on_disconnect(self, handler: F) -> F:
        self._async.on_disconnect(self._threaded(handler))
        return handler

    @property
    def sessions(self) -> dict[int | str, Session]:
        return {k: self._session(v) for k, v in self._async.sessions.items()}

    waiting = property(lambda self: self._async.waiting, doc="Browsers held by max_sessions.")
    static_path = property(lambda self: self._async.static_path)
    remote_html = property(lambda self: self._async.remote_html)
    url = property(lambda self: self._async.url)
    ws_url = property(lambda self: self._async.ws_url)
    ws_port = property(lambda self: self._async.ws_port)
    http_port = property(lambda self: self._async.http_port)

    def set_favicon(self, path: Any) -> None:
        self._async.set_favicon(path)

    def register_widget(self, cls: Any, name: str | None = None) -> None:
        self._async.register_widget(cls, name)

    def connector_html(self, ws_url: str | None = None) -> str:
        return self._async.connector_html(ws_url)

    def _on_loop(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async def call() -> T:
            return fn(*args, **kwargs)

        if self._runner is None:
            return fn(*args, **kwargs)  # not started: no browser to tell yet
        return self._run(call())

    def register_font(
        self, family: str, source: Any, *, weight: str = "normal", style: str = "normal"
    ) -> int:
        """See :meth:`pgwidgets.async_.Application.register_font`."""
        return self._on_loop(self._async.register_font, family, source, weight=weight, style=style)

    def set_default_font(self, family: str | None = None, size: int | None = None, **kwargs: Any) -> None:
        self._on_loop(self._async.set_default_font, family, size, **kwargs)

    def open_url(self, url: str) -> None:
        self._on_loop(self._async.open_url, url)

    def create_session(self, session_id: int | str | None = None) -> Session:
        return self._session(self._async.create_session(session_id))

    # lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the servers (in the background); returns at once."""
        if self._runner is None:
            self._jobs = queue.SimpleQueue()
            self._runner = _Runner()
        self._stop.clear()
        self._run(self._async.start())

    def close(self) -> None:
        """Close every browser, stop the servers and end the callback threads."""
        runner = self._runner
        if runner is None:
            return
        try:
            done = runner.submit(self._async.close())
            end = time.monotonic() + 10
            here = threading.current_thread()
            if self._async._concurrency == "serialized" and self._run_thread in (None, here):
                while not done.done() and time.monotonic() < end:  # serve on_disconnect handlers
                    self.process_events(0.02)
            done.result(max(0.0, end - time.monotonic()))
        finally:
            self._runner = None
            self._stop.set()
            with self._lock:
                proxies = list(self._sessions.values())
                threads = list(self._threads)
            threads += [t for t in (p._stop_thread() for p in proxies) if t is not None]
            while True:  # serialized: drop what is queued and wake run()/process_events()
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job.future.cancel()
            self._jobs.put(None)
            end = time.monotonic() + 3
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join(max(0.0, end - time.monotonic()))
                    if thread.is_alive():
                        self._async._logger.warning(
                            "callback thread %s still runs after close()", thread.name
                        )
            runner.stop()

    def run(self) -> None:
        """Start if needed and block until close() or Ctrl-C. In ``serialized`` mode the handlers
        run here, on the calling thread."""
        if self._runner is None:
            self.start()
        self._run_thread = threading.current_thread()
        try:
            if self._async._concurrency == "serialized":
                while not self._stop.is_set():
                    self.process_events(0.5)
            else:
                while not self._stop.wait(0.5):
                    pass
        except KeyboardInterrupt:
            pass
        finally:
            self._run_thread = None
            self.close()

    def process_events(self, timeout: float = 0) -> None:
        """``serialized`` mode: run the queued handlers and ``gui_do`` jobs on this thread for
        ``timeout`` seconds (returning early only when the app closes); ``0`` runs what is queued
        now and returns. Other modes: handlers have their own threads, so this just waits."""
        if self._async._concurrency != "serialized":
            self._stop.wait(timeout)
            return
        self._pump_thread = threading.current_thread()
        jobs = self._jobs
        if timeout <= 0:
            for _ in range(jobs.qsize()):
                try:
                    job = jobs.get_nowait()
                except queue.Empty:
                    return
                if job is None:
                    return
                job.run()
            return
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                job = jobs.get(timeout=left)
            except queue.Empty:
                return
            if job is None:
                return
            job.run()
