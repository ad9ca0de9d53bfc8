"""Routing: literal and ``{param}`` segments, compiled so a lookup never scans every route.

Static paths live in a dict. Parameterised paths live in a segment tree (a literal child per
name and one parameter child per node), so a lookup costs one step per path segment. A last
segment ``{name:path}`` captures the rest of the path, slashes included (possibly empty). Every route
keeps its registration index and, for one method, the earliest registered matching route wins,
whether static or parameterised: the static table is resolved against the tree when compiled.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._threads import run_in_thread
from .requests import Request
from .responses import Response, to_response

__all__ = ["Match", "Route", "Router", "SlashPolicy", "is_async"]


SlashPolicy = Literal["strict", "ignore", "redirect"]
"""How trailing (and leading) slashes count:

- ``"strict"``: ``/a`` and ``/a/`` are different paths (default);
- ``"ignore"``: leading, trailing and doubled slashes are ignored (``/a/``, ``a`` and ``/a`` match ``/a``);
- ``"redirect"``: a request for ``/a/`` when only ``/a`` exists (or the reverse) gets a 308.
"""

Handler = Callable[..., Any]

WEBSOCKET = "WEBSOCKET"


@dataclass(slots=True)
class Route:
    """One registered route."""

    method: str
    path: str
    handler: Handler
    index: int
    segments: tuple[str, ...]
    param_names: tuple[str | None, ...]
    is_async: bool
    name: str | None = None
    rest: bool = False
    """Whether the last parameter is ``{name:path}``, capturing the rest of the path."""
    param_slots: tuple[tuple[int, str], ...] = ()
    request_class: type[Request] = Request
    """What the handler takes: :class:`~wirecore.Request` or a subclass (a facade's)."""
    convert: Callable[[Any], Response] = to_response
    """Turns the handler's return value, when not a ``dict``, ``list`` or response, into a
    response."""

    def __post_init__(self) -> None:
        self.param_slots = tuple((i, n) for i, n in enumerate(self.param_names) if n is not None)

    @property
    def is_static(self) -> bool:
        return not self.param_slots

    def params_for(self, parts: list[str] | tuple[str, ...]) -> dict[str, str]:
        params = {n: parts[i] for i, n in self.param_slots if i < len(parts)}
        if self.rest:
            i, n = self.param_slots[-1]
            params[n] = "/".join(parts[i:])
        return params


@dataclass(slots=True)
class Match:
    """The outcome of :meth:`Router.lookup`: a route and its params, or the allowed methods."""

    route: Route | None
    params: dict[str, str]
    allowed: frozenset[str] = frozenset()
    redirect: str | None = None


@dataclass(slots=True)
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    routes: dict[str, Route] = field(default_factory=dict)
    rest: dict[str, Route] = field(default_factory=dict)  # {name:path} routes ending here


_EMPTY: dict[str, str] = {}
_NO_SEGMENT = "\x00"  # a path segment no route spells


def is_async(handler: Handler) -> bool:
    """Whether calling ``handler`` returns an awaitable (async functions, partials of them,
    objects with an async ``__call__``)."""
    target = handler
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)  # noqa: B004 - callable objects
    return call is not None and inspect.iscoroutinefunction(call)


def _split(path: str) -> tuple[str, ...]:
    stripped = path.strip("/")
    return tuple(stripped.split("/")) if stripped else ()


