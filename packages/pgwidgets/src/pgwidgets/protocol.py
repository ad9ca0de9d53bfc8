"""The pgwidgets wire protocol, sans-I/O: decoded messages in, messages to send out.

:class:`BrowserProtocol` holds one browser connection's protocol state (handshake, message ids,
which replies are awaited) and turns incoming frames into typed events; nothing in here touches
a socket, so every edge case is a unit test. The message builders produce the dicts the real
pgwidgets-js ``RemoteInterface`` understands (see docs/pgwidgets.md, "Wire protocol").
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = [
    "CLOSE_APP_GONE",
    "CLOSE_BAD_CREDENTIALS",
    "CLOSE_PROTOCOL",
    "CLOSE_SESSION_CLOSED",
    "Ack",
    "BrowserProtocol",
    "Buffer",
    "CallbackEvent",
    "Chunk",
    "Event",
    "Ignored",
    "ProtocolViolation",
    "Reply",
    "Viewport",
    "binary_frames",
    "decode_ref",
    "encode",
]

# close codes 4000-4999 make the browser stop reconnecting and show the reason
CLOSE_SESSION_CLOSED = 4000
CLOSE_BAD_CREDENTIALS = 4001
CLOSE_PROTOCOL = 4002
CLOSE_APP_GONE = 4003


class ProtocolViolation(Exception):
    """The peer sent something the protocol does not allow; the connection must be closed."""


# events ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Ack:
    """The browser's answer to ``init``: the credentials it holds, if any."""

    session_id: int | str | None
    token: str | None


@dataclass(slots=True)
class Reply:
    """A ``result`` or ``error`` for request ``id``."""

    id: int
    ok: bool
    value: Any = None
    error: str | None = None
    next_wid: int | None = None
    expected: bool = True  # False for replies nobody awaited (copies, pipelined replay)


@dataclass(slots=True)
class CallbackEvent:
    """A widget event: ``action`` fired on widget ``wid`` with ``args``."""

    wid: int
    action: str
    args: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class Ignored:
    """Input this server does not handle but tolerates (file-transfer chunks), with why."""

    reason: str


@dataclass(slots=True)
class Chunk:
    """One chunk of a file the browser uploads (a drop or a FileDialog)."""

    wid: int
    transfer_id: int
    file_index: int
    file_count: int
    chunk_index: int
    num_chunks: int
    data: bytes


@dataclass(slots=True)
class Viewport:
    width: int
    height: int


Event = Ack | Reply | CallbackEvent | Viewport | Ignored | Chunk


# encoding ----------------------------------------------------------------------------------------


