"""Fan-out: topics, many subscribers, a bounded queue each, publish from any thread.

``Hub.publish(topic, data)`` encodes ``data`` to JSON once and hands the same
:class:`Message` to every subscriber of ``topic``; SSE frames and WebSocket text are derived from
those bytes once and shared too. The publisher never awaits and never waits for a subscriber:
each :class:`Subscription` has a bounded queue, and a subscriber that falls behind is handled by
its policy without touching anyone else:

``"drop_oldest"``
    a full queue drops its oldest message to make room (the subscriber keeps the newest
    ``maxsize``).
``"keep_latest"``
    the queue holds one message, always the newest: for state that supersedes itself.
``"disconnect"``
    a full subscriber is closed and removed; its iteration ends, so its SSE stream or
    WebSocket closes and the client can reconnect and resynchronise.

Each subscriber counts what it lost in :attr:`Subscription.dropped`.

Threads: the hub belongs to one event loop, the one its first subscriber ran on (or the one
passed as ``loop``). ``publish`` on that loop delivers synchronously, with no task per message;
from any other thread (or another loop) it queues the message and wakes the hub's loop with one
``call_soon_threadsafe`` per burst, so messages from one thread arrive in the order published.

Encoding happens inside ``publish``, in the publisher's thread: unencodable data raises
``TypeError`` there and reaches no subscriber, later changes to the data object cannot change what
subscribers get, and the event loop does not pay for the encoding.

A remote :class:`~wirecore.backplane.Backplane` (Redis, say) carries messages between processes;
with one, a message reaches local subscribers through the backplane like everyone else's, and a
process must have subscribed or awaited :meth:`Hub.start` before it publishes. The default
in-process backplane is bypassed entirely: it costs nothing per publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import weakref
from asyncio.events import _get_running_loop
from collections import deque
from typing import TYPE_CHECKING, Any, Literal, get_args

from . import codec
from .backplane import Backplane, InProcessBackplane
from .exceptions import WebSocketDisconnect, WireError

if TYPE_CHECKING:
    from .websockets import WebSocket

__all__ = [
    "BACKPLANE_ENV",
    "Hub",
    "Message",
    "Policy",
    "Subscription",
    "SubscriptionClosed",
    "default_backplane",
    "start_remote_hubs",
]

logger = logging.getLogger("wirecore.fanout")

Policy = Literal["drop_oldest", "keep_latest", "disconnect"]
"""What a subscriber's full queue does with one more message (see the module docs)."""
_POLICIES = frozenset(get_args(Policy))

CLOSE_TRY_AGAIN_LATER = 1013
"""WebSocket close code sent to a subscriber disconnected for being too slow."""

_encode = codec.encode
_decode = codec.decode
_UNSET: Any = object()

# subscription states
_OPEN = 0
_CLOSED = 1
_OVERFLOWED = 2

# backplane operations, in the order the hub issues them
_PUBLISH = 0
_SUBSCRIBE = 1
_UNSUBSCRIBE = 2
_RETAIN = 3
_OP_NAMES = ("publish", "subscribe", "unsubscribe", "retain")

BACKPLANE_ENV = "WIRECORE_REDIS_URL"
"""When this environment variable holds a Redis URL, every :class:`Hub` made without an explicit
``backplane`` uses a :class:`~wirecore.redis_backplane.RedisBackplane` on it: one line of
configuration spreads wesktop broadcasts and webshoes events over every worker and host."""

_remote_hubs: weakref.WeakSet[Hub] = weakref.WeakSet()


def default_backplane() -> Backplane:
    """The backplane a :class:`Hub` gets when none is given (see :data:`BACKPLANE_ENV`)."""
    url = os.environ.get(BACKPLANE_ENV)
    if url:
        from .redis_backplane import RedisBackplane

        return RedisBackplane(url)
    return InProcessBackplane()


