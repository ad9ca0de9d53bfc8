"""webshoes in headless Chromium: the grid and canvas demos across tabs, reconnects, and the JS client."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

webshoes = pytest.importorskip("webshoes")

DEMO = Path(__file__).resolve().parents[1] / "packages" / "webshoes" / "demo"
WAIT = 5000  # ms, for anything that should be (nearly) immediate
RECONNECT_WAIT = 15000  # ms: the client backs off 0.5-1 s, 1-2 s, 2-4 s, ...
# What Chromium logs by itself while a server is away (the page's own code logs warnings only).
CONNECTION_REFUSED = ("WebSocket connection to", "ERR_CONNECTION_REFUSED")

Page = Any
OpenPage = Callable[..., Page]


def load(name: str) -> ModuleType:
    path = DEMO / name / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"webshoes_demo_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


grid = load("grid")
canvas = load("canvas")


@pytest.fixture
def open_page(browser: Any) -> Iterator[OpenPage]:
    """Pages in contexts of their own (separate tabs/profiles); console errors fail the test,
    except the lines listed in ``tolerate`` for that page."""
    contexts: list[Any] = []
    problems: list[str] = []

    def make(url: str | None = None, tolerate: tuple[str, ...] = ()) -> Page:
        context = browser.new_context()
        contexts.append(context)
        pg = context.new_page()

        def on_console(m: Any) -> None:
            if m.type == "error" and not any(t in m.text for t in tolerate):
                problems.append(f"console error: {m.text}")

        pg.on("console", on_console)
        pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        if url:
            pg.goto(url)
        return pg

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def grid_app() -> Iterator[Any]:
    app = grid.make_app(port=0)
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def canvas_app() -> Iterator[Any]:
    app = canvas.make_app(port=0)
    app.start()
    try:
        yield app
    finally:
        app.stop()


def wait_status(pg: Page, text: str, timeout: int = WAIT) -> None:
    pg.wait_for_function(
        "t => document.getElementById('status').textContent === t", arg=text, timeout=timeout
    )


def cell(x: int, y: int) -> str:
    return f'.cell[data-x="{x}"][data-y="{y}"]'


def wait_cell(pg: Page, x: int, y: int, digit: str) -> None:
    pg.wait_for_function(
        "([sel, d]) => { const c = document.querySelector(sel); return c && c.textContent === d; }",
        arg=[cell(x, y), digit],
        timeout=WAIT,
    )


# ---- grid ---------------------------------------------------------------------------------------


def test_grid_click_reaches_other_tabs_and_late_tabs_see_the_grid(
    grid_app: Any, page: Page, open_page: OpenPage
) -> None:
    url = f"http://127.0.0.1:{grid_app.port}/site/squares.html"
    page.goto(url)
    b = open_page(url)
    for pg in (page, b):
        wait_status(pg, "connected")
        assert pg.locator(".cell").count() == 100
        wait_cell(pg, 3, 4, "0")

    page.click(cell(3, 4))
    wait_cell(b, 3, 4, "1")  # pushed to the other tab
    wait_cell(page, 3, 4, "1")
    page.click(cell(3, 4))
    page.click(cell(3, 4))
    b.click(cell(9, 0))
    wait_cell(b, 3, 4, "3")
    wait_cell(page, 9, 0, "1")
    colour = b.eval_on_selector(cell(3, 4), "c => getComputedStyle(c).backgroundColor")
    assert colour != b.eval_on_selector(cell(0, 0), "c => getComputedStyle(c).backgroundColor")

    late = open_page(url)
    wait_status(late, "connected")
    wait_cell(late, 3, 4, "3")
    wait_cell(late, 9, 0, "1")
    digits = late.eval_on_selector_all(".cell", "cs => cs.map(c => c.textContent).join('')")
    expected = ["0"] * 100
    expected[9], expected[43] = "1", "3"
    assert digits == "".join(expected)
    # the directory redirects to the default page
    other = open_page(f"http://127.0.0.1:{grid_app.port}/site/")
    assert other.url.endswith("/site/squares.html")


def test_grid_tab_reconnects_and_resubscribes_after_a_server_restart(
    grid_app: Any, open_page: OpenPage
) -> None:
    url = f"http://127.0.0.1:{grid_app.port}/site/squares.html"
    port = grid_app.port
    a = open_page(url, tolerate=CONNECTION_REFUSED)
    wait_status(a, "connected")

    grid_app.stop()
    wait_status(a, "disconnected")
    grid_app.start()  # same app, same port
    assert grid_app.port == port
    wait_status(a, "connected", timeout=RECONNECT_WAIT)

    # only a live (re-sent) subscription can bring this click to the first tab
    b = open_page(url)
    wait_status(b, "connected")
    b.click(cell(5, 5))
    wait_cell(b, 5, 5, "1")
    wait_cell(a, 5, 5, "1")


# ---- canvas -------------------------------------------------------------------------------------


def draw(pg: Page, points: list[tuple[int, int]]) -> None:
    box = pg.locator("#overlay").bounding_box()
    assert box is not None
    x0, y0 = box["x"], box["y"]
    pg.mouse.move(x0 + points[0][0], y0 + points[0][1])
    pg.mouse.down()
    for x, y in points[1:]:
        pg.mouse.move(x0 + x, y0 + y, steps=4)
    pg.mouse.up()


def wait_strokes(pg: Page, n: int) -> None:
    pg.wait_for_function(
        "n => document.getElementById('board').dataset.drawn === String(n)"
        " && document.getElementById('count').textContent === String(n)",
        arg=n,
        timeout=WAIT,
    )


def pixel(pg: Page, x: int, y: int) -> list[int]:
    rgba: list[int] = pg.evaluate(
        "([x, y]) => Array.from(document.getElementById('board').getContext('2d').getImageData(x, y, 1, 1).data)",
        [x, y],
    )
    return rgba


def png(pg: Page) -> str:
    data: str = pg.evaluate("() => document.getElementById('board').toDataURL('image/png')")
    return data


def test_canvas_strokes_are_shared_replayed_for_late_joiners_and_cleared(
    canvas_app: Any, page: Page, open_page: OpenPage
) -> None:
    url = f"http://127.0.0.1:{canvas_app.port}/site/canvas.html"
    page.goto(url)
    b = open_page(url)
    for pg in (page, b):
        wait_status(pg, "connected")
        wait_strokes(pg, 0)
    blank = png(page)
    assert pixel(b, 100, 100) == [255, 255, 255, 255]

    draw(page, [(50, 100), (150, 100), (150, 150)])
    wait_strokes(b, 1)  # appears in the other tab
    wait_strokes(page, 1)
    assert pixel(b, 100, 100)[:3] != [255, 255, 255]

    page.fill("#color", "#ff0000")
    page.fill("#width", "12")
    draw(page, [(300, 300), (400, 420)])
    b.locator("#overlay").click(position={"x": 450, "y": 60})  # a dot, from the other tab
    for pg in (page, b):
        wait_strokes(pg, 3)
    assert pixel(b, 350, 360)[:3] == [255, 0, 0]

    b.check("input[name=tool][value=eraser]")
    b.fill("#width", "30")
    draw(b, [(60, 100), (140, 100)])  # rubs out most of the first stroke's top edge
    for pg in (page, b):
        wait_strokes(pg, 4)
    assert pixel(page, 100, 100) == [255, 255, 255, 255]

    late = open_page(url)
    wait_status(late, "connected")
    wait_strokes(late, 4)  # the stored strokes, replayed
    picture = png(late)
    assert picture != blank
    assert png(page) == picture
    assert png(b) == picture
    assert pixel(late, 350, 360)[:3] == [255, 0, 0]

    with late.expect_download() as download:
        late.click("#save")
    assert download.value.suggested_filename.endswith(".png")

    late.click("#clear")
    for pg in (page, b, late):
        wait_strokes(pg, 0)
        assert png(pg) == blank


# ---- the JS client on its own -------------------------------------------------------------------

CLIENT_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>client</title></head>
<body><div id="frag"></div>
<script src="/webshoes/webshoes.js"></script>
<script>
window.statuses = [];
window.wsc = WebShoes({
  url: 'ws://' + location.host + '/api',
  reconnect: 100,
  cb: function (type) { statuses.push(type); }
});
</script></body></html>
"""

