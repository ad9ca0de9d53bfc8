"""Server-sent events: a :class:`Broadcaster` of typed events, on wirecore's fan-out hub.

Each connected client is one subscription of a :class:`wirecore.fanout.Hub` with a bounded queue
of ``buffer_size`` messages and the hub's ``"disconnect"`` policy: a client whose queue is full
(it stopped reading) is removed and its stream ends, so its connection closes and its
``EventSource`` reconnects; a client that goes away is noticed at once by wirecore and removed.
An event is encoded and framed once, whatever the number of clients. Idle streams get a
``: ping`` comment every ``heartbeat`` seconds so proxies and webviews keep them open.

Wire format, per event::

    event: <name>
    data: <data>
    <blank line>

``<data>`` is the JSON (msgspec, compact) of any non-``str`` value; a ``str`` is sent as it is,
one ``data:`` line per line of text (the browser joins them back with ``\\n``).
"""

from __future__ import annotations

import itertools
from typing import Any

import msgspec

from wirecore.fanout import Hub
from wirecore.sse import EventStream, format_sse

from .asgi import StreamResponse

__all__ = ["Broadcaster", "sse_route"]

TOPIC = "events"
_count = itertools.count(1)
_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def _text_data(text: str) -> msgspec.Raw:
    """``text`` as the bytes that follow ``data: `` in a frame: every further line of the text
    gets its own ``data: `` prefix (wirecore's framing decides what a line break is)."""
    frame = format_sse(text)  # b"data: a\ndata: b\n\n"
    return msgspec.Raw(frame[6:-2])


class Broadcaster:
    """Typed SSE events to every connected client.

    :param buffer_size: how many events may wait for one client before it counts as stuck and
        is disconnected.
    :param strict: if true, :meth:`broadcast` refuses event names not declared with
        :meth:`register_event` (a typo raises instead of going nowhere).
    :param heartbeat: seconds of idleness before a ``: ping`` comment (``None``: never).
    :param retry: the reconnection delay (milliseconds) sent to each client first (``None``:
        the browser's default).
    :param topic: the hub topic (and, with a Redis backplane, the channel) this broadcaster's
        events travel on. By default ``"events"`` for the first broadcaster made in the process,
        ``"events:2"`` for the second and so on: the same in every worker, which imports the same
        modules in the same order. Name it when several apps share one Redis.

    One broadcaster serves one running server (one event loop) at a time. With a Redis backplane
    (``WIRECORE_REDIS_URL``) a broadcast reaches the clients of every worker and host.
    """

    def __init__(
        self,
        buffer_size: int = 256,
        *,
        strict: bool = True,
        heartbeat: float | None = 15.0,
        retry: int | None = None,
        topic: str | None = None,
    ) -> None:
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive integer, not {buffer_size!r}")
        if heartbeat is not None and not heartbeat > 0:
            raise ValueError(f"heartbeat must be positive seconds or None, not {heartbeat!r}")
        self.buffer_size = buffer_size
        self.strict = strict
        self.heartbeat = heartbeat
        self._first = format_sse(None, retry=retry) if retry is not None else None
        self._events: set[str] = set()
        n = next(_count)
        self.topic = topic if topic is not None else (TOPIC if n == 1 else f"{TOPIC}:{n}")
        self.hub = Hub(maxsize=buffer_size, policy="disconnect")
        """The wirecore hub underneath (one topic)."""

    def register_event(self, name: str) -> None:
        """Declare an event type (idempotent). A name with a line break raises ValueError."""
        if not isinstance(name, str):
            raise TypeError(f"an event name is a str, not {type(name).__name__}")
        if "\n" in name or "\r" in name:
            raise ValueError(f"an SSE event name must not contain line breaks: {name!r}")
        self._events.add(name)

    @property
    def event_types(self) -> frozenset[str]:
        """The registered event names (a snapshot)."""
        return frozenset(self._events)

    def broadcast(self, event: str, data: Any, *, id: str | None = None) -> None:
        """Send ``event`` with ``data`` to every connected client. Never blocks; safe to call
        from any thread (a pywebview ``js_api`` callback, a worker thread) as well as from
        handlers.

        Raises ValueError for an unregistered ``event`` in strict mode or a line break in
        ``event`` or ``id``, and TypeError for ``data`` msgspec cannot encode; either way no
        client gets anything.
        """
        if self.strict and event not in self._events:
            raise ValueError(
                f"unregistered event type {event!r}: call register_event({event!r}) first "
                f"(registered: {sorted(self._events)})"
            )
        payload = _text_data(data) if isinstance(data, str) else data
        self.hub.publish(self.topic, payload, event=event, id=id)

    async def stream(self, request: Any = None) -> StreamResponse:
        """The ``text/event-stream`` response for one client (call it in a handler).

        The client is subscribed at once, so nothing broadcast after the handler returns is
        missed; it is removed when it disconnects, falls ``buffer_size`` events behind, or the
        server stops.
        """
        stream: Any
        if getattr(request, "method", "GET") == "HEAD":
            stream = ()
        else:
            stream = EventStream(self.hub.subscribe(self.topic), self.heartbeat, self._first)
        return StreamResponse(stream, "text/event-stream", _HEADERS)

    @property
    def client_count(self) -> int:
        """Clients connected now."""
        return self.hub.subscriber_count(self.topic)

    def __repr__(self) -> str:
        return f"<Broadcaster clients={self.client_count} events={sorted(self._events)}>"


def sse_route(broadcaster: Broadcaster) -> Any:
    """An ``async def handler(request)`` streaming ``broadcaster``'s events:
    ``router.add_route("GET", "/events", sse_route(sse))``."""

    async def sse_handler(request: Any) -> StreamResponse:
        return await broadcaster.stream(request)

    return sse_handler