async def start_remote_hubs() -> list[Hub]:
    """Start, on the running loop, every hub with a remote backplane that is not running yet;
    returns them (to close at shutdown).

    :meth:`App.startup <wirecore.App.startup>` calls it, so each server process (each granian
    worker) joins the backplane before its first request, whether or not it has subscribers.
    """
    loop = asyncio.get_running_loop()
    started = []
    for hub in list(_remote_hubs):
        bound = hub._loop
        if bound is None or bound.is_closed() or (bound is loop and hub._sender is None):
            try:
                await hub.start()
            except Exception:
                logger.exception("hub %r could not start its backplane", hub)
            else:
                started.append(hub)
    return started


def has_remote_hubs() -> bool:
    """Whether this process made a hub with a remote backplane."""
    return bool(_remote_hubs)


class SubscriptionClosed(WireError):
    """Raised by :meth:`Subscription.get` once the subscription is closed (by ``close()``, by
    the ``"disconnect"`` policy, or by :meth:`Hub.close`)."""


def _check_field(name: str, value: str) -> None:
    # SSE and the backplane envelope are line based: a line break would start a new field.
    if "\n" in value or "\r" in value or (name == "id" and "\0" in value):
        raise ValueError(
            f"an SSE {name} must not contain line breaks{' or NUL' if name == 'id' else ''}: {value!r}"
        )


def _frame(json: bytes, event: str | None, id: str | None) -> bytes:
    # format_sse for JSON data, which never holds a raw line break: one "data:" line.
    if event is None and id is None:
        return b"data: " + json + b"\n\n"
    head = b""
    if event is not None:
        head = b"event: " + event.encode() + b"\n"
    if id is not None:
        head += b"id: " + id.encode() + b"\n"
    return head + b"data: " + json + b"\n\n"


class Message:
    """One published message, shared by every subscriber; treat it as read-only.

    ``json`` holds the data encoded once, at publish; ``sse`` (the complete SSE frame) and
    ``text`` (the JSON as ``str``, for WebSocket text frames) are made on first use and cached.
    """

    __slots__ = ("_data", "_sse", "_text", "event", "id", "json", "topic")

    topic: str
    event: str | None
    id: str | None
    json: bytes
    """The data as JSON bytes (msgspec), encoded once when the message was made."""

    def __init__(self, topic: str, data: Any, event: str | None = None, id: str | None = None) -> None:
        if event is not None:
            _check_field("event", event)
        if id is not None:
            _check_field("id", id)
        self.json = _encode(data)
        self.topic = topic
        self.event = event
        self.id = id
        self._data = data
        self._sse: bytes | None = None
        self._text: str | None = None

    @classmethod
    def from_json(
        cls, topic: str, json: bytes, *, event: str | None = None, id: str | None = None
    ) -> Message:
        """A message whose data is already JSON; ``data`` is decoded only if someone reads it."""
        if event is not None:
            _check_field("event", event)
        if id is not None:
            _check_field("id", id)
        msg = cls.__new__(cls)
        msg.json = json
        msg.topic = topic
        msg.event = event
        msg.id = id
        msg._data = _UNSET
        msg._sse = None
        msg._text = None
        return msg

    @property
    def data(self) -> Any:
        """The published object (or, for a message from a backplane, its decoded JSON)."""
        data = self._data
        if data is _UNSET:
            data = self._data = _decode(self.json)
        return data

    @property
    def sse(self) -> bytes:
        """The SSE frame: ``event:``/``id:`` lines when set, one ``data:`` line, a blank line."""
        frame = self._sse
        if frame is None:
            frame = self._sse = _frame(self.json, self.event, self.id)
        return frame

    @property
    def text(self) -> str:
        """The JSON as ``str`` (what WebSocket subscribers receive as a text frame)."""
        text = self._text
        if text is None:
            text = self._text = self.json.decode()
        return text

    # backplane envelope (format documented in wirecore.backplane) ----------------------------

    def envelope(self) -> bytes:
        """This message as a backplane payload (the topic travels beside it)."""
        event, id, json = self.event, self.id, self.json
        if event is None:
            return b"0" + json if id is None else b"2" + id.encode() + b"\n" + json
        if id is None:
            return b"1" + event.encode() + b"\n" + json
        return b"".join((b"3", event.encode(), b"\n", id.encode(), b"\n", json))

    @classmethod
    def from_envelope(cls, topic: str, payload: bytes) -> Message:
        """Rebuild a message from :meth:`envelope` bytes; ``ValueError`` if they are malformed."""
        flags = payload[0] - 0x30 if payload else -1
        if not 0 <= flags <= 3:
            raise ValueError(f"not a wirecore envelope (starts with {payload[:1]!r})")
        pos = 1
        event = id = None
        try:
            if flags & 1:
                end = payload.index(b"\n", pos)
                event = payload[pos:end].decode()
                pos = end + 1
            if flags & 2:
                end = payload.index(b"\n", pos)
                id = payload[pos:end].decode()
                pos = end + 1
        except ValueError:
            raise ValueError("truncated wirecore envelope") from None
        return cls.from_json(topic, payload[pos:], event=event, id=id)

    def __repr__(self) -> str:
        extra = "".join(f" {k}={v!r}" for k, v in (("event", self.event), ("id", self.id)) if v is not None)
        return f"<Message {self.topic!r}{extra} {self.json[:60]!r}>"


