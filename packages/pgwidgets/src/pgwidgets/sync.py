"""pgwidgets.sync: a blocking facade over :mod:`pgwidgets.async_`.

The async application runs on an event loop in a background thread. Every widget method and
constructor blocks until the browser answers; handlers (``on_connect``, callbacks) run in worker
threads, under the same concurrency mode as async (``per_session``: one at a time per session;
``serialized``: one at a time overall; ``concurrent``: freely)::

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
import threading
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
    """The event loop thread and the worker threads of one sync Application."""

    def __init__(self, workers: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="pgwidgets-loop", daemon=True)
        self.pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="pgwidgets-handler")
        self.thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("pgwidgets.sync calls block: do not make them on the event loop thread")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.loop.run_in_executor(self.pool, functools.partial(fn, *args))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.pool.shutdown(wait=False, cancel_futures=True)


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
        """Call ``handler(*callback_args, *extra_args, **extra_kwargs)`` (in a worker thread)."""
        self._app._run(self._w.on(action, self._app._threaded(handler), *extra_args, **extra_kwargs))

    def add_callback(
        self, action: str, handler: Callable[..., Any], *extra_args: Any, **extra_kwargs: Any
    ) -> None:
        """Call ``handler(widget, *callback_args, *extra_args, **extra_kwargs)`` (in a worker thread)."""
        self._app._run(
            self._w.add_callback(action, self._app._threaded(handler), *extra_args, **extra_kwargs)
        )

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

    def gui_do(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Run ``fn`` in a worker thread under this session's concurrency rules; returns a future."""
        app = self._app

        async def job() -> Any:
            assert app._runner is not None
            call = functools.partial(fn, *args, **kwargs)
            lock = app._async._lock_for(self._s)
            if lock is None:
                return await app._runner.in_thread(call)
            async with lock:
                return await app._runner.in_thread(call)

        if app._runner is None:
            raise RuntimeError("the application is not started")
        return asyncio.run_coroutine_threadsafe(job(), app._runner.loop)

    def gui_call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """:meth:`gui_do` and wait for the result."""
        return self.gui_do(fn, *args, **kwargs).result()


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
        self._async = _aio.Application(
            ws_port, http_port, host, http_server, concurrency_handling, max_sessions, logger, **options
        )
        self._runner: _Runner | None = None
        self._sessions: dict[int, Session] = {}
        self._widgets_map: dict[int, Widget] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # wrapping ----------------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._runner is None:
            coro.close()
            raise RuntimeError("the application is not started: call app.start() or app.run() first")
        return self._runner.run(coro)

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

    def _threaded(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """An async handler that runs the sync ``handler`` in a worker thread (awaiting it, so the
        async layer's concurrency lock covers it). A coroutine function is used as it is (it runs
        on the event loop and receives the async objects)."""
        if inspect.iscoroutinefunction(handler):
            return handler

        async def run_in_thread(*args: Any, **kwargs: Any) -> Any:
            assert self._runner is not None
            wrapped = [_wrap(a, self) for a in args]
            return await self._runner.in_thread(functools.partial(handler, **kwargs), *wrapped)

        return run_in_thread

    # configuration -------------------------------------------------------------------------------

    def on_connect(self, handler: F) -> F:
        """Register the handler run (in a worker thread) with each new Session."""
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
            self._runner = _Runner(workers=32)
        self._stop.clear()
        self._run(self._async.start())

    def close(self) -> None:
        """Close every browser and stop the servers."""
        runner = self._runner
        if runner is None:
            return
        try:
            runner.run(self._async.close(), timeout=10)
        finally:
            self._runner = None
            runner.stop()
            self._stop.set()

    def run(self) -> None:
        """Start and block until close() or Ctrl-C."""
        if self._runner is None:
            self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def process_events(self, timeout: float = 0) -> None:
        """Compatibility with the original: everything runs in the background; this just waits."""
        self._stop.wait(timeout)
