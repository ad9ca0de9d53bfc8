"""Server-sent events: framing, and a hub subscription streamed as ``text/event-stream``.

:func:`format_sse` frames one event. :func:`sse_response` subscribes to hub topics and returns a
:class:`~wirecore.StreamResponse` that writes each message's cached SSE frame (messages that
queued up meanwhile go out in one write), sends a ``: ping`` comment when the stream has been
idle for ``heartbeat`` seconds so proxies and webviews keep it open, and closes the subscription
the moment the client goes away or the server stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from .fanout import Hub, Policy, Subscription, _check_field
from .responses import StreamResponse

if TYPE_CHECKING:
    from .requests import Request

__all__ = ["PING", "SSE_HEADERS", "EventStream", "format_sse", "sse_response"]

SSE_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",  # tell nginx-style proxies not to buffer the stream
    }
)
"""Response headers for an event stream."""
_HEADER_ITEMS = tuple(SSE_HEADERS.items())

PING = b": ping\n\n"
"""The heartbeat comment; EventSource ignores it."""

_BATCH_BYTES = 32 * 1024  # queued frames are joined into writes of about this size


def _lines(text: bytes) -> list[bytes]:
    # SSE ends a line at CRLF, CR or LF alike.
    if b"\r" in text:
        text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return text.split(b"\n")


def format_sse(
    data: str | bytes | None,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """One SSE block: ``comment``, ``event``, ``id``, ``retry`` and ``data`` fields, then a blank line.

    ``data`` with line breaks becomes one ``data:`` line per line (the client joins them with
    ``\\n``); ``None`` sends no data field (a comment or a ``retry`` alone). ``event`` and ``id``
    must not hold line breaks (nor ``id`` a NUL): ``ValueError``.
    """
    out: list[bytes] = []
    if comment is not None:
        out.extend(b": " + line + b"\n" for line in _lines(comment.encode()))
    if event is not None:
        _check_field("event", event)
        out.append(b"event: " + event.encode() + b"\n")
    if id is not None:
        _check_field("id", id)
        out.append(b"id: " + id.encode() + b"\n")
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"retry must be a non-negative number of milliseconds, not {retry!r}")
        out.append(b"retry: %d\n" % retry)
    if data is not None:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        out.extend(b"data: " + line + b"\n" for line in _lines(raw))
    out.append(b"\n")
    return b"".join(out)


class EventStream:
    """A subscription as an async iterator of SSE bytes, with idle heartbeats.

    ``aclose()`` (called by :class:`~wirecore.StreamResponse` when the client leaves, the
    server stops or the response is a HEAD) closes the subscription; so does losing the last
    reference to an unsent stream.
    """

    __slots__ = ("_first", "_last", "_loop", "_timer", "heartbeat", "sub")

    def __init__(self, sub: Subscription, heartbeat: float | None = 15.0, first: bytes | None = None) -> None:
        loop = sub._hub._loop
        assert loop is not None
        self.sub = sub
        self.heartbeat = heartbeat
        self._first = first
        self._loop = loop
        self._last = loop.time()
        self._timer: asyncio.TimerHandle | None = None

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> bytes:
        first = self._first
        if first is not None:
            self._first = None
            return first
        sub = self.sub
        q = sub._queue
        if q:
            msg = q.popleft()
        else:
            if sub._state:
                self._stop()
                raise StopAsyncIteration
            if self.heartbeat is not None and self._timer is None:
                self._timer = self._loop.call_at(self._last + self.heartbeat, self._tick)
            w = sub._arm()
            try:
                got = await w
            except asyncio.CancelledError:
                sub._disarm(w)
                raise
            if got is None:
                if sub._state:  # closed while waiting
                    self._stop()
                    raise StopAsyncIteration
                self._last = self._loop.time()  # idle for a heartbeat
                return PING
            msg = got
            q = sub._queue
        if q:  # more queued while we waited or wrote: send them together
            chunk = msg.sse
            size = len(chunk)
            if size < _BATCH_BYTES:
                frames = [chunk]
                while q and size < _BATCH_BYTES:
                    frame = q.popleft().sse
                    frames.append(frame)
                    size += len(frame)
                chunk = b"".join(frames)
        else:
            chunk = msg.sse
        self._last = self._loop.time()
        return chunk

    def _tick(self) -> None:
        self._timer = None
        sub = self.sub
        heartbeat = self.heartbeat
        if sub._state or heartbeat is None:
            return
        now = self._loop.time()
        due = self._last + heartbeat
        if now >= due:
            if sub._poke():
                return  # the stream sends a ping and re-arms when it waits again
            due = now + heartbeat  # busy writing to a slow client: not idle
        self._timer = self._loop.call_at(due, self._tick)

    def _stop(self) -> None:
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()
        self.sub.close()

    async def aclose(self) -> None:
        self._stop()

    def __del__(self) -> None:
        try:
            self.sub.close()
        except Exception:  # best effort at garbage collection
            pass


def sse_response(
    hub: Hub,
    *topics: str,
    heartbeat: float | None = 15.0,
    retry: int | None = None,
    request: Request | None = None,
    maxsize: int | None = None,
    policy: Policy | None = None,
) -> StreamResponse:
    """Stream ``topics`` of ``hub`` to the client as server-sent events.

    :param heartbeat: seconds of idleness before a ``: ping`` comment (``None``: never).
    :param retry: the client's reconnection delay in milliseconds, sent first.
    :param request: the request being answered; a HEAD request gets the headers without a
        subscription.
    :param maxsize: this client's queue bound (the hub's by default).
    :param policy: this client's slow-consumer policy (the hub's by default); under
        ``"disconnect"`` an overflowing client's stream ends and it reconnects.

    Subscribes at once (call it on the hub's event loop, typically in a handler), so nothing
    published after the handler returns is missed.
    """
    if not topics:
        raise ValueError("sse_response() needs at least one topic")
    if heartbeat is not None and not heartbeat > 0:
        raise ValueError(f"heartbeat must be positive seconds or None, not {heartbeat!r}")
    first = format_sse(None, retry=retry) if retry is not None else None
    if request is not None and request.method == "HEAD":
        stream: EventStream | tuple[()] = ()
    else:
        stream = EventStream(hub.subscribe(*topics, maxsize=maxsize, policy=policy), heartbeat, first)
    response = StreamResponse(stream)
    response.headers = list(_HEADER_ITEMS)  # shared header tuples: no per-client copies
    return response
