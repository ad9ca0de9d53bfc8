"""Running an app on granian: blocking (:func:`serve`) or embedded in a thread (:class:`Server`).

Both bind through granian (RSGI by default, ASGI on request), run the app's lifespan themselves
so it behaves the same on either interface, and manage an optional PID file.

Port checks: granian binds with ``SO_REUSEPORT``, so a second granian would silently share a
busy port. wirecore probes the address without that option first and raises
:class:`PortInUseError` instead. For port 0 it reserves a free port and reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from .exceptions import AlreadyRunningError, LifespanError, PortInUseError, ServerError

__all__ = ["PidFile", "Server", "load_app", "serve"]

logger = logging.getLogger("wirecore.server")

Interface = Literal["rsgi", "asgi"]


def load_app(target: Any) -> Any:
    """An app object from itself or from an import string ``"package.module:attr"``."""
    if not isinstance(target, str):
        return target
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"import string must look like 'module:attribute', not {target!r}")
    module = _running_script(module_name) or importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module_name!r} has no attribute {attr!r}") from None
    return obj


def _running_script(module_name: str) -> Any:
    """The ``__main__`` module when ``module_name`` names the script being run.

    ``serve("myapp:app")`` at the bottom of ``myapp.py``, run as ``python myapp.py``, must not
    import (and so run) ``myapp.py`` a second time.
    """
    if module_name in sys.modules:
        return None
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if not main_file:
        return None
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    try:
        same = Path(spec.origin).resolve() == Path(main_file).resolve()
    except OSError:
        return None
    return main if same else None


# PID files -------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


class PidFile:
    """A PID file: written on :meth:`acquire`, removed on :meth:`release` (only if still ours).

    An existing file naming a live process raises :class:`AlreadyRunningError`; a stale one
    (dead process, or garbage) is replaced.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.pid = os.getpid()

    def read(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        existing = self.read()
        if existing is not None and existing != self.pid and _alive(existing):
            raise AlreadyRunningError(self.path, existing)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{self.pid}.tmp")
        tmp.write_text(f"{self.pid}\n")
        os.replace(tmp, self.path)

    def release(self) -> None:
        if self.read() == self.pid:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> PidFile:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# ports -------------------------------------------------------------------------------------


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _probe(host: str, port: int) -> None:
    """Raise PortInUseError if something already listens on host:port (REUSEPORT or not)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUseError(host, port) from None
            raise ServerError(f"cannot bind {host}:{port}: {exc.strerror}") from None


def _reserve(host: str) -> socket.socket:
    """A bound, non-listening socket on a free port, shareable with granian's SO_REUSEPORT bind."""
    s = socket.socket(_family(host), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, 0))
    return s


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    """Poll until host:port accepts a TCP connection (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    connect_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((connect_host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def _os_threads() -> set[int]:
    """Native thread ids of this process (Linux; empty elsewhere)."""
    try:
        return {int(tid) for tid in os.listdir("/proc/self/task")}
    except (OSError, ValueError):
        return set()


def _await_native_threads(threads: set[int], timeout: float = 1.0) -> None:
    """Wait until the given native (granian runtime) threads have ended.

    granian's runtime threads finish a few milliseconds after ``serve()`` returns; an interpreter
    that exits before then can be aborted by them.
    """
    deadline = time.monotonic() + timeout
    while threads and time.monotonic() < deadline:
        threads = threads & _os_threads()
        if threads:
            time.sleep(0.005)


def _new_native_threads(before: set[int]) -> set[int]:
    """Native threads started since ``before`` that are not Python threads."""
    return _os_threads() - before - {t.native_id for t in threading.enumerate()}


def _quiet_granian() -> None:
    # The embedded server logs an "experimental" warning on every start; keep granian's own
    # log at WARNING unless the user configured it.
    glog = logging.getLogger("_granian")
    if glog.level == logging.NOTSET:
        glog.setLevel(logging.ERROR)


# granian caps concurrent connections at ``backpressure``, which defaults to ``backlog`` (128):
# every open SSE stream or WebSocket holds one slot, so the default would serve only 128 of them.
DEFAULT_BACKLOG = 4096


def _granian_server(app: Any, host: str, port: int, interface: Interface, **options: Any) -> Any:
    from granian.constants import HTTPModes, Interfaces
    from granian.server.embed import Server as GranianEmbedded

    options.setdefault("backlog", DEFAULT_BACKLOG)
    # Plain HTTP/1.1 unless asked otherwise: browsers use HTTP/2 only over TLS, and granian's
    # auto-detecting mode costs about 10 KiB more per open connection.
    options.setdefault("http", HTTPModes.http1)

    if interface not in ("rsgi", "asgi"):
        raise ValueError(f"interface must be 'rsgi' or 'asgi', not {interface!r}")
    # ASGINL: wirecore runs the lifespan itself, the same way for both interfaces.
    iface = Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGINL
    target = app if interface == "rsgi" else _AsgiOnly(app)
    _quiet_granian()
    return GranianEmbedded(target, address=host, port=port, interface=iface, log_enabled=False, **options)


class _AsgiOnly:
    """Hide ``__rsgi__`` so granian's ASGI mode sees a plain ASGI callable."""

    __slots__ = ("app",)

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        return self.app(scope, receive, send)


