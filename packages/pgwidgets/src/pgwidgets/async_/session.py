"""Sessions (a widget tree that outlives browser connections) and browser connections."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from wirecore import WebSocket, WebSocketDisconnect

from .. import protocol as P
from ..protocol import BrowserProtocol, CallbackEvent, ProtocolViolation, Reply, Viewport
from .widget import DEFERRED_KEYS, WIDGET_CLASSES, BrowserError, Handler, Widget, _Namespace

if TYPE_CHECKING:
    from .application import Application

__all__ = ["BrowserDisconnected", "BrowserError", "Connection", "Session"]

logger = logging.getLogger("pgwidgets")

_MAX_QUEUE = 100_000  # frames queued for one browser before it is considered stuck
_FRAMES_PER_WRITE = 1000  # queued frames coalesced into one JSON array


class _Credential:
    """One browser's reconnect credentials: the tokens it may present (its current one, and the
    one it presented until it shows it holds the new one), and when they lapse once it is gone."""

    __slots__ = ("conn", "expires", "tokens")

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.conn: Connection | None = None
        self.expires: float | None = None


class BrowserDisconnected(ConnectionError):
    """The browser that was to answer this request went away."""


class RequestTimeout(TimeoutError):
    """The browser did not answer in time."""


class Connection:
    """One browser (a WebSocket) attached to a session: an ordered send queue and the replies
    awaited from it."""

    def __init__(self, app: Application, websocket: WebSocket) -> None:
        self.app = app
        self.websocket = websocket
        self.protocol = BrowserProtocol()
        self.session: Session | None = None
        self.pending: dict[int, tuple[asyncio.Future[Any], str, bool]] = {}
        self.closed = asyncio.Event()
        self.finished = asyncio.Event()  # the socket is closed and the connection cleaned up
        self.reader: asyncio.Task[None] | None = None
        self.close_request: tuple[int, str] | None = None
        self.warned = False  # about ignored input (logged once per connection)
        self.credential: _Credential | None = None  # this browser's reconnect token(s)
        self._queue: list[str | tuple[str | bytes, ...]] = []  # JSON frames; groups of binary sends
        self._writing = False  # a task is sending this connection's queue
        self._flush_pending = False  # a flush is scheduled for queued fire-and-forget frames

    def __repr__(self) -> str:
        client = self.websocket.client
        return f"<Connection {client[0]}:{client[1]}>" if client else "<Connection>"

    @property
    def viewport(self) -> tuple[int, int] | None:
        vp = self.protocol.viewport
        return (vp.width, vp.height) if vp else None

    def enqueue(self, frame: str | tuple[str | bytes, ...]) -> None:
        """Queue a frame; it is sent in order by :meth:`flush` (awaited by requests, or scheduled)."""
        if self.closed.is_set():
            return
        queue = self._queue
        queue.append(frame)
        if len(queue) > _MAX_QUEUE:
            logger.warning("%r: %d frames unsent, closing it", self, len(queue))
            queue.clear()
            self.app._spawn(self.close(1008, "too slow"))
            return
        if not self._writing and not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_pending = False
        if self._queue and not self._writing and not self.closed.is_set():
            self.app._spawn(self.flush())

    async def flush(self) -> None:
        """Send everything queued, coalescing frames into JSON arrays; whoever finds the
        connection idle does the sending (no extra task hop for a request's own frame)."""
        if self._writing or not self._queue:
            return
        self._writing = True
        ws = self.websocket
        queue = self._queue
        try:
            while queue:
                first = queue[0]
                if type(first) is tuple:  # binary sends: each part a frame of its own
                    del queue[0]
                    for part in first:
                        await ws.send(part)
                    continue
                n = 1
                while n < len(queue) and n < _FRAMES_PER_WRITE and type(queue[n]) is str:
                    n += 1
                frames = queue[:n]
                del queue[:n]
                await ws.send(frames[0] if n == 1 else "[" + ",".join(frames) + "]")  # type: ignore[arg-type]
        except WebSocketDisconnect:
            self.mark_closed()
        finally:
            self._writing = False
            if queue and not self.closed.is_set() and not self._flush_pending:
                self._flush_pending = True
                asyncio.get_running_loop().call_soon(self._flush_soon)

    def expect(self, mid: int, what: str, whole: bool = False) -> asyncio.Future[Any]:
        """The future of the reply to request ``mid``: its value, or the whole :class:`Reply`."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.closed.is_set():
            fut.set_exception(BrowserDisconnected(f"the browser disconnected before answering {what}"))
            return fut
        self.pending[mid] = (fut, what, whole)
        self.protocol.expect(mid)
        return fut

    def mark_closed(self) -> None:
        """Fail every pending request of this browser (it will never answer)."""
        if self.closed.is_set():
            return
        self.closed.set()
        self.protocol.close()
        pending, self.pending = self.pending, {}
        for fut, what, _ in pending.values():
            if not fut.done():
                fut.set_exception(BrowserDisconnected(f"the browser disconnected before answering {what}"))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close this browser's socket with ``code`` (4000-4999: the page will not reconnect).

        The close is made by the task that owns the socket (granian cannot close a WebSocket
        from another task while a receive is pending), so the reader is interrupted first.
        """
        self.mark_closed()
        if self.close_request is None:
            self.close_request = (code, reason)
        reader = self.reader
        if reader is not None and not reader.done() and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.finished.wait(), 3)
        elif reader is None or reader is asyncio.current_task():
            await self.websocket.close(code, reason)

    def on_reply(self, reply: Reply) -> None:
        if reply.next_wid is not None and self.session is not None:
            self.session._bump_wid(reply.next_wid)
        if not reply.expected:
            if not reply.ok:
                logger.warning("browser error for message %d: %s", reply.id, reply.error)
            return
        entry = self.pending.pop(reply.id, None)
        if entry is None:
            return
        fut, _what, whole = entry
        if fut.done():
            return
        if reply.ok:
            fut.set_result(reply if whole else reply.value)
        else:
            fut.set_exception(BrowserError(reply.error or "unknown browser error"))


