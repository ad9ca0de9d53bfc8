"""pgwidgets end to end: the real pgwidgets-js in headless Chromium, driven by Playwright.

The app runs through ``pgwidgets.sync`` (its event loop in a background thread), so these tests
also cover the blocking facade. Fixture order matters: ``app`` before ``page`` so the page is
closed (and checked for console errors) before the app says goodbye.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pgwidgets")
from pgw_support import wait_until

from pgwidgets.sync import Application, Buffer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "packages" / "pgwidgets" / "examples"


def counter_ui(state: dict[str, Any]) -> Callable[[Any], None]:
    """A window with a button, an entry and a label; the button counts clicks into the label."""

    def setup(session: Any) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="Counter", resizable=True)
        top.resize(420, 240)
        box = W.VBox()
        box.set_spacing(6)
        button = W.Button("Count")
        entry = W.TextEntry("")
        label = W.Label("clicks: 0")
        clicks = {"n": 0}

        def on_click() -> None:
            clicks["n"] += 1
            label.set_text(f"clicks: {clicks['n']}")

        button.on("activated", on_click)
        with session.batch():  # one message for the three (the real page's batch handling)
            for w in (button, entry, label):
                box.add_widget(w, 0)
        top.set_widget(box)
        top.show()
        state.update(session=session, entry=entry, label=label)

    return setup


def test_click_type_and_reload(make_app: Callable[..., Application], page: Any) -> None:
    app = make_app()
    state: dict[str, Any] = {}
    app.on_connect(counter_ui(state))
    app.start()
    page.goto(app.url)
    page.get_by_text("Count", exact=True).click()
    page.get_by_text("clicks: 1").wait_for()  # the Python handler ran and updated the label

    page.locator("input").first.fill("typed in Chromium")
    wait_until(lambda: state["entry"].get_text() == "typed in Chromium", "the entry's text in Python")
    assert "token" not in page.url  # the credentials stay out of the address bar
    stored = "sessionStorage.getItem('pgwidgets_session_token')"
    token = page.evaluate(stored)
    assert token and token != state["session"].token  # the tab's own token, not the link's

    page.reload()
    page.get_by_text("clicks: 1").wait_for()  # same tree, same state
    assert page.locator("input").first.input_value() == "typed in Chromium"
    page.get_by_text("Count", exact=True).click()  # callbacks survive the rebuild
    page.get_by_text("clicks: 2").wait_for()
    assert len(app.sessions) == 1
    assert page.evaluate(stored) not in (token, None)  # renewed on every connection


def test_pipelined_widgets_of_every_class_take_their_own_ids(
    make_app: Callable[..., Application], page: Any
) -> None:
    """After the first widget of a class, creates are queued without a round trip each; the ids
    reserved for the JS constructors' own objects must hold for every class, or the page
    relocates ("displaces") objects and warns."""
    from pgwidgets import defs

    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    not_alone = {"MDISubWindow", "Box", "AbstractScrollArea", "Page", "TextBufferRef"}  # need a parent
    made: dict[str, list[Any]] = {}

    def setup(session: Any) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="Every class")
        box = W.VBox()
        for cls in defs.WIDGETS:
            if cls not in not_alone:
                made[cls] = [getattr(W, cls)() for _ in range(3)]
        labels = [W.Label(f"pipelined {i}") for i in range(40)]
        for label in labels:
            box.add_widget(label, 0)
        top.set_widget(box)
        top.show()

    app = make_app()
    app.on_connect(setup)
    app.start()
    page.goto(app.url)
    page.get_by_text("pipelined 39", exact=True).wait_for()
    widgets = [w for ws in made.values() for w in ws]
    assert len(widgets) == 3 * (len(defs.WIDGETS) - len(not_alone))
    assert all(w.alive for w in widgets)
    assert len({w.wid for w in widgets}) == len(widgets)
    assert not [w for w in warnings if "displaced" in w]


def test_the_page_reconnects_after_a_dropped_connection(
    make_app: Callable[..., Application], page: Any
) -> None:
    app = make_app()
    state: dict[str, Any] = {}
    app.on_connect(counter_ui(state))
    app.start()
    page.goto(app.url)
    page.get_by_text("Count", exact=True).click()
    page.get_by_text("clicks: 1").wait_for()
    session = state["session"].async_session
    [conn] = session.connections
    app._run(conn.close(1001, "network hiccup"))  # not a 4xxx code: the page comes back
    wait_until(lambda: bool(session.connections) and session.connections[0] is not conn, "the reconnect")
    page.get_by_text("clicks: 1").wait_for()
    page.get_by_text("Count", exact=True).click()
    page.get_by_text("clicks: 2").wait_for()
    assert len(app.sessions) == 1


def test_two_browsers_on_one_session(make_app: Callable[..., Application], browser: Any, page: Any) -> None:
    app = make_app()
    state: dict[str, Any] = {}
    app.on_connect(counter_ui(state))
    app.start()
    page.goto(app.url)
    page.get_by_text("clicks: 0").wait_for()
    other_context = browser.new_context()
    try:
        other = other_context.new_page()
        other.goto(state["session"].get_url())
        other.get_by_text("clicks: 0").wait_for()

        page.locator("input").first.fill("from the first")
        wait_until(
            lambda: other.locator("input").first.input_value() == "from the first", "the second's entry"
        )
        other.get_by_text("Count", exact=True).click()
        page.get_by_text("clicks: 1").wait_for()
        other.get_by_text("clicks: 1").wait_for()
        assert len(app.sessions) == 1
    finally:
        other_context.close()


def test_max_sessions_holds_the_second_browser(
    make_app: Callable[..., Application], browser: Any, page: Any
) -> None:
    app = make_app(max_sessions=1)
    app.on_connect(counter_ui({}))
    app.start()
    first_context = browser.new_context()
    first = first_context.new_page()
    first.goto(app.url)
    first.get_by_text("clicks: 0").wait_for()

    page.goto(app.url)
    wait_until(lambda: app.waiting == 1, "the second browser to be held")
    assert len(app.sessions) == 1 and page.get_by_text("clicks: 0").count() == 0
    first_context.close()
    page.get_by_text("clicks: 0").wait_for()  # admitted once the first left
    assert len(app.sessions) == 2


def test_widget_state_from_the_browser_survives_a_reload(
    make_app: Callable[..., Application], page: Any
) -> None:
    """The auto-sync rules against the real widgets: check box, tabs, combo box."""
    app = make_app()
    state: dict[str, Any] = {}

    @app.on_connect
    def setup(session: Any) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="State")
        box = W.VBox()
        agree = W.CheckBox("Agree")
        tabs = W.TabWidget()
        tabs.add_widget(W.Label("first page"), {"title": "One"})
        tabs.add_widget(W.Label("second page"), {"title": "Two"})
        combo = W.ComboBox()
        for fruit in ("apple", "banana", "cherry"):
            combo.append_text(fruit)
        combo.set_index(0)
        for w in (agree, combo, tabs):
            box.add_widget(w, 0)
        top.set_widget(box)
        top.show()
        state.update(agree=agree, tabs=tabs, combo=combo)

    app.start()
    page.goto(app.url)
    page.locator(".checkbox-widget input").click()
    page.get_by_text("Two", exact=True).click()
    page.locator(".combobox-button").dispatch_event("mousedown")
    page.locator(".combobox-item", has_text="banana").dispatch_event("mousedown")
    wait_until(lambda: state["agree"].get_state() is True, "the check box state")
    wait_until(lambda: state["tabs"].get_index() == 1, "the tab index")
    wait_until(lambda: state["combo"].get_index() == 1, "the combo index")

    page.reload()
    page.get_by_text("second page").wait_for()  # the tab the user chose
    assert page.locator(".checkbox-widget input").is_checked()
    assert page.locator(".combobox-input").input_value() == "banana"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not DEJAVU.is_file(), reason="needs fonts-dejavu-core")
def test_fonts_reach_the_page(make_app: Callable[..., Application], page: Any) -> None:
    app = make_app()
    app.register_font("Test Sans", DEJAVU)
    app.set_default_font("Test Sans", size=15)
    app.on_connect(counter_ui({}))
    app.start()
    page.goto(app.url)
    page.get_by_text("clicks: 0").wait_for()
    page.wait_for_function(
        "() => [...document.fonts].some(f => f.family.includes('Test Sans') && f.status === 'loaded')"
    )
    family = page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--pg-default-font-family')"
    )
    assert "Test Sans" in family


def _png(width: int, height: int, pixels: bytes) -> bytes:
    """An RGB PNG of ``pixels`` (``width * height * 3`` bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + pixels[y * width * 3 : (y + 1) * width * 3] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b"")


