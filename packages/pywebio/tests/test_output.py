"""pywebio.output against a fake session: the specs sent, scopes, callbacks, send-once semantics."""

from __future__ import annotations

import base64
import gc
import io
from typing import Any

import pytest
from fakesession import FakeSession, install

from pywebio import output
from pywebio.output import (
    clear,
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
    set_scope,
    span,
    toast,
    use_scope,
)


@pytest.fixture
def s(monkeypatch: pytest.MonkeyPatch) -> FakeSession:
    return install(monkeypatch, FakeSession())


def test_put_text_is_sent_when_discarded(s: FakeSession) -> None:
    put_text("a", 1, sep="-")
    put_text("b", inline=True, scope="ROOT", position=0)
    assert s.outputs == [
        {"type": "text", "content": "a-1", "inline": False, "scope": "#pywebio-scope-ROOT", "position": -1},
        {"type": "text", "content": "b", "inline": True, "scope": "#pywebio-scope-ROOT", "position": 0},
    ]


def test_kept_output_is_sent_once_when_dropped(s: FakeSession) -> None:
    kept = put_text("kept")
    assert s.outputs == []
    kept.send()
    kept.send()
    del kept
    gc.collect()
    assert [o["content"] for o in s.outputs] == ["kept"]


def test_nested_output_is_embedded_not_sent(s: FakeSession) -> None:
    inner = put_text("inner")
    put_row([inner, None, "plain"])
    del inner
    gc.collect()
    assert len(s.outputs) == 1
    row = s.outputs[0]
    assert row["type"] == "row"
    assert row["contents"][0] == {"type": "text", "content": "inner", "inline": False}
    assert row["contents"][1:] == ["", "plain"]
    assert "grid-template-columns: 1fr 10px 1fr" in row["css"]


def test_pending_outputs_flush_before_a_form(monkeypatch: pytest.MonkeyPatch) -> None:
    from pywebio.input import input

    s = install(monkeypatch, FakeSession(events=[{"event": "from_submit", "data": {"data": "x"}}]))
    kept = put_text("shown before the form")
    assert input("q") == "x"
    assert [c["command"] for c in s.commands][:2] == ["output", "input_group"]
    del kept
    gc.collect()
    assert len(s.outputs) == 1


def test_markdown_dedents_and_code_fences(s: FakeSession) -> None:
    put_markdown(
        """
        # Title
          indented
        """
    )
    put_code("a ``` b", language="python", rows=3)
    md, code = s.outputs
    assert md["content"] == "# Title\n  indented"
    assert md["sanitize"] is True
    assert code["content"].startswith("````python\n") and code["content"].endswith("\n````")
    assert "max-height" in code["style"]


def test_put_html_accepts_repr_html(s: FakeSession) -> None:
    class Chart:
        def _repr_html_(self) -> str:
            return "<svg></svg>"

    put_html(Chart())
    assert s.outputs[0] == {
        "type": "html",
        "content": "<svg></svg>",
        "sanitize": False,
        "scope": "#pywebio-scope-ROOT",
        "position": -1,
    }


def test_table_with_header_span_and_widgets(s: FakeSession) -> None:
    put_table([[span("wide", col=2)], ["a", put_text("b")]], header=["x", span("y", row=1)])
    t = s.outputs[0]
    assert t["data"][0] == ["x", "y"]
    assert t["data"][1] == ["wide"]
    assert t["data"][2][1]["type"] == "text"
    assert t["span"] == {"0,1": {"row": 1, "col": 1}, "1,0": {"row": 1, "col": 2}}


def test_table_of_dicts(s: FakeSession) -> None:
    put_table([{"n": 1, "m": 2}, {"n": 3}], header=[("Name", "n"), ("More", "m")])
    assert s.outputs[0]["data"] == [["Name", "More"], ["1", "2"], ["3", ""]]


def test_buttons_send_indexes_and_call_back_with_values(s: FakeSession) -> None:
    got: list[Any] = []
    put_buttons(["a", ("B", {"k": 1}), {"label": "c", "value": 3, "color": "danger"}], onclick=got.append)
    spec = s.outputs[0]
    assert [b["value"] for b in spec["buttons"]] == [0, 1, 2]
    assert spec["buttons"][2]["color"] == "danger"
    s.click(spec["callback_id"], 1)
    s.click(spec["callback_id"], 2)
    assert got == [{"k": 1}, 3]


def test_buttons_with_a_list_of_callbacks_and_options(s: FakeSession) -> None:
    got: list[str] = []
    put_buttons(["x", "y"], onclick=[lambda: got.append("x"), lambda: got.append("y")], serial_mode=True)
    cid = s.outputs[0]["callback_id"]
    assert s.callback_options[cid]["serial_mode"] is True
    s.click(cid, 1)
    assert got == ["y"]
    with pytest.raises(ValueError):
        put_buttons(["x", "y"], onclick=[lambda: None])


