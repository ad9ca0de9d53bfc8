"""The sans-I/O protocol module (routing decisions and reply shapes) and the ``Bag``.

Unit tests, no server, except the last section (HTTP parameter merging lives in the app).
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from webshoes import Bag, Missing, WebShoesApp, protocol
from webshoes.protocol import (
    Call,
    Failure,
    Subscribe,
    ack,
    args_of,
    error_reply,
    http_target,
    reply,
    ws_action,
)


def add(ctx: Any, q: Any) -> Any:
    return {"result": int(q.a) + int(q.b)}


def catch_all(ctx: Any, q: Any) -> Any:
    return {"path": ctx.p}


def fallback(ctx: Any, q: Any) -> Any:
    return {}


STATIC = {"root": "/srv/site", "defpage": "index.html"}


def group(
    sub: str, fm: dict[str, Any], cmd: str = "cmd", q: str = "q", evt: str = "evt", rep: str = "r"
) -> dict[str, Any]:
    return {"sub": sub, "cmd": cmd, "q": q, "evt": evt, "rep": rep, "fm": fm}


def handlers(*groups: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["sub"]: g for g in groups}


# --- http_target ------------------------------------------------------------------------------


def test_http_sub_func_routing() -> None:
    h = handlers(group("cmd", {"add": add}))
    t = http_target(h, "/cmd/add")
    assert t is not None
    assert (t.group["sub"], t.name, t.entry) == ("cmd", "add", add)
    # deeper segments do not change the function
    t = http_target(h, "/cmd/add/extra/more")
    assert t is not None and t.entry is add


def test_http_unknown_function_without_catch_all_is_none() -> None:
    h = handlers(group("cmd", {"add": add}))
    assert http_target(h, "/cmd/sub") is None
    assert http_target(h, "/cmd") is None  # no function segment, no '*'
    assert http_target(h, "/other/add") is None  # no such group, no '*' group
    assert http_target(h, "/") is None


def test_http_function_catch_all() -> None:
    h = handlers(group("cmd", {"add": add, "*": catch_all}))
    t = http_target(h, "/cmd/anything")
    assert t is not None and t.entry is catch_all and t.name == "anything"
    t = http_target(h, "/cmd")
    assert t is not None and t.entry is catch_all


def test_http_sub_catch_all_takes_unclaimed_first_segments() -> None:
    h = handlers(group("cmd", {"add": add}), group("*", {"*": fallback}))
    t = http_target(h, "/cmd/add")
    assert t is not None and t.entry is add
    for path in ("/", "/nothing", "/nothing/add", "/cmd2/x"):
        t = http_target(h, path)
        assert t is not None and t.group["sub"] == "*" and t.entry is fallback, path


def test_http_static_subpath() -> None:
    h = handlers(group("site", {"*": STATIC}), group("*", {"*": STATIC}))
    t = http_target(h, "/site/css/a.css")
    assert t is not None and t.entry is STATIC and t.subpath == "css/a.css"
    t = http_target(h, "/site")
    assert t is not None and t.subpath == ""
    # the '*' group maps the whole path below its root (the original dropped the first segment)
    t = http_target(h, "/index.html")
    assert t is not None and t.subpath == "index.html"
    t = http_target(h, "/a/b.txt")
    assert t is not None and t.subpath == "a/b.txt"


def test_http_non_callable_entry_is_not_found() -> None:
    h = handlers(group("cmd", {"x": 42, "y": "text"}))
    assert http_target(h, "/cmd/x") is None
    assert http_target(h, "/cmd/y") is None


# --- ws_action --------------------------------------------------------------------------------


def test_ws_command_routing() -> None:
    h = handlers(group("cmd", {"add": add}))
    for command in ("cmd/add", "/cmd/add", "cmd/add/extra", "//cmd//add"):
        action = ws_action(h, {"cmd": command})
        assert isinstance(action, Call), command
        assert action.handler is add
        assert action.path == command  # ctx.p is the command as sent


def test_ws_lone_sub_looks_up_a_function_of_that_name() -> None:
    def cmd(ctx: Any, q: Any) -> Any:
        return {}

    action = ws_action(handlers(group("cmd", {"cmd": cmd})), {"cmd": "cmd"})
    assert isinstance(action, Call) and action.handler is cmd
    action = ws_action(handlers(group("cmd", {"*": catch_all})), {"cmd": "cmd"})
    assert isinstance(action, Call) and action.handler is catch_all


def test_ws_function_catch_all() -> None:
    h = handlers(group("cmd", {"add": add, "*": catch_all}))
    action = ws_action(h, {"cmd": "cmd/nothing"})
    assert isinstance(action, Call) and action.handler is catch_all and action.path == "cmd/nothing"


def test_ws_sub_catch_all_group_takes_other_subs() -> None:
    h = handlers(group("cmd", {"add": add}), group("*", {"ping": fallback}))
    action = ws_action(h, {"cmd": "cmd/add"})
    assert isinstance(action, Call) and action.handler is add
    action = ws_action(h, {"cmd": "elsewhere/ping"})
    assert isinstance(action, Call) and action.handler is fallback


def test_ws_unknown_and_invalid_commands_fail() -> None:
    h = handlers(group("cmd", {"add": add}))
    assert ws_action(h, {"cmd": "cmd/sub"}) == Failure(protocol.UNKNOWN_COMMAND)
    assert ws_action(h, {"cmd": "heartbeat"}) == Failure(protocol.UNKNOWN_COMMAND)  # no sub prefix
    assert ws_action(h, {"foo": 1}) == Failure(protocol.UNKNOWN_COMMAND)
    assert ws_action(h, {"cmd": ""}) == Failure(protocol.UNKNOWN_COMMAND)
    assert ws_action(h, {"cmd": 5}) == Failure(protocol.INVALID_COMMAND)
    assert ws_action(h, {"cmd": ["cmd", "add"]}) == Failure(protocol.INVALID_COMMAND)


def test_ws_first_registered_group_wins() -> None:
    def other(ctx: Any, q: Any) -> Any:
        return {}

    h = handlers(group("a", {"f": add}, cmd="op"), group("b", {"f": other}, cmd="op"))
    a = ws_action(h, {"op": "a/f"})
    b = ws_action(h, {"op": "b/f"})
    assert isinstance(a, Call) and a.handler is add
    assert isinstance(b, Call) and b.handler is other


def test_ws_custom_field_names() -> None:
    h = handlers(group("api", {"add": add}, cmd="action", q="args", evt="watch", rep="result"))
    action = ws_action(h, {"action": "api/add", "args": {"a": 1, "b": 2}})
    assert isinstance(action, Call) and action.handler is add
    assert args_of(action.group, {"action": "api/add", "args": {"a": 1}}).as_dict() == {"a": 1}
    assert ws_action(h, {"cmd": "api/add"}) == Failure(protocol.UNKNOWN_COMMAND)
    sub = ws_action(h, {"watch": "ticker"})
    assert isinstance(sub, Subscribe) and sub.name == "ticker"


def test_ws_subscription() -> None:
    h = handlers(group("cmd", {"add": add}))
    assert ws_action(h, {"evt": "temp"}) == Subscribe(h["cmd"], "temp", None, False)
    assert ws_action(h, {"evt": "temp", "uid": "u1"}) == Subscribe(h["cmd"], "temp", "u1", False)
    assert ws_action(h, {"evt": "temp", "uid": "u1", "unsubscribe": True}) == Subscribe(
        h["cmd"], "temp", "u1", True
    )
    # only a literal true unsubscribes
    sub = ws_action(h, {"evt": "temp", "uid": "u1", "unsubscribe": "yes"})
    assert isinstance(sub, Subscribe) and not sub.unsubscribe
    # a subscription field wins over a command field in the same message
    assert isinstance(ws_action(h, {"evt": "temp", "cmd": "cmd/add"}), Subscribe)
    # a non-string uid is ignored (the server makes one)
    sub = ws_action(h, {"evt": "temp", "uid": 7})
    assert isinstance(sub, Subscribe) and sub.uid is None


def test_ws_invalid_event_name() -> None:
    h = handlers(group("cmd", {"add": add}))
    for name in (5, "", None, ["x"]):
        assert isinstance(ws_action(h, {"evt": name}), Failure), name


def test_ws_group_without_evt_field_never_subscribes() -> None:
    h = handlers(group("cmd", {"add": add}, evt=""))
    assert isinstance(ws_action(h, {"evt": "temp", "cmd": "cmd/add"}), Call)


# --- args_of ----------------------------------------------------------------------------------


def test_args_q_field_vs_top_level() -> None:
    g = group("cmd", {"add": add})
    q = {"a": 3, "b": 4}
    args = args_of(g, {"cmd": "cmd/add", "q": q})
    assert isinstance(args, Bag)
    assert args.as_dict() is q
    assert args.a == 3  # JSON types are kept
    msg = {"cmd": "cmd/add", "a": "3", "b": "4", "tid": 1}
    top = args_of(g, msg)
    assert top.as_dict() is msg
    assert (top.a, top.b) == ("3", "4")
    # q == '' reads the top level even when a "q" key is present
    flat = args_of(group("cmd", {}, q=""), {"cmd": "cmd/add", "q": {"a": 1}, "a": 2})
    assert flat.a == 2


def test_args_q_as_json_text_and_odd_values() -> None:
    g = group("cmd", {})
    assert args_of(g, {"q": '{"a": 1, "n": {"b": 2}}'}).as_dict() == {"a": 1, "n": {"b": 2}}
    assert args_of(g, {"q": "not json"}).as_dict() == {}
    assert args_of(g, {"q": [1, 2]}).as_dict() == {}
    assert args_of(g, {"q": None}).as_dict() == {}
    assert args_of(g, {"q": "[1, 2]"}).as_dict() == {}


# --- reply / error_reply / ack ----------------------------------------------------------------


def test_reply_wraps_result_with_tid_and_t() -> None:
    g = group("cmd", {})
    before = time.time()
    out = reply(g, {"result": 7}, {"cmd": "cmd/add", "tid": "abc"})
    assert list(out) == ["r", "tid", "t"]
    assert out["r"] == {"result": 7} and out["tid"] == "abc"
    assert before <= out["t"] <= time.time()
    out = reply(g, {"result": 7}, {"cmd": "cmd/add"})
    assert list(out) == ["r", "t"]
    # non-dict results can be wrapped
    assert reply(g, "hello", {})["r"] == "hello"
    assert reply(g, [1, 2], {})["r"] == [1, 2]
    assert reply(g, None, {})["r"] is None


def test_reply_bag_result_becomes_a_plain_dict() -> None:
    out = reply(group("cmd", {}), Bag({"a": {"b": 1}}), {})
    assert type(out["r"]) is dict
    assert json.loads(json.dumps(out))["r"] == {"a": {"b": 1}}


@pytest.mark.parametrize("tid", ["abc", 1, 0, "", 2.5, {"k": [1]}, [1, "x"], True])
def test_reply_echoes_any_tid_as_is(tid: Any) -> None:
    assert reply(group("cmd", {}), {}, {"tid": tid})["tid"] == tid
    assert error_reply("nope", {"tid": tid})["tid"] == tid


def test_reply_rep_empty_merges_into_top_level_without_mutating() -> None:
    """Weakness 13: the original added tid/t to the handler's own dict (a shared dict then
    leaked one caller's tid and a frozen t to the next)."""
    g = group("cmd", {}, rep="")
    shared = {"value": 1}
    first = reply(g, shared, {"tid": "first"})
    assert first["value"] == 1 and first["tid"] == "first" and "t" in first
    assert shared == {"value": 1}
    second = reply(g, shared, {})
    assert "tid" not in second
    assert shared == {"value": 1}
    assert first is not shared and second is not shared


