"""A Redis pub/sub backplane: hubs in several processes (granian workers, hosts) share messages.

    from wirecore import Hub
    from wirecore.redis_backplane import RedisBackplane

    hub = Hub(backplane=RedisBackplane("redis://127.0.0.1:6379/0"))

Needs the ``redis`` package (``pip install wirecore[redis]``). Each process keeps two Redis
connections: one subscribed to the channels of the topics it has local subscribers for, one that
publishes. Messages travel as the hub's envelope (encoded once, by the publisher) on the channel
``prefix + topic``; every process, the publisher included, receives them from Redis, so all see
one order per topic.

**When Redis is unreachable** (down, restarting, a network cut) the backplane keeps trying to
reconnect, with a backoff from 0.1 s doubling to ``reconnect_max`` seconds. Meanwhile each
process's messages reach **its own subscribers only**: local delivery never stops, nothing is
queued for later, and :attr:`RedisBackplane.stats` counts them (``local_only``). Messages other
processes publish during the cut do not reach this one (Redis pub/sub keeps nothing for an absent
subscriber); after reconnecting, every subscription is renewed and delivery across processes
resumes by itself. Publishes waiting to be written are bounded by ``max_pending``; past it a
message is delivered locally only and counted too. Nothing grows without bound. A Redis that
stops answering without closing its connections (hung, a silent network cut) is noticed when a
write has waited 5 seconds: the messages of those seconds then reach local subscribers late.
Retained values (``Hub.publish(..., retain=True)``) are written with the publishes, in order, and
not at all while Redis is unreachable. ``close()`` writes what is still pending (up to 2 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from .backplane import Backplane, Deliver

__all__ = ["RedisBackplane"]

logger = logging.getLogger("wirecore.redis")

_CONTROL = "__wirecore__"  # a channel every process listens on, so its reader always has one


def _cancelled() -> bool:
    """Whether the running task was asked to stop. redis-py can turn a cancellation into a
    ``ConnectionError`` (the connection closed under a pending command): treating that as a lost
    connection would loop on, and a ``close()`` awaiting the task would never return."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class RedisBackplane(Backplane):
    """A :class:`~wirecore.backplane.Backplane` over Redis pub/sub (see the module docs).

    :param url: the Redis URL (``redis://host:port/db``, ``rediss://`` for TLS, ``unix://``).
    :param prefix: prepended to each topic to make its channel name (several apps can share one
        Redis with different prefixes).
    :param max_pending: publishes waiting to be written to Redis, at most.
    :param reconnect_max: the longest wait between two reconnection attempts, in seconds.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "wirecore:",
        max_pending: int = 10_000,
        reconnect_max: float = 5.0,
    ) -> None:
        try:
            from redis.asyncio.connection import parse_url
        except ImportError:
            raise ImportError("RedisBackplane needs the redis package: pip install 'wirecore[redis]'") from None
        try:  # a malformed URL is a configuration error: say so now, not in a reconnect loop
            parse_url(url)
        except ValueError as exc:
            raise ValueError(f"not a usable Redis URL: {url!r} ({exc})") from None
        self.url = url
        self.prefix = prefix
        self.max_pending = max_pending
        self.reconnect_max = reconnect_max
        self.stats = {"published": 0, "received": 0, "local_only": 0, "reconnects": 0}
        """Counters: messages written to Redis, received from it, delivered to this process only
        (Redis unreachable or ``max_pending`` full), and reconnections."""
        self._deliver: Deliver | None = None
        self._topics: set[str] = set()
        # (topic, payload, retain): publishes, and retained values to SET, in order
        self._pending: deque[tuple[str, bytes, bool]] = deque()
        self._wake = asyncio.Event()
        self._connected = asyncio.Event()
        self._pubsub: Any = None
        self._writer_client: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._writing = 0  # publishes taken from _pending, not yet written

    def __repr__(self) -> str:
        return f"RedisBackplane({self.url!r}, prefix={self.prefix!r})"

    @property
    def connected(self) -> bool:
        """Whether Redis is reachable right now (as far as this process knows)."""
        return self._connected.is_set()

    # the Backplane interface ----------------------------------------------------------------------

    async def start(self, deliver: Deliver) -> None:
        """Start connecting (in the background: the app starts even while Redis is down)."""
        self._deliver = deliver
        self._wake = asyncio.Event()
        self._connected = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._write())]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 2.0)  # usually immediate
        if not self.connected:
            logger.warning("Redis at %s is not reachable yet; delivering locally until it is", self.url)

    async def publish(self, topic: str, payload: bytes) -> None:
        if self.connected and len(self._pending) < self.max_pending:
            self._pending.append((topic, payload, False))
            self._wake.set()
        else:
            self._local(topic, payload)

    async def subscribe(self, topic: str) -> None:
        self._topics.add(topic)
        pubsub = self._pubsub
        if pubsub is not None and self.connected:
            with contextlib.suppress(Exception):  # a failure here is a lost connection: renewed on reconnect
                await pubsub.subscribe(self.prefix + topic)

    async def unsubscribe(self, topic: str) -> None:
        self._topics.discard(topic)
        pubsub = self._pubsub
        if pubsub is not None and self.connected:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe(self.prefix + topic)

    async def retain(self, topic: str, payload: bytes) -> None:
        """Keep ``payload`` in the Redis key ``prefix + "retained:" + topic``.

        Written with the publishes, in order, without waiting for Redis; skipped while Redis is
        unreachable (the hub keeps this process's own latest value meanwhile)."""
        if self.connected and len(self._pending) < self.max_pending:
            self._pending.append((topic, payload, True))
            self._wake.set()

    async def retained(self, topic: str) -> bytes | None:
        client = self._writer_client
        if client is None or not self.connected:
            return None
        value = await client.get(self.prefix + "retained:" + topic)
        return value if isinstance(value, bytes) else None

    async def close(self) -> None:
        """Write what is still pending (for up to 2 s while Redis is reachable), then disconnect."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while (self._pending or self._writing) and self.connected and loop.time() < deadline:
            self._wake.set()
            await asyncio.sleep(0.005)
        if self._pending:
            logger.warning("closing with %d publishes not written to Redis", len(self._pending))
            self._pending.clear()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: close() must return even if a task does not stop
            _, stuck = await asyncio.wait(tasks, timeout=2.0)
            if stuck:
                logger.warning("Redis backplane tasks did not stop within 2 s: %s", stuck)
        self._connected.clear()
        self._deliver = None

    # internals -----------------------------------------------------------------------------------

    def _local(self, topic: str, payload: bytes) -> None:
        self.stats["local_only"] += 1
        if self._deliver is not None:
            self._deliver(topic, payload)

    def _lost(self, exc: BaseException) -> None:
        if self.connected:
            logger.warning("lost Redis at %s (%s); delivering locally until it is back", self.url, exc)
        self._connected.clear()
        while self._pending:  # not written: these reach this process's subscribers at least
            topic, payload, retain = self._pending.popleft()
            if not retain:
                self._local(topic, payload)

    async def _read(self) -> None:
        """Connect, subscribe, hand every message to the hub; reconnect when the link breaks."""
        import redis.asyncio as aioredis

        delay = 0.1
        first = True
        while True:
            client: Any = None
            pubsub: Any = None  # redis-py's PubSub (its aclose() is untyped)
            try:
                client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2, health_check_interval=10)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                wanted = set(self._topics)
                await pubsub.subscribe(self.prefix + _CONTROL, *(self.prefix + t for t in wanted))
                # socket_timeout: a Redis that stops answering (not just closing) fails the
                # writes after a while instead of blocking them, and retain(), forever
                self._writer_client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)
                await self._writer_client.ping()
                self._pubsub = pubsub
                if not first:
                    self.stats["reconnects"] += 1
                    logger.info("reconnected to Redis at %s", self.url)
                first = False
                delay = 0.1
                self._connected.set()
                # topics the hub (un)subscribed while this connection was being made
                added, removed = self._topics - wanted, wanted - self._topics
                if added:
                    await pubsub.subscribe(*(self.prefix + t for t in added))
                if removed:
                    await pubsub.unsubscribe(*(self.prefix + t for t in removed))
                cut = len(self.prefix)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if not self._connected.is_set():  # the writer lost its connection: start over
                        raise ConnectionError("the publishing connection was lost")
                    if message is None or message.get("type") != "message":
                        continue
                    topic = message["channel"].decode("utf-8", "replace")[cut:]
                    if topic == _CONTROL:
                        continue
                    self.stats["received"] += 1
                    deliver = self._deliver
                    if deliver is not None:
                        deliver(topic, message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _cancelled():
                    raise asyncio.CancelledError from exc
                self._lost(exc)
            finally:
                self._pubsub = None
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
                if client is not None:
                    with contextlib.suppress(Exception):
                        await client.aclose()
                writer, self._writer_client = self._writer_client, None
                if writer is not None:
                    with contextlib.suppress(Exception):
                        await writer.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max)

    async def _write(self) -> None:
        """Write pending publishes in pipelines: one round trip per burst, not per message."""
        pending = self._pending
        while True:
            await self._wake.wait()
            self._wake.clear()
            while pending:
                client = self._writer_client
                if client is None or not self.connected:
                    break  # _lost() delivers what is left locally
                batch = [pending.popleft() for _ in range(min(len(pending), 512))]
                self._writing = len(batch)
                try:
                    pipe = client.pipeline(transaction=False)
                    published = 0
                    for topic, payload, retain in batch:
                        if retain:
                            pipe.set(self.prefix + "retained:" + topic, payload)
                        else:
                            pipe.publish(self.prefix + topic, payload)
                            published += 1
                    await pipe.execute()
                    self.stats["published"] += published
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if _cancelled():
                        raise asyncio.CancelledError from exc
                    for topic, payload, retain in batch:
                        if not retain:
                            self._local(topic, payload)
                    self._lost(exc)
                    break
                finally:
                    self._writing = 0