def test_put_button_and_onclick(s: FakeSession) -> None:
    got: list[str] = []
    put_button("Go", onclick=lambda: got.append("go"), color="success", outline=True)
    put_text("click me").onclick(lambda: got.append("text"))
    b, t = s.outputs
    assert b["buttons"] == [{"label": "Go", "value": 0, "color": "success", "disabled": False}]
    assert b["outline"] is True
    s.click(b["callback_id"], 0)
    s.click(t["click_callback_id"])
    assert got == ["go", "text"]


def test_style_is_appended(s: FakeSession) -> None:
    put_text("x").style("color: red").style("margin: 0")
    assert s.outputs[0]["style"] == "color: red;margin: 0"


def test_put_image_bytes_pil_and_url(s: FakeSession) -> None:
    png = b"\x89PNG\r\n\x1a\nrest"

    class FakeImage:
        format = "GIF"

        def save(self, fp: io.BytesIO, format: str) -> None:
            fp.write(b"GIF89a" + format.encode())

    put_image(png, title="t<", width="10px")
    put_image(FakeImage())
    put_image("https://example.com/x.png")
    a, b, c = (o["content"] for o in s.outputs)
    assert a.startswith('<img src="data:image/png;base64,' + base64.b64encode(png).decode())
    assert 'alt="t&lt;"' in a and 'width="10px"' in a
    assert "data:image/gif;base64," in b
    assert 'src="https://example.com/x.png"' in c


def test_put_file_downloads_on_click(s: FakeSession) -> None:
    put_file("r.txt", b"data", label="Get it")
    spec = s.outputs[0]
    assert spec["buttons"][0]["label"] == "Get it" and spec["link"] is True
    s.click(spec["callback_id"], 0)
    assert s.of("download") == [{"name": "r.txt", "content": base64.b64encode(b"data").decode()}]


def test_put_link(s: FakeSession) -> None:
    put_link("a <b>", url="https://x.test/?a=1&b=2", new_window=True)
    put_link("app", app="other")
    assert s.outputs[0]["content"] == (
        '<a href="https://x.test/?a=1&amp;b=2" target="_blank" rel="noopener">a &lt;b&gt;</a>'
    )
    assert "WebIO.openApp(&quot;other&quot;, false)" in s.outputs[1]["content"]
    with pytest.raises(ValueError):
        put_link("x")


def test_scopes(s: FakeSession) -> None:
    with use_scope("box", clear=True) as name:
        assert name == "box"
        put_text("in box")
    set_scope("side", container_scope="box", position=0, if_exist="remove")
    clear("side")
    scroll_to("side", position="middle")
    remove("side")
    ctl = s.of("output_ctl")
    assert ctl[0] == {
        "set_scope": "pywebio-scope-box",
        "container": "#pywebio-scope-ROOT",
        "position": -1,
        "if_exist": "blank",
    }
    assert s.outputs[0]["scope"] == "#pywebio-scope-box"
    assert ctl[1] == {"loose": "#pywebio-scope-box"}
    assert ctl[2]["container"] == "#pywebio-scope-box" and ctl[2]["if_exist"] == "remove"
    assert ctl[3:] == [
        {"clear": "#pywebio-scope-side"},
        {"scroll_to": "#pywebio-scope-side", "position": "middle"},
        {"remove": "#pywebio-scope-side"},
    ]
    assert s.scopes == ["ROOT"]
    with pytest.raises(ValueError):
        remove("ROOT")
    with pytest.raises(ValueError):
        use_scope("bad name")


def test_use_scope_decorator_and_random_name(s: FakeSession) -> None:
    @use_scope("deco")
    def show() -> str:
        put_text("x")
        return output.get_scope() or ""

    assert show() == "deco"
    with use_scope() as name:
        assert len(name) == 10
    assert s.outputs[0]["scope"] == "#pywebio-scope-deco"


def test_use_scope_without_creating(s: FakeSession) -> None:
    with use_scope("old", clear=True, create_scope=False):
        pass
    assert s.of("output_ctl") == [{"clear": "#pywebio-scope-old"}]


def test_put_scope_and_context_managers(s: FakeSession) -> None:
    put_scope("named", [put_text("a")])
    with put_scope("ctx"):
        put_text("inside")
    with put_collapse("More") as inner:
        put_text("hidden")
    named, _ctx, inside, coll, hidden = s.outputs
    assert named["dom_id"] == "pywebio-scope-named" and named["contents"][0]["content"] == "a"
    assert inside["scope"] == "#pywebio-scope-ctx"
    assert coll["container_dom_id"] == f"pywebio-scope-{inner}"
    assert coll["container_selector"] == ".webio-collapse-body"
    assert hidden["scope"] == f"#pywebio-scope-{inner}"


def test_loading_context_manager_removes_spinner(s: FakeSession) -> None:
    with put_loading(shape="grow", color="primary"):
        put_text("working")
    spinner = s.outputs[0]
    assert spinner["type"] == "loading" and spinner["shape"] == "grow"
    assert s.of("output_ctl") == [{"remove": "#" + spinner["container_dom_id"]}]
    with pytest.raises(ValueError):
        put_loading(shape="square")


