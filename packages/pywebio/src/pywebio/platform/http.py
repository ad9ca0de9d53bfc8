"""The HTTP short-polling transport as a sans-I/O object (spec §1.10): every HTTP server adapter
(tornado_http, and later WSGI frameworks) is a thin shell around :class:`HttpHub`.

An adapter, for each request on the app URL:

1. calls ``ex = hub.exchange(method, query, headers, body)`` (``query``: a mapping of single
   query values; ``headers``: case-insensitive ``get``; ``body``: the raw request body);
2. waits ``ex.pause`` seconds without blocking its server when it is positive (the 100 ms that
   let a new session's first output, or the effect of delivered events, join the answer);
3. writes ``ex.respond()``: status, headers and body. When ``ex.kind == "page"`` the adapter
   renders the HTML page of ``hub.app_for(ex.app_name)`` itself (``protocol="http"``).

Sessions are keyed by the id the browser generates (``NEW-<24 chars>`` until the first answer).
Only a GET creates one (a POST with an unknown id is refused with 403: no cross-site creation).
Commands move to the browser in numbered batches, at most :data:`WINDOW` unacknowledged at a
time; events carry consecutive ids and are delivered at most once, so retries are harmless.
Idle sessions are closed lazily, at most once per cleanup interval, while serving requests;
a finished session is forgotten as soon as its last commands are handed out.

Every method may be called from any thread (threaded WSGI servers): the hub and each session
have a lock.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wirecore import codec

from ..session import Session, session_class_for
from ..session.base import disable_script_mode
from ..session.info import session_info
from .utils import Applications, make_applications, origin_checker
from .ws import decode_binary_event

__all__ = ["PAUSE", "WINDOW", "HttpExchange", "HttpHub", "HttpResponse"]

logger = logging.getLogger("pywebio")

WINDOW = 4
"""Unacknowledged command batches a session may have in flight."""
PAUSE = 0.1
"""Seconds an adapter waits after creating a session or delivering events, before answering."""
SESSION_HEADER = "webio-session-id"
CLOSE_SESSION: dict[str, Any] = {"command": "close_session", "task_id": None, "spec": None}


@dataclass
class HttpResponse:
    """What the adapter writes back."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json_response(data: Any, headers: dict[str, str], status: int = 200) -> HttpResponse:
    try:
        body = codec.encode_str(data).encode()
    except TypeError as exc:
        logger.warning("a command has a value JSON cannot hold (%s): sent as text", exc)
        body = json.dumps(data, default=str).encode()
    return HttpResponse(status, body, {**headers, "Content-Type": "application/json"})


class _Entry:
    """One session of the hub with its batch window and event counter."""

    __slots__ = ("batches", "last_active", "last_event", "lock", "next_batch", "session", "sid")

    def __init__(self, sid: str, now: float) -> None:
        self.sid = sid
        self.session: Session | None = None
        self.batches: deque[tuple[int, str]] = deque()
        """(batch id, the batch as a JSON array of the commands' JSON texts)"""
        self.next_batch = 0
        self.last_event = -1
        self.last_active = now
        self.lock = threading.RLock()


class HttpExchange:
    """One request in progress: wait :attr:`pause` seconds, then call :meth:`respond` once."""

    def __init__(
        self,
        kind: str,
        respond: Callable[[], HttpResponse],
        *,
        pause: float = 0.0,
        app_name: str = "index",
    ) -> None:
        self.kind = kind
        """``page`` (render the page), ``session`` (protocol answer) or ``plain``."""
        self.pause = pause
        self.app_name = app_name
        self._respond = respond

    def respond(self) -> HttpResponse:
        return self._respond()


