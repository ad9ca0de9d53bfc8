"""Who may talk to a local server: a Host-header allowlist and an Origin check.

A server on 127.0.0.1 (a desktop app's, a local tool's) can be reached by every web page open in
any browser on the machine. ``App(guard=RequestGuard(...))`` keeps those pages out with two checks,
made before routing, middleware or any handler runs, on both interfaces:

- **Host allowlist** (against DNS rebinding). A hostile page at ``evil.example`` can make its own
  name resolve to 127.0.0.1; the browser then treats the local app as part of ``evil.example``
  and lets the page read its answers. The browser still sends ``Host: evil.example:8000``, so a
  request whose Host is not an allowed name is refused with 403. By default the allowed names are
  the loopback ones: ``127.0.0.1``, ``localhost`` and ``[::1]``, with any port. ``"*"`` turns the
  check off (for a server deliberately exposed under other names, list them instead).
- **Origin check** (against cross-site requests). A page elsewhere can still *send* requests to
  ``http://127.0.0.1:8000`` (form posts, ``fetch`` with ``no-cors``) even though it cannot read
  the answers, and it can open WebSockets, which browsers never restrict. So a state-changing
  request (any method but GET, HEAD and OPTIONS) and every WebSocket upgrade that carries an
  ``Origin`` header must come from the app's own origin (the Origin's host and port equal the
  Host header) or from one of ``allowed_origins``; otherwise 403. Requests without an Origin
  (curl, scripts, a desktop window navigating) are not browsers acting for another site
  and pass. ``"*"`` in ``allowed_origins`` turns the check off.

Refused HTTP requests get 403 with ``{"detail": reason}``; refused WebSocket upgrades are closed
with 1008 (policy violation). Both checks only read headers; the usual request (a safe method
with a Host already seen) costs a set lookup.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

from .websockets import origin_allowed

__all__ = ["LOOPBACK_HOSTS", "SAFE_METHODS", "RequestGuard", "host_name"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""The host names allowed when ``allowed_hosts`` is not given."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that must not change state, so they are not subject to the Origin check."""

_SEEN_LIMIT = 64  # raw Host values remembered as allowed (one per port and spelling, in practice)


def host_name(host: str) -> str:
    """The name part of a Host header, lower-cased: ``"LocalHost:8000"`` -> ``"localhost"``,
    ``"[::1]:8000"`` -> ``"[::1]"``."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, _, _port = host.partition(":")
    return name


def _normalise(name: str) -> str:
    name = name.strip().lower()
    if ":" in name and not name.startswith("["):
        return f"[{name}]"  # a bare IPv6 address, as it appears in a Host header
    return name


class RequestGuard:
    """The Host allowlist and the Origin check for one app.

    :param allowed_hosts: host names (no port) or ``fnmatch`` patterns such as
        ``"*.example.com"``; ``None`` means :data:`LOOPBACK_HOSTS`; ``["*"]`` allows any host.
    :param allowed_origins: origins (``"http://localhost:5173"``), host names or patterns that
        may send state-changing requests and open WebSockets besides the app's own origin;
        ``["*"]`` allows any.
    """

    __slots__ = (
        "_any_host",
        "_any_origin",
        "_exact",
        "_patterns",
        "allowed_hosts",
        "allowed_origins",
        "seen",
    )

    def __init__(
        self, allowed_hosts: Iterable[str] | None = None, allowed_origins: Iterable[str] = ()
    ) -> None:
        if isinstance(allowed_hosts, str) or isinstance(allowed_origins, str):
            raise TypeError("allowed_hosts and allowed_origins take a list of names, not one string")
        hosts = LOOPBACK_HOSTS if allowed_hosts is None else frozenset(_normalise(h) for h in allowed_hosts)
        self.allowed_hosts: frozenset[str] = hosts
        self.allowed_origins: tuple[str, ...] = tuple(allowed_origins)
        self._any_host = "*" in hosts
        self._exact = frozenset(h for h in hosts if "*" not in h and "?" not in h and "[" not in h[1:])
        self._patterns = tuple(h for h in hosts if h not in self._exact and h != "*")
        self._any_origin = "*" in self.allowed_origins
        self.seen: set[str] = set()
        """Raw Host header values already found allowed: a request whose Host is one of these
        (the usual case) costs a set lookup."""

    @property
    def disabled(self) -> bool:
        """True when both checks are turned off."""
        return self._any_host and self._any_origin

    def host_allowed(self, host: str | None) -> bool:
        """Whether a request with this Host header may be served.

        A request without a Host header cannot come from a browser and is allowed.
        """
        if host is None or host in self.seen:
            return True
        if self._any_host:
            ok = True
        else:
            name = host_name(host)
            ok = name in self._exact or any(fnmatch.fnmatchcase(name, p) for p in self._patterns)
        if ok and len(self.seen) < _SEEN_LIMIT:
            self.seen.add(host)
        return ok

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """Whether a request carrying this Origin may change state (see the module docs)."""
        if origin is None or self._any_origin:
            return True
        return origin_allowed(origin, host, self.allowed_origins)

    def refusal(self, method: str, host: str | None, origin: str | None) -> str | None:
        """Why a request must be refused (the 403 detail), or ``None`` to let it through.

        ``method`` is the HTTP method, or ``"WEBSOCKET"`` for an upgrade (always Origin-checked).
        """
        if not self.host_allowed(host):
            return f"Host {host_name(host or '')!r} is not allowed (not in allowed_hosts)"
        if method not in SAFE_METHODS and not self.origin_allowed(origin, host):
            return f"cross-origin request from {origin!r} refused (not in allowed_origins)"
        return None

    def check_asgi(self, scope: dict[str, Any]) -> str | None:
        """:meth:`refusal` for an ASGI ``http`` or ``websocket`` scope."""
        host = origin = None
        for key, value in scope.get("headers", ()):
            if key == b"host":
                if host is None:  # the first, as RSGI reports it
                    host = value.decode("latin-1")
            elif key == b"origin" and origin is None:
                origin = value.decode("latin-1")
        method = scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET"
        return self.refusal(method, host, origin)

    def check_rsgi(self, scope: Any, headers: Any = None, method: str | None = None) -> str | None:
        """:meth:`refusal` for an RSGI ``http`` or ``ws`` scope. ``headers`` and ``method``
        (``"WEBSOCKET"`` for a ``ws`` scope), when the caller has read them already: granian
        builds each on every access. The usual request (a safe method, a Host already seen)
        passes on one set lookup."""
        if headers is None:
            headers = scope.headers
        if method is None:
            method = "WEBSOCKET" if scope.proto == "ws" else scope.method
        host = headers.get("host")
        if host in self.seen and method in SAFE_METHODS:
            return None
        return self.refusal(method, host or scope.authority, headers.get("origin"))

    def __repr__(self) -> str:
        return f"RequestGuard(allowed_hosts={sorted(self.allowed_hosts)}, allowed_origins={list(self.allowed_origins)})"