async def _startup(app: Any) -> None:
    start = getattr(app, "startup", None)
    if start is None:
        return
    try:
        await start()
    except Exception as exc:
        raise LifespanError(f"lifespan startup failed: {exc!r}") from exc


async def _shutdown(app: Any) -> None:
    stop = getattr(app, "shutdown", None)
    if stop is not None:
        try:
            await stop()
        except Exception:
            logger.exception("lifespan shutdown failed")


# embedded ----------------------------------------------------------------------------------


def _url(host: str, port: int) -> str:
    host = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Server:
    """An app served by granian in a background thread with its own event loop.

    ``start()`` returns only once the port accepts connections (raising if the bind or the
    app's startup fails); ``port`` then holds the real port, also when 0 was asked for.
    ``stop()`` closes open streams and WebSockets and returns within about 2 seconds.
    Usable as a context manager; may be started again after a stop.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        interface: Interface = "rsgi",
        pid_file: str | os.PathLike[str] | None = None,
        name: str = "wirecore",
        **granian_options: Any,
    ) -> None:
        self.app = load_app(app)
        self.host = host
        self.requested_port = port
        self.port = port
        self.interface: Interface = interface
        self.name = name
        self.pid_file = PidFile(pid_file) if pid_file is not None else None
        self.granian_options = granian_options
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._granian: Any = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._native_threads: set[int] = set()

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> Server:
        if self.running:
            raise ServerError("server already running")
        reserved: socket.socket | None = None
        if self.requested_port == 0:
            reserved = _reserve(self.host)
            self.port = reserved.getsockname()[1]
        else:
            _probe(self.host, self.requested_port)
            self.port = self.requested_port
        if self.pid_file is not None:
            self.pid_file.acquire()
        self._error = None
        self._ready.clear()
        self._stopped.clear()
        self._native_threads = set()
        before = _os_threads()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-server", daemon=True)
        self._thread.start()
        try:
            deadline = time.monotonic() + timeout
            while not self._ready.wait(0.01):
                if self._error is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                    break
            if self._error is None and self._ready.is_set():
                if not wait_for_port(self.host, self.port, max(0.1, deadline - time.monotonic())):
                    self._error = ServerError(f"{self.url} did not start accepting connections")
                # granian's runtime threads for this server exist once it accepts connections
                self._native_threads = _new_native_threads(before)
            elif self._error is None:
                self._error = ServerError(f"{self.name} did not start within {timeout}s")
        finally:
            if reserved is not None:
                reserved.close()
        if self._error is not None:
            err = self._error
            self.stop()
            raise err
        logger.info("%s serving on %s (%s)", self.name, self.url, self.interface)
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:
            if self._error is None:
                self._error = _bind_error(exc, self.host, self.port)
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            _await_native_threads(self._native_threads)
            self._stopped.set()

    async def _main(self) -> None:
        await _startup(self.app)
        try:
            self._granian = _granian_server(
                self.app, self.host, self.port, self.interface, **self.granian_options
            )
            serving = asyncio.ensure_future(self._granian.serve())
            self._ready.set()
            await serving
        finally:
            await _shutdown(self.app)

    def stop(self, timeout: float = 2.0) -> None:
        """Close live connections, stop granian and join the thread."""
        loop, thread = self._loop, self._thread
        if thread is not None and thread.is_alive() and loop is not None and not loop.is_closed():
            fut = None
            with contextlib.suppress(RuntimeError):
                fut = asyncio.run_coroutine_threadsafe(self._close(), loop)
            if fut is not None:
                with contextlib.suppress(Exception):
                    fut.result(timeout)
            thread.join(timeout)
        if self.pid_file is not None:
            self.pid_file.release()
        self._thread = None

    async def _close(self) -> None:
        close = getattr(self.app, "close_connections", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close(), 1.5)
        if self._granian is not None:
            self._granian.stop()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LoopServer:
    """An app served by granian on the caller's *running* event loop.

    For apps whose handlers must share a loop with other code of the caller (objects awaited
    across connections, like pgwidgets' widgets). ``await start()`` returns once the port accepts
    connections (raising :class:`PortInUseError`, :class:`LifespanError` or :class:`ServerError`);
    ``await stop()`` closes live connections, stops granian and runs the app's shutdown.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        interface: Interface = "rsgi",
        name: str = "wirecore",
        **granian_options: Any,
    ) -> None:
        self.app = load_app(app)
        self.host = host
        self.requested_port = port
        self.port = port
        self.interface: Interface = interface
        self.name = name
        self.granian_options = granian_options
        self._granian: Any = None
        self._task: asyncio.Task[Any] | None = None
        self._app_started = False
        self._native_threads: set[int] = set()

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, timeout: float = 10.0) -> LoopServer:
        if self.running:
            raise ServerError("server already running")
        reserved: socket.socket | None = None
        if self.requested_port == 0:
            reserved = _reserve(self.host)
            self.port = reserved.getsockname()[1]
        else:
            _probe(self.host, self.requested_port)
            self.port = self.requested_port
        before = _os_threads()
        loop = asyncio.get_running_loop()
        try:
            await _startup(self.app)
            self._app_started = True
            self._granian = _granian_server(
                self.app, self.host, self.port, self.interface, **self.granian_options
            )
            self._task = asyncio.ensure_future(self._granian.serve())
            deadline = loop.time() + timeout
            connect_host = (
                "127.0.0.1" if self.host in ("0.0.0.0", "") else ("::1" if self.host == "::" else self.host)
            )
            while True:
                if self._task.done():
                    exc = self._task.exception()
                    raise (
                        _bind_error(exc, self.host, self.port)
                        if exc is not None
                        else ServerError(f"{self.name} on {self.url} stopped while starting")
                    )
                try:
                    _reader, writer = await asyncio.open_connection(connect_host, self.port)
                except OSError:
                    if loop.time() > deadline:
                        raise ServerError(f"{self.url} did not start accepting connections") from None
                    await asyncio.sleep(0.01)
                    continue
                writer.close()
                break
            self._native_threads = _new_native_threads(before)
        except BaseException:
            await self.stop()
            raise
        finally:
            if reserved is not None:
                reserved.close()
        logger.info("%s serving on %s (%s, in-loop)", self.name, self.url, self.interface)
        return self

    async def stop(self, timeout: float = 2.0) -> None:
        """Close live connections, stop granian, wait for it and run the app's shutdown."""
        close = getattr(self.app, "close_connections", None)
        if close is not None and self._granian is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close(), timeout * 0.75)
        if self._granian is not None:
            with contextlib.suppress(Exception):
                self._granian.stop()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout)
            except (Exception, asyncio.CancelledError):
                logger.debug("%s: granian stopped with an error", self.name, exc_info=True)
        self._granian = None
        if self._app_started:
            self._app_started = False
            await _shutdown(self.app)
        native, self._native_threads = self._native_threads, set()
        if native:  # granian's runtime threads end just after serve() returns; never exit under them
            await asyncio.get_running_loop().run_in_executor(None, _await_native_threads, native, 0.5)

    async def __aenter__(self) -> LoopServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _bind_error(exc: BaseException, host: str, port: int) -> BaseException:
    text = str(exc)
    if "in use" in text.lower():
        return PortInUseError(host, port)
    if isinstance(exc, (LifespanError, ServerError)):
        return exc
    return ServerError(f"server failed: {text}") if not isinstance(exc, Exception) else exc


