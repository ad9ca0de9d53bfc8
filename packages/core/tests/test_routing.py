"""Router semantics, without a network."""

from __future__ import annotations

import pytest

from wirecore import Router
from wirecore.routing import WEBSOCKET


async def a(req: object) -> str:
    return "a"


async def b(req: object) -> str:
    return "b"


def test_static_and_param_routes() -> None:
    r = Router()
    r.add_route("GET", "/api/health", a)
    r.add_route("GET", "/api/users/{id}", b)
    assert r.match("GET", "/api/health") == (a, {})
    assert r.match("GET", "/api/users/42") == (b, {"id": "42"})
    assert r.match("GET", "/api/users") is None
    assert r.match("GET", "/api/users/42/x") is None
    assert r.match("GET", "/api/users/") is None  # an empty segment is no parameter


def test_first_registration_wins_between_static_and_param() -> None:
    r = Router()
    r.add_route("GET", "/users/{id}", a)
    r.add_route("GET", "/users/me", b)
    assert r.match("GET", "/users/me") == (a, {"id": "me"})
    r2 = Router()
    r2.add_route("GET", "/users/me", b)
    r2.add_route("GET", "/users/{id}", a)
    assert r2.match("GET", "/users/me") == (b, {})
    assert r2.match("GET", "/users/7") == (a, {"id": "7"})


def test_first_registration_wins_for_same_path() -> None:
    r = Router()
    r.add_route("GET", "/x/{a}", a)
    r.add_route("GET", "/x/{b}", b)
    assert r.match("GET", "/x/1") == (a, {"a": "1"})


def test_method_mismatch_reports_allowed() -> None:
    r = Router()
    r.add_route("GET", "/items/{id}", a)
    r.add_route("DELETE", "/items/{item}", b)
    m = r.lookup("POST", "/items/3")
    assert m is not None and m.route is None
    assert m.allowed == {"GET", "HEAD", "DELETE"}
    m = r.lookup("DELETE", "/items/3")
    assert m is not None and m.route is not None and m.route.handler is b
    assert m.params == {"item": "3"}


def test_static_path_falls_through_to_param_route_for_other_methods() -> None:
    r = Router()
    r.add_route("GET", "/users/me", a)
    r.add_route("DELETE", "/users/{id}", b)
    assert r.match("DELETE", "/users/me") == (b, {"id": "me"})


def test_head_uses_get() -> None:
    r = Router()
    r.add_route("GET", "/p/{x}", a)
    r.add_route("GET", "/s", a)
    assert r.match("HEAD", "/p/1") == (a, {"x": "1"})
    assert r.match("HEAD", "/s") == (a, {})


def test_strict_slashes() -> None:
    r = Router()
    r.add_route("GET", "/a", a)
    r.add_route("GET", "/b/", b)
    assert r.match("GET", "/a") is not None
    assert r.match("GET", "/a/") is None
    assert r.match("GET", "/b/") is not None
    assert r.match("GET", "/b") is None


def test_ignore_slashes_like_wesktop() -> None:
    r = Router(slashes="ignore")
    r.add_route("GET", "/api/items/", a)
    r.add_route("GET", "api/users/{id}", b)
    assert r.match("GET", "/api/items") == (a, {})
    assert r.match("GET", "/api/items/") == (a, {})
    assert r.match("GET", "//api//items//") == (a, {})
    assert r.match("GET", "/api/users/5/") == (b, {"id": "5"})


def test_redirect_slashes() -> None:
    r = Router(slashes="redirect")
    r.add_route("GET", "/a", a)
    m = r.lookup("GET", "/a/")
    assert m is not None and m.route is None and m.redirect == "/a"


def test_websocket_routes_are_separate() -> None:
    r = Router()
    r.add_route(WEBSOCKET, "/ws/{room}", a)
    r.add_route("GET", "/ws/{room}", b)
    m = r.lookup(WEBSOCKET, "/ws/lobby")
    assert m is not None and m.route is not None and m.route.handler is a
    assert r.match("GET", "/ws/lobby") == (b, {"room": "lobby"})
    only_ws = Router()
    only_ws.add_route(WEBSOCKET, "/live", a)
    assert only_ws.lookup("GET", "/live") is None  # not a 405: HTTP has no such route


def test_many_param_routes_resolve_by_shape() -> None:
    r = Router()
    for i in range(50):
        r.add_route("GET", f"/api/r{i}/{{id}}", a)
    r.add_route("GET", "/api/users/{id}", b)
    assert r.match("GET", "/api/users/9") == (b, {"id": "9"})
    assert r.match("GET", "/api/r49/1") == (a, {"id": "1"})
    # the tree holds one literal child per prefix, not a list to scan
    r.compile()
    assert r._tree is not None
    api = r._tree.literal["api"]
    assert len(api.literal) == 51 and api.param is None