class Session:
    """A session that owns a widget tree and its associated state.

    Sessions persist independently of browser connections: one can exist with no browser
    connected (after a disconnect, or made with :meth:`Application.create_session`), and
    several browsers can show the same session. A browser that presents the session's id and
    token gets the whole tree rebuilt.
    """

    def __init__(self, app: Application, session_id: int | str, ws: Connection | None = None) -> None:
        self._app = app
        self._id = session_id
        self._token = secrets.token_urlsafe(32)
        self._credentials: list[_Credential] = []
        self._connections: list[Connection] = []
        self._widgets: dict[int, Widget] = {}
        self._roots: dict[Widget, None] = {}
        self._next_wid = 1
        self._next_mid = 1
        self._lock = asyncio.Lock()
        self._holds_slot = False
        self._closed = False
        self._viewport: tuple[int, int] | None = None
        self._widgets_ns: _Namespace | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._batch_depth = 0
        self._build_state = "new"  # on_connect: new, building, built or interrupted
        self._uploads: dict[tuple[int, int], _Upload] = {}
        self._batch_calls: list[dict[str, Any]] = []
        if ws is not None:
            self.add_connection(ws)

    def __repr__(self) -> str:
        return f"<Session {self._id!r} browsers={len(self._connections)} widgets={len(self._widgets)}>"

    @property
    def id(self) -> int | str:
        """Unique session identifier."""
        return self._id

    @property
    def app(self) -> Application:
        """The Application this session belongs to."""
        return self._app

    @property
    def token(self) -> str:
        """Security token for reconnection: the one in :meth:`get_url`'s link, valid until
        :meth:`rotate_token`. Each browser is also given a token of its own, renewed every
        time it connects and expiring ``token_lifetime`` seconds after it leaves."""
        return self._token

    def rotate_token(self) -> str:
        """Replace :attr:`token`: links made with the old one stop working. Browsers already
        shown the session keep their own tokens. Returns the new token."""
        self._token = secrets.token_urlsafe(32)
        return self._token

    # browser credentials -----------------------------------------------------------------------

    def _accepts(self, token: str | None) -> bool:
        """Whether ``token`` opens this session: the link token or a browser's live token."""
        if token is None:
            return False
        given = token.encode()
        if hmac.compare_digest(given, self._token.encode()):
            return True
        return self._credential_for(given) is not None

    def _credential_for(self, given: bytes) -> _Credential | None:
        now = time.monotonic()
        self._credentials = [c for c in self._credentials if c.expires is None or c.expires > now]
        found = None
        for cred in self._credentials:  # every one compared, in constant time each
            for token in cred.tokens:
                if hmac.compare_digest(given, token.encode()) and found is None:
                    found = cred
        return found

    def _issue_token(self, conn: Connection, presented: str | None) -> str:
        """A fresh token for the browser on ``conn``. A browser coming back with its own token
        (not in use by another open tab) keeps its credential, rotated; anyone else gets a new one."""
        cred = None if presented is None else self._credential_for(presented.encode())
        if cred is None or (cred.conn is not None and not cred.conn.closed.is_set()):
            cred = _Credential()
            self._credentials.append(cred)
        token = secrets.token_urlsafe(32)
        cred.tokens.append(token)
        cred.conn = conn
        cred.expires = None
        conn.credential = cred
        return token

    def _token_confirmed(self, conn: Connection) -> None:
        """The browser answered on ``conn``, so it holds its new token: the one it came with
        stops working."""
        cred = conn.credential
        if cred is not None and len(cred.tokens) > 1:
            del cred.tokens[:-1]

    def _token_released(self, conn: Connection, lifetime: float | None) -> None:
        cred = conn.credential
        if cred is not None and cred.conn is conn:
            cred.conn = None
            cred.expires = None if lifetime is None else time.monotonic() + lifetime

    @property
    def is_connected(self) -> bool:
        """True if at least one browser is connected."""
        return bool(self._connections)

    @property
    def connections(self) -> list[Connection]:
        """The browsers attached to this session (each has ``.websocket``)."""
        return list(self._connections)

    @property
    def closed(self) -> bool:
        return self._closed

    def add_connection(self, ws: Connection) -> None:
        """Add a browser connection to this session."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if ws not in self._connections:
            ws.session = self
            self._connections.append(ws)

    def remove_connection(self, ws: Connection) -> None:
        """Remove a browser connection from this session."""
        with contextlib.suppress(ValueError):
            self._connections.remove(ws)
        for key in [k for k, u in self._uploads.items() if u.source is ws]:
            del self._uploads[key]  # unfinished uploads of a browser that left

    def get_url(self) -> str | None:
        """The connector page URL that opens this session (with its credentials)."""
        base = self._app.url
        return None if base is None else f"{base}?session={self._id}&token={self._token}"

    def get_screen_size(self) -> tuple[int, int] | None:
        """The latest browser viewport size reported, if any."""
        for conn in self._connections:
            if conn.viewport is not None:
                return conn.viewport
        return self._viewport

    def get_widgets(self) -> _Namespace:
        """Return a namespace with widget classes bound to this session.

        ``W = session.get_widgets(); btn = await W.Button("Click me")``
        """
        classes = self._app._widget_classes
        ns = self._widgets_ns
        if (
            ns is None
            or len(ns.__dict__) != len(classes)
            or any(ns.__dict__[name].cls is not cls for name, cls in classes.items() if name in ns.__dict__)
        ):
            ns = self._widgets_ns = _Namespace({name: _bind(cls, self) for name, cls in classes.items()})
        return ns

    def _widget_class(self, name: str) -> Callable[..., Widget]:
        cls = self._app._widget_classes.get(name) or WIDGET_CLASSES[name]
        return cls

    async def make_timer(self, duration: float = 0) -> Widget:
        """Create a Timer (runs on the server) and return it; ``duration`` is in seconds."""
        return await self._widget_class("Timer")(self, duration=duration)  # type: ignore[no-any-return]

    def get_widget(self, wid: int) -> Widget | None:
        return self._widgets.get(wid)

    def walk_widget_tree(self) -> Iterator[Widget]:
        """Yield all widgets in creation/tree order (parents before children)."""
        for root in list(self._roots):
            yield from root.walk()

    # widget bookkeeping -------------------------------------------------------------------------

    def _alloc_wid(self) -> int:
        wid = self._next_wid
        self._next_wid = wid + 1
        return wid

    def _bump_wid(self, next_wid: int) -> None:
        if next_wid > self._next_wid:
            self._next_wid = next_wid

    def _register(self, widget: Widget) -> None:
        assert widget._wid is not None
        self._widgets[widget._wid] = widget
        self._roots[widget] = None

    def _unregister(self, widget: Widget) -> None:
        if widget._wid is not None:
            self._widgets.pop(widget._wid, None)
        self._roots.pop(widget, None)

    def _unroot(self, widget: Widget) -> None:
        self._roots.pop(widget, None)

    def _reroot(self, widget: Widget) -> None:
        if widget._wid in self._widgets:
            self._roots[widget] = None

    def _cancel_local(self, widget: Widget) -> None:
        cancel = getattr(widget, "_cancel_timer", None)
        if cancel is not None:
            cancel()

    def _resolve(self, value: Any) -> Any:
        """Browser values with widget refs turned into Widgets (unknown ones wrapped)."""
        if type(value) is dict:
            ref = P.decode_ref(value)
            if ref is not None:
                wid, cls = ref
                widget = self._widgets.get(wid)
                if widget is None and cls in self._app._widget_classes:
                    widget = self._app._widget_classes[cls].__new__(self._app._widget_classes[cls])
                    Widget.__init__(widget, self)
                    widget._wid, widget._alive = wid, True
                    self._widgets[wid] = widget  # known, but not replayed (the browser made it)
                    self._bump_wid(wid + 1)  # the browser took this id: never allocate it again
                return widget
            return {k: self._resolve(v) for k, v in value.items()}
        if type(value) is list:
            return [self._resolve(v) for v in value]
        return value

    # sending ----------------------------------------------------------------------------------

    def _new_mid(self) -> int:
        mid = self._next_mid
        self._next_mid = mid + 1
        return mid

    async def _request(
        self,
        build: Callable[[int], dict[str, Any]],
        timeout: float | None = None,
        batchable: bool = False,
        whole: bool = False,
    ) -> Any:
        """Send a message to every browser; await the first browser's reply (None without one):
        its value, or with ``whole`` the :class:`Reply` itself."""
        if self._closed:
            raise RuntimeError(f"session {self._id!r} is closed")
        conns = self._connections
        if conns and conns[0].closed.is_set():  # leaving: its reader has not detached it yet
            conns = [c for c in conns if not c.closed.is_set()]
        if not conns:
            return None
        if self._batch_depth:
            if batchable:
                msg = build(0)
                call = {"wid": msg["wid"], "method": msg["method"], "args": msg["args"]}
                self._batch_calls.append(call)
                return None
            await self._flush_batch()  # keep the order: what is buffered goes first
        mid = self._new_mid()
        msg = build(mid)
        frame = P.encode(msg)
        primary = conns[0]
        what = f"{msg['type']} {msg.get('method') or msg.get('class') or ''}".strip()
        fut = primary.expect(mid, what, whole)
        for conn in conns:
            conn.enqueue(frame)
        if not primary._writing:
            await primary.flush()  # send it from here: one task hop less per request
        timeout = self._app.request_timeout if timeout is None else timeout
        if timeout:
            handle = asyncio.get_running_loop().call_later(timeout, _time_out, fut, msg, timeout)
            try:
                return await fut
            finally:
                handle.cancel()
        return await fut

    async def _create(self, widget: Widget) -> None:
        """Create ``widget`` in the browsers.

        The first widget of each class waits for the browser's reply, which says how many ids
        the JS constructor took for objects of its own (``next_wid``). Later widgets of that
        class are pipelined: the ids are reserved, the ``create`` is queued, and ``await``
        returns at once (a socket keeps the order, so later calls find the widget). A create
        the browser refuses is logged and the widget marked dead; calls on it then fail with
        :class:`BrowserError`.
        """
        wid, cls = widget._wid, widget._js_class
        assert wid is not None

        def build(mid: int) -> dict[str, Any]:
            return P.create(mid, wid, cls, widget._ctor_args)

        internal = self._app._internal_ids.get(cls)
        conns = [c for c in self._connections if not c.closed.is_set()]
        if internal is None or self._batch_depth or not conns:
            reply = await self._request(build, whole=True)
            if isinstance(reply, Reply) and reply.next_wid is not None:
                self._app._internal_ids.setdefault(cls, max(0, min(reply.next_wid - wid - 1, 64)))
            return
        if self._closed:
            raise RuntimeError(f"session {self._id!r} is closed")
        self._next_wid += internal  # the ids the constructor will take for itself
        mid = self._new_mid()
        frame = P.encode(build(mid))
        fut = conns[0].expect(mid, f"create {cls}", whole=True)
        fut.add_done_callback(lambda f: self._created(widget, f))
        for conn in conns:
            conn.enqueue(frame)

    def _created(self, widget: Widget, fut: asyncio.Future[Any]) -> None:
        """The browser's answer to a pipelined create."""
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is None or isinstance(exc, BrowserDisconnected):
            return
        logger.error("session %r: the browser could not create %r: %s", self._id, widget, exc)
        widget._alive = False  # never replayed; calls on it raise BrowserError
        widget._refused = str(exc)
        self._unregister(widget)

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[Session]:
        """Buffer the widget calls made inside the block and send them as one ``batch`` message
        at the end of the outermost block (one round trip; rendering is suspended meanwhile).
        Creating widgets or asking the browser something flushes what is buffered first. Errors
        of the buffered calls raise one BrowserError at the end."""
        self._batch_depth += 1
        try:
            yield self
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                await self._flush_batch()

    async def _flush_batch(self) -> None:
        calls, self._batch_calls = self._batch_calls, []
        if not calls or not self._connections:
            return
        calls = fold_colors(calls)
        depth, self._batch_depth = self._batch_depth, 0
        try:
            value = await self._request(lambda mid: {"type": "batch", "id": mid, "calls": calls})
        finally:
            self._batch_depth = depth
        errors = value.get("errors") if isinstance(value, dict) else None
        if errors:
            raise BrowserError(f"{len(errors)} of {len(calls)} batched calls failed: {errors}")

    def _send(self, build: Callable[[int], dict[str, Any]], exclude: Connection | None = None) -> None:
        """Send without waiting for replies (errors are logged when they come back)."""
        if not self._connections:
            return
        frame = P.encode(build(self._new_mid()))
        for conn in self._connections:
            if conn is not exclude:
                conn.enqueue(frame)

    def _send_binary(
        self,
        wid: int,
        method: str,
        payload: bytes,
        args: list[Any],
        shape: list[int] | None = None,
        dtype: str | None = None,
    ) -> None:
        """``method(payload, *args)`` on widget ``wid`` in every browser, as binary frames
        (chunked when large or typed: :func:`pgwidgets.protocol.binary_frames`); the browser
        sends no reply."""
        if not self._connections:
            return
        frames = P.binary_frames(self._new_mid(), wid, method, args, payload, shape, dtype)
        for conn in self._connections:
            for group in frames:
                conn.enqueue(group)

    def _send_listen(self, widget: Widget, action: str) -> None:
        wid = widget._wid
        assert wid is not None
        self._send(lambda mid: P.listen(mid, wid, action))

    # incoming ---------------------------------------------------------------------------------

    def _on_callback(self, event: CallbackEvent, source: Connection | None) -> None:
        widget = self._widgets.get(event.wid)
        if widget is None or not widget._alive:
            logger.warning(
                "session %r: callback %r for unknown widget id %r ignored", self._id, event.action, event.wid
            )
            return
        args = self._resolve(event.args)
        if source is not None and self._is_upload(args):
            self._start_upload(widget, event.action, args, source)  # the handlers run once it is in
            return
        push = widget._auto_sync(event.action, args)
        if push is not None and len(self._connections) > 1:
            method, push_args = push
            wid = event.wid
            self._send(lambda mid: P.call(mid, wid, method, push_args, silent=True), exclude=source)
        for handler in list(widget._handlers.get(event.action, ())):
            self._app._dispatch(self, _invoke_handler, handler, widget, args)

    # uploads (file drops, FileDialog) ------------------------------------------------------------

    def _is_upload(self, args: list[Any]) -> bool:
        first = args[0] if args else None
        return (
            isinstance(first, dict)
            and type(first.get("transfer_id")) is int
            and isinstance(first.get("files"), list)
            and all(isinstance(f, dict) for f in first["files"])
        )

    def _start_upload(self, widget: Widget, action: str, args: list[Any], source: Connection) -> None:
        meta = args[0]
        files = meta["files"]
        sizes = [f.get("size") if type(f.get("size")) is int and f["size"] >= 0 else 0 for f in files]
        limit = self._app.max_upload_size
        key = (id(source), meta["transfer_id"])
        if limit is not None and sum(sizes) > limit:
            logger.warning(
                "session %r: upload of %d bytes refused (max_upload_size=%d)", self._id, sum(sizes), limit
            )
            return
        if len(self._uploads) >= 16:
            logger.warning("session %r: too many uploads at once; one dropped", self._id)
            return
        upload = _Upload(widget, action, args, sizes, source)
        self._uploads[key] = upload
        if widget._js_class != "FileDialog":
            self._fire_local(widget, "drop-start", [meta])
        if not files:
            self._finish_upload(key, upload)

    def _on_chunk(self, chunk: P.Chunk, source: Connection) -> None:
        key = (id(source), chunk.transfer_id)
        upload = self._uploads.get(key)
        if upload is None or chunk.file_index >= len(upload.sizes) or chunk.wid != upload.widget._wid:
            return
        parts = upload.parts[chunk.file_index]
        upload.counts[chunk.file_index] = chunk.num_chunks
        if chunk.chunk_index not in parts:
            parts[chunk.chunk_index] = chunk.data
            upload.received += len(chunk.data)
        total = sum(upload.sizes)
        if upload.received > total + 1024:
            logger.warning("session %r: upload larger than announced; dropped", self._id)
            del self._uploads[key]
            return
        done = all(
            upload.counts[i] is not None and len(upload.parts[i]) >= (upload.counts[i] or 0)
            for i in range(len(upload.sizes))
        )
        progress = {
            "transfer_id": chunk.transfer_id,
            "file_index": chunk.file_index,
            "chunk_index": chunk.chunk_index,
            "num_chunks": chunk.num_chunks,
            "transferred_bytes": upload.received,
            "total_bytes": total,
            "complete": done,
        }
        widget = upload.widget
        self._fire_local(
            widget, "progress" if widget._js_class == "FileDialog" else "drop-progress", [progress]
        )
        if done:
            self._finish_upload(key, upload)

    def _finish_upload(self, key: tuple[int, int], upload: _Upload) -> None:
        self._uploads.pop(key, None)
        meta = dict(upload.args[0])
        files = []
        for i, f in enumerate(meta["files"]):
            parts = upload.parts[i]
            files.append({**f, "data": b"".join(parts[c] for c in sorted(parts))})
        meta["files"] = files
        self._fire_local(upload.widget, upload.action, [meta, *upload.args[1:]])

    def _fire_local(self, widget: Widget, action: str, args: list[Any]) -> None:
        """An event raised on the server (the Timer)."""
        for handler in list(widget._handlers.get(action, ())):
            self._app._dispatch(self, _invoke_handler, handler, widget, args)

    def _reset_tree(self) -> None:
        """Forget every widget (a build that has to start over)."""
        for widget in list(self._widgets.values()):
            self._cancel_local(widget)
            widget._alive = False
        self._widgets.clear()
        self._roots.clear()

    # reconstruct ------------------------------------------------------------------------------

    def replay_messages(self) -> list[dict[str, Any]]:
        """The messages that rebuild this session's tree in a blank browser, in order."""
        return build_replay(self, self._new_mid)

    async def reconstruct(self) -> None:
        """Replay the entire widget tree to every connected browser (each gets its own replay)."""
        await asyncio.gather(*(self._reconstruct_on(conn) for conn in list(self._connections)))

    async def _reconstruct_on(self, conn: Connection) -> None:
        await self._attach_with_replay(conn)

    def _start_replay(self, conn: Connection) -> asyncio.Future[Any]:
        """Attach ``conn`` and queue the whole replay for it in one step (nothing can interleave:
        later calls follow the replay); returns the future of the replay's end."""
        messages = self.replay_messages()
        for msg in messages[:-1]:
            binary = msg.pop("__binary__", None)
            if binary is None:
                conn.enqueue(P.encode(msg))
                continue
            payload, shape, dtype = binary
            for group in P.binary_frames(msg["id"], msg["wid"], msg["method"], msg["args"], payload, shape, dtype):
                conn.enqueue(group)
        end = messages[-1]
        fut = conn.expect(end["id"], "reconstruct-end")
        conn.enqueue(P.encode(end))
        self.add_connection(conn)
        # the browser's own objects take ids from next_wid on: stay clear of them until replies come
        self._next_wid += 2 * len(messages) + 16
        return fut

    async def _attach_with_replay(self, conn: Connection) -> None:
        fut = self._start_replay(conn)
        await conn.flush()
        timeout = self._app.request_timeout
        await asyncio.wait_for(fut, timeout * 4 if timeout else None)

    async def close(self) -> None:
        """End the session: close its browsers (they show "Session closed" and do not reconnect)
        and forget its widgets."""
        if self._closed:
            return
        self._closed = True
        if self._expiry is not None:
            self._expiry.cancel()
        for widget in list(self._widgets.values()):
            self._cancel_local(widget)
        conns, self._connections = list(self._connections), []
        for conn in conns:
            await conn.close(P.CLOSE_SESSION_CLOSED, "Session closed")
        self._app._forget_session(self)

    destroy = close