class Subscription:
    """One subscriber's view of one or more topics: an async iterator of :class:`Message`.

    Iteration ends when the subscription is closed: by :meth:`close`, by :meth:`Hub.close`, or by
    the ``"disconnect"`` policy. Closing discards messages not yet taken. One task at a time may
    wait on a subscription.
    """

    __slots__ = ("_hub", "_queue", "_state", "_waiter", "dropped", "maxsize", "policy", "topics")

    def __init__(self, hub: Hub, topics: tuple[str, ...], maxsize: int, policy: Policy) -> None:
        self._hub = hub
        self.topics = topics
        self.policy: Policy = policy
        self.maxsize = 1 if policy == "keep_latest" else maxsize
        """The queue bound (always 1 under ``"keep_latest"``)."""
        self.dropped = 0
        """Messages this subscriber lost to its policy (for ``"disconnect"``: the queued ones
        and the one that did not fit)."""
        # the deque is made on first need: an idle subscriber waiting in get() never needs one
        self._queue: deque[Message] | None = None
        self._waiter: asyncio.Future[Message | None] | None = None
        self._state = _OPEN

    @property
    def closed(self) -> bool:
        return self._state != _OPEN

    @property
    def overflowed(self) -> bool:
        """True when the ``"disconnect"`` policy closed this subscription."""
        return self._state == _OVERFLOWED

    @property
    def pending(self) -> int:
        """Messages queued and not yet taken."""
        q = self._queue
        return len(q) if q is not None else 0

    # delivery (hub loop only) ------------------------------------------------------------------

    def _put(self, msg: Message) -> bool:
        """Queue ``msg`` (no task is waiting); True when the policy says to disconnect."""
        q = self._queue
        if q is None:
            q = self._queue = deque()
        elif len(q) >= self.maxsize:
            if self.policy == "disconnect":
                self.dropped += len(q) + 1
                return True
            q.popleft()
            self.dropped += 1
        q.append(msg)
        return False

    def _poke(self) -> bool:
        """Wake a waiting task with no message (for heartbeats); False if none is waiting."""
        w = self._waiter
        if w is None or w.done():
            return False
        self._waiter = None
        w.set_result(None)
        return True

    def _arm(self) -> asyncio.Future[Message | None]:
        """A future for the next message (the queue is empty); it gets None when the
        subscription closes or is poked. Awaiters pass it to :meth:`_disarm` if cancelled."""
        if self._state:
            raise SubscriptionClosed("subscription closed")
        if self._waiter is not None:
            raise RuntimeError("another task is already waiting on this subscription")
        loop = self._hub._loop
        assert loop is not None
        w: asyncio.Future[Message | None] = loop.create_future()
        self._waiter = w
        return w

    def _disarm(self, w: asyncio.Future[Message | None]) -> None:
        """The wait on ``w`` was cancelled: forget it, keeping a message it was just handed."""
        if self._waiter is w:
            self._waiter = None
        elif w.done() and not w.cancelled():
            lost = w.result()
            if lost is not None and not self._state:
                q = self._queue
                if q is None:
                    q = self._queue = deque()
                q.appendleft(lost)

    # consuming ------------------------------------------------------------------------------

    async def get(self) -> Message:
        """The next message; raises :class:`SubscriptionClosed` once closed."""
        while True:
            q = self._queue
            if q:
                return q.popleft()
            w = self._arm()
            try:
                msg = await w
            except asyncio.CancelledError:
                self._disarm(w)
                raise
            if msg is not None:
                return msg
            if self._state:
                raise SubscriptionClosed("subscription closed")

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        while True:
            q = self._queue
            if q:
                return q.popleft()
            if self._state:
                raise StopAsyncIteration
            w = self._arm()
            try:
                msg = await w
            except asyncio.CancelledError:
                self._disarm(w)
                raise
            if msg is not None:
                return msg

    def close(self) -> None:
        """Leave every topic at once and end iteration (idempotent; callable from any thread)."""
        if self._state:
            return
        loop = self._hub._loop
        if loop is not None and _get_running_loop() is not loop and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self.close)
                return
        self._close(_CLOSED)

    def _close(self, state: int) -> None:
        if self._state:
            return
        self._state = state
        self._queue = None
        self._hub._remove(self)
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                with contextlib.suppress(RuntimeError):  # its loop is already closed
                    w.set_result(None)

    def __repr__(self) -> str:
        state = ("open", "closed", "overflowed")[self._state]
        return f"<Subscription {list(self.topics)} {state} pending={self.pending} dropped={self.dropped}>"