# blocking ----------------------------------------------------------------------------------


def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    interface: Interface = "rsgi",
    pid_file: str | os.PathLike[str] | None = None,
    name: str = "wirecore",
    workers: int = 1,
    **granian_options: Any,
) -> None:
    """Serve ``app`` (an object or ``"module:attr"``) on granian until SIGINT or SIGTERM.

    With ``workers=N`` (N > 1) granian runs N worker processes on the port, each importing
    ``app``, which must then be an import string; a broadcast made in one worker reaches the
    others' clients only through a remote backplane (``WIRECORE_REDIS_URL``, see
    :mod:`wirecore.redis_backplane`).

    Raises :class:`PortInUseError`, :class:`AlreadyRunningError` (live PID file) or
    :class:`LifespanError` instead of exiting the interpreter. The PID file is removed on
    every exit path.
    """
    serving = os.environ.get(_SERVING_ENV)
    if serving and serving != str(os.getpid()):
        # a worker of serve(..., workers=N) importing the script that called serve() unguarded
        logger.info("serve() skipped: this process is a worker of the server started by PID %s", serving)
        return
    if workers > 1:
        _serve_workers(app, host, port, interface, pid_file, name, workers, granian_options)
        return
    app = load_app(app)
    if port == 0:
        reserved = _reserve(host)
        port = reserved.getsockname()[1]
    else:
        reserved = None
        _probe(host, port)
    pid = PidFile(pid_file) if pid_file is not None else None
    if pid is not None:
        pid.acquire()
    before = _os_threads()
    try:
        asyncio.run(_serve_blocking(app, host, port, interface, name, reserved, granian_options))
        _await_native_threads(_new_native_threads(before))
    finally:
        if pid is not None:
            pid.release()