def test_chunked_images_and_typed_buffers_render(make_app: Callable[..., Application], page: Any) -> None:
    big = _png(640, 640, os.urandom(640 * 640 * 3))  # noise does not compress: about 1.2 MB, chunked
    small = _png(7, 5, bytes(range(105)))
    assert len(big) > 1024 * 1024
    app = make_app()

    def setup(session: Any) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="Images")
        box = W.VBox()
        first, second = W.Image(), W.Image()
        first.set_binary_image(big, "png")  # 3 chunks of 512 KiB
        second.set_binary_image(Buffer(small, dtype="uint8"), "png")  # arrives as a Uint8Array
        box.add_widget(first, 0)
        box.add_widget(second, 0)
        top.set_widget(box)
        top.show()

    app.on_connect(setup)
    app.start()
    shown = "() => [...document.images].map(i => i.naturalWidth).filter(w => w === 640 || w === 7).length === 2"
    page.goto(app.url)
    page.wait_for_function(shown)
    page.reload()  # the rebuild sends both again
    page.wait_for_function(shown)


def test_batched_colours_reach_the_table(make_app: Callable[..., Application], page: Any) -> None:
    app = make_app()

    def setup(session: Any) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="Colours")
        tree = W.TreeView(columns=[{"label": "Name", "key": "name"}, {"label": "Colour", "key": "colour"}])
        tree.set_tree(
            {"fruit": {"apple": {"name": "apple", "colour": "red"}}, "veg": {"leek": {"name": "leek", "colour": "green"}}}
        )
        with session.batch():  # folded into one set_colors
            tree.set_cell_color(["fruit", "apple"], "name", None, "rgb(255, 0, 0)")
            tree.set_cell_color(["fruit", "apple"], "colour", None, "rgb(0, 0, 255)")
            tree.set_row_color(["veg", "leek"], "rgb(0, 128, 0)")
        top.set_widget(tree)
        top.show()

    app.on_connect(setup)
    app.start()
    page.goto(app.url)
    page.wait_for_function(
        """() => {
            const all = [...document.querySelectorAll('*')];
            const bg = c => all.some(e => e.style.backgroundColor === c);
            return bg('rgb(255, 0, 0)') && bg('rgb(0, 0, 255)') && all.some(e => e.style.color === 'rgb(0, 128, 0)');
        }"""
    )


