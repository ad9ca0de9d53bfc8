"""pywebio end to end in headless Chromium: real apps on a real tornado server, driven like a user would.

Every page fails its test on a console error (the ``page`` fixture of conftest.py).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pywebio.input import NUMBER, file_upload, input, input_group
from pywebio.output import (
    close_popup,
    popup,
    put_button,
    put_buttons,
    put_code,
    put_collapse,
    put_column,
    put_error,
    put_file,
    put_grid,
    put_html,
    put_image,
    put_info,
    put_link,
    put_loading,
    put_markdown,
    put_processbar,
    put_row,
    put_scope,
    put_scrollable,
    put_success,
    put_table,
    put_tabs,
    put_text,
    put_warning,
    put_widget,
    remove,
    scroll_to,
    set_processbar,
    span,
    toast,
    use_scope,
)
from pywebio.pin import pin, pin_on_change, pin_wait_change, put_input, put_select
from pywebio.platform.tornado import ServerThread
from pywebio.session import run_async

pytestmark = pytest.mark.browser

DEMOS = Path(__file__).resolve().parents[1] / "packages" / "pywebio" / "demos"
WAIT = 5000  # ms, for anything that should be (nearly) immediate
RECONNECT_WAIT = 12000  # ms: the front end retries at most once per 5 s


def load_demo(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"pywebio_demo_{name}", DEMOS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


demos = {name: load_demo(name) for name in ("bmi", "chat", "tictactoe", "markdown_previewer")}


# ---------------------------------------------------------------------------------------------- apps


def inputs_app() -> None:
    name = input("Your name", validate=lambda v: "At least 2 characters" if len(v) < 2 else None)
    info = input_group("Details", [input("Age", name="age", type=NUMBER), input("City", name="city")])
    put_text(f"Hello {name}, {info['age']} from {info['city']}")


def callbacks_app() -> None:
    put_markdown("## Callbacks")
    count = [0]
    put_scope("counter", [put_text("count 0")])

    def add() -> None:
        count[0] += 1
        with use_scope("counter", clear=True):
            put_text(f"count {count[0]}")

    def show_popup() -> None:
        popup("Dialog", [put_text("popup body"), put_button("Close it", onclick=close_popup)])

    put_buttons(["Add", "Popup", "Toast"], onclick=[add, show_popup, lambda: toast("Toasted!", duration=0)])
    put_scope("extra", [put_text("to be removed")])
    put_button("Remove", onclick=lambda: remove("extra"))


def pins_app() -> None:
    put_input("word", label="Word")
    put_select("color", ["red", "green"], label="Color")
    put_scope("colors")
    pin_on_change("color", onchange=lambda v: put_text(f"color is {v}", scope="colors"))
    while True:
        change = pin_wait_change("word")
        with use_scope("echo", clear=True):
            put_text(f"word is {change['value']}")
        if change["value"] == "stop":
            break
    pin.word = "done"
    put_text(f"final {pin.word} {pin.color}")


def files_app() -> None:
    f = file_upload("Upload a text file", accept=".txt")
    put_text(f"{f['filename']}: {f['content'].decode()}")
    put_file("reversed.txt", f["content"][::-1], label="Download reversed")


async def coroutine_app() -> None:
    put_text("coroutine started")

    async def ticker() -> None:
        for i in range(3):
            await asyncio.sleep(0.05)
            put_text(f"tick {i}")

    run_async(ticker())
    name = await input("Name?")
    put_text(f"hi {name} from a coroutine")


def kitchen_sink_app() -> None:
    """Nearly every output function at once, as real programs mix them."""
    put_markdown("# Kitchen sink\n\nA *markdown* paragraph with `code` and a [link](https://example.com).")
    put_text("plain <b>text</b>")
    put_html("<p id='raw-html'>raw <b>html</b></p>")
    put_code("print('hi')", language="python")
    put_table(
        [
            ["Name", "Action"],
            ["Ada", put_button("Greet", onclick=lambda: toast("Hi Ada"))],
            [span("both", col=2)],
        ]
    )
    put_row([put_text("left cell"), None, put_text("right cell")], size="1fr 10px 1fr")
    put_column([put_text("top cell"), put_text("bottom cell")])
    put_grid([[put_text("g1"), put_text("g2")], [span(put_text("g3"), col=2)]], cell_width="120px")
    put_info("an info box", closable=True)
    put_success("a success box")
    put_warning("a warning box")
    put_error("an error box")
    put_collapse("Open me", [put_text("collapsed content")])
    put_tabs(
        [{"title": "Tab A", "content": "content A"}, {"title": "Tab B", "content": put_text("content B")}]
    )
    put_scrollable([put_text(f"line {i}") for i in range(30)], height=100, keep_bottom=True)
    put_widget("<p class='tpl'>{{title}}: {{#items}}{{& pywebio_output_parse}}{{/items}}</p>",
               {"title": "widget", "items": [put_text("w1", inline=True), " & w2"]})  # fmt: skip
    put_image(b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>", title="an svg")
    put_link("Go to the inputs app", app="inputs")
    with put_loading():
        put_processbar("job", label="working")
        for i in range(1, 5):
            set_processbar("job", i / 4, label=f"{i}/4")
    with use_scope("late", clear=True):
        put_text("inside a scope").style("color: rgb(200, 0, 0)")
    scroll_to("late")
    put_text("the end")


def reconnect_app() -> None:
    put_text("before the drop")
    word = input("Word")
    put_text(f"kept the session: {word}")


APPS: dict[str, Callable[..., Any]] = {
    "inputs": inputs_app,
    "callbacks": callbacks_app,
    "pins": pins_app,
    "files": files_app,
    "coroutine": coroutine_app,
    "reconnect": reconnect_app,
    "kitchen": kitchen_sink_app,
    **{name: module.main for name, module in demos.items()},
}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(APPS, "127.0.0.1", 0, reconnect_timeout=30) as srv:
        yield srv


def open_app(page: Any, server: ServerThread, app: str) -> Any:
    page.set_default_timeout(WAIT)
    page.goto(f"{server.url}?app={app}")
    return page


def expect_text(page: Any, text: str, timeout: int = WAIT) -> None:
    try:
        page.get_by_text(text, exact=True).first.wait_for(timeout=timeout)
    except Exception as exc:
        shown = page.evaluate("document.body.innerText")
        raise AssertionError(f"{text!r} not shown within {timeout} ms; the page shows:\n{shown}") from exc


# ---------------------------------------------------------------------------------------------- tests


def test_inputs_validation_and_submit(page: Any, server: ServerThread) -> None:
    open_app(page, server, "inputs")
    page.get_by_role("heading", name="Your name").wait_for()
    box = page.get_by_role("textbox", name="Your name")  # the card title labels a single input()
    assert box.get_attribute("name") == "data"
    box.fill("A")
    page.get_by_role("button", name="Submit").click()
    expect_text(page, "At least 2 characters")
    box.fill("Ada")
    page.get_by_role("button", name="Submit").click()
    page.get_by_label("Age").fill("36")
    page.get_by_label("City").fill("London")
    page.get_by_label("City").press("Enter")
    expect_text(page, "Hello Ada, 36 from London")
    assert page.locator("form").count() == 0


def test_callbacks_after_main_returned_scopes_popup_toast(page: Any, server: ServerThread) -> None:
    open_app(page, server, "callbacks")
    page.get_by_role("heading", name="Callbacks").wait_for()
    for n in (1, 2):
        page.get_by_role("button", name="Add").click()
        expect_text(page, f"count {n}")
    assert page.locator("#pywebio-scope-counter").inner_text() == "count 2"
    page.get_by_role("button", name="Popup").click()
    dialog = page.get_by_role("dialog", name="Dialog")
    dialog.get_by_text("popup body").wait_for()
    dialog.get_by_role("button", name="Close it").click()
    dialog.wait_for(state="detached")
    page.get_by_role("button", name="Toast").click()
    expect_text(page, "Toasted!")
    page.get_by_role("button", name="Remove").click()
    page.get_by_text("to be removed").wait_for(state="detached")


def test_pins(page: Any, server: ServerThread) -> None:
    open_app(page, server, "pins")
    page.get_by_label("Color").select_option("green")
    expect_text(page, "color is green")
    page.get_by_label("Word").fill("hello")
    expect_text(page, "word is hello")
    page.get_by_label("Word").fill("stop")
    expect_text(page, "final done green")
    assert page.get_by_label("Word").input_value() == "done"


def test_file_upload_and_download(page: Any, server: ServerThread, tmp_path: Path) -> None:
    src = tmp_path / "note.txt"
    src.write_text("stressed")
    open_app(page, server, "files")
    page.locator("input[type=file][name=data]").set_input_files(str(src))
    page.get_by_role("button", name="Submit").click()
    expect_text(page, "note.txt: stressed")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download reversed").click()
    assert download.value.suggested_filename == "reversed.txt"
    assert Path(download.value.path()).read_text() == "desserts"


def test_coroutine_app_with_run_async(page: Any, server: ServerThread) -> None:
    open_app(page, server, "coroutine")
    expect_text(page, "coroutine started")
    expect_text(page, "tick 2")
    page.locator("input[name=data]").fill("Bo")
    page.get_by_role("button", name="Submit").click()
    expect_text(page, "hi Bo from a coroutine")


def test_two_sessions_chat(browser: Any, server: ServerThread) -> None:
    problems: list[str] = []
    contexts = [browser.new_context(), browser.new_context()]
    try:
        ann, bob = (c.new_page() for c in contexts)
        for p in (ann, bob):
            p.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            p.on("pageerror", lambda e: problems.append(str(e)))
        for p, nick in ((ann, "ann"), (bob, "bob")):
            open_app(p, server, "chat")
            p.get_by_placeholder("Nickname").fill(nick)
            p.get_by_role("button", name="Submit").click()
            p.get_by_placeholder("Message").wait_for()
        ann.get_by_placeholder("Message").fill("hello bob")
        ann.get_by_role("button", name="Send").click()
        expect_text(bob, "ann: hello bob")
        bob.get_by_placeholder("Message").fill("hi ann")
        bob.get_by_placeholder("Message").press("Enter")
        expect_text(ann, "bob: hi ann")
        bob.get_by_role("button", name="Leave").click()
        expect_text(bob, "You left. Reload the page to join again.")
        ann.get_by_text("bob left.", exact=False).wait_for()
    finally:
        for c in contexts:
            c.close()
    assert not problems, problems


def test_reconnect_keeps_the_session(page: Any, server: ServerThread) -> None:
    open_app(page, server, "reconnect")
    page.get_by_role("heading", name="Word").wait_for()
    page.evaluate("WebIO._state.Session.transport.ws.close()")
    page.wait_for_function("document.body.classList.contains('webio-reconnecting')")
    page.wait_for_function("!document.body.classList.contains('webio-reconnecting')", timeout=RECONNECT_WAIT)
    page.locator("input[name=data]").fill("still here")
    page.get_by_role("button", name="Submit").click()
    expect_text(page, "kept the session: still here")


@pytest.mark.parametrize("name", sorted(demos))
def test_demo_loads_and_works(page: Any, server: ServerThread, name: str) -> None:
    open_app(page, server, name)
    if name == "bmi":
        page.get_by_label("Height (cm)").fill("180")
        page.get_by_label("Weight (kg)").fill("81")
        page.get_by_role("button", name="Submit").click()
        expect_text(page, "25.0")
        expect_text(page, "Overweight")
    elif name == "chat":
        page.get_by_role("heading", name="Chat room").wait_for()
        page.get_by_placeholder("Nickname").wait_for()
    elif name == "tictactoe":
        board = page.locator("#pywebio-scope-board")
        board.get_by_role("button").nth(0).click()
        board.get_by_role("button", name="O").wait_for()
        assert board.get_by_role("button", name="X").count() == 1
    elif name == "markdown_previewer":
        page.get_by_label("Markdown").fill("# Live title\n\n*emphasis*")
        page.locator("#pywebio-scope-preview h1", has_text="Live title").wait_for()
        assert page.locator("#pywebio-scope-preview em").inner_text() == "emphasis"


def test_kitchen_sink_renders_and_links_to_another_app(page: Any, server: ServerThread) -> None:
    open_app(page, server, "kitchen")
    expect_text(page, "the end")
    assert page.get_by_role("heading", name="Kitchen sink").is_visible()
    expect_text(page, "plain <b>text</b>")
    assert page.locator("#raw-html b").inner_text() == "html"
    assert page.locator("td[colspan='2']").inner_text() == "both"
    assert page.locator(".webio-loading").count() == 0  # removed when the with block ended
    assert page.locator("#webio-progressbar-job").inner_text() == "4/4"
    assert page.locator("p.tpl").inner_text() == "widget: w1 & w2"
    page.wait_for_function("document.querySelector('.webio-scrollable').scrollTop > 0")  # keep_bottom
    assert page.get_by_text("inside a scope").evaluate("e => getComputedStyle(e).color") == "rgb(200, 0, 0)"
    assert not page.get_by_text("collapsed content").is_visible()
    page.get_by_text("Open me").click()
    assert page.get_by_text("collapsed content").is_visible()
    page.get_by_role("tab", name="Tab B").click()
    assert page.get_by_text("content B").is_visible() and not page.get_by_text("content A").is_visible()
    page.get_by_role("button", name="Greet").click()
    expect_text(page, "Hi Ada")
    page.get_by_role("link", name="Go to the inputs app").click()
    page.get_by_role("heading", name="Your name").wait_for()
    assert "app=inputs" in page.url


def test_bmi_demo_on_the_wirecore_backend(page: Any) -> None:
    from pywebio.platform.wirecore import wirecore_app
    from wirecore import Server

    server = Server(wirecore_app(demos["bmi"].main), "127.0.0.1", 0, name="pywebio-browser").start()
    try:
        page.set_default_timeout(WAIT)
        page.goto(server.url + "/")
        page.get_by_label("Height (cm)").fill("abc")
        page.get_by_label("Weight (kg)").fill("60")  # leaving the height field validates it
        expect_text(page, "Please enter a number.")
        page.get_by_role("button", name="Submit").click()
        expect_text(page, "Please enter a number.")
        page.get_by_label("Height (cm)").fill("170")
        page.get_by_role("button", name="Submit").click()
        expect_text(page, "20.8")
    finally:
        server.stop()


def test_inputs_app_over_http_polling_on_tornado_http(page: Any) -> None:
    import time

    from pywebio.platform.tornado_http import make_app

    with ServerThread(inputs_app, "127.0.0.1", 0, factory=make_app) as server:
        page.set_default_timeout(WAIT)
        page.goto(f"{server.url}?_pywebio_http_pull_interval=200")
        box = page.get_by_role("textbox", name="Your name")
        box.fill("A")
        page.get_by_role("button", name="Submit").click()
        expect_text(page, "At least 2 characters")
        box.fill("Ada")
        page.get_by_role("button", name="Submit").click()
        page.get_by_label("Age").fill("36")
        page.get_by_label("City").fill("London")
        page.get_by_role("button", name="Submit").click()
        expect_text(page, "Hello Ada, 36 from London")
        assert page.locator("form").count() == 0
        deadline = time.monotonic() + WAIT / 1000  # the app ended: its session state goes
        while server.hub.entries and time.monotonic() < deadline:
            page.wait_for_timeout(50)  # the page keeps polling meanwhile
        assert server.hub.entries == {}
