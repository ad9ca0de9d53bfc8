"""Class generation, classification, state kept in Python and the replay plan; no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pgwidgets_js
import pytest

from pgwidgets import defs
from pgwidgets.async_ import Application, Session, Widget, WidgetDestroyed, Widgets
from pgwidgets.classify import Kind, classify


def compact(messages: list[dict[str, Any]]) -> list[str]:
    """One short line per message, ids left out: the shape a golden trace compares."""
    out = []
    for m in messages:
        kind = m["type"]
        args = [a.wid if isinstance(a, Widget) else a for a in m.get("args", [])]
        if kind == "create":
            out.append(f"create {m['wid']} {m['class']} {args}")
        elif kind == "call":
            out.append(f"call {m['wid']} {m['method']} {args}")
        elif kind == "listen":
            out.append(f"listen {m['wid']} {m['action']}")
        elif kind == "reconstruct-start":
            out.append(f"reconstruct-start {m['next_wid']}")
        else:
            out.append(kind)
    return out


@pytest.fixture
def session() -> Session:
    return Application().create_session()


def test_one_class_per_definition_shared_everywhere(session: Session) -> None:
    assert set(Widgets) == set(defs.WIDGETS)
    assert session.get_widgets().Button.cls is Widgets.Button  # one class object, not one per app
    for name, defn in defs.WIDGETS.items():
        cls = getattr(Widgets, name)
        assert cls._js_class == name
        for method in defn["methods"]:
            assert hasattr(cls, method), f"{name}.{method}"


def test_generated_methods_are_named_and_documented() -> None:
    assert Widgets.Button.set_text.__name__ == "set_text"
    assert "text" in (Widgets.Button.set_text.__doc__ or "")
    assert not hasattr(Widgets.Timer, "resize")  # callback-based: no visual methods


@pytest.mark.parametrize(
    ("cls", "method", "kind", "key"),
    [
        ("Button", "set_text", Kind.SETTER, "text"),
        ("Button", "get_text", Kind.GETTER, "text"),
        ("Button", "get_position", Kind.QUERY, None),
        ("TreeView", "get_selected", Kind.QUERY, None),
        ("VBox", "insert_widget", Kind.ATTACH, None),
        ("TopLevel", "set_widget", Kind.REPLACE, None),
        ("Menu", "add_name", Kind.FACTORY, None),
        ("ToolBar", "add_spacer", Kind.LAYOUT, None),
        ("ComboBox", "append_text", Kind.CONTENT, None),
        ("TreeView", "set_cell_color", Kind.CONTENT, None),
        ("Button", "set_cursor", Kind.SETTER, "cursor"),
        ("Button", "show", Kind.SHOW, "visible"),
        ("Dialog", "popup", Kind.ACTION, None),
    ],
)
def test_classification(cls: str, method: str, kind: Kind, key: str | None) -> None:
    methods = {**defs.CONTAINER_METHODS, **defs.WIDGETS[cls]["methods"]}
    spec = classify(cls, method, methods[method], methods)
    assert (spec.kind, spec.key) == (kind, key)


def test_the_base_class_cannot_be_instantiated(session: Session) -> None:
    with pytest.raises(TypeError, match="base class"):
        Widget(session)


async def test_headless_state_getters_and_kwargs(session: Session) -> None:
    W = session.get_widgets()
    btn = await W.Button("Go", tooltip="press me")
    assert btn.get_text() == "Go"
    assert btn.get_tooltip() == "press me"
    await btn.set_text("Stop")
    assert btn.get_text() == "Stop"
    entry = await W.TextEntry()
    assert entry.get_text() == ""
    await btn.set_font(size=14)  # kwargs fill their slots
    assert btn.get_state()["font"] == (None, 14)
    with pytest.raises(TypeError, match="unexpected keyword"):
        await btn.set_text(colour="red")
    with pytest.raises(TypeError, match="unexpected keyword argument 'nosuch'"):
        await W.Label("x", nosuch=1)
    assert await btn.get_position() is None  # a browser query, no browser


async def test_not_awaited_or_destroyed_widgets_fail_clearly(session: Session) -> None:
    W = session.get_widgets()
    lazy = W.Button("never awaited")
    with pytest.raises(WidgetDestroyed, match="use await"):
        await lazy.set_text("x")
    btn = await W.Button("x")
    await btn.destroy()
    with pytest.raises(WidgetDestroyed, match="destroyed"):
        await btn.set_text("y")


async def test_golden_replay_of_the_spec_build(session: Session) -> None:
    """Spec §2.10's build, replayed for a reconnecting browser (our order: create, changed
    state, children in attach order, listens; deferred state; show last)."""
    W = session.get_widgets()
    top = await W.TopLevel(resizable=True, title="Hello")
    await top.resize(400, 300)
    vbox = await W.VBox()
    await vbox.set_spacing(8)
    await vbox.set_padding(10)
    btn = await W.Button("Click me")
    label = await W.Label("Ready")
    await btn.on("activated", lambda: None)
    await vbox.add_widget(btn, 0)
    await vbox.add_widget(label, 1)
    await top.set_widget(vbox)
    await top.show()
    timer = await session.make_timer(duration=0.3)
    await timer.on("expired", lambda d: None)
    await label.set_text("changed")
    assert [w.wid for w in session.walk_widget_tree()] == [1, 2, 3, 4, 5]  # headless: no browser ids
    assert compact(session.replay_messages()) == [
        "reconstruct-start 6",
        "create 1 TopLevel [{'resizable': True, 'title': 'Hello'}]",
        "call 1 resize [400, 300]",
        "create 2 VBox []",
        "call 2 set_spacing [8]",
        "call 2 set_padding [10]",
        "create 3 Button ['Click me']",
        "listen 3 activated",
        "call 2 add_widget [3, 0]",
        "create 4 Label ['Ready']",
        "call 4 set_text ['changed']",
        "call 2 add_widget [4, 1]",
        "call 1 set_widget [2]",
        "listen 1 window-state",
        "listen 1 move",
        "call 1 show []",
        "reconstruct-end",
    ]


async def test_replay_fixes_the_originals_bugs(session: Session, tmp_path: Path) -> None:
    W = session.get_widgets()
    box = await W.VBox()
    a, b, c = await W.Label("a"), await W.Label("b"), await W.Label("c")
    await box.add_widget(a, 0)
    await box.add_widget(c, 0)
    await box.insert_widget(1, b, 0)  # ⚑1: original argument positions
    dialog = await W.Dialog("Gone", [["OK", 1]])
    await dialog.show()
    await dialog.destroy()  # ⚑2: not resurrected
    icon = tmp_path / "icon.png"
    icon.write_bytes(b"\x89PNG fake")
    btn = await W.Button("i")
    await btn.set_icon(str(icon))  # ⚑3: replayed as a data URI, not a path
    await btn.add_cursor("hand", str(icon), 1, 2)  # ⚑4: cursors replayed
    await btn.set_cursor("hand")
    trace = compact(session.replay_messages())
    assert f"call {box.wid} insert_widget [1, {b.wid}, 0]" in trace
    assert not any("Dialog" in line for line in trace)
    [set_icon] = [m for m in session.replay_messages() if m.get("method") == "set_icon"]
    assert set_icon["args"][0].startswith("data:image/png;base64,")
    methods = [m.get("method") for m in session.replay_messages() if m.get("wid") == btn.wid]
    assert methods.index("add_cursor") < methods.index("set_cursor")


async def test_children_move_and_detach(session: Session) -> None:
    W = session.get_widgets()
    top = await W.TopLevel()
    first, second = await W.Label("1"), await W.Label("2")
    await top.set_widget(first)
    await top.set_widget(second)  # the old child goes back to the roots
    assert first.parent is None and second.parent is top
    roots = [w for w in session.walk_widget_tree() if w.parent is None]
    assert first in roots
    box = await W.HBox()
    await box.add_widget(first)
    await box.remove(first, True)
    assert not first.alive and session.get_widget(first.wid or 0) is None


async def test_menus_get_server_ids_and_replay(session: Session) -> None:
    W = session.get_widgets()
    bar = await W.MenuBar()
    file_menu = await bar.add_name("File")
    quit_item = await file_menu.add_name("Quit")
    await file_menu.add_separator()
    assert bar.get_menu("File") is file_menu
    assert isinstance(quit_item, Widgets.MenuAction)
    trace = compact(session.replay_messages())
    assert trace.index(f"create {file_menu.wid} Menu []") < trace.index(
        f"call {bar.wid} add_menu [{file_menu.wid}, 'File']"
    )
    assert f"call {file_menu.wid} add_separator []" in trace


async def test_combobox_items_and_clear(session: Session) -> None:
    W = session.get_widgets()
    combo = await W.ComboBox()
    for text in ("a", "b"):
        await combo.append_text(text)
    await combo.set_index(1)
    assert compact(session.replay_messages())[2:] == [
        f"call {combo.wid} append_text ['a']",
        f"call {combo.wid} append_text ['b']",
        f"listen {combo.wid} activated",
        f"listen {combo.wid} modified",
        f"call {combo.wid} set_index [1]",  # after the items exist
        "reconstruct-end",
    ]
    await combo.clear()
    assert combo.get_index() == -1
    assert not any("append_text" in line for line in compact(session.replay_messages()))


def test_static_assets_exist() -> None:
    static = Path(pgwidgets_js.get_static_path())
    for name in ("Widgets.js", "Widgets.css", "modules/RemoteInterface.js", "icons/pgicon.svg"):
        assert (static / name).is_file(), name


def test_application_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="concurrency_handling must be one of"):
        Application(concurrency_handling="threads")
    with pytest.raises(ValueError, match="max_sessions"):
        Application(max_sessions=0)
    app = Application()
    assert app.create_session().id == 1
    app.create_session(2)
    assert app.create_session().id == 3  # auto ids skip taken ones
    with pytest.raises(ValueError, match="'x' already exists"):
        app.create_session("x") and app.create_session("x")


def test_the_documented_widget_list_is_current() -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "gen_widget_list.py"
    doc = Path(__file__).resolve().parents[3] / "docs" / "pgwidgets.md"
    if not doc.is_file():
        pytest.skip("not in the repository")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


async def test_reported_sizes_do_not_creep(session: Session) -> None:
    """Spec §2.10: a resizable TopLevel reported 402x302 after a rebuild and grew each time."""
    W = session.get_widgets()
    top = await W.TopLevel(resizable=True)
    await top.resize(400, 300)
    await top.on("resize", lambda size: None)
    top._auto_sync("resize", [{"width": 402, "height": 302}])  # what the browser reports
    [resize] = [m for m in session.replay_messages() if m.get("method") == "resize"]
    assert resize["args"] == [400, 300]


async def test_window_positions_are_kept(session: Session) -> None:
    top = await session.get_widgets().TopLevel(title="moved")
    assert top._auto_sync("move", [120, 80]) == ("set_position", [120, 80])
    assert f"call {top.wid} set_position [120, 80]" in compact(session.replay_messages())


def test_the_documented_api_exists() -> None:
    """Every symbol, signature and default of the seed's pgwidgets.async_ reference."""
    import inspect

    from pgwidgets.async_ import application, widget

    params = inspect.signature(application.Application.__init__).parameters
    documented = {
        "ws_port": 9500,
        "http_port": 9501,
        "host": "127.0.0.1",
        "http_server": True,
        "concurrency_handling": "per_session",
        "max_sessions": 1,
        "logger": None,
    }
    assert list(params)[1:8] == list(documented)
    assert {name: params[name].default for name in documented} == documented
    for name in ("on_connect", "on_disconnect", "set_favicon", "create_session", "start", "close", "run"):
        assert callable(getattr(application.Application, name)), name
    for name in ("start", "close", "run"):
        assert inspect.iscoroutinefunction(getattr(application.Application, name)), name
    for prop in ("sessions", "static_path", "remote_html"):
        assert isinstance(getattr(application.Application, prop), property), prop
    assert list(inspect.signature(application.Application.create_session).parameters) == [
        "self",
        "session_id",
    ]

    session_params = inspect.signature(application.Session.__init__).parameters
    assert (
        list(session_params) == ["self", "app", "session_id", "ws"] and session_params["ws"].default is None
    )
    for prop in ("id", "app", "token", "is_connected", "connections"):
        assert isinstance(getattr(application.Session, prop), property), prop
    for name in ("add_connection", "remove_connection", "get_widgets", "walk_widget_tree"):
        assert callable(getattr(application.Session, name)), name
    for name in ("make_timer", "reconstruct", "close"):
        assert inspect.iscoroutinefunction(getattr(application.Session, name)), name
    assert inspect.signature(application.Session.make_timer).parameters["duration"].default == 0

    for prop in ("session", "app"):
        assert isinstance(getattr(widget.Widget, prop), property), prop
    for name in ("on", "add_callback", "add_cursor", "destroy"):
        assert inspect.iscoroutinefunction(getattr(widget.Widget, name)), name
    cursor = inspect.signature(widget.Widget.add_cursor).parameters
    assert (
        list(cursor) == ["self", "name", "url", "hotspot_x", "hotspot_y", "size"]
        and cursor["size"].default is None
    )
