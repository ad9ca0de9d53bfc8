"""TextSource: the Python-side model (text, tags, refs, cursor) and its replay."""

from __future__ import annotations

import asyncio
from typing import Any

from pgwidgets.async_ import Application
from pgwidgets.async_.textsource import TextModel, from_units, to_units

from .conftest import FakeBrowser, FakeWidget
from .test_app import trace


def answer(texts: dict[int, str]) -> Any:
    """What the page answers: TextSource refs are minted with the browser's own ids; get_text
    returns the text the "user" typed."""

    def reply(b: FakeBrowser, w: FakeWidget, msg: dict[str, Any]) -> Any:
        if w.cls != "TextSource":
            return None
        if msg["method"] in ("create_ref", "create_named_ref"):
            wid = b.next_id
            b.next_id += 1
            b.widgets[wid] = FakeWidget("TextBufferRef", [])
            return {"__wid__": wid, "__class__": "TextBufferRef"}
        if msg["method"] == "get_text":
            return texts.get(msg["wid"])
        return None

    return reply


async def test_textsource_state_is_replayed_with_the_restore_calls(
    make_app: Any, browser_factory: Any
) -> None:
    app: Application = await make_app()
    b = await browser_factory(app)
    texts: dict[int, str] = {}
    b.answer = answer(texts)
    session = app.sessions[b.session_id]
    W = session.get_widgets()
    ts = await W.TextSource("hello world")
    await ts.create_tag("b", {"bold": True})
    start = await ts.create_ref(0)
    end = await ts.create_ref(5, "left")
    await ts.apply_tag("b", start, end)  # "hello"
    await ts.insert_text(start, ">> ")  # the text changes after the tag: it moves to [3, 8)
    mark = await ts.create_named_ref("mark", 9, "left")  # before "world"
    assert ts.get_text() == ">> hello world"
    assert ts.get_tag_intervals() == [{"name": "b", "start": 3, "end": 8}]

    texts[ts.wid] = ">> hello! world"  # the user typed "!" after "hello"; the page says "changed"
    await b.fire(ts.wid, "changed")
    for _ in range(250):  # the model is updated when the page's answer to get_text is in
        if ts.get_text() == ">> hello! world":
            break
        await asyncio.sleep(0.02)
    assert ts.get_text() == ">> hello! world"
    assert b.last_call(ts.wid, "get_text") == []
    assert ts.get_named_ref_offsets() == {"mark": 10}
    assert ts.get_cursor_offset() == 9
    await ts.set_selection_range(end, start)  # backwards: 8 -> 3
    assert ts.get_selection_offsets() == (8, 3)
    await b.close()

    again = await browser_factory(app, session_id=b.session_id, token=b.token)
    await again.wait_for(lambda: "reconstruct-end" in trace(again.log), "the rebuild")
    replay = trace(again.log)
    first = replay.index(f"create {ts.wid} TextSource ['hello world']")
    assert replay[first : first + 10] == [
        f"create {ts.wid} TextSource ['hello world']",
        f"call {ts.wid} set_text ['>> hello! world']",
        f"call {ts.wid} create_tag ['b', {{'bold': True}}]",
        f"call {ts.wid} _restoreTagIntervals [[{{'name': 'b', 'start': 3, 'end': 8}}]]",
        f"create {start.wid} TextBufferRef [{ts.wid}, 3, 'right']",  # the same ids: proxies stay valid
        f"create {end.wid} TextBufferRef [{ts.wid}, 8, 'left']",
        f"create {mark.wid} TextBufferRef [{ts.wid}, 10, 'left']",
        f"call {ts.wid} _bindNamedRef ['mark', {mark.wid}]",
        f"call {ts.wid} _setSelectionOffsets [8, 3]",
        f"listen {ts.wid} changed",
    ]
    assert not again.misplaced


async def test_set_text_and_clear_drop_tags_and_refs(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    b = await browser_factory(app)
    b.answer = answer({})
    W = app.sessions[b.session_id].get_widgets()
    ts = await W.TextSource()
    await ts.set_text("abc")
    await ts.create_tag("t", {})
    r = await ts.create_named_ref("n", 1)
    await ts.apply_tag("t", r, await ts.create_ref(3))
    await ts.set_cursor(r)
    await ts.set_text("xyz")  # destructive, as in the JS
    assert ts.get_tag_intervals() == [] and ts.get_named_ref_offsets() == {}
    assert ts.get_cursor_offset() == 0
    await ts.clear()
    assert ts.get_text() == ""
    msgs = [m for m in app.sessions[b.session_id].replay_messages() if m.get("wid") == ts.wid]
    assert [m.get("method") or m.get("action") or m["type"] for m in msgs] == [
        "create",
        "create_tag",
        "changed",
    ]


def test_model_follows_the_js_rules() -> None:
    m = TextModel("0123456789")
    m.tag_defs["t"] = {}
    m.track("left", 5, "left")
    m.track("right", 5, "right")
    m.apply_tag("t", 2, 5)
    m.replace_range(5, 5, "ab")  # at the refs and the tag's end
    assert m.offset("left") == 5 and m.offset("right") == 7
    assert m.tags == [["t", 2, 5]]  # an insert at the end does not extend the tag
    m.replace_range(1, 3, "")  # overlaps the tag's start
    assert m.tags == [["t", 1, 3]] and m.offset("left") == 3 and m.cursor == 1
    m.replace_range(0, 0, "x", tags=["t"])
    assert m.tags == [["t", 2, 4], ["t", 0, 1]]
    m.remove_tag("t", 3, 10)
    assert m.tags == [["t", 2, 3], ["t", 0, 1]]
    m.reconcile("x0" + m.units[2:] + "!")
    assert m.text.endswith("!") and m.cursor == len(m.units)
    assert m.find_all("ab", {}, 0, first=False) == [(m.units.index("ab"), m.units.index("ab") + 2)]


def test_offsets_are_utf16_code_units() -> None:
    s = "a\U0001f600b"
    assert len(to_units(s)) == 4 and from_units(to_units(s)) == s
    m = TextModel(s)
    m.track("r", 3)
    m.replace_range(0, 0, to_units("\U0001f600"))
    assert m.offset("r") == 5 and m.text == "\U0001f600" + s
