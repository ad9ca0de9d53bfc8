"""The WebSocket transport as a sans-I/O object (spec §1.9): every server adapter (tornado,
wirecore...) is a thin shell around :class:`WebSocketHub` and :class:`WebSocketConnection`.

An adapter:

1. checks the upgrade with ``hub.origin_allowed(origin, host)`` (refuse with 403 when false);
2. after accepting, calls ``conn = hub.connect(app_name, session_param, headers, wake=...,
   call_later=...)``; ``wake()`` may be called from any thread and must make the adapter's loop
   call ``conn.outgoing()`` soon and write the frames it returns (one command per text frame),
   then close the socket with ``conn.close_code`` when ``conn.finished`` is true;
3. feeds every received message to ``conn.receive(data)`` (never raises: malformed JSON, unknown
   task ids and broken binary events are logged and ignored; a message over the hub's
   ``max_message_size`` ends the connection with 1009);
4. calls ``conn.lost()`` when the socket is gone.

Adapters also give the hub's message size limit to their framework, which can refuse a big
message before buffering it.

Reconnect (``reconnect_timeout > 0``): the session gets a random 24-char id sent with
``set_session_id``. A dropped socket *detaches* the session: commands queue inside the session
and are replayed to the socket that reattaches with ``?session=<id>``. A timer (``call_later``,
no polling loop) closes sessions still detached after ``reconnect_timeout`` seconds; the commands
of a session that ended while detached ("will messages") are kept just as long and replayed to
a late reconnect, followed by ``close_session``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from wirecore import codec

from ..session import Session, session_class_for
from ..session.base import CLOSE_SESSION, disable_script_mode, encode_command
from ..session.info import session_info
from ..utils import random_str
from .utils import Applications, make_applications, origin_checker

__all__ = ["WebSocketConnection", "WebSocketHub", "decode_binary_event", "encode_command"]

logger = logging.getLogger("pywebio")


def decode_binary_event(data: bytes) -> dict[str, Any]:
    """Rebuild an event sent as a binary frame (spec §1.7): length-prefixed segments
    ``[event JSON][file header JSON][file bytes]...``; file placeholders (``None`` for a single
    file, ``[]`` for several) in ``event["data"]`` are filled with file dicts.

    :raises ValueError: for a truncated or malformed body.
    """
    parts: list[bytes] = []
    pos, size = 0, len(data)
    while pos < size:
        if pos + 8 > size:
            raise ValueError("truncated segment length")
        length = int.from_bytes(data[pos : pos + 8], "big")
        pos += 8
        if pos + length > size:
            raise ValueError("truncated segment")
        parts.append(data[pos : pos + length])
        pos += length
    if not parts or len(parts) % 2 != 1:
        raise ValueError("a binary event is an event followed by (header, content) pairs")
    event = json.loads(parts[0])
    if not isinstance(event, dict):
        raise ValueError("the event is not a JSON object")
    fields = event.get("data")
    if not isinstance(fields, dict):
        fields = event["data"] = {}
    files: dict[str, list[dict[str, Any]]] = {}
    for i in range(1, len(parts), 2):
        header = json.loads(parts[i])
        if not isinstance(header, dict):
            raise ValueError("a file header is not a JSON object")
        name = str(header.get("input_name", ""))
        filename = str(header.get("filename", "")).replace("\\", "/").rsplit("/", 1)[-1]
        files.setdefault(name, []).append(
            {
                "filename": filename,
                "size": header.get("size", len(parts[i + 1])),
                "mime_type": header.get("mime_type", ""),
                "last_modified": header.get("last_modified"),
                "content": parts[i + 1],
            }
        )
    for name, value in list(fields.items()):
        if isinstance(value, list) and not value:
            fields[name] = files.get(name, [])
        elif value is None and name in files:
            fields[name] = files[name][0]
    return event


def _size(data: str | bytes) -> int:
    return len(data.encode()) if isinstance(data, str) else len(data)


class _Entry:
    """A session of the hub and the connection it is attached to (``None`` while detached)."""

    __slots__ = ("connection", "detached_at", "session", "sid")

    def __init__(self, sid: str | None) -> None:
        self.sid = sid
        self.session: Session | None = None
        self.connection: WebSocketConnection | None = None
        self.detached_at = 0.0


class WebSocketHub:
    """The sessions of one handler (one ``webio_handler``/app): creation, reconnection, expiry.

    :param applications: a function, list or dict of apps (see ``make_applications``).
    :param reconnect_timeout: seconds a dropped session waits for its browser (0: close at once).
    :param allowed_origins: shell-style patterns of other origins allowed to connect.
    :param check_origin: ``f(origin) -> bool``, replaces ``allowed_origins`` when given.
    :param backend: the ``info.backend`` name of the adapter.
    :param debug: error popups with tracebacks (env ``PYWEBIO_DEBUG`` forces it on).
    :param max_message_size: bytes; a larger message ends the connection (close code 1009).
        Adapters also give the limit to their framework, which refuses before buffering.
    """

    def __init__(
        self,
        applications: Applications,
        *,
        reconnect_timeout: float = 0,
        allowed_origins: Iterable[str] | None = None,
        check_origin: Callable[[str], bool] | None = None,
        backend: str = "",
        debug: bool = False,
        max_message_size: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        disable_script_mode()  # a program that serves apps is not a script
        self.applications = make_applications(applications)
        self.fixed: _Entry | None = None
        self.joined = threading.Event()  # script mode: a browser has joined the fixed session
        self.reconnect_timeout = max(0.0, float(reconnect_timeout or 0))
        self.origin_allowed = origin_checker(allowed_origins, check_origin)
        self.backend = backend
        self.max_message_size = max_message_size
        env = os.environ.get("PYWEBIO_DEBUG", "").strip().lower()
        self.debug = bool(debug) or env not in ("", "0", "false", "no", "off")
        self.clock = clock
        self.entries: dict[str, _Entry] = {}
        self.will_messages: dict[str, tuple[list[str], float]] = {}
        self.sessions: set[Session] = set()
        self._lock = threading.Lock()

    def app_for(self, name: str | None) -> Callable[..., Any]:
        """The app named ``name``, or ``index`` for an unknown name."""
        return self.applications.get(name or "index") or self.applications["index"]

    # connections ---------------------------------------------------------------------------------

    def connect(
        self,
        app_name: str | None,
        session_param: str | None,
        headers: Any,
        *,
        wake: Callable[[], None],
        call_later: Callable[[float, Callable[[], None]], Any] | None = None,
        user_ip: str | None = None,
        request: Any = None,
    ) -> WebSocketConnection:
        """A connection for an accepted socket: a new session, a reattached one, or a replay of
        a finished session's last commands. Call on the adapter's event loop."""
        self.expire()
        conn = WebSocketConnection(self, wake, call_later)
        fixed = self.fixed
        if fixed is not None:  # script mode: every browser joins the one session, one at a time
            if fixed.connection is None and fixed.session is not None and not fixed.session.closed():
                fixed.connection = conn
                conn.entry = fixed
                fixed.session.info.update(
                    session_info(headers, user_ip=user_ip, backend=self.backend, request=request)
                )
                self.joined.set()
            else:
                conn.prelude = [CLOSE_SESSION]
                conn.ending = True
            conn.notify()
            return conn
        sid = session_param if session_param and session_param != "NEW" else None
        if sid is not None:
            entry = self.entries.get(sid)
            if entry is not None and entry.session is not None and not entry.session.closed():
                old = entry.connection
                if old is not None:
                    old.superseded = True  # its late close must not detach the new socket
                    old.entry = None
                    old.notify()
                entry.connection = conn
                conn.entry = entry
                logger.debug("session %s reattached", sid)
            else:
                frames, _ = self.will_messages.pop(sid, ([], 0.0))
                conn.prelude = [*frames, CLOSE_SESSION]
                conn.ending = True
                logger.info("reconnect to unknown or ended session %s: sent close_session", sid)
            conn.notify()
            return conn
        entry = _Entry(random_str(24) if self.reconnect_timeout > 0 else None)
        entry.connection = conn
        conn.entry = entry
        if entry.sid is not None:
            conn.prelude.append(
                encode_command({"command": "set_session_id", "task_id": None, "spec": entry.sid})
            )
            self.entries[entry.sid] = entry
        info = session_info(
            headers, user_ip=user_ip, backend=self.backend, protocol="websocket", request=request
        )
        target = self.app_for(app_name)
        cls = session_class_for(target)
        session = cls(
            target,
            session_info=info,
            on_task_command=lambda s: self._notify(entry),
            on_session_close=lambda: self._session_closed(entry),
            debug=self.debug,
        )
        entry.session = session
        with self._lock:
            if not session.closed():
                self.sessions.add(session)
        conn.notify()
        return conn

    def adopt(self, make_session: Callable[..., Session]) -> Session:
        """Create the one session every connection joins (script mode):
        ``make_session(on_task_command=, on_session_close=)``."""
        entry = _Entry(None)
        session = make_session(
            on_task_command=lambda s: self._notify(entry),
            on_session_close=lambda: self._session_closed(entry),
        )
        entry.session = session
        self.fixed = entry
        self.sessions.add(session)
        return session

    def _notify(self, entry: _Entry) -> None:
        conn = entry.connection
        if conn is not None:
            conn.notify()

    def _session_closed(self, entry: _Entry) -> None:
        session = entry.session
        with self._lock:
            if session is not None:
                self.sessions.discard(session)
        conn = entry.connection
        if conn is not None:
            conn.notify()  # it flushes what is left, then ends
            return
        if entry.sid is not None and self.entries.pop(entry.sid, None) is not None and session is not None:
            frames = [f for f in session.get_task_frames() if f != CLOSE_SESSION]
            self.will_messages[entry.sid] = (frames, self.clock() + self.reconnect_timeout)

    def detach(self, conn: WebSocketConnection) -> None:
        """The socket of ``conn`` is gone: detach its session (reconnect on) or close it."""
        entry = conn.entry
        conn.entry = None
        if entry is None or conn.superseded or entry.connection is not conn:
            return
        entry.connection = None
        session = entry.session
        if session is None or session.closed():
            if entry.sid is not None:
                self.entries.pop(entry.sid, None)
            return
        if entry.sid is not None and self.reconnect_timeout > 0:
            entry.detached_at = self.clock()
            logger.debug("session %s detached; waits %ss for its browser", entry.sid, self.reconnect_timeout)
            if conn.call_later is not None:
                conn.call_later(self.reconnect_timeout + 0.05, self.expire)
            return
        session.close()

    def expire(self) -> None:
        """Close sessions detached longer than ``reconnect_timeout`` and drop old will messages."""
        if not self.entries and not self.will_messages:
            return
        now = self.clock()
        for sid, entry in list(self.entries.items()):
            if (
                entry.connection is None
                and entry.detached_at
                and now - entry.detached_at >= self.reconnect_timeout
            ):
                self.entries.pop(sid, None)
                if entry.session is not None:
                    logger.debug("session %s expired", sid)
                    entry.session.close()
        for sid, (_, deadline) in list(self.will_messages.items()):
            if now >= deadline:
                self.will_messages.pop(sid, None)

    def close_all(self) -> None:
        """Close every session (server shutdown)."""
        with self._lock:
            sessions = list(self.sessions)
        for session in sessions:
            session.close()
        self.entries.clear()
        self.will_messages.clear()


class WebSocketConnection:
    """One socket's view of its session: events in (:meth:`receive`), frames out
    (:meth:`outgoing`). Created by :meth:`WebSocketHub.connect`."""

    def __init__(
        self,
        hub: WebSocketHub,
        wake: Callable[[], None],
        call_later: Callable[[float, Callable[[], None]], Any] | None = None,
    ) -> None:
        self.hub = hub
        self.wake = wake
        self.call_later = call_later
        self.entry: _Entry | None = None
        self.prelude: list[str] = []
        self.superseded = False
        self.ending = False
        self.finished = False
        self.close_code = 1000
        """The WebSocket close code for the adapter to use once :attr:`finished`."""
        self._woken = False

    @property
    def session(self) -> Session | None:
        entry = self.entry
        return entry.session if entry is not None else None

    def notify(self) -> None:
        """Ask the adapter to call :meth:`outgoing` (coalesced; any thread)."""
        if self._woken or self.finished:
            return
        self._woken = True
        try:
            self.wake()
        except RuntimeError:  # the adapter's loop is gone (server stopped)
            logger.debug("wake after the event loop closed ignored")

    def outgoing(self) -> list[str]:
        """The frames to write now. Afterwards, if :attr:`finished`, close the socket."""
        self._woken = False
        if self.close_code != 1000:
            self.finished = True
            return []
        frames, self.prelude = self.prelude, []
        session = self.session
        if session is not None:
            frames += session.get_task_frames()
            if session.closed() and not session.has_commands():
                self.finished = True
        elif self.ending or self.superseded:
            self.finished = True
        return frames

    def receive(self, data: str | bytes) -> None:
        """Handle one message from the browser; bad input is logged and ignored."""
        session = self.session
        if session is None or session.closed():
            return
        limit = self.hub.max_message_size
        if limit is not None and len(data) > limit // 4 and _size(data) > limit:
            logger.warning(
                "a %d-byte message from the browser exceeds the limit of %d bytes: closing",
                _size(data),
                limit,
            )
            self.close_code = 1009
            self.notify()
            return
        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                event = decode_binary_event(bytes(data))
            else:
                event = codec.decode(data)
        except (ValueError, codec.DecodeError) as exc:
            logger.warning("malformed message from the browser ignored: %s", str(exc))
            return
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            logger.warning("message without an event name ignored: %.80r", data)
            return
        try:
            session.send_client_event(event)
        except Exception:
            logger.exception("error while handling the browser event %r", event.get("event"))

    def lost(self) -> None:
        """The socket closed (browser left, network dropped, server closing it)."""
        self.finished = True
        self.hub.detach(self)