def test_a_file_picked_in_the_browser_arrives_as_bytes(make_app: Callable[..., Application], page: Any) -> None:
    content = os.urandom(1300 * 1024)  # three 512 KiB chunks from the page
    got: dict[str, Any] = {"progress": []}
    done = threading.Event()
    app = make_app()

    def setup(session: Any) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="Files")
        button = W.Button("Pick a file")
        dialog = W.FileDialog(mode="file")

        def picked(payload: Any) -> None:
            got["files"] = payload["files"]
            done.set()

        dialog.on("progress", lambda p: got["progress"].append(p["transferred_bytes"]))
        dialog.on("activated", picked)
        button.on("activated", lambda: dialog.open())  # within the click's user activation
        top.set_widget(button)
        top.show()

    app.on_connect(setup)
    app.start()
    page.goto(app.url)
    with page.expect_file_chooser() as chooser:
        page.get_by_text("Pick a file", exact=True).click()
    chooser.value.set_files([{"name": "noise.bin", "mimeType": "application/octet-stream", "buffer": content}])
    assert done.wait(20), "the upload never arrived"
    (file,) = got["files"]
    assert (file["name"], file["size"], file["data"]) == ("noise.bin", len(content), content)
    assert got["progress"][-1] == len(content) and len(got["progress"]) == 3


def _load_example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"pgwidgets_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "expect", "widgets"),
    [("seed_example", "Hello", 1), ("demo", "Widget demo", 20), ("todo", "Write the report", 8)],
)
def test_examples_build_in_chromium(
    make_app: Callable[..., Application], page: Any, name: str, expect: str, widgets: int
) -> None:
    module = _load_example(name)
    app = make_app()
    app.on_connect(module.setup)
    app.start()
    page.goto(app.url)
    page.get_by_text(expect).first.wait_for()
    session = next(iter(app.sessions.values()))
    wait_until(lambda: len(list(session.walk_widget_tree())) >= widgets, "the example's widgets")


# TextSource: what the user sees survives a page reload ----------------------------------------

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