class _Upload:
    """Files a browser is uploading: chunks collected per file until all are in."""

    def __init__(
        self, widget: Widget, action: str, args: list[Any], sizes: list[int], source: Connection
    ) -> None:
        self.widget = widget
        self.action = action
        self.args = args
        self.sizes = sizes
        self.source = source
        self.parts: list[dict[int, bytes]] = [{} for _ in sizes]
        self.counts: list[int | None] = [None] * len(sizes)
        self.received = 0


def _time_out(fut: asyncio.Future[Any], msg: dict[str, Any], timeout: float) -> None:
    if not fut.done():
        fut.set_exception(RequestTimeout(f"no answer from the browser to {msg['type']} within {timeout}s"))


async def _invoke_handler(handler: Handler, widget: Widget, args: list[Any]) -> None:
    if handler.with_widget:
        result = handler.fn(widget, *args, *handler.extra, **handler.kwargs)
    else:
        result = handler.fn(*args, *handler.extra, **handler.kwargs)
    if inspect.isawaitable(result):
        await result


class _Bound:
    """A widget class bound to a session: ``W.Button("x")`` is ``Button(session, "x")``."""

    __slots__ = ("cls", "session")

    def __init__(self, cls: type[Widget], session: Session) -> None:
        self.cls = cls
        self.session = session

    def __call__(self, *args: Any, **kwargs: Any) -> Widget:
        return self.cls(self.session, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cls, name)

    def __repr__(self) -> str:
        return f"<{self.cls.__name__} bound to session {self.session.id!r}>"