def test_reply_rep_empty_keeps_an_existing_t_and_handles_none() -> None:
    g = group("cmd", {}, rep="")
    assert reply(g, {"t": 5}, {})["t"] == 5
    out = reply(g, None, {"tid": 3})
    assert set(out) == {"tid", "t"}
    with pytest.raises(TypeError):
        reply(g, ["not", "a", "dict"], {})


def test_error_reply() -> None:
    assert error_reply("Unknown command", {"cmd": "x", "tid": "t1"}) == {
        "error": "Unknown command",
        "tid": "t1",
    }
    assert error_reply("Unknown command", {"cmd": "x"}) == {"error": "Unknown command"}
    assert error_reply("Malformed JSON", None) == {"error": "Malformed JSON"}


def test_ack_shape() -> None:
    out = ack(group("cmd", {}), "u1", "Event added", {"evt": "e", "tid": 9})
    assert list(out) == ["r", "tid", "t"]
    assert out["r"] == {"uid": "u1", "status": "Event added"}
    assert out["tid"] == 9
    flat = ack(group("cmd", {}, rep=""), "u1", "Event added", {"evt": "e"})
    assert flat["uid"] == "u1" and flat["status"] == "Event added"


# --- Bag --------------------------------------------------------------------------------------


def test_bag_attribute_and_item_access() -> None:
    d: dict[str, Any] = {"a": 1, "b": "two"}
    b = Bag(d)
    assert b.a == b["a"] == 1
    assert b.b == "two"
    b.c = 3
    b["d"] = 4
    assert d == {"a": 1, "b": "two", "c": 3, "d": 4}
    assert "c" in b and "zz" not in b
    assert len(b) == 4
    assert list(b) == ["a", "b", "c", "d"]
    del b.c
    assert "c" not in d
    assert Bag(x=1).as_dict() == {"x": 1}
    assert Bag() == {}
    assert Bag({"a": 1}) == Bag({"a": 1}) == {"a": 1}