MODULE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>module</title></head>
<body>
<script type="module">
import WebShoes, { WebShoes as Named } from '/webshoes/webshoes.mjs';
window.sameExport = WebShoes === Named;
window.wsc = WebShoes({cb: function () {}});  // url defaults to ws://<this host>/
window.moduleResult = null;
wsc.msg('', 'api/add', {a: 20, b: 22}, function (r) { window.moduleResult = r; });
</script></body></html>
"""

WORKER_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>worker</title></head>
<body><script>
window.workerResult = null;
new Worker('/site/worker.js').onmessage = function (e) { window.workerResult = e.data; };
</script></body></html>
"""

WORKER_JS = """importScripts('/webshoes/webshoes.js');
var c = WebShoes({url: 'ws://' + location.host + '/api'});
c.msg('', 'api/add', {a: 1, b: 2}, function (r) { postMessage({r: r, hasDocument: typeof document !== 'undefined'}); });
"""


class ClientServer:
    """A webshoes app serving the JS client, a few test pages and an ``api`` group."""

    def __init__(self, root: Path) -> None:
        (root / "client.html").write_text(CLIENT_PAGE)
        (root / "module.html").write_text(MODULE_PAGE)
        (root / "worker.html").write_text(WORKER_PAGE)
        (root / "worker.js").write_text(WORKER_JS)
        self.slow_started = threading.Event()
        self.app = webshoes.WebShoesApp("127.0.0.1", 0, {})
        self.app.register("webshoes", "", "", "", "", {"*": {"root": webshoes.libPath("web")}})
        self.app.register("site", "", "", "", "", {"*": {"root": str(root)}})
        self.app.register(
            "api", "cmd", "q", "evt", "r", {"add": self.add, "slow": self.slow, "nothing": self.nothing}
        )

    @staticmethod
    def add(ctx: Any, q: Any) -> dict[str, Any]:
        return {"result": int(q.a) + int(q.b)}

    @staticmethod
    def nothing(ctx: Any, q: Any) -> dict[str, Any]:
        return {}

    async def slow(self, ctx: Any, q: Any) -> dict[str, Any]:
        self.slow_started.set()
        await asyncio.sleep(30)
        return {"late": True}

    def url(self, page: str) -> str:
        return f"http://127.0.0.1:{self.app.port}/site/{page}"