def _bind(cls: type[Widget], session: Session) -> _Bound:
    return _Bound(cls, session)


# replay ---------------------------------------------------------------------------------------


def _refs(value: Any, out: list[Widget]) -> list[Widget]:
    if isinstance(value, Widget):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _refs(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _refs(v, out)
    return out


# where each colour call's arguments go in a set_colors spec (TreeView, TableView)
_COLOR_FIELDS = {
    "set_cell_color": ("cells", ("path", "col_key")),
    "set_row_color": ("rows", ("path",)),
    "set_column_color": ("columns", ("col_key",)),
    "set_table_color": ("table", ()),
}


def fold_colors(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Batched calls with each run of two or more colour calls on one widget folded into one
    ``set_colors``: the page applies a ``set_colors`` exactly as the calls one by one (cells,
    rows and columns are separate layers, later entries win), but renders once instead of once
    per call."""
    out: list[dict[str, Any]] = []
    i, n = 0, len(calls)
    while i < n:
        call = calls[i]
        j = i
        while j < n and calls[j]["method"] in _COLOR_FIELDS and calls[j]["wid"] == call["wid"]:
            j += 1
        if j - i < 2:
            out.append(call)
            i += 1
            continue
        spec: dict[str, Any] = {}
        for c in calls[i:j]:
            layer, keys = _COLOR_FIELDS[c["method"]]
            args = list(c["args"]) + [None] * (len(keys) + 3 - len(c["args"]))
            entry = dict(zip((*keys, "fg", "bg", "bold"), args, strict=False))
            if layer == "table":
                spec["table"] = entry
            else:
                spec.setdefault(layer, []).append(entry)
        out.append({"wid": call["wid"], "method": "set_colors", "args": [spec]})
        i = j
    return out


def build_replay(session: Session, new_mid: Callable[[], int]) -> list[dict[str, Any]]:
    """Messages that rebuild ``session``'s tree: each widget is created with its constructor
    arguments, then its changed state, cursors, children and layout calls in their original order,
    content calls and listens; a second pass sets what needs the children (index, sizes...) and
    finally show/hide."""
    out: list[dict[str, Any]] = [P.reconstruct_start(new_mid(), session._next_wid)]
    emitted: set[int] = set()
    order: list[Widget] = []

    def ensure(args: Any) -> None:
        for ref in _refs(args, []):
            emit(ref)

    def emit(w: Widget) -> None:
        wid = w._wid
        if wid is None or wid in emitted or not w._alive or w._local_only:
            return
        emitted.add(wid)
        if session._widgets.get(wid) is not w:
            return
        ensure(w._ctor_args)
        out.append(P.create(new_mid(), wid, w._js_class, w._ctor_args))
        for args in w._cursors.values():  # before set_cursor can name one
            out.append(P.call(new_mid(), wid, "add_cursor", args))
        skip: frozenset[str] = frozenset()
        replay_model = getattr(w, "_replay_model", None)
        if replay_model is not None:  # a Python-side model (TextSource): textsource.py
            msgs, skip = replay_model(new_mid)
            emitted.update(m["wid"] for m in msgs if m["type"] == "create")
            out.extend(msgs)
        for key in w._dirty:
            if key == "visible" or key in DEFERRED_KEYS or key in skip or key not in w._replay_set:
                continue
            if key in w._ctor_state and w._ctor_state[key] == w._state.get(key):
                continue
            method, args = w._replay_set[key]
            ensure(args)
            out.append(P.call(new_mid(), wid, method, args))
        for method, (payload, args, shape, dtype) in w.__dict__.get("_binary", {}).items():
            out.append(
                {
                    "type": "binary-call",
                    "id": new_mid(),
                    "wid": wid,
                    "method": method,
                    "args": args,
                    "__binary__": (payload, shape, dtype),
                }
            )
        for method, args in w._ops:
            ensure(args)
            out.append(P.call(new_mid(), wid, method, args))
        for method, args in w._content:
            ensure(args)
            out.append(P.call(new_mid(), wid, method, args))
        for action in w._listens:
            out.append(P.listen(new_mid(), wid, action))
        order.append(w)

    for root in list(session._roots):
        emit(root)
    for w in order:
        for key in w._dirty:
            if key in DEFERRED_KEYS and key in w._replay_set:
                method, args = w._replay_set[key]
                out.append(P.call(new_mid(), w._wid, method, args))  # type: ignore[arg-type]
    for w in order:
        if "visible" in w._dirty:
            out.append(P.call(new_mid(), w._wid, "show" if w._state.get("visible") else "hide", []))  # type: ignore[arg-type]
    out.append(P.reconstruct_end(new_mid()))
    return out


__all__ += ["RequestTimeout", "build_replay"]
_unused = (Viewport, ProtocolViolation)
