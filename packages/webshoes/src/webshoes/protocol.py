"""The webshoes protocol without I/O: which handler a request reaches, and the reply shapes.

Handler groups are plain dicts ``{"sub", "cmd", "q", "evt", "rep", "fm"}`` (what
``WebShoesApp.handlers`` holds, keyed by ``sub``). Everything here takes decoded input and gives
decisions and dicts back; :mod:`webshoes.app` does the sockets.

HTTP: ``/sub/func`` picks group ``sub`` (or the ``'*'`` group) and function ``func`` (or the
group's ``'*'`` entry). WebSocket: a message is a JSON object; per group, in registration order,
the group's ``evt`` field makes it a subscription, else its ``cmd`` field (``"sub/func"``) a call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from wirecore import codec

from .bag import Bag

__all__ = [
    "Call",
    "Failure",
    "HttpTarget",
    "Subscribe",
    "args_of",
    "error_reply",
    "http_target",
    "reply",
    "ws_action",
]

Group = dict[str, Any]

NOT_FOUND = "Not found"
UNKNOWN_COMMAND = "Unknown command"
INVALID_COMMAND = "Invalid command"
SERVER_ERROR_HTTP = "Server error"
SERVER_ERROR_WS = "Server Error"  # the original's spelling on each transport, kept


@dataclass(slots=True, frozen=True)
class HttpTarget:
    """What an HTTP path reaches: a handler (``entry`` callable) or a static folder (a dict)."""

    group: Group
    name: str
    entry: Any
    subpath: str
    """For a static entry: the file path below its root."""


@dataclass(slots=True, frozen=True)
class Call:
    """A WebSocket command for a handler."""

    group: Group
    handler: Any
    path: str
    """The command string as sent (``ctx.p``)."""


@dataclass(slots=True, frozen=True)
class Subscribe:
    """A WebSocket (un)subscription to event ``name``."""

    group: Group
    name: str
    uid: str | None
    unsubscribe: bool


@dataclass(slots=True, frozen=True)
class Failure:
    """A WebSocket message no handler takes: answered with an error reply."""

    error: str


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _entry(fm: dict[str, Any], name: str) -> tuple[str, Any]:
    entry = fm.get(name)
    if entry is None and "*" in fm:
        return name, fm["*"]
    return name, entry


def http_target(handlers: dict[str, Group], path: str) -> HttpTarget | None:
    """The handler or static folder for an HTTP ``path``, or ``None`` (404)."""
    segs = _segments(path)
    first = segs[0] if segs else "*"
    group = handlers.get(first)
    if group is not None:
        subpath = path.lstrip("/").partition("/")[2]
    else:
        group = handlers.get("*")
        if group is None:
            return None
        # the '*' group answers paths no group claims: its static root maps the whole path
        subpath = path.lstrip("/")
    name, entry = _entry(group["fm"], segs[1] if len(segs) > 1 else "*")
    if entry is None or not (callable(entry) or isinstance(entry, dict)):
        return None
    return HttpTarget(group, name, entry, subpath)


def ws_action(handlers: dict[str, Group], msg: dict[str, Any]) -> Call | Subscribe | Failure:
    """What a decoded WebSocket message asks for."""
    fallback: tuple[Group, list[str], str] | None = None
    for group in handlers.values():
        evt = group["evt"]
        if evt and evt in msg:
            name = msg[evt]
            if not isinstance(name, str) or not name:
                return Failure("Invalid event")
            uid = msg.get("uid")
            return Subscribe(group, name, uid if isinstance(uid, str) and uid else None, msg.get("unsubscribe") is True)
        field = group["cmd"]
        if not field or field not in msg:
            continue
        command = msg[field]
        if not isinstance(command, str):
            return Failure(INVALID_COMMAND)
        segs = _segments(command)
        if not segs:
            continue
        if segs[0] != group["sub"]:
            if group["sub"] == "*" and fallback is None:
                fallback = (group, segs, command)
            continue
        return _call(group, segs, command)
    if fallback is not None:
        return _call(*fallback)
    return Failure(UNKNOWN_COMMAND)


def _call(group: Group, segs: list[str], command: str) -> Call | Failure:
    _, entry = _entry(group["fm"], segs[1] if len(segs) > 1 else segs[0])
    if entry is None or not callable(entry):
        return Failure(UNKNOWN_COMMAND)
    return Call(group, entry, command)


def args_of(group: Group, msg: dict[str, Any]) -> Bag:
    """A WebSocket message's arguments: its ``q`` field (an object, or JSON text of one), else
    the whole message."""
    field = group["q"]
    if not field or field not in msg:
        return Bag(msg)
    value = msg[field]
    if isinstance(value, str):
        try:
            value = codec.decode(value)
        except codec.DecodeError:
            value = None
    return Bag(value) if isinstance(value, dict) else Bag()


def reply(group: Group, result: Any, msg: dict[str, Any]) -> dict[str, Any]:
    """The reply to a call: ``{rep: result, "tid": ..., "t": ...}``, or with ``rep == ''`` the
    result's keys at the top level (a copy: the handler's dict is never changed).

    ``tid`` is echoed whenever the request had one. A ``None`` result still gets a reply (the
    caller waits for it). With ``rep == ''`` a result that is not a dict raises ``TypeError``.
    """
    if isinstance(result, Bag):
        result = result.as_dict()
    rep = group["rep"]
    if rep:
        out: dict[str, Any] = {rep: result}
    elif result is None:
        out = {}
    elif isinstance(result, dict):
        out = dict(result)
    else:
        raise TypeError(f"a handler of a group with rep='' must return a dict, not {type(result).__name__}")
    if "tid" in msg and msg["tid"] is not None:
        out["tid"] = msg["tid"]
    if "t" not in out:
        out["t"] = time.time()
    return out


def error_reply(error: str, msg: dict[str, Any] | None) -> dict[str, Any]:
    """``{"error": error, "tid": ...}`` (the tid when the request had one)."""
    out: dict[str, Any] = {"error": error}
    if msg is not None and msg.get("tid") is not None:
        out["tid"] = msg["tid"]
    return out


def ack(group: Group, uid: str, status: str, msg: dict[str, Any]) -> dict[str, Any]:
    """The reply to a (un)subscription: ``{rep: {"uid", "status"}, "tid", "t"}``."""
    return reply(group, {"uid": uid, "status": status}, msg)
