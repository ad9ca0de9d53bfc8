"""The front end (html/js/pywebio.js) alone in headless Chromium: commands in, DOM and events out.

No server: the page loads pywebio.js and talks to a loopback transport that records the events.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pywebio

HTML = Path(pywebio.__file__).parent / "html"
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser

SKELETON = """<!doctype html><html><head><meta charset="utf-8"><style>{css}</style></head>
<body><div class="pywebio"><div id="output-container"><div id="markdown-body">
<div id="pywebio-loading">Loading...</div><div id="pywebio-scope-ROOT"></div></div></div>
<div id="input-container"><div id="input-cards"></div></div></div></body></html>"""

BOOT = """
window.sent = [];
window.binary = [];
WebIO.startWebIOClient({protocol: "loopback", transport: {
  send: (e) => window.sent.push(e),
  sendBinary: (b) => window.binary.push(Array.from(new Uint8Array(b))),
  closedByServer: () => {},
}});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("WIRE_REQUIRE_BROWSER"):
            pytest.fail("headless Chromium is required here (WIRE_REQUIRE_BROWSER)")
        pytest.skip("needs /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        yield chromium
        chromium.close()


class Front:
    """A page running pywebio.js with a loopback transport."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def cmd(self, command: str, spec: Any = None, task_id: str | None = "t1") -> None:
        self.page.evaluate(
            "(m) => WebIO.handleCommand(m)", {"command": command, "task_id": task_id, "spec": spec}
        )

    def out(self, spec: dict[str, Any]) -> None:
        self.cmd("output", {"scope": "#pywebio-scope-ROOT", "position": -1, **spec})

    def sent(self) -> list[dict[str, Any]]:
        return self.page.evaluate("window.sent")  # type: ignore[no-any-return]

    def wait_sent(self, n: int) -> list[dict[str, Any]]:
        self.page.wait_for_function(f"window.sent.length >= {n}")
        return self.sent()

    def html(self, selector: str = "#pywebio-scope-ROOT") -> str:
        return self.page.inner_html(selector)  # type: ignore[no-any-return]

    def md(self, text: str) -> str:
        return self.page.evaluate("(t) => WebIO.renderMarkdown(t)", text)  # type: ignore[no-any-return]


@pytest.fixture
def front(browser: Any) -> Iterator[Front]:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_content(SKELETON.format(css=(HTML / "css" / "app.css").read_text()))
    page.add_script_tag(content=(HTML / "js" / "pywebio.js").read_text())
    page.evaluate(BOOT)
    yield Front(page)
    context.close()
    assert not problems, problems


# ---------------------------------------------------------------------------------------------- markdown


def test_markdown_blocks(front: Front) -> None:
    html = front.md(
        "# Title\n\nSome *em* and **strong**, `a<b`, ~~gone~~.\n\n"
        "- one\n- two\n  - nested\n\n1. first\n2. second\n\n> quoted\n\n---\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```py\nx = '<tag>'\n```\n\n    indented code"
    )
    assert "<h1>Title</h1>" in html
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html and "<del>gone</del>" in html
    assert "<code>a&lt;b</code>" in html
    assert "<ul><li>one</li>\n<li>two<ul><li>nested</li></ul></li></ul>" in html.replace("\n<ul>", "<ul>")
    assert "<ol><li>first</li>\n<li>second</li></ol>" in html
    assert "<blockquote><p>quoted</p></blockquote>" in html and "<hr>" in html
    assert '<th style="text-align:left">a</th>' in html and '<td style="text-align:right">2</td>' in html
    assert (
        '<pre><code class="language-py">x = <span class="tok-s">&#39;&lt;tag&gt;&#39;</span></code></pre>'
        in html
    )
    assert "<pre><code>indented code</code></pre>" in html


def test_markdown_is_safe(front: Front) -> None:
    html = front.md(
        "<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) "
        '![i](data:text/html,evil) [ok](https://e.test/?a=1&b=2 "T") snake_case_name'
    )
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert 'href="#"' in html and "javascript:" not in html.replace("&lt;", "")
    assert '<img src="#" alt="i">' in html
    assert '<a href="https://e.test/?a=1&amp;b=2" title="T">ok</a>' in html
    assert "snake_case_name" in html


def test_text_escapes_and_html_is_raw(front: Front) -> None:
    front.out({"type": "text", "content": "<b>not bold</b>\n  kept"})
    front.out({"type": "html", "content": "<b id='raw'>bold</b>"})
    front.out({"type": "markdown", "content": "**md** <i>no</i>"})
    assert front.page.inner_text(".webio-text") == "<b>not bold</b>\n  kept"
    assert front.page.inner_text("#raw") == "bold"
    assert "&lt;i&gt;no&lt;/i&gt;" in front.html(".webio-markdown")
    assert front.page.locator("#pywebio-loading").count() == 0


# ---------------------------------------------------------------------------------------------- outputs


def test_positions_scopes_and_output_ctl(front: Front) -> None:
    for text, pos in [("b", -1), ("d", -1), ("a", 0), ("c", 2), ("e", -1), ("x", -2)]:
        front.out({"type": "text", "content": text, "inline": True, "position": pos})
    assert front.page.inner_text("#pywebio-scope-ROOT").replace("\n", "") == "abcdxe"
    front.cmd(
        "output_ctl", {"set_scope": "pywebio-scope-s", "container": "#pywebio-scope-ROOT", "position": 0}
    )
    front.cmd("output", {"type": "text", "content": "in s", "scope": "#pywebio-scope-s", "position": -1})
    assert front.page.locator("#pywebio-scope-ROOT > :first-child").get_attribute("id") == "pywebio-scope-s"
    front.cmd(
        "output_ctl",
        {"set_scope": "pywebio-scope-s", "container": "#pywebio-scope-ROOT", "if_exist": "blank"},
    )
    assert front.page.inner_text("#pywebio-scope-s") == ""
    assert front.page.evaluate("document.getElementById('pywebio-scope-s').style.minHeight") != ""
    front.cmd("output_ctl", {"loose": "#pywebio-scope-s"})
    assert front.page.evaluate("document.getElementById('pywebio-scope-s').style.minHeight") == ""
    front.cmd("output_ctl", {"clear": "#pywebio-scope-ROOT"})
    assert front.html() == ""
    front.cmd("output_ctl", {"remove": "#pywebio-scope-ROOT"})
    assert front.page.locator("#pywebio-scope-ROOT").count() == 1


def test_buttons_table_and_click_callbacks(front: Front) -> None:
    front.out(
        {
            "type": "table",
            "data": [
                ["h1", "h2"],
                [{"type": "buttons", "callback_id": "cb", "buttons": [{"label": "Go", "value": 0}]}, "x"],
                ["wide"],
            ],
            "span": {"2,0": {"row": 1, "col": 2}},
        }
    )
    front.out({"type": "text", "content": "clickable", "click_callback_id": "cb2", "style": "color: red"})
    front.page.get_by_role("button", name="Go").click()
    front.page.get_by_text("clickable").click()
    assert front.wait_sent(2) == [
        {"event": "callback", "task_id": "cb", "data": 0},
        {"event": "callback", "task_id": "cb2", "data": None},
    ]
    assert front.page.locator("th").count() == 2
    assert front.page.locator("td[colspan='2']").inner_text() == "wide"
    assert "color: red" in (front.page.get_by_text("clickable").get_attribute("style") or "")


def test_containers_and_custom_widget(front: Front) -> None:
    text = {"type": "text", "content": "nested", "inline": True}
    front.out(
        {"type": "row", "contents": [text, "plain"], "css": "grid-auto-flow: column;", "item_css": ["", ""]}
    )
    front.out({"type": "collapse", "title": "More", "contents": ["hidden"], "open": False,
               "container_dom_id": "pywebio-scope-c", "container_selector": ".webio-collapse-body"})  # fmt: skip
    front.out(
        {"type": "tabs", "tabs": [{"title": "A", "content": "tab a"}, {"title": "B", "content": [text]}]}
    )
    front.out({"type": "alert", "color": "danger", "contents": ["bad"], "closable": True})
    front.out({"type": "progressbar", "name": "p", "value": 0.25, "label": None, "auto_close": True})
    front.out(
        {
            "type": "custom_widget",
            "template": "<ul class='w'>{{#items}}<li>{{& pywebio_output_parse}}</li>{{/items}}</ul>{{^none}}<i>{{t}}</i>{{/none}}",
            "data": {"items": ["<s>x</s>", text], "t": "<esc>"},
        }
    )
    page = front.page
    assert page.locator(".webio-row .webio-layout-item").count() == 2
    assert page.locator("#pywebio-scope-c").evaluate("e => e.className") == "webio-collapse-body"
    assert not page.get_by_text("hidden").is_visible()
    page.get_by_text("More").click()
    assert page.get_by_text("hidden").is_visible()
    assert page.get_by_text("tab a").is_visible()
    page.get_by_role("tab", name="B").click()
    assert not page.get_by_text("tab a").is_visible()
    assert page.get_by_role("alert").inner_text().startswith("bad")
    page.get_by_role("alert").get_by_role("button", name="Close").click()
    assert page.get_by_role("alert").count() == 0
    assert page.locator("#webio-progressbar-p").inner_text() == "25%"
    front.cmd("progressbar_update", {"name": "p", "value": 0.5, "label": "half"})
    assert page.locator("#webio-progressbar-p").inner_text() == "half"
    front.cmd("progressbar_update", {"name": "p", "value": 1})
    assert page.locator("#webio-progressbar-p").count() == 0
    assert page.locator("ul.w li").all_inner_texts() == ["<s>x</s>", "nested"]
    assert page.locator("ul.w + i").inner_text() == "<esc>"


def test_popup_toast_download_and_scripts(front: Front) -> None:
    page = front.page
    front.cmd("popup", {"title": "Hello", "content": ["body text"], "size": "small", "implicit_close": True,
                        "closable": True, "dom_id": "pywebio-scope-pop"})  # fmt: skip
    front.cmd("output", {"type": "text", "content": "later", "scope": "#pywebio-scope-pop", "position": -1})
    dialog = page.get_by_role("dialog", name="Hello")
    assert "later" in dialog.inner_text()
    page.keyboard.press("Escape")
    assert dialog.count() == 0
    front.cmd("toast", {"content": "Saved", "duration": 0, "position": "right", "color": "#2e7d32",
                        "callback_id": "tcb"})  # fmt: skip
    page.get_by_text("Saved").click()
    assert front.wait_sent(1)[0] == {"event": "callback", "task_id": "tcb", "data": None}
    with page.expect_download() as dl:
        front.cmd("download", {"name": "a.txt", "content": "aGVsbG8="})
    assert dl.value.suggested_filename == "a.txt"
    assert Path(dl.value.path()).read_bytes() == b"hello"
    front.cmd("run_script", {"code": "document.title = t", "args": {"t": "new title"}})
    assert page.title() == "new title"
    front.cmd("run_script", {"code": "new Promise(r => setTimeout(() => r(a + 1), 10))", "args": {"a": 41},
                             "eval": True}, task_id="evt")  # fmt: skip
    front.cmd("run_script", {"code": "undefinedName.x", "args": {}, "eval": True}, task_id="bad")
    events = front.wait_sent(3)[1:]
    assert {"event": "js_yield", "task_id": "evt", "data": 42} in events
    assert {"event": "js_yield", "task_id": "bad", "data": None} in events
    front.cmd("set_env", {"title": "env title", "output_max_width": "500px"})
    assert page.title() == "env title"


# ---------------------------------------------------------------------------------------------- forms

FORM = {
    "label": "Profile",
    "cancelable": True,
    "inputs": [
        {"type": "text", "name": "name", "label": "Name", "required": True, "onblur": True, "maxlength": 8},
        {"type": "number", "name": "age", "label": "Age"},
        {"type": "float", "name": "ratio", "label": "Ratio"},
        {"type": "select", "name": "pick", "label": "Pick", "options": [
            {"label": "One", "value": 1}, {"label": "Obj", "value": {"k": [1, 2]}, "selected": True}]},
        {"type": "checkbox", "name": "tags", "label": "Tags", "options": [
            {"label": "Red", "value": "r"}, {"label": "Blue", "value": "b"}]},
        {"type": "radio", "name": "size", "label": "Size", "options": [
            {"label": "S", "value": "s"}, {"label": "L", "value": "l"}]},
        {"type": "textarea", "name": "bio", "label": "Bio", "onchange": True},
        {"type": "slider", "name": "level", "label": "Level", "value": 3, "min_value": 0, "max_value": 10, "step": 1},
    ],
}  # fmt: skip


def test_form_fields_are_named_labelled_and_submit(front: Front) -> None:
    page = front.page
    front.cmd("input_group", FORM)
    assert page.get_by_role("heading", name="Profile").is_visible()
    assert page.get_by_label("Name").get_attribute("name") == "name"
    assert page.get_by_label("Name").get_attribute("maxlength") == "8"
    assert page.locator("[name=bio]").count() == 1
    page.get_by_label("Name").fill("Ada")
    page.get_by_label("Age").fill("36")
    page.get_by_label("Ratio").fill("0.5")
    page.get_by_label("Blue").check()
    page.get_by_label("L", exact=True).check()
    page.get_by_label("Bio").fill("hi")
    page.get_by_role("button", name="Submit").click()
    events = front.wait_sent(3)
    assert {
        "event": "input_event",
        "task_id": "t1",
        "data": {"event_name": "blur", "name": "name", "value": "Ada"},
    } in events
    assert {
        "event": "input_event",
        "task_id": "t1",
        "data": {"event_name": "change", "name": "bio", "value": "hi"},
    } in events
    submit = events[-1]
    assert submit == {
        "event": "from_submit",
        "task_id": "t1",
        "data": {"name": "Ada", "age": 36, "ratio": 0.5, "pick": {"k": [1, 2]}, "tags": ["b"], "size": "l",
                 "bio": "hi", "level": 3},
    }  # fmt: skip
    assert page.get_by_role("button", name="Submit").is_disabled()
    front.cmd(
        "update_input",
        {"target_name": "name", "attributes": {"valid_status": False, "invalid_feedback": "Taken"}},
    )
    assert page.get_by_text("Taken").is_visible()
    assert page.get_by_label("Name").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("button", name="Submit").is_enabled()
    front.cmd("destroy_form")
    assert page.locator(".webio-form-card").count() == 0


def test_client_side_checks_block_submit(front: Front) -> None:
    page = front.page
    front.cmd("input_group", FORM)
    page.get_by_label("Ratio").fill("abc")
    page.get_by_role("button", name="Submit").click()
    assert page.get_by_text("Please fill in this field.").is_visible()  # Name is required
    assert page.get_by_text("Please enter a number.").is_visible()
    page.get_by_role("button", name="Cancel").click()
    assert front.wait_sent(1)[-1] == {"event": "from_cancel", "task_id": "t1", "data": None}


def test_form_stack_per_task_and_actions(front: Front) -> None:
    page = front.page
    front.cmd("input_group", {"label": "First", "inputs": [{"type": "text", "name": "data", "label": ""}]})
    front.cmd(
        "input_group",
        {"label": "Choose", "inputs": [{"type": "actions", "name": "data", "label": "", "buttons": [
            {"label": "Yes", "value": {"y": 1}, "type": "submit"}, {"label": "Reset", "value": 0, "type": "reset"},
            {"label": "No", "value": None, "type": "cancel"}]}]},
    )  # fmt: skip
    front.cmd(
        "input_group", {"label": "Other task", "inputs": [{"type": "text", "name": "x", "label": "X"}]}, "t2"
    )
    assert not page.get_by_role("heading", name="First").is_visible()
    assert page.get_by_role("button", name="Submit").count() == 1  # only the other task's form has one
    page.get_by_role("button", name="Yes").click()
    assert front.wait_sent(1)[-1] == {"event": "from_submit", "task_id": "t1", "data": {"data": {"y": 1}}}
    front.cmd("destroy_form")
    assert page.get_by_role("heading", name="First").is_visible()
    front.cmd(
        "update_input",
        {"target_name": "data", "attributes": {"value": "set by server", "help_text": "help!"}},
    )
    assert page.get_by_role("textbox").first.input_value() == "set by server"
    assert page.get_by_text("help!").is_visible()


def test_file_upload_binary_framing(front: Front, tmp_path: Path) -> None:
    page = front.page
    f = tmp_path / "hello.txt"
    f.write_bytes(b"hello world")
    front.cmd("input_group", {"label": "Up", "inputs": [
        {"type": "file", "name": "doc", "label": "Document", "multiple": True, "max_size": 5},
        {"type": "text", "name": "note", "label": "Note"}]})  # fmt: skip
    page.get_by_label("Document").set_input_files(str(f))
    page.get_by_role("button", name="Submit").click()
    assert page.get_by_text("too large").is_visible()
    front.cmd(
        "input_group", {"label": "Up2", "inputs": [{"type": "file", "name": "doc", "label": "Doc2"}]}, "t3"
    )
    page.get_by_label("Doc2").set_input_files(str(f))
    page.get_by_role("button", name="Submit").last.click()
    page.wait_for_function("window.binary.length == 1")
    raw = bytes(page.evaluate("window.binary[0]"))
    segments = []
    while raw:
        (n,) = struct.unpack(">Q", raw[:8])
        segments.append(raw[8 : 8 + n])
        raw = raw[8 + n :]
    event, header, content = segments
    assert json.loads(event) == {"event": "from_submit", "task_id": "t3", "data": {"doc": None}}
    head = json.loads(header)
    assert (head["filename"], head["size"], head["input_name"]) == ("hello.txt", 11, "doc")
    assert content == b"hello world"


# ---------------------------------------------------------------------------------------------- pins


def test_pins(front: Front) -> None:
    page = front.page
    front.out({"type": "pin", "input": {"type": "text", "name": "a", "label": "A", "value": "one"}})
    front.out({"type": "pin", "input": {"type": "select", "name": "s", "label": "S",
               "options": [{"label": "x", "value": 1}, {"label": "y", "value": 2}]}})  # fmt: skip
    front.cmd("pin_values", {"names": ["a", "s", "missing"]}, task_id="r1")
    front.cmd("pin_onchange", {"name": "a", "callback_id": "oc", "clear": False, "init_run": True})
    front.cmd("pin_wait", {"names": ["s"], "timeout": None}, task_id="w1")
    page.get_by_label("S").select_option(label="y")
    page.get_by_label("A").fill("two")
    front.cmd("pin_update", {"name": "a", "attributes": {"value": "three", "label": "New A"}})
    front.cmd("pin_wait", {"names": ["a"], "timeout": 0.05}, task_id="w2")
    events = front.wait_sent(5)
    assert events[0] == {"event": "js_yield", "task_id": "r1", "data": {"a": "one", "s": 1}}
    assert events[1] == {"event": "callback", "task_id": "oc", "data": {"value": "one"}}
    assert events[2] == {"event": "js_yield", "task_id": "w1", "data": {"name": "s", "value": 2}}
    assert events[3] == {"event": "callback", "task_id": "oc", "data": {"value": "two"}}
    assert events[4] == {"event": "js_yield", "task_id": "w2", "data": None}
    assert page.get_by_label("New A").input_value() == "three"


def test_close_session_marks_page(front: Front) -> None:
    front.cmd("close_session")
    assert front.page.evaluate("document.body.classList.contains('webio-closed')")


# ---------------------------------------------------------------------------------------------- HTTP polling


class FakeHttpBackend:
    """Plays the server side of the short-polling protocol (spec 1.10) through Playwright routing."""

    def __init__(self, page_html: str) -> None:
        self.page_html = page_html
        self.batches: list[list[dict[str, Any]]] = []  # batch id = index
        self.polls: list[dict[str, str]] = []
        self.posts: list[tuple[dict[str, str], Any]] = []
        self.session_ids: list[str] = []
        self.paths: list[str] = []

    def queue(self, *commands: dict[str, Any]) -> None:
        self.batches.append([{"task_id": "t1", "spec": None, **c} for c in commands])

    def handle(self, route: Any) -> None:
        from urllib.parse import parse_qsl, urlsplit

        request = route.request
        sid = request.headers.get("webio-session-id")
        self.paths.append(urlsplit(request.url).path)
        if "test=1" in request.url:
            route.fulfill(status=200, content_type="text/plain", body="ok")
            return
        if sid is None:
            route.fulfill(status=200, content_type="text/html", body=self.page_html)
            return
        self.session_ids.append(sid)
        query = dict(parse_qsl(urlsplit(request.url).query))
        if request.method == "POST":
            self.posts.append((query, json.loads(request.post_data or "null")))
        else:
            self.polls.append(query)
        # never trims: every batch is resent on every request, the client must skip what it executed
        body = {"commands": self.batches, "seq": 0, "ack": len(self.posts) - 1}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def test_http_short_polling_client(browser: Any) -> None:
    html = SKELETON.format(css="") + (
        "<script>" + (HTML / "js" / "pywebio.js").read_text() + "</script>"
        "<script>WebIO.startWebIOClient({protocol: 'http'});</script>"
    )
    backend = FakeHttpBackend(html)
    backend.queue({"command": "output", "spec": {"type": "text", "content": "hello over http",
                                                 "scope": "#pywebio-scope-ROOT", "position": -1}})  # fmt: skip
    backend.queue(
        {
            "command": "input_group",
            "spec": {"label": "Ask", "inputs": [{"type": "text", "name": "data", "label": ""}]},
        }
    )
    context = browser.new_context()
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.route("http://pywebio.test/**", backend.handle)
        page.goto("http://pywebio.test/app/?app=demo&_pywebio_http_pull_interval=50")
        page.get_by_text("hello over http").wait_for(timeout=5000)
        page.locator("input[name=data]").fill("yes")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_function("document.querySelectorAll('.webio-text').length >= 1")
        backend.queue(
            {"command": "destroy_form"},
            {
                "command": "output",
                "spec": {"type": "text", "content": "done", "scope": "#pywebio-scope-ROOT", "position": -1},
            },
        )
        page.get_by_text("done", exact=True).wait_for(timeout=5000)
        backend.queue({"command": "close_session"})
        page.wait_for_function("document.body.classList.contains('webio-closed')", timeout=5000)
        assert page.get_by_text("hello over http").count() == 1
        assert page.get_by_text("done", exact=True).count() == 1
        assert page.locator("form").count() == 0
        assert page.evaluate("WebIO._state.Session.transport.stopped")  # polling ended with the session
    finally:
        context.close()
    assert not problems, problems
    assert backend.session_ids[0].startswith("NEW-") and len(backend.session_ids[0]) == 28
    assert all(s == backend.session_ids[0][4:] for s in backend.session_ids[1:])
    assert backend.polls[0] == {"app": "demo", "ack": "-1"}
    assert backend.posts[0][0]["seq"] == "0"
    assert backend.posts[0][1] == [{"event": "from_submit", "task_id": "t1", "data": {"data": "yes"}}]


def test_sanitized_html_and_single_input_label(front: Front) -> None:
    front.out(
        {
            "type": "html",
            "sanitize": True,
            "content": "<b onclick='x()'>bold</b><script>window.bad=1</script><a href='javascript:x()'>l</a>"
            "<img src='data:image/png;base64,AA' onerror='x()'>",
        }
    )
    html = front.html()
    assert "<b>bold</b>" in html and "script" not in html and "onclick" not in html and "onerror" not in html
    assert "javascript" not in html and "data:image/png" in html
    front.cmd(
        "input_group", {"label": "Your email", "inputs": [{"type": "text", "name": "data", "label": ""}]}
    )
    assert front.page.get_by_role("textbox", name="Your email").get_attribute("name") == "data"
    assert front.page.get_by_role("form", name="Your email").count() == 1


def test_legacy_commands_and_clear_ranges(front: Front) -> None:
    for name in "abcde":
        front.cmd("output_ctl", {"set_scope": f"pywebio-scope-{name}", "container": "#pywebio-scope-ROOT"})
    front.cmd("output_ctl", {"clear_range": ["#pywebio-scope-a", "#pywebio-scope-c"]})
    ids = front.page.eval_on_selector_all("#pywebio-scope-ROOT > div", "els => els.map(e => e.id.slice(14))")
    assert ids == ["a", "c", "d", "e"]
    front.cmd("output_ctl", {"clear_before": "#pywebio-scope-c", "clear_after": "#pywebio-scope-d"})
    ids = front.page.eval_on_selector_all("#pywebio-scope-ROOT > div", "els => els.map(e => e.id.slice(14))")
    assert ids == ["c", "d"]
    front.out({"type": "pin", "input": {"type": "number", "name": "n", "label": "N", "value": 7}})
    front.cmd("pin_value", {"name": "n"}, task_id="old")
    front.cmd("pin_value", {"name": "nope"}, task_id="old2")
    front.cmd("input", {"label": "Alias", "inputs": [{"type": "text", "name": "data", "label": ""}]})
    assert front.page.get_by_role("textbox", name="Alias").is_visible()
    assert front.wait_sent(2) == [
        {"event": "js_yield", "task_id": "old", "data": {"value": 7}},
        {"event": "js_yield", "task_id": "old2", "data": None},
    ]


def test_auto_protocol_and_pywebio_api(browser: Any) -> None:
    """A page embedded elsewhere: ``?pywebio_api=`` names the backend, ``protocol: 'auto'`` probes it."""
    html = SKELETON.format(css="") + (
        "<script>" + (HTML / "js" / "pywebio.js").read_text() + "</script>"
        "<script>WebIO.startWebIOClient({protocol: 'auto'});</script>"
    )
    backend = FakeHttpBackend(html)
    backend.queue({"command": "output", "spec": {"type": "text", "content": "from the api",
                                                 "scope": "#pywebio-scope-ROOT", "position": -1}})  # fmt: skip
    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("http://pywebio.test/**", backend.handle)
        page.goto("http://pywebio.test/page.html?pywebio_api=/api/&_pywebio_http_pull_interval=50")
        page.get_by_text("from the api").wait_for(timeout=5000)
    finally:
        context.close()
    assert backend.paths[:2] == ["/page.html", "/api/"]  # the page, then the probe
    assert set(backend.paths[2:]) == {"/api/"}


def test_reset_restores_initial_values(front: Front) -> None:
    page = front.page
    front.cmd(
        "input_group",
        {
            "label": "R",
            "inputs": [
                {"type": "text", "name": "t", "label": "T", "value": "init"},
                {
                    "type": "checkbox",
                    "name": "c",
                    "label": "C",
                    "options": [{"label": "On", "value": 1, "selected": True}],
                },
                {
                    "type": "slider",
                    "name": "s",
                    "label": "S",
                    "value": 4,
                    "min_value": 0,
                    "max_value": 9,
                    "step": 1,
                },
            ],
        },
    )
    page.get_by_label("T").fill("changed")
    page.get_by_label("On").uncheck()
    page.get_by_label("S").fill("7")
    assert page.locator(".webio-slider-value").inner_text() == "7"
    page.get_by_role("button", name="Reset").click()
    assert page.get_by_label("T").input_value() == "init"
    assert page.get_by_label("On").is_checked()
    page.wait_for_function("document.querySelector('.webio-slider-value').textContent === '4'")