@pytest.fixture
def client_server(tmp_path: Path) -> Iterator[ClientServer]:
    server = ClientServer(tmp_path)
    server.app.start()
    try:
        yield server
    finally:
        server.app.stop()


def call(pg: Page, cmd: str, params: dict[str, Any]) -> Any:
    """``wsc.msg('', cmd, params, cb)`` in the page: what the callback got, as [result, sentMsg]."""
    return pg.evaluate(
        "([cmd, params]) => new Promise(res => wsc.msg('', cmd, params, (r, m) => res([r, m])))",
        [cmd, params],
    )


def test_js_client_round_trips_errors_events_and_works_without_random_uuid(
    client_server: ClientServer, open_page: OpenPage
) -> None:
    pg = open_page(tolerate=CONNECTION_REFUSED)
    # what a page on http://192.168.x.x sees: no crypto.randomUUID outside secure contexts
    pg.add_init_script("delete Crypto.prototype.randomUUID;")
    sent_frames: list[str] = []
    pg.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent_frames.append(str(payload))))
    pg.goto(client_server.url("client.html"))
    assert pg.evaluate("typeof crypto.randomUUID") == "undefined"

    result, sent = call(pg, "api/add", {"a": 2, "b": 3})  # sent (or queued) before the socket opened
    assert result == {"result": 5}
    uid = pg.evaluate("wsc.uid")
    assert sent["cmd"] == "api/add" and sent["q"] == {"a": 2, "b": 3} and sent["uid"] == uid
    assert isinstance(sent["tid"], str) and len(sent["tid"]) >= 16 and isinstance(sent["t"], int | float)
    assert pg.evaluate("wsc.isOpen") is True
    assert pg.evaluate("statuses[0]") == "open"

    assert call(pg, "api/nosuch", {})[0] == {"error": "Unknown command"}  # error replies reach cb
    falsy = call(pg, "api/nothing", {})[0]  # a falsy result still answers
    assert not falsy or falsy == {}

    # events: a push reaches the callback with the data itself; offEvent unsubscribes
    pg.evaluate(
        """() => { window.ticks = []; window.others = [];
           wsc.onEvent('#frag', 'tick', {}, d => ticks.push(d));
           wsc.onEvent('', 'other', {}, d => others.push(d)); }"""
    )
    client_server.app.triggerEvent("tick", {"n": 1})
    client_server.app.triggerEvent("other", {"n": 1})
    pg.wait_for_function("ticks.length === 1 && others.length === 1", timeout=WAIT)
    assert pg.evaluate("ticks[0]") == {"n": 1}
    assert pg.evaluate("wsc.offEvent('#frag', 'tick')") is True
    call(pg, "api/add", {"a": 0, "b": 0})  # the unsubscribe is through once this answers
    assert any('"unsubscribe":true' in f.replace(" ", "") and '"tick"' in f for f in sent_frames)
    client_server.app.triggerEvent("tick", {"n": 2})
    client_server.app.triggerEvent("other", {"n": 2})
    pg.wait_for_function("others.length === 2", timeout=WAIT)
    call(pg, "api/add", {"a": 0, "b": 0})
    assert pg.evaluate("ticks.length") == 1

    # an entry whose liveness element is gone is dropped at the next push
    pg.evaluate("() => { wsc.onEvent('#frag', 'tick', {}, d => ticks.push(d)); }")
    pg.wait_for_function("ticks.length === 2", timeout=WAIT)  # the latest value, at subscribe time
    pg.evaluate("() => document.getElementById('frag').remove()")
    client_server.app.triggerEvent("tick", {"n": 3})
    client_server.app.triggerEvent("other", {"n": 3})
    pg.wait_for_function("others.length === 3", timeout=WAIT)
    call(pg, "api/add", {"a": 0, "b": 0})
    assert pg.evaluate("ticks.length") == 2

    # a request in flight when the server goes away fails at once with 'Disconnected'
    pg.evaluate("() => { window.slow = null; wsc.msg('', 'api/slow', {}, r => { window.slow = r; }); }")
    assert client_server.slow_started.wait(5)
    client_server.app.stop()
    pg.wait_for_function("window.slow !== null", timeout=WAIT)
    assert pg.evaluate("window.slow") == {"error": "Disconnected"}
    assert pg.evaluate("wsc.isOpen") is False

    # a request made while disconnected is queued and sent once the client has reconnected
    pg.evaluate(
        "() => { window.queued = null; wsc.msg('', 'api/add', {a: 4, b: 4}, r => { window.queued = r; }); }"
    )
    client_server.app.start()
    pg.wait_for_function("window.queued !== null", timeout=RECONNECT_WAIT)
    assert pg.evaluate("window.queued") == {"result": 8}
    assert "rehook" in pg.evaluate("statuses")  # the 'other' subscription was sent again ...
    client_server.app.triggerEvent("other", {"n": 4})  # ... and is live on the new connection
    pg.wait_for_function("others.some(o => o.n === 4)", timeout=WAIT)

    # close() is for good: no reconnect, later requests fail at once
    pg.evaluate("wsc.close()")
    assert pg.evaluate("wsc.isOpen") is False
    assert call(pg, "api/add", {"a": 1, "b": 1})[0] == {"error": "Not connected"}


def test_js_client_as_an_es_module_and_without_a_dom(
    client_server: ClientServer, open_page: OpenPage
) -> None:
    pg = open_page(client_server.url("module.html"))
    pg.wait_for_function("window.moduleResult !== null && window.moduleResult !== undefined", timeout=WAIT)
    assert pg.evaluate("window.moduleResult") == {"result": 42}
    assert pg.evaluate("window.sameExport") is True
    assert pg.evaluate("wsc.url") == f"ws://127.0.0.1:{client_server.app.port}/"
    uid = pg.evaluate("wsc.uid")
    assert isinstance(uid, str) and len(uid) == 32

    worker = open_page(client_server.url("worker.html"))
    worker.wait_for_function("window.workerResult !== null", timeout=WAIT)
    assert worker.evaluate("window.workerResult") == {"r": {"result": 3}, "hasDocument": False}
