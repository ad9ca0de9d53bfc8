"""Backplanes: how a :class:`~wirecore.fanout.Hub` shares messages with other processes.

A backplane moves *encoded* messages between hubs. The hub encodes a message once, wraps it in
a small envelope and hands ``(topic, payload)`` to :meth:`Backplane.publish`; every process's
backplane calls the ``deliver(topic, payload)`` callback its hub gave to :meth:`Backplane.start`,
and that hub rebuilds the message and fans it out to its own subscribers. The hub tells the
backplane which topics have local subscribers (:meth:`~Backplane.subscribe`,
:meth:`~Backplane.unsubscribe`) so a broker only forwards what a process listens to.

The default, :class:`InProcessBackplane`, is a marker for "this process only": the hub skips the
envelope and delivers :class:`~wirecore.fanout.Message` objects directly, so the default costs
nothing per publish.

Envelope (the ``payload`` bytes; the topic travels beside it, for Redis as the channel name)::

    flags   one ASCII digit: "0" + 1 (an event name follows) + 2 (an id follows)
    event   UTF-8 text and b"\\n"      present when flag 1 is set
    id      UTF-8 text and b"\\n"      present when flag 2 is set
    json    the rest: the message data as JSON, exactly the bytes the publisher encoded

For example ``publish("news", {"n": 1}, event="tick", id="7")`` travels as
``b'3tick\\n7\\n{"n":1}'`` and ``publish("news", [1])`` as ``b"0[1]"``. Event names and ids can
never hold line breaks (the hub refuses them, as SSE must), so the fields need no escaping; a
receiving hub uses the JSON bytes as they are for SSE and WebSocket frames and decodes the data
only if a subscriber reads ``message.data``. Other leading bytes are reserved for later formats.

A remote backplane (a Redis pub/sub client, say) implements the five coroutines below: ``publish``
sends the payload to the broker's channel ``topic`` (with any prefix it likes), a reader task
calls ``deliver`` for each payload that arrives on a subscribed channel, including the ones this
process published (the hub delivers its own messages only through the backplane, so every
process sees one order per topic). ``deliver`` may be called from any thread; it never blocks.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

__all__ = ["Backplane", "Deliver", "InProcessBackplane"]

Deliver = Callable[[str, bytes], None]
"""``deliver(topic, payload)``: hand one enveloped message to the hub (never blocks)."""


class Backplane(abc.ABC):
    """The interface between a hub and a message broker shared by several processes.

    The hub calls the coroutines in order from one task on its event loop: ``start`` first,
    then ``publish``, ``subscribe`` and ``unsubscribe`` as they happen, ``close`` last. An error
    raised by one of them is logged by the hub and does not stop the others.
    """

    local: bool = False
    """True for a backplane that reaches this process only; the hub then bypasses it."""

    @abc.abstractmethod
    async def start(self, deliver: Deliver) -> None:
        """Connect; call ``deliver(topic, payload)`` for each message that arrives from now on."""

    @abc.abstractmethod
    async def publish(self, topic: str, payload: bytes) -> None:
        """Send one enveloped message to every process subscribed to ``topic``."""

    async def subscribe(self, topic: str) -> None:  # noqa: B027 - optional for a broker that sends everything
        """Start receiving ``topic`` (the first local subscriber arrived)."""

    async def unsubscribe(self, topic: str) -> None:  # noqa: B027 - optional, as above
        """Stop receiving ``topic`` (its last local subscriber left)."""

    async def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Disconnect; no ``deliver`` calls after this returns."""

    async def retain(self, topic: str, payload: bytes) -> None:  # noqa: B027 - optional
        """Keep ``payload`` as ``topic``'s latest message, for :meth:`retained` in any process."""

    async def retained(self, topic: str) -> bytes | None:
        """``topic``'s latest retained message, or ``None`` (the hub then uses its own)."""
        return None


class InProcessBackplane(Backplane):
    """The default backplane: messages stay in this process.

    A hub never sends its own messages through it (they are delivered directly, without an
    envelope); :meth:`publish` exists so code written against :class:`Backplane` can inject an
    enveloped message, which reaches the hub's ``deliver`` callback as the same bytes object.
    """

    local = True

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, topic: str, payload: bytes) -> None:
        deliver = self._deliver
        if deliver is None:
            raise RuntimeError("InProcessBackplane.publish() before start()")
        deliver(topic, payload)

    async def close(self) -> None:
        self._deliver = None