class Hub:
    """Topics and their subscribers.

    :param maxsize: the default queue bound per subscriber.
    :param policy: the default slow-consumer policy (``"drop_oldest"``, ``"keep_latest"``,
        ``"disconnect"``).
    :param backplane: how messages reach other processes (by default :func:`default_backplane`:
        none, unless :data:`BACKPLANE_ENV` names a Redis server).
    :param loop: the event loop the hub lives on; by default the loop of the first
        :meth:`subscribe` (or :meth:`start`).
    """

    def __init__(
        self,
        maxsize: int = 256,
        policy: Policy = "drop_oldest",
        backplane: Backplane | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        _check_limits(maxsize, policy)
        self.maxsize = maxsize
        self.policy: Policy = policy
        self.backplane: Backplane = backplane if backplane is not None else default_backplane()
        self._remote = not self.backplane.local
        if self._remote:
            _remote_hubs.add(self)
        self._retained: dict[str, Message] = {}
        self._warned_unstarted = False
        self._loop = loop
        self._topics: dict[str, dict[Subscription, None]] = {}
        self._count = 0
        # messages published from other threads, waiting for the loop
        self._inbox: deque[Message] = deque()
        self._wakeup = False
        # remote backplane: operations in order, sent by one task
        self._outbox: deque[tuple[int, str, bytes]] = deque()
        self._out_wakeup = False
        self._out_ready: asyncio.Event | None = None
        self._sender: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._backplane_started = False
        self._closing = False

    # binding to a loop --------------------------------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("Hub.subscribe() and Hub.start() must run on an event loop") from None
        loop = self._loop
        if loop is running:
            if self._remote and self._sender is None:
                self._start_sender(running)
            return running
        if loop is not None and not loop.is_closed() and (self._count or self._sender is not None):
            raise RuntimeError("this Hub belongs to another event loop; subscribe from that loop")
        self._forget()
        self._loop = running
        if self._remote:
            self._start_sender(running)
        return running

    def _forget(self) -> None:
        """Drop every trace of a previous loop (its subscriptions can no longer be woken)."""
        for subs in self._topics.values():
            for sub in subs:
                sub._state = _CLOSED
                sub._queue = None
                sub._waiter = None
        self._topics.clear()
        self._count = 0
        self._inbox.clear()
        self._wakeup = False
        self._outbox.clear()
        self._out_wakeup = False
        self._sender = None
        self._ready = None

    async def start(self) -> None:
        """Bind to the running loop and start the backplane.

        Subscribing does this implicitly; a process that only publishes through a remote
        backplane calls it first. Raises what the backplane's ``start`` raised.
        """
        self._bind()
        if self._remote:
            assert self._ready is not None
            await asyncio.shield(self._ready)
        elif not self._backplane_started:
            await self.backplane.start(self._receive)
            self._backplane_started = True

    # subscribing ---------------------------------------------------------------------------------

    def subscribe(
        self, *topics: str, maxsize: int | None = None, policy: Policy | None = None
    ) -> Subscription:
        """A new subscription to ``topics``, with this hub's queue bound and policy unless given.

        Call it on the hub's event loop.
        """
        if not topics:
            raise ValueError("subscribe() needs at least one topic")
        if maxsize is None:
            maxsize = self.maxsize
        if policy is None:
            policy = self.policy
        _check_limits(maxsize, policy)
        if self._loop is None or _get_running_loop() is not self._loop:
            self._bind()
        if len(topics) > 1:
            topics = tuple(dict.fromkeys(topics))
        sub = Subscription(self, topics, maxsize, policy)
        table = self._topics
        for topic in topics:
            subs = table.get(topic)
            if subs is None:
                table[topic] = {sub: None}
                if self._remote:
                    self._control(_SUBSCRIBE, topic)
            else:
                subs[sub] = None
        self._count += 1
        return sub

    def _remove(self, sub: Subscription) -> None:
        table = self._topics
        for topic in sub.topics:
            subs = table.get(topic)
            if subs is not None and subs.pop(sub, 0) is None and not subs:
                del table[topic]
                if self._remote:
                    self._control(_UNSUBSCRIBE, topic)
        self._count -= 1

    def subscriber_count(self, topic: str | None = None) -> int:
        """Open subscriptions, to ``topic`` or in all."""
        if topic is None:
            return self._count
        subs = self._topics.get(topic)
        return len(subs) if subs is not None else 0

    def topics(self) -> list[str]:
        """Topics that have at least one subscriber."""
        return list(self._topics)

    # publishing ----------------------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        data: Any,
        *,
        event: str | None = None,
        id: str | None = None,
        retain: bool = False,
    ) -> Message:
        """Send ``data`` to every subscriber of ``topic``; from any thread, never blocking.

        ``data`` is encoded to JSON here: ``TypeError`` if it cannot be, ``ValueError`` for an
        ``event`` or ``id`` holding a line break. With ``retain`` the message is also kept as the
        topic's latest (:meth:`latest`), in every process when the backplane is remote.
        Returns the :class:`Message`.
        """
        msg = Message(topic, data, event, id)
        loop = self._loop
        if retain:
            self._retained[topic] = msg
        if self._remote:
            self._publish_remote(msg, loop, retain)
        elif loop is None:
            pass  # nobody ever subscribed
        elif _get_running_loop() is loop:
            self._deliver(msg)
        else:
            self._inbox.append(msg)
            if not self._wakeup:
                self._wakeup = True
                try:
                    loop.call_soon_threadsafe(self._drain)
                except RuntimeError:  # the hub's loop is closed: its subscribers are gone
                    self._wakeup = False
                    self._inbox.clear()
        return msg

    def _deliver(self, msg: Message) -> None:
        subs = self._topics.get(msg.topic)
        if subs is None:
            return
        full: list[Subscription] | None = None
        for sub in subs:
            w = sub._waiter
            if w is not None and not w.done():
                sub._waiter = None
                w.set_result(msg)
            elif sub._put(msg):
                if full is None:
                    full = []
                full.append(sub)
        if full is not None:
            for sub in full:
                logger.debug(
                    "disconnecting a slow subscriber of %r (queue of %d full)", msg.topic, sub.maxsize
                )
                sub._close(_OVERFLOWED)

    def _drain(self) -> None:
        """Deliver what other threads published (runs on the hub's loop)."""
        self._wakeup = False
        loop = self._loop
        if _get_running_loop() is not loop:  # the hub moved to another loop meanwhile
            if loop is not None and self._inbox and not self._wakeup:
                self._wakeup = True
                loop.call_soon_threadsafe(self._drain)
            return
        inbox = self._inbox
        deliver = self._deliver
        while inbox:
            deliver(inbox.popleft())

    # remote backplane --------------------------------------------------------------------------

    def _publish_remote(self, msg: Message, loop: asyncio.AbstractEventLoop | None, retain: bool) -> None:
        sender = self._sender
        if loop is None or sender is None:
            # Before the server started (nobody here can be subscribed yet): not an error, as
            # with the in-process backplane, but other processes miss it, so say so once.
            if not self._warned_unstarted:
                self._warned_unstarted = True
                logger.warning(
                    "published on %r before this process joined the backplane (before the server "
                    "started): other processes do not get it",
                    msg.topic,
                )
            return
        if sender.done():
            raise RuntimeError("the hub's backplane has stopped")
        envelope = msg.envelope()
        self._outbox.append((_PUBLISH, msg.topic, envelope))
        if retain:
            self._outbox.append((_RETAIN, msg.topic, envelope))
        if _get_running_loop() is loop:
            assert self._out_ready is not None
            self._out_ready.set()
        elif not self._out_wakeup:
            self._out_wakeup = True
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._kick)

    def _control(self, op: int, topic: str) -> None:
        self._outbox.append((op, topic, b""))
        if self._out_ready is not None:
            self._out_ready.set()

    def _kick(self) -> None:
        self._out_wakeup = False
        if self._out_ready is not None:
            self._out_ready.set()

    def _start_sender(self, loop: asyncio.AbstractEventLoop) -> None:
        self._out_ready = asyncio.Event()
        self._ready = loop.create_future()
        self._sender = loop.create_task(self._run_backplane(self._ready, self._out_ready))
        if self._outbox:
            self._out_ready.set()

    async def _run_backplane(self, ready: asyncio.Future[None], wake: asyncio.Event) -> None:
        backplane = self.backplane
        try:
            await backplane.start(self._receive)
        except Exception as exc:
            logger.error("backplane %r failed to start", backplane, exc_info=exc)
            ready.set_exception(exc)
            ready.exception()  # marked as retrieved: start() re-raises it to whoever asks
            return
        self._backplane_started = True
        ready.set_result(None)
        out = self._outbox
        while True:
            while out:
                op, topic, payload = out.popleft()
                try:
                    if op == _PUBLISH:
                        await backplane.publish(topic, payload)
                    elif op == _RETAIN:
                        await backplane.retain(topic, payload)
                    elif op == _SUBSCRIBE:
                        await backplane.subscribe(topic)
                    else:
                        await backplane.unsubscribe(topic)
                except Exception:
                    logger.exception("backplane %s failed for topic %r", _OP_NAMES[op], topic)
            if self._closing:
                return
            wake.clear()
            if not out:
                await wake.wait()

    def _receive(self, topic: str, payload: bytes) -> None:
        """The backplane's ``deliver`` callback: one enveloped message for local subscribers."""
        loop = self._loop
        if loop is None:
            return
        if _get_running_loop() is not loop:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._receive, topic, payload)
            return
        if topic not in self._topics:
            return
        try:
            msg = Message.from_envelope(topic, payload)
        except (ValueError, UnicodeDecodeError) as exc:
            logger.warning("dropped a malformed backplane message on %r: %s", topic, exc)
            return
        self._deliver(msg)

    async def latest(self, topic: str) -> Message | None:
        """The latest message published on ``topic`` with ``retain=True``, by any process when
        the backplane is remote (this process's own when the backplane cannot answer)."""
        if self._remote:
            try:
                payload = await self.backplane.retained(topic)
            except Exception as exc:
                logger.warning("backplane could not say %r's latest message: %s", topic, exc)
            else:
                if payload is not None:
                    with contextlib.suppress(ValueError, UnicodeDecodeError):
                        return Message.from_envelope(topic, payload)
        return self._retained.get(topic)

    def forget(self, topic: str) -> None:
        """Drop ``topic``'s retained message in this process."""
        self._retained.pop(topic, None)

    # WebSocket delivery --------------------------------------------------------------------------

    async def stream_websocket(
        self,
        websocket: WebSocket,
        *topics: str,
        maxsize: int | None = None,
        policy: Policy | None = None,
    ) -> None:
        """Send each message on ``topics`` to ``websocket`` as a JSON text frame.

        Returns when the peer closes (messages it sends meanwhile are read and ignored), when a
        send fails, or when the subscription ends; a subscriber disconnected by the
        ``"disconnect"`` policy is closed with code 1013 (try again later). Accepts the socket
        first if the handler has not.
        """
        if not websocket.accepted:
            await websocket.accept()
        sub = self.subscribe(*topics, maxsize=maxsize, policy=policy)
        watcher = asyncio.ensure_future(_watch_peer(websocket, sub))
        try:
            send = websocket.send
            async for msg in sub:
                await send(msg.text)
        except WebSocketDisconnect:
            pass
        finally:
            sub.close()
            watcher.cancel()
        if sub.overflowed:
            await websocket.close(CLOSE_TRY_AGAIN_LATER, "subscriber too slow")

    # shutdown ------------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every subscription, then stop the backplane (flushing what it has queued).

        May be awaited from any loop. The hub can be used again afterwards.
        """
        loop = self._loop
        if loop is None:
            return
        if _get_running_loop() is not loop and not loop.is_closed():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._close(), loop))
        else:
            await self._close()

    async def _close(self) -> None:
        subs = dict.fromkeys(sub for subs in self._topics.values() for sub in subs)
        for sub in subs:
            sub._close(_CLOSED)
        self._inbox.clear()
        sender = self._sender
        if sender is not None:
            self._closing = True
            try:
                if self._out_ready is not None:
                    self._out_ready.set()
                done, _ = await asyncio.wait({sender}, timeout=2.0)
                if not done:
                    sender.cancel()
                    logger.warning(
                        "backplane did not flush within 2 s; %d operations dropped", len(self._outbox)
                    )
            finally:
                self._closing = False
                self._sender = None
                self._ready = None
                self._outbox.clear()
        if self._backplane_started:
            self._backplane_started = False
            try:
                await self.backplane.close()
            except Exception:
                logger.exception("backplane %r failed to close", self.backplane)

    def __repr__(self) -> str:
        return f"<Hub topics={len(self._topics)} subscribers={self._count} policy={self.policy!r}>"


def _check_limits(maxsize: int, policy: str) -> None:
    if not isinstance(maxsize, int) or maxsize < 1:
        raise ValueError(f"maxsize must be a positive integer, not {maxsize!r}")
    if policy not in _POLICIES:
        raise ValueError(f"policy must be one of {sorted(_POLICIES)}, not {policy!r}")


async def _watch_peer(websocket: WebSocket, sub: Subscription) -> None:
    """Read (and ignore) what the peer sends, so its close ends the subscription at once."""
    try:
        while True:
            await websocket.receive()
    except WebSocketDisconnect:
        pass
    except Exception as exc:  # the socket failed: the stream ends either way
        logger.debug("WebSocket receive failed: %r", exc)
    finally:
        sub.close()