class HttpHub:
    """The sessions of one HTTP handler (one ``webio_handler``/app).

    :param applications: a function, list or dict of apps (see ``make_applications``).
    :param session_expire_seconds: idle seconds after which a session is closed (default 600).
    :param session_cleanup_interval: at most one idle sweep per this many seconds (default 300).
    :param allowed_origins: shell-style patterns of other origins allowed to use the sessions.
    :param check_origin: ``f(origin) -> bool``, replaces ``allowed_origins`` when given.
    :param backend: the ``info.backend`` name of the adapter.
    :param debug: error popups with tracebacks (env ``PYWEBIO_DEBUG`` forces it on).
    :param max_payload_size: bytes; a larger request body is refused with 413.
    :param pause: seconds of :attr:`HttpExchange.pause` (default :data:`PAUSE`).
    """

    def __init__(
        self,
        applications: Applications,
        *,
        session_expire_seconds: float | None = None,
        session_cleanup_interval: float | None = None,
        allowed_origins: Iterable[str] | None = None,
        check_origin: Callable[[str], bool] | None = None,
        backend: str = "",
        debug: bool = False,
        max_payload_size: int | None = None,
        pause: float = PAUSE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        disable_script_mode()
        self.applications = make_applications(applications)
        self.expire_seconds = float(session_expire_seconds or 600)
        self.cleanup_interval = float(session_cleanup_interval or 300)
        self.origin_allowed = origin_checker(allowed_origins, check_origin)
        self.backend = backend
        env = os.environ.get("PYWEBIO_DEBUG", "").strip().lower()
        self.debug = bool(debug) or env not in ("", "0", "false", "no", "off")
        self.max_payload_size = max_payload_size
        self.pause = pause
        self.clock = clock
        self.entries: dict[str, _Entry] = {}
        self._last_cleanup = clock()
        self._lock = threading.Lock()

    def app_for(self, name: str | None) -> Callable[..., Any]:
        """The app named ``name``, or ``index`` for an unknown name."""
        return self.applications.get(name or "index") or self.applications["index"]

    def cors_headers(self, origin: str | None, host: str | None) -> dict[str, str]:
        """The CORS headers for an allowed cross-site ``origin`` (none otherwise)."""
        if not origin or not self.origin_allowed(origin, host):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": f"content-type, {SESSION_HEADER}",
            "Access-Control-Expose-Headers": SESSION_HEADER,
            "Access-Control-Max-Age": "86400",
            "Vary": "Origin",
        }

    # requests ------------------------------------------------------------------------------------

    def exchange(
        self,
        method: str,
        query: Mapping[str, str],
        headers: Any,
        body: bytes = b"",
        *,
        user_ip: str | None = None,
        request: Any = None,
    ) -> HttpExchange:
        """Start answering one request (see the module docs)."""
        method = method.upper()
        origin, host = headers.get("origin"), headers.get("host")
        cors = self.cors_headers(origin, host)
        app_name = query.get("app") or "index"

        def plain(status: int, text: str = "") -> HttpExchange:
            response = HttpResponse(status, text.encode(), {**cors, "Content-Type": "text/plain"})
            return HttpExchange("plain", lambda: response)

        if method == "OPTIONS":
            return plain(204)
        sid_header = headers.get(SESSION_HEADER)
        if not sid_header:
            if method != "GET":
                return plain(400, "missing webio-session-id header")
            if query.get("test") is not None:
                return plain(200, "ok")
            page = HttpResponse(200, b"", {"Content-Type": "text/html; charset=utf-8"})
            return HttpExchange("page", lambda: page, app_name=app_name)
        if not self.origin_allowed(origin, host):
            logger.warning("HTTP session request from origin %r refused (not same-site, not allowed)", origin)
            return plain(403, "origin not allowed")
        if method not in ("GET", "POST"):
            return plain(405)
        if self.max_payload_size is not None and len(body) > self.max_payload_size:
            logger.warning(
                "a %d-byte request exceeds the limit of %d bytes", len(body), self.max_payload_size
            )
            return plain(413, "payload too large")
        ack = _int(query.get("ack"), -1)
        self.cleanup()
        sid = str(sid_header)
        new = sid.startswith("NEW-")
        if new:
            sid = sid[4:]
        created = False
        with self._lock:
            entry = self.entries.get(sid)
            if entry is None and new and method == "GET" and sid:
                entry = self.entries[sid] = _Entry(sid, self.clock())
                entry.lock.acquire()  # held until the session exists: its next request waits
                created = True
        if entry is None:
            if new and method == "POST":
                logger.warning("POST may not create a session: refused")
                return plain(403, "a session is created by GET only")
            return HttpExchange("session", lambda: self._closed_response(ack, cors))
        if created:
            try:
                self._create(entry, app_name, headers, user_ip, request)
            finally:
                entry.lock.release()
            return HttpExchange("session", lambda: self._answer(entry, ack, cors), pause=self.pause)
        delivered = False
        if method == "POST":
            try:
                events = self._decode(body, headers.get("content-type") or "")
            except ValueError as exc:
                logger.warning("malformed events from the browser ignored: %s", exc)
                return plain(400, "malformed events")
            delivered = self._deliver(entry, events, _int(query.get("seq"), None))
        return HttpExchange(
            "session", lambda: self._answer(entry, ack, cors), pause=self.pause if delivered else 0.0
        )

    def _create(self, entry: _Entry, app_name: str, headers: Any, user_ip: str | None, request: Any) -> None:
        info = session_info(headers, user_ip=user_ip, backend=self.backend, protocol="http", request=request)
        target = self.app_for(app_name)
        cls = session_class_for(target)
        entry.session = cls(target, session_info=info, debug=self.debug)
        logger.debug("HTTP session %s created for app %r", entry.sid, app_name)

    @staticmethod
    def _decode(body: bytes, content_type: str) -> list[dict[str, Any]]:
        if content_type.split(";")[0].strip().lower() == "application/octet-stream":
            return [decode_binary_event(body)]
        try:
            data = codec.decode(body)
        except codec.DecodeError as exc:
            raise ValueError(str(exc)) from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
            raise ValueError("the body is not a list of events")
        return data

    def _deliver(self, entry: _Entry, events: list[dict[str, Any]], seq: int | None) -> bool:
        """Give ``events`` (ids from ``seq``) not yet delivered to the session."""
        delivered = False
        with entry.lock:
            session = entry.session
            entry.last_active = self.clock()
            first = entry.last_event + 1 if seq is None else seq
            for i, event in enumerate(events):
                event_id = first + i
                if event_id <= entry.last_event:
                    continue  # a retry of an event already delivered
                entry.last_event = event_id
                if session is None or session.closed() or not isinstance(event.get("event"), str):
                    continue
                delivered = True
                try:
                    session.send_client_event(event)
                except Exception:
                    logger.exception("error while handling the browser event %r", event.get("event"))
        return delivered

    def _answer(self, entry: _Entry, ack: int, cors: dict[str, str]) -> HttpResponse:
        finished = False
        with entry.lock:
            entry.last_active = self.clock()
            batches = entry.batches
            while batches and batches[0][0] <= ack:
                batches.popleft()
            session = entry.session
            if session is not None and len(batches) < WINDOW and session.has_commands():
                batches.append((entry.next_batch, "[" + ",".join(session.get_task_frames()) + "]"))
                entry.next_batch += 1
            seq = batches[0][0] if batches else entry.next_batch
            commands = ",".join(b for _, b in batches)  # already JSON: joined, not re-encoded
            body = f'{{"commands":[{commands}],"seq":{seq},"ack":{entry.last_event}}}'
            finished = session is None or (session.closed() and not session.has_commands())
        if finished:
            with self._lock:
                if self.entries.get(entry.sid) is entry:
                    del self.entries[entry.sid]
            logger.debug("HTTP session %s finished: state freed", entry.sid)
        return HttpResponse(200, body.encode(), {**cors, "Content-Type": "application/json"})

    @staticmethod
    def _closed_response(ack: int, cors: dict[str, str]) -> HttpResponse:
        return _json_response({"commands": [[CLOSE_SESSION]], "seq": ack + 1}, cors)

    # lifetime ------------------------------------------------------------------------------------

    def cleanup(self, force: bool = False) -> None:
        """Close sessions idle longer than the expiry; runs at most once per cleanup interval
        unless ``force``."""
        now = self.clock()
        expired: list[_Entry] = []
        with self._lock:
            if not force and now - self._last_cleanup < self.cleanup_interval:
                return
            self._last_cleanup = now
            for sid, entry in list(self.entries.items()):
                if now - entry.last_active > self.expire_seconds:
                    del self.entries[sid]
                    expired.append(entry)
        for entry in expired:
            logger.info(
                "HTTP session %s expired after %.0f s without a request", entry.sid, self.expire_seconds
            )
            if entry.session is not None:
                entry.session.close(nonblock=True)

    def close_all(self) -> None:
        """Close every session (server shutdown)."""
        with self._lock:
            entries = list(self.entries.values())
            self.entries.clear()
        for entry in entries:
            if entry.session is not None:
                entry.session.close(nonblock=True)


def _int(value: str | None, default: Any) -> Any:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