def test_routes_added_after_a_lookup_are_seen() -> None:
    r = Router()
    r.add_route("GET", "/a", a)
    assert r.match("GET", "/b") is None
    r.add_route("GET", "/b", b)
    assert r.match("GET", "/b") == (b, {})


@pytest.mark.parametrize("bad", ["/x/{1a}", "/x/{a}{b}", "/x/pre{a}", "/x/{a}/{a}"])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Router().add_route("GET", bad, a)


def test_handler_must_be_callable() -> None:
    with pytest.raises(TypeError):
        Router().add_route("GET", "/x", "nope")  # type: ignore[arg-type]


# The fast resolve() must agree with the full lookup() for any route table and path.
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SEGMENTS = st.sampled_from(["a", "me", "{x}"])
_ROUTE = st.tuples(
    st.sampled_from(["GET", "POST", "DELETE"]),
    st.lists(_SEGMENTS, min_size=1, max_size=3),
)
_PATH = st.lists(st.sampled_from(["a", "me", "7", ""]), min_size=1, max_size=3)


@settings(max_examples=400, deadline=None)
@example(routes=[("GET", ["{x}", "me"]), ("GET", ["a", "{x}"])], path=["a", "me"], method="GET")
@given(
    routes=st.lists(_ROUTE, min_size=1, max_size=8),
    path=_PATH,
    method=st.sampled_from(["GET", "POST", "HEAD"]),
)
def test_resolve_agrees_with_lookup(
    routes: list[tuple[str, list[str]]], path: list[str], method: str
) -> None:
    r = Router()
    for i, (m, segs) in enumerate(routes):
        names = iter("pqrstuvw")
        fixed = [f"{{{next(names)}}}" if s.startswith("{") else s for s in segs]  # unique param names
        r.add_route(m, "/" + "/".join(fixed), (lambda i=i: i))
    url = "/" + "/".join(path)
    m = r.lookup(method, url)
    expected = (m.route, m.params) if m is not None and m.route is not None else None
    assert r.resolve(method, url) == expected


def _reference(routes: list[tuple[str, str]], method: str, url: str) -> int | None:
    """The first registered route (its index) for ``method`` whose pattern matches, by brute force."""
    import re

    for i, (m, pattern) in enumerate(routes):
        rx = ""
        for seg in pattern.strip("/").split("/"):
            if seg.endswith(":path}"):
                rx += "(?:/.*)?"
            else:
                rx += "/[^/]+" if seg.startswith("{") else "/" + re.escape(seg)
        if m == method and re.fullmatch(rx, url):
            return i
    return None


_RSEGMENTS = st.sampled_from(["a", "me", "{x}"])
_RROUTE = st.tuples(
    st.sampled_from(["GET", "POST"]),
    st.lists(_RSEGMENTS, min_size=0, max_size=3),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@example(routes=[("GET", ["a"], True), ("GET", ["{x}"], False)], path=["a"], method="GET")
@example(routes=[("GET", ["{x}", "a"], True), ("GET", ["{x}", "{y}"], False)], path=["7", "a"], method="GET")
@given(
    routes=st.lists(_RROUTE, min_size=1, max_size=8),
    path=st.lists(st.sampled_from(["a", "me", "7"]), min_size=0, max_size=4),
    method=st.sampled_from(["GET", "POST"]),
)
def test_rest_of_path_routes_follow_registration_order(
    routes: list[tuple[str, list[str], bool]], path: list[str], method: str
) -> None:
    r = Router()
    table: list[tuple[str, str]] = []
    for i, (m, segs, rest) in enumerate(routes):
        names = iter("pqrstuvw")
        fixed = [f"{{{next(names)}}}" if s.startswith("{") else s for s in segs]
        if rest:
            fixed.append("{tail:path}")
        if not fixed:
            continue
        pattern = "/" + "/".join(fixed)
        r.add_route(m, pattern, (lambda i=i: i))
        table.append((m, pattern))
    if not table:
        return
    url = "/" + "/".join(path)
    want = _reference(table, method, url)
    got = r.resolve(method, url)
    assert (got[0].index if got is not None else None) == want
    if got is not None and got[0].rest:
        assert got[1]["tail"] == "/".join(path[len(got[0].segments) - 1 :])


def test_rest_of_path_captures_slashes() -> None:
    r = Router()
    r.add_route("GET", "/files/{p:path}", lambda: None)
    assert r.resolve("GET", "/files/a/b.txt")[1] == {"p": "a/b.txt"}  # type: ignore[index]
    assert r.resolve("GET", "/files")[1] == {"p": ""}  # type: ignore[index]
    assert r.resolve("GET", "/other/a") is None
    with pytest.raises(ValueError, match="last segment"):
        r.add_route("GET", "/{p:path}/x", lambda: None)