def test_bag_nested_bags_share_storage() -> None:
    d: dict[str, Any] = {"user": {"name": "ann", "tags": {"x": 1}}}
    b = Bag(d)
    user = b.user
    assert isinstance(user, Bag)
    assert user.name == "ann"
    assert b.user.tags.x == 1
    b.user.name = "bob"
    b.user.tags.y = 2
    assert d["user"] == {"name": "bob", "tags": {"x": 1, "y": 2}}
    # assigning a Bag stores its dict, not a wrapper
    b.other = Bag({"k": 1})
    assert type(d["other"]) is dict
    # a Bag of a Bag shares too
    assert Bag(b).as_dict() is d


def test_bag_as_dict_is_the_same_object() -> None:
    d = {"a": 1}
    b = Bag(d)
    assert b.as_dict() is d
    b.as_dict()["z"] = 26
    assert b.z == 26


def test_bag_missing_keys() -> None:
    b = Bag({"a": 1})
    missing = b.nothing
    assert isinstance(missing, Missing)
    assert not missing
    assert operator.eq(missing, "x") is False and operator.ne(missing, "x") is True
    assert operator.eq(missing, None) is False  # it equals nothing, not even None
    assert b.nothing.deeper.still is not None and not b.nothing.deeper.still
    with pytest.raises(ValueError, match="No such key : nothing"):
        str(missing)
    with pytest.raises(ValueError):
        f"{missing}"
    with pytest.raises(TypeError):
        int(missing)
    with pytest.raises(TypeError):
        float(b.nothing)
    assert list(missing) == [] and len(missing) == 0
    assert b.as_dict() == {"a": 1}  # reading never creates keys


