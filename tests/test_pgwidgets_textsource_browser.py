"""pgwidgets TextSource end to end: what the user sees survives a page reload (real pgwidgets-js
in headless Chromium, driven by Playwright; the app through ``pgwidgets.sync``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("pgwidgets")
from pgwidgets.sync import Application

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

# the page's state of the TextSource with id ``wid`` (tag ``seq`` numbers left out: they restart)
STATE_JS = """async (wid) => {
    const {Callback} = await import('/modules/Callback.js');
    const w = Callback._registry.get(wid);
    if (!w) return null;
    const bold = [...w._edit.querySelectorAll('span')]
        .filter(s => s.style.fontWeight === 'bold').map(s => s.textContent).join('');
    return {
        text: w.get_text(),
        tags: w._tags.map(t => [t.name, t.start, t.end]),
        defs: [...w._tagDefs.keys()],
        cursor: w._cursor,
        selection: [w._selStart, w._selEnd],
        named: [...w._namedRefs].map(([n, r]) => [n, r.get_offset(), r.get_gravity(), r.wid]),
        bold,
    };
}"""

# an edit as the page makes it when the user types (the model's insert, which fires "changed";
# real key presses cannot be used: pgwidgets-js 0.4's beforeinput handler passes offsets where
# it needs refs and throws)
TYPE_JS = """async ([wid, offset, text]) => {
    const {Callback} = await import('/modules/Callback.js');
    const w = Callback._registry.get(wid);
    w.insert_text(w.create_ref(offset, 'left'), text);
}"""


@pytest.fixture
def make_app() -> Iterator[Callable[..., Application]]:
    apps: list[Application] = []

    def factory(**kwargs: Any) -> Application:
        app = Application(ws_port=0, http_port=0, **kwargs)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


def wait_until(cond: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    ev = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if cond():
            return
        ev.wait(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_textsource_survives_a_reload(make_app: Callable[..., Application], page: Any) -> None:
    app = make_app()
    state: dict[str, Any] = {}

    def setup(session: Any) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="Editor", resizable=True)
        top.resize(500, 300)
        ts = W.TextSource("to be replaced")
        top.set_widget(ts)
        top.show()
        ts.clear()
        ts.set_text("hello world\nsecond line")
        ts.create_tag("strong", {"bold": True})
        ts.create_tag("unused", {"italic": True})
        start = ts.create_ref(0)
        end = ts.create_ref(5, "left")
        ts.apply_tag("strong", start, end)  # "hello"
        ts.insert_text(start, ">> ")  # the text changes after the tag was applied
        ts.delete_range(ts.create_ref(15), ts.create_ref(16))  # "second" -> "econd"
        assert ts.replace("econd", "2nd", {"all": True}) == 1
        mark = ts.create_named_ref("mark", 9, "left")  # before "world"
        state.update(session=session, ts=ts, start=start, end=end, mark=mark)

    app.on_connect(setup)
    app.start()
    page.goto(app.url)
    wait_until(lambda: "mark" in state, "the editor built")
    ts = state["ts"]
    page.get_by_text("2nd line").wait_for()

    page.evaluate(TYPE_JS, [ts.wid, 8, ", dear"])  # the user types after "hello"
    wait_until(lambda: ts.get_text() == ">> hello, dear world\n2nd line", "the typed text in Python")
    # "2nd" (the page takes its selection back from the DOM, and maps offsets into the first
    # text node of a line only: a selection after a styled run would collapse there)
    ts.set_selection_range(ts.create_ref(21), ts.create_ref(24))

    before = page.evaluate(STATE_JS, ts.wid)
    assert before == {
        "text": ">> hello, dear world\n2nd line",
        "tags": [["strong", 3, 8]],
        "defs": ["strong", "unused"],
        "cursor": 24,
        "selection": [21, 24],
        "named": [["mark", 15, "left", state["mark"].wid]],
        "bold": "hello",
    }
    assert ts.get_tag_intervals() == [{"name": "strong", "start": 3, "end": 8}]
    assert ts.get_named_ref_offsets() == {"mark": 15}

    page.reload()
    page.get_by_text("2nd line").wait_for()
    wait_until(lambda: page.evaluate(STATE_JS, ts.wid) is not None, "the editor rebuilt")
    assert page.evaluate(STATE_JS, ts.wid) == before  # same text, tags, cursor, selection, named ref
    assert ts.get_text() == before["text"]
    assert ts.get_cursor_offset() == 24 and ts.get_selection_offsets() == (21, 24)

    # the Python proxies of the refs still name live refs in the rebuilt page
    assert ts.get_named_ref("mark") == state["mark"]
    ts.insert_text(state["mark"], "big ")
    after = page.evaluate(STATE_JS, ts.wid)
    assert after["text"] == ">> hello, dear big world\n2nd line"
    assert after["named"] == [["mark", 15, "left", state["mark"].wid]]  # left gravity: stays put
    assert ts.get_text() == after["text"]
    assert len(app.sessions) == 1
