"""An in-process test client: drive any ASGI 3 app over HTTP and WebSocket without a socket.

The app runs on an event loop in a background thread owned by the client; the test thread
talks to it through ASGI ``receive``/``send`` queues, so requests, streamed responses and
WebSocket conversations behave as they would behind a server, and nothing needs a port::

    from wirecore.testing import TestClient

    with TestClient(app) as client:            # runs the app's lifespan startup ...
        r = client.post("/items", json={"name": "x"})
        assert r.status_code == 201 and r.json()["name"] == "x"
        with client.stream("GET", "/events") as r:
            first = next(r.iter_lines())        # leaving the block disconnects the client
        with client.websocket_connect("/ws") as ws:
            ws.send_json({"op": "ping"})
            assert ws.receive_json() == {"op": "pong"}
                                               # ... and its shutdown on exit

Every wait is bounded by ``timeout`` (30 s by default), so an app that hangs fails the test
instead of hanging it. An exception that escapes the app is re-raised in the test when
``raise_server_exceptions`` is true (wirecore's :class:`~wirecore.App` answers exceptions with a
500 itself, so this mostly matters for other ASGI apps).
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlencode, urljoin, urlsplit

from . import codec
from .app import App
from .datastructures import Headers
from .exceptions import LifespanError, WebSocketDisconnect

__all__ = ["ClientDisconnected", "ClientResponse", "ClientWebSocket", "TestClient"]

logger = logging.getLogger("wirecore.testing")

T = TypeVar("T")
Message = dict[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[Any]]
HeaderTypes = Mapping[str, str] | Iterable[tuple[str, str]] | None
QueryTypes = Mapping[str, Any] | Iterable[tuple[str, Any]] | str | None
FormTypes = Mapping[str, Any] | Iterable[tuple[str, Any]] | None
ContentTypes = bytes | bytearray | memoryview | str | Iterable[bytes] | None

_ASGI = {"version": "3.0", "spec_version": "2.4"}
_BODY_CHUNK = 64 * 1024
# How many body chunks (or WebSocket messages) the app may send ahead of the test reading them.
# Past that its ``send`` waits, as it would on a real socket; without this limit an app that
# streams without ever awaiting anything else would never give the loop back.
_SEND_CREDIT = 64
# Extra time the test thread waits for the loop itself before deciding the loop is blocked.
_LOOP_MARGIN = 2.0
_MAX_REDIRECTS = 20
_NEWLINE = re.compile(r"\r\n|\r|\n")
_PATH_SAFE = "/:@!$&'()*+,;=%~"
_QUERY_SAFE = "/:@!$&'()*+,;=%~?"


class ClientDisconnected(OSError):
    """Raised inside the app by ``send`` once the test client has gone (ASGI spec 2.4)."""


class _Default:
    """Marks an argument left out, where ``None`` is a meaningful value."""

    def __repr__(self) -> str:
        return "<client default>"


USE_CLIENT_DEFAULT: Any = _Default()


# the loop thread ------------------------------------------------------------------------------


class _LoopThread:
    """An event loop running in a daemon thread, driven from the calling (test) thread."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.loop is None:
                self.loop, self._thread = self._spawn()
            return self.loop

    @staticmethod
    def _spawn() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=main, name="wirecore-testclient", daemon=True)
        thread.start()
        ready.wait()
        return loop, thread

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float | None, what: str) -> T:
        """Run ``fn()`` on the loop and return its result; ``TimeoutError`` after ``timeout``."""
        loop = self.loop
        if loop is None:
            raise RuntimeError("the test client is closed")

        async def bounded() -> T:
            if timeout is None:
                return await fn()
            deadline = asyncio.timeout(timeout)
            try:
                async with deadline:
                    return await fn()
            except TimeoutError:
                if deadline.expired():
                    raise TimeoutError(f"{what}: no answer from the app within {timeout} s") from None
                raise

        future = asyncio.run_coroutine_threadsafe(bounded(), loop)
        try:
            return future.result(None if timeout is None else timeout + _LOOP_MARGIN)
        except TimeoutError:
            if not future.done():
                future.cancel()
                raise TimeoutError(
                    f"{what}: the app's event loop did not respond within {timeout} s "
                    "(does the app block it, e.g. with time.sleep?)"
                ) from None
            raise

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule a plain callback on the loop, without waiting for it."""
        loop = self.loop
        if loop is None:
            raise RuntimeError("the test client is closed")
        loop.call_soon_threadsafe(fn, *args)

    def stop(self, timeout: float | None) -> None:
        """Cancel what is left on the loop, shut its thread pool down and end the thread."""
        loop, thread = self.loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self.call(_drain_loop, timeout, "stopping the test client's event loop")
        except TimeoutError as exc:
            logger.warning("%s; leaving its thread behind", exc)
        finally:
            self.loop = self._thread = None
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()


async def _drain_loop() -> None:
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    loop = asyncio.get_running_loop()
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


# one ASGI connection, as the app sees it -----------------------------------------------------------


class _Connection:
    """The app's ``receive``/``send`` for one scope, and the queues behind them.

    Lives on the loop thread. ``to_app`` carries the client's messages; ``from_app`` the app's,
    ending with ``None`` once the app returned. When the client leaves, ``receive`` answers its
    final message (``http.disconnect``...) for ever and ``send`` raises :class:`ClientDisconnected`.
    """

    def __init__(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        self.app = app
        self.scope = scope
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message | None] = asyncio.Queue()
        self.gone = False
        self.error: BaseException | None = None
        self.error_reported = False
        self.task: asyncio.Task[None] | None = None
        self._final: Message | None = None
        self._credit = asyncio.Semaphore(_SEND_CREDIT)

    # the app's side

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._receive, self._send)
        except asyncio.CancelledError:
            pass  # cancelled by the client after it left; not the app's failure
        except Exception as exc:
            self.error = exc
        finally:
            self.from_app.put_nowait(None)

    async def _receive(self) -> Message:
        if self._final is not None and self.to_app.empty():
            return dict(self._final)
        return await self.to_app.get()

    async def _send(self, message: Message) -> None:
        if self.gone:
            raise ClientDisconnected("the test client has disconnected")
        self.check(message)
        if self.uses_credit(message):
            await self._credit.acquire()
            if self.gone:
                self._credit.release()  # pass the wake-up on to any other waiting sender
                raise ClientDisconnected("the test client has disconnected")
        self.from_app.put_nowait(message)

    def check(self, message: Message) -> None:
        """Validate one message from the app against the protocol state (subclasses)."""

    def uses_credit(self, message: Message) -> bool:
        return False

    # the client's side (still on the loop)

    async def next_message(self) -> Message | None:
        """The app's next message; ``None`` once the app has returned."""
        message = await self.from_app.get()
        if message is None:
            self.from_app.put_nowait(None)
            return None
        if self.uses_credit(message):
            self._credit.release()
        return message

    def leave(self, final: Message) -> None:
        """The client is gone: ``final`` is what the app receives from now on."""
        if self.gone:
            return
        self.gone = True
        self._final = final
        self.to_app.put_nowait(dict(final))
        self._credit.release()

    async def finish(self, final: Message, grace: float) -> None:
        """Leave, give the app ``grace`` seconds to return by itself, then cancel it."""
        self.leave(final)
        task = self.task
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
            await asyncio.wait({task})

    async def abort(self) -> None:
        """Cancel the app after a timeout, so it does not linger."""
        self.gone = True
        self._credit.release()
        task = self.task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)