def _serve_workers(
    target: Any,
    host: str,
    port: int,
    interface: Interface,
    pid_file: str | os.PathLike[str] | None,
    name: str,
    workers: int,
    options: dict[str, Any],
) -> None:
    """granian's own multi-process server: ``workers`` processes share the port."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    if not isinstance(target, str):
        raise TypeError(
            f"serve(..., workers={workers}) needs the app as an import string ('module:app'): "
            "each worker process imports it"
        )
    if interface not in ("rsgi", "asgi"):
        raise ValueError(f"interface must be 'rsgi' or 'asgi', not {interface!r}")
    if port == 0:
        raise ValueError("serve(..., workers=N) needs a fixed port, not 0")
    _probe(host, port)
    options.setdefault("backlog", DEFAULT_BACKLOG)
    options.setdefault("http", HTTPModes.http1)
    # granian waits for open streams before a worker's shutdown runs (which would end them): an
    # SSE client would hold a stopping worker forever. Past this many seconds it is killed.
    options.setdefault("workers_kill_timeout", 3)
    os.environ[_SERVING_ENV] = str(os.getpid())  # the workers inherit it (see serve())
    pid = PidFile(pid_file) if pid_file is not None else None
    if pid is not None:
        pid.acquire()
    try:
        logger.info("%s serving on http://%s:%s (%s, %d workers)", name, host, port, interface, workers)
        iface = Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI
        Granian(target, address=host, port=port, interface=iface, workers=workers, **options).serve()
    finally:
        os.environ.pop(_SERVING_ENV, None)
        if pid is not None:
            pid.release()


_SERVING_ENV = "_WIRECORE_SERVING_PID"


async def _serve_blocking(
    app: Any,
    host: str,
    port: int,
    interface: Interface,
    name: str,
    reserved: socket.socket | None,
    options: dict[str, Any],
) -> None:
    await _startup(app)
    granian = _granian_server(app, host, port, interface, **options)
    loop = asyncio.get_running_loop()
    stopping = False

    def on_signal() -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        logger.info("%s: stopping", name)

        async def close() -> None:
            close_conns = getattr(app, "close_connections", None)
            if close_conns is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(close_conns(), 1.5)
            granian.stop()

        closing.append(loop.create_task(close()))

    closing: list[asyncio.Task[None]] = []
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
    try:
        serving = asyncio.ensure_future(granian.serve())
        await asyncio.sleep(0)
        if reserved is not None:
            await asyncio.get_running_loop().run_in_executor(None, wait_for_port, host, port, 10.0)
            reserved.close()
        logger.info("%s serving on http://%s:%s (%s)", name, host, port, interface)
        try:
            await serving
        except BaseException as exc:
            raise _bind_error(exc, host, port) from exc
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await _shutdown(app)


@contextlib.contextmanager
def running(app: Any, **kwargs: Any) -> Iterator[Server]:
    """``with running(app) as server:`` an embedded server on a free port, stopped after."""
    server = Server(app, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