class Router:
    """A route table. Register with :meth:`add_route` or the method decorators.

    ``slashes`` chooses the trailing-slash behaviour (see :data:`SlashPolicy`).
    """

    def __init__(self, *, slashes: SlashPolicy = "strict") -> None:
        if slashes not in ("strict", "ignore", "redirect"):
            raise ValueError(f"slashes must be 'strict', 'ignore' or 'redirect', not {slashes!r}")
        self.slashes = slashes
        self.routes: list[Route] = []
        self._static: dict[str, dict[str, Match]] | None = None
        self._static_mismatch: dict[str, Match | None] = {}
        self._tree: _Node | None = None
        self._tails: dict[str, dict[str, tuple[Route, str]]] = {}
        self._last_literals: frozenset[str] = frozenset()
        self._catch_all: dict[str, Route] | None = None

    # registration -------------------------------------------------------------------

    def add_route(self, method: str, path: str, handler: Handler, *, name: str | None = None) -> Route:
        """Register ``handler`` for ``method`` (``GET``, ``POST``... or ``WEBSOCKET``) and ``path``.

        ``path`` may hold ``{name}`` segments, each capturing one whole segment; a last segment
        ``{name:path}`` captures the rest of the path (``/files/{p:path}`` matches ``/files/a/b.txt``
        with ``p="a/b.txt"``, and ``/files/`` with ``p=""``).
        """
        if not callable(handler):
            raise TypeError(f"handler for {method} {path} is not callable: {handler!r}")
        if not path.startswith("/") and self.slashes != "ignore":
            raise ValueError(f"route path must start with '/': {path!r}")
        handler_is_async = is_async(handler)
        if method.upper() == WEBSOCKET and not handler_is_async:
            raise TypeError(f"WebSocket handler for {path} must be an async function")
        segments = _split(path)
        names: list[str | None] = []
        rest = False
        for i, seg in enumerate(segments):
            if seg.startswith("{") and seg.endswith("}"):
                pname = seg[1:-1]
                if pname.endswith(":path"):
                    if i != len(segments) - 1:
                        raise ValueError(f"{{name:path}} must be the last segment: {seg!r} in {path!r}")
                    pname, rest = pname[:-5], True
                if not pname.isidentifier():
                    raise ValueError(f"bad parameter name {seg!r} in {path!r}")
                if pname in names:
                    raise ValueError(f"parameter {pname!r} repeated in {path!r}")
                names.append(pname)
            elif "{" in seg or "}" in seg:
                raise ValueError(f"a parameter must be a whole segment: {seg!r} in {path!r}")
            else:
                names.append(None)
        canonical = "/" + "/".join(segments)
        if self.slashes != "ignore" and path.endswith("/") and segments:
            canonical += "/"
        route = Route(
            method.upper(),
            canonical,
            handler,
            len(self.routes),
            segments,
            tuple(names),
            handler_is_async,
            name,
            rest,
        )
        self.routes.append(route)
        self._static = None  # recompile on next lookup
        return route

    def route(self, path: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Handler], Handler]:
        def deco(handler: Handler) -> Handler:
            for m in methods:
                self.add_route(m, path, handler)
            return handler

        return deco

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ("GET",))

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ("POST",))

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ("PUT",))

    def patch(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ("PATCH",))

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ("DELETE",))

    def websocket(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, (WEBSOCKET,))

    def include(self, other: Router, prefix: str = "") -> None:
        """Copy ``other``'s routes into this router, under ``prefix``."""
        for r in other.routes:
            route = self.add_route(r.method, prefix.rstrip("/") + r.path, r.handler, name=r.name)
            route.request_class, route.convert = r.request_class, r.convert  # what the handler expects

    # compilation --------------------------------------------------------------------

    def _key(self, route: Route) -> str:
        if self.slashes == "strict":
            return route.path
        return "/" + "/".join(route.segments)

    def compile(self) -> None:
        """Build the lookup tables (done lazily on the first lookup after a change)."""
        tree = _Node()
        static: dict[str, dict[str, Route]] = {}
        for route in self.routes:
            if route.is_static:
                methods = static.setdefault(self._key(route), {})
                methods.setdefault(route.method, route)  # first registration wins
                continue
            node = tree
            walk = zip(route.segments, route.param_names, strict=True)
            for seg, pname in itertools.islice(walk, len(route.segments) - route.rest):
                if pname is None:
                    node = node.literal.setdefault(seg, _Node())
                else:
                    if node.param is None:
                        node.param = _Node()
                    node = node.param
            if route.rest:
                node.rest.setdefault(route.method, route)
                continue
            if self.slashes == "strict" and route.path.endswith("/"):
                node = node.literal.setdefault("", _Node())
            node.routes.setdefault(route.method, route)
        # Resolve each static path against the tree once, so earlier param routes still win,
        # and keep a ready Match per method: a static lookup is then two dict hits.
        matches: dict[str, dict[str, Match]] = {}
        mismatch: dict[str, Match | None] = {}
        for key, methods in static.items():
            parts = self._parts(key)
            for route in self._tree_candidates(tree, parts):
                have = methods.get(route.method)
                if have is None or route.index < have.index:
                    methods[route.method] = route
            table = {m: Match(r, r.params_for(parts)) for m, r in methods.items()}
            if "GET" in table and "HEAD" not in table:
                table["HEAD"] = table["GET"]
            matches[key] = table
            mismatch[key] = self._mismatch(methods.values())
        self._tree = tree
        self._static_mismatch = mismatch
        self._tails, self._last_literals = self._index_tails(tree)
        # a table of "/{p:path}" routes only (an app that routes every path itself): one dict hit
        only_rest = not static and not tree.literal and tree.param is None and not tree.routes
        self._catch_all = dict(tree.rest) if only_rest and tree.rest else None
        if self._catch_all is not None and "GET" in self._catch_all:
            self._catch_all.setdefault("HEAD", self._catch_all["GET"])
        self._static = matches

    def _index_tails(self, tree: _Node) -> tuple[dict[str, dict[str, tuple[Route, str]]], frozenset[str]]:
        """Index routes whose one parameter is the last segment (``/api/users/{id}``) by their
        literal prefix (``/api/users/``).

        Each prefix is resolved against the whole tree once, with a last segment no route spells,
        so earlier registrations still win; a method whose winner has other parameters is left
        out (the full walk answers it). A request whose last segment is a literal somewhere in
        the tree also takes the full walk.
        """
        # (a ``{name:path}`` route also matches with an empty rest: ``/a/{p:path}`` answers ``/a``,
        # so the literal before its rest counts as a last segment too)
        last_literals = frozenset(
            r.segments[-1 - r.rest]
            for r in self.routes
            if len(r.segments) > r.rest and not r.is_static and r.param_names[-1 - r.rest] is None
        )
        tails: dict[str, dict[str, tuple[Route, str]]] = {}
        for route in self.routes:
            slots = route.param_slots
            if (
                len(slots) != 1
                or slots[0][0] != len(route.segments) - 1
                or route.path.endswith("/")
                or route.rest
            ):
                continue
            prefix = "/" + "".join(seg + "/" for seg in route.segments[:-1])
            if prefix in tails:
                continue
            parts = self._parts(prefix + _NO_SEGMENT)
            best: dict[str, Route] = {}
            for r in self._tree_candidates(tree, parts):
                have = best.get(r.method)
                if have is None or r.index < have.index:
                    best[r.method] = r
            table = {
                m: (r, r.param_slots[0][1])
                for m, r in best.items()
                if len(r.param_slots) == 1 and r.param_slots[0][0] == len(parts) - 1 and not r.rest
            }
            if "GET" in table and "HEAD" not in best:
                table["HEAD"] = table["GET"]
            tails[prefix] = table
        return tails, last_literals

    def _compiled(self) -> dict[str, dict[str, Match]]:
        self.compile()
        assert self._static is not None
        return self._static

    def _key_of(self, path: str) -> str:
        """The request path as the tables spell it (slashes folded under ``"ignore"``)."""
        if self.slashes == "ignore" and (path.endswith("/") or "//" in path or not path.startswith("/")):
            return "/" + "/".join(p for p in path.split("/") if p)
        return path

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """``(route, path_params)`` for a request, or ``None`` (then :meth:`lookup` tells why).

        The fast path used for every request: a static path is one dict hit, a path whose only
        parameter is its last segment is an ``rfind``, a slice and a dict hit.
        """
        static = self._static if self._static is not None else self._compiled()
        # The tables are keyed by folded paths, so a path that hits them needs no folding; one
        # that misses (unfolded slashes, a 404) is left to lookup(), which folds it.
        key = path
        catch_all = self._catch_all
        if catch_all is not None:
            route = catch_all.get(method)
            return (route, route.params_for(self._parts(self._key_of(path)))) if route is not None else None
        table = static.get(key)
        if table is not None:
            found = table.get(method)
            return (found.route, found.params) if found is not None and found.route is not None else None
        cut = key.rfind("/") + 1
        seg = key[cut:]
        if seg and seg not in self._last_literals:
            tail = self._tails.get(key[:cut])
            if tail is not None:
                hit = tail.get(method)
                if hit is not None:
                    return hit[0], {hit[1]: seg}
        match = self.lookup(method, path)
        if match is None or match.route is None:
            return None
        return match.route, match.params

    def _parts(self, path: str) -> list[str]:
        if self.slashes == "strict":
            if path == "/":
                return []
            parts = path[1:].split("/") if path.startswith("/") else path.split("/")
            return parts
        return [p for p in path.split("/") if p]

    @staticmethod
    def _tree_candidates(tree: _Node, parts: list[str]) -> list[Route]:
        """Every route in the tree whose shape matches ``parts`` (all methods)."""
        found: list[Route] = []
        n = len(parts)
        stack = [(tree, 0)]
        while stack:
            node, i = stack.pop()
            if node.rest:
                found.extend(node.rest.values())
            if i == n:
                if node.routes:
                    found.extend(node.routes.values())
                continue
            seg = parts[i]
            if node.param is not None and seg:
                stack.append((node.param, i + 1))
            child = node.literal.get(seg)
            if child is not None:
                stack.append((child, i + 1))
        return found

    # lookup -------------------------------------------------------------------------

    def lookup(self, method: str, path: str) -> Match | None:
        """Find the route for ``method`` and ``path``.

        Returns ``None`` when no route has this path; a :class:`Match` with ``route=None`` and
        ``allowed`` set when the path exists for other methods only; with ``redirect`` set when
        the slash policy says so. HEAD falls back to GET.
        """
        static = self._static if self._static is not None else self._compiled()
        key = self._key_of(path)
        table = static.get(key)
        if table is not None:
            found = table.get(method)
            return found if found is not None else self._static_mismatch[key]
        assert self._tree is not None
        parts = self._parts(key)
        candidates = self._tree_candidates(self._tree, parts)
        if candidates:
            best: Route | None = None
            for r in candidates:
                if r.method == method and (best is None or r.index < best.index):
                    best = r
            if best is None and method == "HEAD":
                for r in candidates:
                    if r.method == "GET" and (best is None or r.index < best.index):
                        best = r
            if best is not None:
                return Match(best, best.params_for(parts))
            return self._mismatch(candidates)
        if self.slashes == "redirect":
            alt = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
            if (alt in static) or self._tree_candidates(self._tree, self._parts(alt)):
                return Match(None, _EMPTY, redirect=alt)
        return None

    @staticmethod
    def _mismatch(routes: Any) -> Match | None:
        allowed = {r.method for r in routes if r.method != WEBSOCKET}
        if not allowed:
            return None
        if "GET" in allowed:
            allowed.add("HEAD")
        return Match(None, _EMPTY, frozenset(allowed))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """``(handler, path_params)`` for ``method`` and ``path``, or ``None``."""
        m = self.lookup(method.upper(), path)
        if m is None or m.route is None:
            return None
        return m.route.handler, dict(m.params)


def run_sync(loop: asyncio.AbstractEventLoop, fn: Handler, *args: Any) -> asyncio.Future[Any]:
    """Run a plain function in wirecore's worker threads (see :mod:`wirecore._threads`)."""
    return run_in_thread(loop, fn, *args)