class _HttpConnection(_Connection):
    def __init__(self, app: ASGIApp, scope: dict[str, Any], body: list[Message]) -> None:
        super().__init__(app, scope)
        for message in body:
            self.to_app.put_nowait(message)
        self.started = False
        self.complete = False

    def check(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("ASGI protocol error: http.response.start sent twice")
            self.started = True
        elif kind == "http.response.body":
            if not self.started:
                raise RuntimeError("ASGI protocol error: http.response.body sent before http.response.start")
            if self.complete:
                raise RuntimeError("ASGI protocol error: http.response.body sent after the response ended")
            if not message.get("more_body", False):
                self.complete = True
        else:
            raise RuntimeError(f"ASGI protocol error: unexpected message {kind!r} for an HTTP request")

    def uses_credit(self, message: Message) -> bool:
        return message.get("type") == "http.response.body"

    async def read_head(self) -> Message | None:
        self.start()
        return await self.next_message()

    async def read_whole(self, grace: float) -> tuple[Message | None, bytes]:
        """Run the whole exchange: the start message and the complete body."""
        head = await self.read_head()
        chunks: list[bytes] = []
        if head is not None:
            while True:
                message = await self.next_message()
                if message is None:
                    break
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    break
        await self.finish(_HTTP_DISCONNECT, grace)
        return head, b"".join(chunks)


_HTTP_DISCONNECT: Message = {"type": "http.disconnect"}


class _WebSocketConnection(_Connection):
    def __init__(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        super().__init__(app, scope)
        self.to_app.put_nowait({"type": "websocket.connect"})
        self.state = "connecting"

    def check(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "websocket.accept":
            if self.state != "connecting":
                raise RuntimeError("ASGI protocol error: websocket.accept sent twice")
            self.state = "open"
        elif kind == "websocket.send":
            if self.state != "open":
                raise RuntimeError(f"ASGI protocol error: websocket.send on a {self.state} WebSocket")
            if message.get("text") is None and message.get("bytes") is None:
                raise RuntimeError("ASGI protocol error: websocket.send with neither text nor bytes")
        elif kind == "websocket.close":
            if self.state == "closed":
                raise RuntimeError("ASGI protocol error: websocket.close sent twice")
            self.state = "closed"
            # the close handshake completes at once: the app's next receive reports it
            self.leave(
                {
                    "type": "websocket.disconnect",
                    "code": message.get("code") or 1000,
                    "reason": message.get("reason") or "",
                }
            )
        else:
            raise RuntimeError(f"ASGI protocol error: unexpected message {kind!r} for a WebSocket")

    def uses_credit(self, message: Message) -> bool:
        return message.get("type") == "websocket.send"

    async def handshake(self) -> Message | None:
        self.start()
        return await self.next_message()


class _LifespanConnection(_Connection):
    supported = True

    async def startup(self) -> None:
        self.start()
        self.to_app.put_nowait({"type": "lifespan.startup"})
        message = await self.next_message()
        if message is None:
            # the app does not speak lifespan (ASGI: carry on without lifespan events)
            self.supported = False
            if self.error is not None:
                logger.debug("the app does not support lifespan: %r", self.error)
            return
        if message.get("type") == "lifespan.startup.failed":
            raise LifespanError(f"lifespan startup failed: {message.get('message', '')}")
        if message.get("type") != "lifespan.startup.complete":
            raise LifespanError(f"unexpected lifespan message {message.get('type')!r}")

    async def shutdown(self) -> None:
        task = self.task
        if not self.supported or task is None or task.done():
            return
        self.to_app.put_nowait({"type": "lifespan.shutdown"})
        message = await self.next_message()
        await asyncio.wait({task})
        if message is None:
            if self.error is not None:
                raise LifespanError(f"lifespan shutdown failed: {self.error!r}") from self.error
            return
        if message.get("type") == "lifespan.shutdown.failed":
            raise LifespanError(f"lifespan shutdown failed: {message.get('message', '')}")


# responses --------------------------------------------------------------------------------------


class ClientResponse:
    """An HTTP response as the test sees it.

    ``headers`` is case-insensitive (``headers.getlist("set-cookie")`` for repeated ones).
    A response from :meth:`TestClient.stream` reads its body lazily: iterate it with
    :meth:`iter_bytes`, :meth:`iter_text` or :meth:`iter_lines`, or :meth:`read` it all.
    """

    def __init__(
        self,
        status_code: int,
        headers: Headers,
        *,
        method: str,
        url: str,
        content: bytes | None = None,
        stream: _HttpStream | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.method = method
        self.url = url
        self.history: list[ClientResponse] = []
        self._content = content
        self._stream = stream

    @property
    def reason_phrase(self) -> str:
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def ok(self) -> bool:
        """True for statuses below 400."""
        return self.status_code < 400

    @property
    def is_redirect(self) -> bool:
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def encoding(self) -> str:
        """The charset named by ``content-type``, UTF-8 otherwise."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                name = value.strip().strip('"')
                try:
                    return codecs.lookup(name).name
                except LookupError:
                    break
        return "utf-8"

    @property
    def content(self) -> bytes:
        """The whole body (read now, for a streamed response not yet read)."""
        return self.read()

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, "replace")

    def json(self, type: Any = None) -> Any:
        """The body decoded as JSON (validated into ``type`` if given)."""
        return codec.decode(self.content, type) if type is not None else codec.decode(self.content)

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies this response sets (``name: value``)."""
        jar: dict[str, str] = {}
        for header in self.headers.getlist("set-cookie"):
            _store_cookie(jar, header)
        return jar

    def read(self) -> bytes:
        """Read the rest of a streamed body; the whole body of any other response."""
        if self._content is None:
            stream = self._stream
            if stream is None:
                self._content = b""
            elif stream.iterated:
                raise RuntimeError("the body was already consumed by iter_bytes()/iter_lines()")
            else:
                self._content = b"".join(stream)
        return self._content

    def iter_bytes(self) -> Iterator[bytes]:
        """The body as it arrives, one chunk per non-empty ASGI body message."""
        if self._content is not None or self._stream is None:
            if self.content:
                yield self.content
            return
        self._stream.iterated = True
        yield from self._stream

    def iter_text(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)("replace")
        for chunk in self.iter_bytes():
            text = decoder.decode(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    def iter_lines(self) -> Iterator[str]:
        """The body line by line, without line endings (``\\n``, ``\\r\\n`` or ``\\r``, as SSE)."""
        pending = ""
        for text in self.iter_text():
            pending += text
            while True:
                match = _NEWLINE.search(pending)
                if match is None or (match.group() == "\r" and match.end() == len(pending)):
                    break  # no line yet, or a "\r" whose "\n" may come with the next chunk
                yield pending[: match.start()]
                pending = pending[match.end() :]
        if pending:
            yield pending[:-1] if pending.endswith("\r") else pending

    def close(self) -> None:
        """Disconnect a streamed response (leaving :meth:`TestClient.stream` does this)."""
        if self._stream is not None:
            self._stream.close()

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status_code} {self.method} {self.url}>"


class _HttpStream:
    """Reads a streamed body from the test thread, one ASGI message at a time."""

    def __init__(self, client: TestClient, conn: _HttpConnection, timeout: float | None, head: bool) -> None:
        self.client = client
        self.conn = conn
        self.timeout = timeout
        self.head = head
        self.done = False
        self.closed = False
        self.iterated = False

    def __iter__(self) -> Iterator[bytes]:
        while not self.done:
            message = self.client._call(
                self.conn.next_message, self.timeout, "reading a streamed body", self.conn
            )
            if message is None:
                self.done = True
                self.client._raise_app_error(self.conn)
                if self.conn.error is not None:
                    return  # the app failed mid-body: the body ends where it stopped
                raise RuntimeError("the app returned before completing the response")
            if not message.get("more_body", False):
                self.done = True
            chunk = bytes(message.get("body", b""))
            if chunk and not self.head:
                yield chunk

    def close(self, propagating: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        conn = self.conn
        grace = self.client.disconnect_grace

        async def finish() -> None:
            await conn.finish(_HTTP_DISCONNECT, grace)

        self.client._call(finish, self.timeout, "closing a streamed response", conn)
        if not propagating:
            self.client._raise_app_error(conn)


# WebSocket ------------------------------------------------------------------------------------


class ClientWebSocket:
    """The test's end of an accepted WebSocket. Use it as a context manager to close it.

    ``receive_*`` raise :class:`~wirecore.WebSocketDisconnect` once the app closes the socket
    (``code`` and ``reason`` are the app's). ``accepted_subprotocol`` and ``headers`` come from the
    app's accept message.
    """

    def __init__(
        self, client: TestClient, conn: _WebSocketConnection, accept: Message, timeout: float | None
    ) -> None:
        self._client = client
        self._conn = conn
        self._timeout = timeout
        self.accepted_subprotocol: str | None = accept.get("subprotocol")
        self.headers = _decode_headers(accept.get("headers") or [])
        self.close_code: int | None = None
        self.close_reason = ""
        self._closed_by_app = False
        self._closed_by_client = False

    # sending

    def _put(self, message: Message) -> None:
        if self._closed_by_client:
            raise RuntimeError("this WebSocket was closed by the test")
        if self._closed_by_app:
            raise WebSocketDisconnect(self.close_code or 1000, self.close_reason)
        self._client._loop.call_soon(self._conn.to_app.put_nowait, message)

    def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        if isinstance(data, str):
            self.send_text(data)
        else:
            self.send_bytes(data)

    def send_text(self, data: str) -> None:
        self._put({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self._put({"type": "websocket.receive", "bytes": bytes(data)})

    def send_json(self, data: Any, mode: str = "text") -> None:
        """Send ``data`` as JSON in a text message (``mode="binary"`` for a binary one)."""
        encoded = codec.encode(data)
        if mode == "binary":
            self.send_bytes(encoded)
        else:
            self.send_text(encoded.decode())

    # receiving

    def receive(self, timeout: float | _Default | None = USE_CLIENT_DEFAULT) -> str | bytes:
        """The app's next message: ``str`` for a text message, ``bytes`` for a binary one."""
        if self._closed_by_client:
            raise RuntimeError("this WebSocket was closed by the test")
        if self._closed_by_app:
            raise WebSocketDisconnect(self.close_code or 1000, self.close_reason)
        wait = self._timeout if isinstance(timeout, _Default) else timeout
        conn = self._conn
        # no ``conn`` here: a receive that times out leaves the socket open and usable
        message = self._client._call(conn.next_message, wait, "waiting for a WebSocket message")
        if message is None:
            self._closed_by_app = True
            self._client._raise_app_error(conn)
            self.close_code = 1011 if conn.error is not None else 1006
            self.close_reason = "the app returned without closing the WebSocket"
            raise WebSocketDisconnect(self.close_code, self.close_reason)
        if message["type"] == "websocket.close":
            self._closed_by_app = True
            self.close_code = message.get("code") or 1000
            self.close_reason = message.get("reason") or ""
            raise WebSocketDisconnect(self.close_code, self.close_reason)
        text = message.get("text")
        return text if text is not None else bytes(message["bytes"])

    def receive_text(self, timeout: float | _Default | None = USE_CLIENT_DEFAULT) -> str:
        data = self.receive(timeout)
        if not isinstance(data, str):
            raise TypeError(f"expected a text message, the app sent binary: {data[:60]!r}")
        return data

    def receive_bytes(self, timeout: float | _Default | None = USE_CLIENT_DEFAULT) -> bytes:
        data = self.receive(timeout)
        if not isinstance(data, bytes):
            raise TypeError(f"expected a binary message, the app sent text: {data[:60]!r}")
        return data

    def receive_json(self, type: Any = None, timeout: float | _Default | None = USE_CLIENT_DEFAULT) -> Any:
        """The next message (text or binary) decoded as JSON, validated into ``type`` if given."""
        data = self.receive(timeout)
        return codec.decode(data, type) if type is not None else codec.decode(data)

    # closing

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the test's side and wait for the app's handler to finish."""
        self._close(code, reason, propagating=False)

    def _close(self, code: int, reason: str, propagating: bool) -> None:
        if self._closed_by_client:
            return
        self._closed_by_client = True
        conn = self._conn
        grace = self._client.disconnect_grace
        final: Message = {"type": "websocket.disconnect", "code": code, "reason": reason}

        async def finish() -> None:
            await conn.finish(final, grace)

        self._client._call(finish, self._timeout, "closing a WebSocket", conn)
        if not propagating:
            self._client._raise_app_error(conn)

    def __enter__(self) -> ClientWebSocket:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close(1000, "", propagating=exc is not None)
        if exc is not None:
            self._client._note_app_error(self._conn, exc)


# the client ------------------------------------------------------------------------------------


class TestClient:
    """Call an ASGI app in-process over HTTP and WebSocket.

    :param app: any ASGI 3 application (a wirecore :class:`~wirecore.App` or another).
    :param base_url: scheme and host of the requests (and a path prefix for relative URLs).
    :param raise_server_exceptions: re-raise an exception that escapes the app in the test;
        when false the test gets a 500 response (or a 1011 WebSocket close) instead.
    :param timeout: seconds any single wait may take (``None``: wait for ever).
    :param headers: headers sent with every request.
    :param cookies: initial cookies; cookies the app sets are kept and sent back (every cookie
        goes to every path: ``Path``, ``Domain`` and ``Secure`` are not looked at).
    :param follow_redirects: follow 3xx responses by default.
    :param client_addr: the ``(host, port)`` the app sees as its peer.

    Using it as a context manager runs the app's lifespan: ``startup()``/``shutdown()`` for a
    wirecore App, the ASGI lifespan protocol for any other app. Without ``with`` the client
    starts on first use, runs no lifespan, and should be :meth:`close`\\ d.
    """

    __test__ = False  # not a pytest test class, despite the name

    disconnect_grace = 1.0
    """Seconds an app may take to return by itself after the client leaves, before it is cancelled."""

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        timeout: float | None = 30.0,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
        client_addr: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.raise_server_exceptions = raise_server_exceptions
        self.timeout = timeout
        self.headers: list[tuple[str, str]] = _header_pairs(headers)
        self.cookies: dict[str, str] = dict(cookies or {})
        self.follow_redirects = follow_redirects
        self.client_addr = client_addr
        self._loop = _LoopThread()
        self._lifespan: _LifespanConnection | None = None
        self._lifespan_state: dict[str, Any] = {}
        self._in_lifespan = False

    # lifecycle

    def __enter__(self) -> TestClient:
        self._loop.start()
        try:
            self._call(self._startup, self.timeout, "running the app's lifespan startup")
        except BaseException:
            self._loop.stop(self.timeout)
            raise
        self._in_lifespan = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._in_lifespan:
                self._in_lifespan = False
                try:
                    self._call(self._shutdown, self.timeout, "running the app's lifespan shutdown")
                except Exception:
                    if exc is None:
                        raise
                    logger.exception("lifespan shutdown failed")
        finally:
            self.close()

    def close(self) -> None:
        """Stop the client's event loop (cancelling whatever the app still runs)."""
        self._loop.stop(self.timeout)

    async def _startup(self) -> None:
        app = self.app
        if isinstance(app, App):
            try:
                await app.startup()
            except Exception as exc:
                raise LifespanError(f"lifespan startup failed: {exc!r}") from exc
            return
        self._lifespan_state = {}
        scope = {"type": "lifespan", "asgi": dict(_ASGI), "state": self._lifespan_state}
        self._lifespan = _LifespanConnection(app, scope)
        await self._lifespan.startup()

    async def _shutdown(self) -> None:
        app = self.app
        if isinstance(app, App):
            try:
                await app.shutdown()
            except Exception as exc:
                raise LifespanError(f"lifespan shutdown failed: {exc!r}") from exc
            return
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()

    # plumbing

    def _call(
        self,
        fn: Callable[[], Awaitable[T]],
        timeout: float | None,
        what: str,
        conn: _Connection | None = None,
    ) -> T:
        self._loop.start()
        try:
            return self._loop.call(fn, timeout, what)
        except TimeoutError:
            if conn is not None and self._loop.loop is not None:
                try:
                    self._loop.call(conn.abort, 5.0, "cancelling the app after a timeout")
                except TimeoutError:
                    pass
            raise

    def _raise_app_error(self, conn: _Connection) -> None:
        error = conn.error
        if error is None or conn.error_reported or not self.raise_server_exceptions:
            return
        if isinstance(error, ClientDisconnected) and conn.gone:
            return  # the app only noticed that the client had left
        conn.error_reported = True
        raise error

    def _note_app_error(self, conn: _Connection, exc: BaseException) -> None:
        error = conn.error
        if error is not None and not conn.error_reported and not isinstance(error, ClientDisconnected):
            conn.error_reported = True
            exc.add_note(f"the app also raised: {error!r}")

    def _resolve(self, url: str) -> str:
        if "://" in url.split("?", 1)[0]:
            return url
        base = urlsplit(self.base_url)
        prefix = base.path.rstrip("/")
        if not url.startswith("/"):
            url = "/" + url
        return f"{base.scheme}://{base.netloc}{prefix}{url}"

    def _scope(
        self,
        kind: str,
        url: str,
        params: QueryTypes,
        headers: list[tuple[str, str]],
    ) -> tuple[dict[str, Any], str]:
        """An ASGI scope for ``url`` (resolved against ``base_url``), and the full URL."""
        full = self._resolve(url)
        scheme, netloc, path, query, _ = _split_url(full)
        if params:
            extra = params if isinstance(params, str) else _encode_pairs(params)
            query = f"{query}&{extra}" if query else extra
        raw_path = quote(path or "/", safe=_PATH_SAFE)
        query = quote(query, safe=_QUERY_SAFE)
        host, port = _host_port(scheme, netloc)
        if kind == "websocket":
            scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
        scope: dict[str, Any] = {
            "type": kind,
            "asgi": dict(_ASGI),
            "http_version": "1.1",
            "scheme": scheme,
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("ascii"),
            "query_string": query.encode("ascii"),
            "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "client": self.client_addr,
            "server": (host, port),
            "extensions": {},
        }
        if self._lifespan is not None and self._lifespan.supported:
            scope["state"] = dict(self._lifespan_state)
        shown = f"{scheme}://{netloc}{raw_path}" + (f"?{query}" if query else "")
        return scope, shown

    def _request_headers(
        self,
        netloc: str,
        body_headers: list[tuple[str, str]],
        headers: HeaderTypes,
        cookies: Mapping[str, str] | None,
    ) -> list[tuple[str, str]]:
        merged = [("host", netloc), ("user-agent", "wirecore-testclient"), ("accept", "*/*")]
        merged = _merge_headers(merged, self.headers)
        merged = _merge_headers(merged, body_headers)
        merged = _merge_headers(merged, _header_pairs(headers))
        if not any(k.lower() == "cookie" for k, _ in merged):
            jar = {**self.cookies, **(cookies or {})}
            if jar:
                merged.append(("cookie", "; ".join(f"{k}={v}" for k, v in jar.items())))
        return merged

    def _keep_cookies(self, headers: Headers) -> None:
        for header in headers.getlist("set-cookie"):
            _store_cookie(self.cookies, header)

    def _timeout(self, timeout: float | _Default | None) -> float | None:
        return self.timeout if isinstance(timeout, _Default) else timeout

    def _open_http(
        self,
        method: str,
        url: str,
        params: QueryTypes,
        headers: HeaderTypes,
        cookies: Mapping[str, str] | None,
        content: ContentTypes,
        data: FormTypes | str | bytes,
        json: Any,
    ) -> tuple[_HttpConnection, str]:
        method = method.upper()
        body, body_headers = _encode_body(method, content, data, json)
        netloc = _split_url(self._resolve(url))[1]
        all_headers = self._request_headers(netloc, body_headers, headers, cookies)
        scope, full = self._scope("http", url, params, all_headers)
        scope["method"] = method
        return _HttpConnection(self.app, scope, body), full

    def _response(self, conn: _HttpConnection, head: Message | None, method: str, url: str) -> ClientResponse:
        """Check the app's outcome and turn its start message into a response (without body)."""
        if head is None:
            self._raise_app_error(conn)
            if conn.error is not None:
                content = b"Internal Server Error"
                headers = Headers([("content-type", "text/plain; charset=utf-8")])
                return ClientResponse(500, headers, method=method, url=url, content=content)
            raise RuntimeError(f"the app returned without answering {method} {url}")
        headers = _decode_headers(head.get("headers") or [])
        self._keep_cookies(headers)
        return ClientResponse(int(head["status"]), headers, method=method, url=url)

    # HTTP

    def request(
        self,
        method: str,
        url: str,
        *,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        content: ContentTypes = None,
        data: FormTypes | str | bytes = None,
        json: Any = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        """Send one request and read the whole response.

        The body is one of ``content`` (bytes, str, or an iterable of bytes sent in chunks),
        ``data`` (form fields, URL-encoded) or ``json`` (encoded with msgspec).
        """
        wait = self._timeout(timeout)
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        history: list[ClientResponse] = []
        while True:
            response = self._send_one(method, url, params, headers, cookies, content, data, json, wait)
            if not (follow and response.is_redirect):
                response.history = history
                return response
            history.append(response)
            if len(history) > _MAX_REDIRECTS:
                raise RuntimeError(f"more than {_MAX_REDIRECTS} redirects, the last to {response.url}")
            url = urljoin(response.url, response.headers["location"])
            params = None
            status = response.status_code
            if (status == 303 and method.upper() != "HEAD") or (
                status in (301, 302) and method.upper() == "POST"
            ):
                method, content, data, json = "GET", None, None, None

    def _send_one(
        self,
        method: str,
        url: str,
        params: QueryTypes,
        headers: HeaderTypes,
        cookies: Mapping[str, str] | None,
        content: ContentTypes,
        data: FormTypes | str | bytes,
        json: Any,
        timeout: float | None,
    ) -> ClientResponse:
        conn, full = self._open_http(method, url, params, headers, cookies, content, data, json)
        grace = self.disconnect_grace

        async def exchange() -> tuple[Message | None, bytes]:
            return await conn.read_whole(grace)

        head, body = self._call(exchange, timeout, f"{method.upper()} {full}", conn)
        response = self._response(conn, head, method.upper(), full)
        self._raise_app_error(conn)
        if not conn.complete and conn.error is None:
            raise RuntimeError(f"the app returned before completing its response to {method.upper()} {full}")
        response._content = b"" if method.upper() == "HEAD" else body
        return response

    def stream(
        self,
        method: str,
        url: str,
        *,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        content: ContentTypes = None,
        data: FormTypes | str | bytes = None,
        json: Any = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> _StreamContext:
        """``with client.stream("GET", "/events") as r:`` read the body as it comes.

        The response is returned as soon as the app has sent its headers. Leaving the block
        disconnects the client (the app receives ``http.disconnect``, its sends raise
        :class:`ClientDisconnected`) and waits for the app to finish.
        """
        return _StreamContext(self, method, url, params, headers, cookies, content, data, json, timeout)

    def get(
        self,
        url: str,
        *,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        return self.request(
            "GET", url, params=params, headers=headers, cookies=cookies,
            follow_redirects=follow_redirects, timeout=timeout,
        )  # fmt: skip

    def head(
        self,
        url: str,
        *,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        return self.request(
            "HEAD", url, params=params, headers=headers, cookies=cookies,
            follow_redirects=follow_redirects, timeout=timeout,
        )  # fmt: skip

    def options(
        self,
        url: str,
        *,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        return self.request(
            "OPTIONS", url, params=params, headers=headers, cookies=cookies,
            follow_redirects=follow_redirects, timeout=timeout,
        )  # fmt: skip

    def delete(
        self,
        url: str,
        *,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        return self.request(
            "DELETE", url, params=params, headers=headers, cookies=cookies,
            follow_redirects=follow_redirects, timeout=timeout,
        )  # fmt: skip

    def post(
        self,
        url: str,
        *,
        content: ContentTypes = None,
        data: FormTypes | str | bytes = None,
        json: Any = None,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        return self.request(
            "POST", url, content=content, data=data, json=json, params=params, headers=headers,
            cookies=cookies, follow_redirects=follow_redirects, timeout=timeout,
        )  # fmt: skip

    def put(
        self,
        url: str,
        *,
        content: ContentTypes = None,
        data: FormTypes | str | bytes = None,
        json: Any = None,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        return self.request(
            "PUT", url, content=content, data=data, json=json, params=params, headers=headers,
            cookies=cookies, follow_redirects=follow_redirects, timeout=timeout,
        )  # fmt: skip

    def patch(
        self,
        url: str,
        *,
        content: ContentTypes = None,
        data: FormTypes | str | bytes = None,
        json: Any = None,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientResponse:
        return self.request(
            "PATCH", url, content=content, data=data, json=json, params=params, headers=headers,
            cookies=cookies, follow_redirects=follow_redirects, timeout=timeout,
        )  # fmt: skip

    # WebSocket

    def websocket_connect(
        self,
        url: str,
        *,
        params: QueryTypes = None,
        headers: HeaderTypes = None,
        cookies: Mapping[str, str] | None = None,
        subprotocols: Sequence[str] | None = None,
        timeout: float | _Default | None = USE_CLIENT_DEFAULT,
    ) -> ClientWebSocket:
        """Open a WebSocket and wait for the app to accept it.

        A refusal (the app closes before accepting, which a real server answers with HTTP 403)
        raises :class:`~wirecore.WebSocketDisconnect` with code 403.
        """
        wait = self._timeout(timeout)
        ws_headers = [
            ("connection", "upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]
        if subprotocols:
            ws_headers.append(("sec-websocket-protocol", ", ".join(subprotocols)))
        target = url
        if target.startswith(("ws://", "wss://")):
            target = "http" + target[2:]
        netloc = _split_url(self._resolve(target))[1]
        all_headers = self._request_headers(netloc, ws_headers, headers, cookies)
        scope, full = self._scope("websocket", target, params, all_headers)
        scope["subprotocols"] = list(subprotocols or [])
        conn = _WebSocketConnection(self.app, scope)
        first = self._call(conn.handshake, wait, f"opening WebSocket {full}", conn)
        if first is not None and first["type"] == "websocket.accept":
            accepted = ClientWebSocket(self, conn, first, wait)
            self._keep_cookies(accepted.headers)
            return accepted
        grace = self.disconnect_grace

        async def finish() -> None:
            await conn.finish({"type": "websocket.disconnect", "code": 1006, "reason": ""}, grace)

        self._call(finish, wait, f"refusing WebSocket {full}", conn)
        self._raise_app_error(conn)
        if first is None:
            code = 1011 if conn.error is not None else 1006
            raise WebSocketDisconnect(code, "the app returned without accepting the WebSocket")
        # a real server answers a close before accept with HTTP 403, whatever code the app gave
        raise WebSocketDisconnect(403, first.get("reason") or "")


class _StreamContext:
    """What :meth:`TestClient.stream` returns: enter it for the response, leave it to disconnect."""

    def __init__(
        self,
        client: TestClient,
        method: str,
        url: str,
        params: QueryTypes,
        headers: HeaderTypes,
        cookies: Mapping[str, str] | None,
        content: ContentTypes,
        data: FormTypes | str | bytes,
        json: Any,
        timeout: float | _Default | None,
    ) -> None:
        self._client = client
        self._args = (method, url, params, headers, cookies, content, data, json)
        self._timeout = client._timeout(timeout)
        self._stream: _HttpStream | None = None

    def __enter__(self) -> ClientResponse:
        client = self._client
        conn, full = client._open_http(*self._args)
        method = conn.scope["method"]
        head = client._call(conn.read_head, self._timeout, f"{method} {full}", conn)
        if head is None:
            # the app returned (or failed) before answering: collect the outcome, then report it
            async def finish() -> None:
                await conn.finish(_HTTP_DISCONNECT, client.disconnect_grace)

            client._call(finish, self._timeout, f"{method} {full}", conn)
            return client._response(conn, head, method, full)
        response = client._response(conn, head, method, full)
        self._stream = _HttpStream(client, conn, self._timeout, head=method == "HEAD")
        response._stream = self._stream
        return response

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stream = self._stream
        if stream is not None:
            stream.close(propagating=exc is not None)
            if exc is not None:
                self._client._note_app_error(stream.conn, exc)


# helpers ---------------------------------------------------------------------------------------


def _split_url(url: str) -> tuple[str, str, str, str, str]:
    """Split an absolute URL without mistaking a path that starts with ``//`` for a host."""
    scheme, _, rest = url.partition("://")
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    return scheme.lower(), netloc, slash + path, query, fragment


def _host_port(scheme: str, netloc: str) -> tuple[str, int]:
    host = netloc.rpartition("@")[2]
    default = 443 if scheme in ("https", "wss") else 80
    if host.startswith("["):  # [::1]:8000
        inside, _, after = host[1:].partition("]")
        port = after.lstrip(":")
        return inside, int(port) if port.isdigit() else default
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name, int(port)
    return host, default


def _header_pairs(headers: HeaderTypes) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Headers):
        return headers.multi_items()
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in items]


def _merge_headers(base: list[tuple[str, str]], override: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``base`` with every header named in ``override`` replaced by override's values."""
    if not override:
        return base
    names = {k.lower() for k, _ in override}
    return [(k, v) for k, v in base if k.lower() not in names] + override


def _decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    return Headers((bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in raw)


def _query_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _encode_pairs(pairs: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """URL-encode fields; a list or tuple value repeats its key."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    flat: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            flat.extend((str(key), _query_value(v)) for v in value)
        else:
            flat.append((str(key), _query_value(value)))
    return urlencode(flat)


def _encode_body(
    method: str, content: ContentTypes, data: FormTypes | str | bytes, json: Any
) -> tuple[list[Message], list[tuple[str, str]]]:
    """The ``http.request`` messages for a body, and the headers that describe it."""
    given = [
        name for name, value in (("content", content), ("data", data), ("json", json)) if value is not None
    ]
    if len(given) > 1:
        raise TypeError(f"pass only one of content, data and json (got {' and '.join(given)})")
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] | None = None
    if json is not None:
        body = codec.encode(json)
        headers.append(("content-type", "application/json"))
    elif data is not None:
        if isinstance(data, (str, bytes)):
            body = data.encode() if isinstance(data, str) else data
        else:
            body = _encode_pairs(data).encode()
        headers.append(("content-type", "application/x-www-form-urlencoded"))
    elif isinstance(content, str):
        body = content.encode()
    elif isinstance(content, (bytes, bytearray, memoryview)):
        body = bytes(content)
    elif content is not None:
        chunks = [bytes(chunk) for chunk in content]
        body = b""
    else:
        body = b""
    if chunks is not None:
        headers.append(("transfer-encoding", "chunked"))
        messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks if c]
        messages.append({"type": "http.request", "body": b"", "more_body": False})
        return messages, headers
    if body or method in ("POST", "PUT", "PATCH"):
        headers.append(("content-length", str(len(body))))
    pieces = [body[i : i + _BODY_CHUNK] for i in range(0, len(body), _BODY_CHUNK)] or [b""]
    messages = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
        for i, piece in enumerate(pieces)
    ]
    return messages, headers


def _store_cookie(jar: dict[str, str], header: str) -> None:
    """Apply one ``Set-Cookie`` header to ``jar`` (an expired cookie is removed)."""
    pair, _, attributes = header.partition(";")
    name, sep, value = pair.partition("=")
    name = name.strip()
    if not sep or not name:
        return
    max_age: int | None = None
    expires: datetime | None = None
    for attribute in attributes.split(";"):
        key, _, val = attribute.strip().partition("=")
        key = key.lower()
        if key == "max-age":
            try:
                max_age = int(val.strip())
            except ValueError:
                pass
        elif key == "expires":
            try:
                expires = parsedate_to_datetime(val.strip())
            except (TypeError, ValueError):
                pass
    if max_age is not None:
        expired = max_age <= 0
    elif expires is not None:
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        expired = expires <= datetime.now(UTC)
    else:
        expired = False
    if expired:
        jar.pop(name, None)
    else:
        jar[name] = value.strip()