def test_alerts_collapse_tabs_scrollable_widget(s: FakeSession) -> None:
    put_info("i", put_text("t"), closable=True)
    put_success("s")
    put_warning("w")
    put_error("e")
    put_collapse("title", "body", open=True)
    put_tabs([{"title": "A", "content": "a"}, {"title": "B", "content": [put_text("b"), "c"]}])
    put_scrollable(["x"], height=(100, 200), keep_bottom=True)
    put_widget(
        "<b>{{name}}</b>{{#items}}{{& pywebio_output_parse}}{{/items}}",
        {"name": "n", "items": [put_text("x")]},
    )
    info, succ, warn, err, coll, tabs, scroll, widget = s.outputs
    assert (info["type"], info["color"], info["closable"]) == ("alert", "info", True)
    assert info["contents"] == ["i", {"type": "text", "content": "t", "inline": False}]
    assert [succ["color"], warn["color"], err["color"]] == ["success", "warning", "danger"]
    assert coll == {
        "type": "collapse",
        "title": "title",
        "contents": ["body"],
        "open": True,
        "scope": "#pywebio-scope-ROOT",
        "position": -1,
    }
    assert tabs["tabs"][0] == {"title": "A", "content": "a"}
    assert tabs["tabs"][1]["content"][0]["type"] == "text"
    assert (scroll["min_height"], scroll["max_height"], scroll["keep_bottom"]) == (100, 200, True)
    assert widget["data"]["items"][0]["type"] == "text"


def test_grid_and_column(s: FakeSession) -> None:
    put_grid([[put_text("a"), span("b", col=2)], ["c", None]], cell_width="100px")
    put_column(["x", "y"], size="auto 1fr")
    grid, col = s.outputs
    assert "grid-template-columns: repeat(3, 100px)" in grid["css"]
    assert grid["item_css"][1] == "grid-row-start: span 1; grid-column-start: span 2;"
    assert grid["contents"][3] == ""
    assert col["css"] == "grid-auto-flow: row; grid-template-rows: auto 1fr;"


def test_processbar(s: FakeSession) -> None:
    put_processbar("job", init=0.2, label="starting", auto_close=True)
    set_processbar("job", 0.5)
    assert s.outputs[0] == {
        "type": "progressbar",
        "name": "job",
        "value": 0.2,
        "label": "starting",
        "auto_close": True,
        "scope": "#pywebio-scope-ROOT",
        "position": -1,
    }
    assert s.of("progressbar_update") == [{"name": "job", "value": 0.5, "label": None}]


def test_toast_and_popup(s: FakeSession) -> None:
    got: list[int] = []
    toast("hi", duration=0, position="right", color="error", onclick=lambda: got.append(1))
    spec = s.of("toast")[0]
    assert (spec["duration"], spec["position"], spec["color"]) == (0, "right", "#e53935")
    s.click(spec["callback_id"])
    assert got == [1]
    popup("Title", [put_text("body"), "text"], size="large")
    with popup("Ctx") as name:
        put_text("in popup")
    close_popup()
    p1, p2 = s.of("popup")
    assert p1["content"][0]["content"] == "body" and p1["size"] == "large"
    assert p2["dom_id"] == f"pywebio-scope-{name}"
    assert s.outputs[-1]["scope"] == f"#pywebio-scope-{name}"
    assert s.commands[-1]["command"] == "close_popup"


def test_output_handler(s: FakeSession) -> None:
    o = output.output("first")
    put_table([["cell", o]])
    o.append("more")
    o.reset(put_text("new"))
    o.insert(0, "top")
    table = s.outputs[0]
    holder = table["data"][0][1]
    assert holder["type"] == "scope" and holder["contents"] == ["first"]
    assert s.outputs[1]["scope"] == "#" + holder["dom_id"]
    assert {"clear": "#" + holder["dom_id"]} in s.of("output_ctl")
    assert s.outputs[-1]["position"] == 0


def test_output_is_not_lost_in_another_thread(s: FakeSession) -> None:
    """An Output finalised in a thread with no session still goes to its own session."""
    import threading

    holder = [put_text("from main")]
    t = threading.Thread(target=holder.clear)
    t.start()
    t.join()
    assert [o["content"] for o in s.outputs] == ["from main"]


def test_output_outside_a_session_raises_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    from pywebio.exceptions import SessionNotFoundException

    with caplog.at_level("DEBUG", "pywebio"), pytest.raises(SessionNotFoundException):
        put_text("nobody is listening")
    gc.collect()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]


def test_output_in_a_closed_session_raises(s: FakeSession) -> None:
    """An app looping on output ends when the user leaves (the error is not lost in __del__)."""
    from pywebio.exceptions import SessionClosedException

    s.close()
    with pytest.raises(SessionClosedException):
        put_text("anyone?")


def test_put_datatable_degrades_to_a_table(s: FakeSession) -> None:
    output.put_datatable([{"a": 1, "b": "x"}, {"a": 2, "c": True}], height=200)
    box = s.outputs[0]
    assert box["type"] == "scrollable" and box["max_height"] == 200
    table = box["contents"][0]
    assert table["data"] == [["a", "b", "c"], ["1", "x", ""], ["2", "", "True"]]