def test_bag_assignment_through_missing_creates_the_path() -> None:
    d: dict[str, Any] = {}
    b = Bag(d)
    b.a.b.c = 1
    assert d == {"a": {"b": {"c": 1}}}
    b.a.x = 2
    assert d == {"a": {"b": {"c": 1}, "x": 2}}
    b.m["n"] = 3
    assert d["m"] == {"n": 3}


def test_bag_get_and_exists_with_dotted_paths() -> None:
    b = Bag({"a": {"b": {"c": 5}}, "x": 0, "dotted.key": "lit"})
    assert b.get("a.b.c") == 5
    assert isinstance(b.get("a.b"), Bag) and b.get("a.b").c == 5
    assert b.get("a.z", "dflt") == "dflt"
    assert b.get("x.y", "dflt") == "dflt"
    assert b.get("nothing") is None
    assert b.get("x") == 0
    assert b.get("dotted.key") == "lit"
    assert b.exists("a.b.c") and b.exists("a") and b.exists("x")
    assert not b.exists("a.b.z") and not b.exists("q")


def test_bag_to_json_and_str() -> None:
    b = Bag({"a": 1, "n": {"s": "é"}, "l": [1, None]})
    assert json.loads(b.toJson()) == {"a": 1, "n": {"s": "é"}, "l": [1, None]}
    assert json.loads(str(b)) == {"a": 1, "n": {"s": "é"}, "l": [1, None]}
    assert json.loads(str(b.n)) == {"s": "é"}


# --- HTTP parameters (in the app, against a server) -------------------------------------------


def test_http_get_and_post_parameters_merge_body_wins(app: WebShoesApp, http: httpx.Client) -> None:
    def echo(ctx: Any, q: Any) -> Any:
        return q.as_dict()

    app.register("cmd", "cmd", "q", "evt", "r", {"echo": echo})
    r = http.post(f"{app.url}/cmd/echo?a=query&c=3&c=4", data={"a": "body", "b": "2"})
    assert r.json() == {"a": "body", "b": "2", "c": "3"}  # body wins; repeated key: first value
    assert http.get(f"{app.url}/cmd/echo?a=1&b=x%20y").json() == {"a": "1", "b": "x y"}  # strings


def test_ws_args_and_tid_over_the_wire(app: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    def echo(ctx: Any, q: Any) -> Any:
        return {"args": q.as_dict(), "p": ctx.p}

    app.register("cmd", "cmd", "q", "evt", "r", {"echo": echo})
    c = ws_connect(app)
    out = c.call({"cmd": "cmd/echo", "q": {"n": 1, "f": 1.5, "l": [1], "d": {"x": None}}, "tid": "t-1"})
    assert out["r"] == {"args": {"n": 1, "f": 1.5, "l": [1], "d": {"x": None}}, "p": "cmd/echo"}
    assert out["tid"] == "t-1"
    out = c.call({"cmd": "/cmd/echo", "n": 2, "tid": 42})
    assert out["r"]["args"] == {"cmd": "/cmd/echo", "n": 2, "tid": 42}
    assert out["r"]["p"] == "/cmd/echo"
    assert out["tid"] == 42