def _enc_hook(obj: Any) -> Any:
    ref = getattr(obj, "__wire_ref__", None)
    if ref is not None:
        return ref()
    tolist = getattr(obj, "tolist", None)  # numpy arrays and scalars, without importing numpy
    if tolist is not None:
        return tolist()
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    raise TypeError(f"cannot send a {type(obj).__name__} to the browser: {obj!r}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder()


def encode(message: Any) -> str:
    """JSON text for a message or a list of messages; widgets become ``{"__wid__": W}``,
    non-finite floats ``null`` (the browser's JSON.parse rejects NaN), tuples lists."""
    return _encoder.encode(message).decode()


def decode_ref(value: Any) -> tuple[int, str | None] | None:
    """``(wid, class)`` if ``value`` is a widget reference from the browser, else None."""
    if type(value) is dict and "__wid__" in value:
        wid = value["__wid__"]
        if type(wid) is int:
            cls = value.get("__class__")
            return wid, cls if isinstance(cls, str) else None
    return None


# message builders ------------------------------------------------------------------------------


def init_message() -> dict[str, Any]:
    return {"type": "init", "id": 0}


def session_info(session_id: int | str, token: str) -> dict[str, Any]:
    return {"type": "session-info", "session_id": session_id, "token": token}


def create(mid: int, wid: int, cls: str, args: list[Any]) -> dict[str, Any]:
    return {"type": "create", "id": mid, "wid": wid, "class": cls, "args": args}


def call(mid: int, wid: int, method: str, args: list[Any], silent: bool = False) -> dict[str, Any]:
    msg = {"type": "call", "id": mid, "wid": wid, "method": method, "args": args}
    if silent:
        msg["silent"] = True
    return msg


def listen(mid: int, wid: int, action: str) -> dict[str, Any]:
    return {"type": "listen", "id": mid, "wid": wid, "action": action}


def unlisten(mid: int, wid: int, action: str) -> dict[str, Any]:
    return {"type": "unlisten", "id": mid, "wid": wid, "action": action}


def reconstruct_start(mid: int, next_wid: int) -> dict[str, Any]:
    return {"type": "reconstruct-start", "id": mid, "next_wid": next_wid}


def reconstruct_end(mid: int) -> dict[str, Any]:
    return {"type": "reconstruct-end", "id": mid}


# the connection state machine ----------------------------------------------------------------


class BrowserProtocol:
    """One browser connection: ``start()`` → ``init``; ``receive(frame)`` → events.

    States: ``"new"`` → ``"handshake"`` (init sent, waiting for its ack) → ``"open"``
    (``accept()``: session-info sent) → ``"closed"``. Replies are matched against the ids
    registered with :meth:`expect`; a reply with an unknown id is returned with
    ``expected=False`` (replies to pipelined messages nobody awaits).
    """

    max_batch = 10_000  # messages in one incoming JSON array

    def __init__(self) -> None:
        self.state = "new"
        self.expected: set[int] = set()
        self.viewport: Viewport | None = None
        self.chunk_headers: list[dict[str, int]] = []  # binary-chunk headers waiting for their frame

    def start(self) -> str:
        """The first frame to send (``init``)."""
        if self.state != "new":
            raise RuntimeError("start() called twice")
        self.state = "handshake"
        return encode(init_message())

    def accept(self, session_id: int | str, token: str) -> str:
        """The ``session-info`` frame that opens the connection on a session."""
        if self.state != "handshake-done":
            raise RuntimeError(f"accept() in state {self.state!r}")
        self.state = "open"
        return encode(session_info(session_id, token))

    def expect(self, mid: int) -> None:
        self.expected.add(mid)

    def close(self) -> set[int]:
        """Mark closed; returns the ids whose replies will never come."""
        self.state = "closed"
        pending, self.expected = self.expected, set()
        return pending

    def receive(self, data: str | bytes) -> list[Event]:
        """Events for one incoming frame; raises :class:`ProtocolViolation` for bad input."""
        if self.state == "closed":
            return []
        if isinstance(data, bytes):
            if self.state != "open":
                raise ProtocolViolation("unexpected binary frame before the session was set up")
            if not self.chunk_headers:
                return [Ignored("binary frame with no binary-chunk header before it")]
            h = self.chunk_headers.pop(0)
            return [Chunk(data=data, **h)]
        try:
            decoded = _decoder.decode(data)
        except msgspec.DecodeError:
            raise ProtocolViolation("malformed message: not JSON") from None
        if isinstance(decoded, list):
            if len(decoded) > self.max_batch:
                raise ProtocolViolation("malformed message: batch too long")
            items: Iterable[Any] = decoded
        else:
            items = (decoded,)
        events: list[Event] = []
        for item in items:
            if item is None:  # a batch reply slot for session-info
                continue
            event = self._one(item)
            if event is not None:
                events.append(event)
        return events

    def _one(self, msg: Any) -> Event | None:
        if type(msg) is not dict:
            raise ProtocolViolation("malformed message: not a JSON object")
        kind = msg.get("type")
        if self.state == "handshake":
            if kind != "result" or msg.get("id") != 0:
                raise ProtocolViolation("handshake: expected the result of init first")
            sid = msg.get("session_id")
            token = msg.get("token")
            if sid is not None and (isinstance(sid, bool) or not isinstance(sid, (int, str))):
                raise ProtocolViolation("handshake: session_id must be an int or a string")
            if token is not None and not isinstance(token, str):
                raise ProtocolViolation("handshake: token must be a string")
            self.state = "handshake-done"
            return Ack(sid, token if sid is not None else None)
        if self.state != "open":
            raise ProtocolViolation(f"unexpected {kind!r} message before the session was set up")
        if kind == "result" or kind == "error":
            mid = msg.get("id")
            if type(mid) is not int:
                raise ProtocolViolation(f"malformed {kind}: id must be an int")
            expected = mid in self.expected
            if expected:
                self.expected.discard(mid)
            if kind == "error":
                err = msg.get("error")
                return Reply(mid, False, error=str(err), expected=expected)
            nw = msg.get("next_wid")
            return Reply(
                mid, True, msg.get("value"), next_wid=nw if type(nw) is int else None, expected=expected
            )
        if kind == "callback":
            wid, action, args = msg.get("wid"), msg.get("action"), msg.get("args", [])
            if type(wid) is not int or not isinstance(action, str) or not isinstance(args, list):
                raise ProtocolViolation("malformed callback: needs int wid, str action, list args")
            return CallbackEvent(wid, action, args)
        if kind == "viewport":
            w, h = msg.get("width"), msg.get("height")
            if not isinstance(w, (int, float)) or not isinstance(h, (int, float)):
                raise ProtocolViolation("malformed viewport: width and height must be numbers")
            self.viewport = Viewport(int(w), int(h))
            return self.viewport
        if kind == "binary-chunk":
            fields = ("wid", "transfer_id", "file_index", "file_count", "chunk_index", "num_chunks")
            header: dict[str, int] = {k: v for k in fields if type(v := msg.get(k)) is int and v >= 0}
            if len(header) != len(fields):
                raise ProtocolViolation("malformed binary-chunk: needs non-negative int " + ", ".join(fields))
            encoding = msg.get("encoding", "binary")
            if encoding == "binary":
                if len(self.chunk_headers) >= self.max_batch:
                    raise ProtocolViolation("too many binary-chunk headers without data")
                self.chunk_headers.append(header)
                return None
            if encoding == "base64" and isinstance(msg.get("data"), str):
                try:
                    data = base64.b64decode(msg["data"], validate=True)
                except ValueError:
                    raise ProtocolViolation("malformed binary-chunk: bad base64 data") from None
                return Chunk(data=data, **header)
            raise ProtocolViolation(f"malformed binary-chunk: unknown encoding {encoding!r}")
        raise ProtocolViolation(f"unknown message type: {kind!r}")


# binary sends -------------------------------------------------------------------------------------

DTYPES = {"uint8": 1, "uint16": 2, "uint32": 4, "int8": 1, "int16": 2, "int32": 4, "float32": 4, "float64": 8}
"""The element types pgwidgets-js turns a transfer into (a typed array of that kind), with their sizes."""

CHUNK_SIZE = 512 * 1024
"""Bytes per binary frame of a chunked transfer."""

CHUNKED_ABOVE = 1024 * 1024
"""Payloads larger than this go chunked (a Buffer with a dtype always does)."""


class Buffer:
    """Raw bytes for a widget method, delivered to the browser as a typed array.

    ``Buffer(data, shape=None, dtype=None)``: ``data`` is anything with the buffer protocol
    (``bytes``, ``bytearray``, ``memoryview``, ``array.array``, a contiguous NumPy array...);
    ``dtype`` one of uint8/16/32, int8/16/32, float32/64 (the method then gets a ``Uint8Array``,
    ``Float32Array``...; without one, an ``ArrayBuffer``); ``shape`` is passed along for the
    method to read. Pass it as a method's first argument: it is sent as binary frames, chunked,
    with no base64 and no JSON.
    """

    __slots__ = ("data", "dtype", "shape")

    def __init__(self, data: Any, shape: Iterable[int] | None = None, dtype: str | None = None) -> None:
        try:
            view = memoryview(data)
        except TypeError:
            raise TypeError(f"Buffer data must support the buffer protocol, not {type(data).__name__}") from None
        self.data: bytes = view.tobytes()
        if dtype is not None and dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        self.dtype = dtype
        self.shape = None if shape is None else [int(n) for n in shape]
        if dtype is not None and len(self.data) % DTYPES[dtype]:
            raise ValueError(f"{len(self.data)} bytes is not a whole number of {dtype} elements")
        if self.shape is not None and dtype is not None:
            count = math.prod(self.shape)
            if count * DTYPES[dtype] != len(self.data):
                raise ValueError(
                    f"shape {self.shape} of {dtype} needs {count * DTYPES[dtype]} bytes, data has {len(self.data)}"
                )

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Buffer({len(self.data)} bytes, shape={self.shape}, dtype={self.dtype!r})"


def binary_frames(
    mid: int, wid: int, method: str, args: list[Any], payload: bytes, shape: list[int] | None, dtype: str | None
) -> list[tuple[str | bytes, ...]]:
    """The frames that call ``method(payload, *args)`` on widget ``wid`` in the browser, each
    group sent as separate frames in order and never inside a JSON array (the page handles
    these only as single messages). The browser does not answer.

    One ``binary-call`` and its payload; or, for payloads over :data:`CHUNKED_ABOVE` and for
    typed data (a ``dtype``), a ``binary-call-chunked`` announcement (transfer id: ``mid``)
    and a ``binary-chunk`` header and frame per :data:`CHUNK_SIZE` bytes.
    """
    header: dict[str, Any] = {"type": "binary-call", "id": mid, "wid": wid, "method": method, "args": args}
    if dtype is None and shape is None and len(payload) <= CHUNKED_ABOVE:
        return [(encode(header), payload)]
    count = max(1, -(-len(payload) // CHUNK_SIZE))
    header.update(type="binary-call-chunked", transfer_id=mid, num_chunks=count)
    if shape is not None:
        header["shape"] = shape
    if dtype is not None:
        header["dtype"] = dtype
    frames: list[tuple[str | bytes, ...]] = [(encode(header),)]
    for i in range(count):
        chunk = {"type": "binary-chunk", "transfer_id": mid, "chunk_index": i, "num_chunks": count, "encoding": "binary"}
        frames.append((encode(chunk), payload[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]))
    return frames
