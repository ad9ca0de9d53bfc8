"""TreeView and TableView: the Python-side model of their content and its replay.

What the page would do with each call is derived from pgwidgets-js 0.4 (modules/TreeView.js and
TableView.js); tests/test_pgwidgets_tree_browser.py checks the same replays against the real page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pgwidgets.async_ import Application, Session, Widget

from .conftest import FakeBrowser
from .test_app import trace

NAME_SIZE = [{"label": "Name", "key": "name"}, {"label": "Size", "key": "size", "type": "int"}]


def replayed(session: Session, w: Widget) -> list[tuple[str, list[Any]]]:
    """The calls a rebuilt page gets for ``w`` after its ``create`` (a batch unpacked)."""
    out: list[tuple[str, list[Any]]] = []
    for m in session.replay_messages():
        if m["type"] == "batch":
            out += [(c["method"], c["args"]) for c in m["calls"] if c["wid"] == w.wid]
        elif m["type"] == "call" and m["wid"] == w.wid:
            out.append((m["method"], m["args"]))
    return out


def colours(session: Session, w: Widget) -> Any:
    [spec] = [args[0] for method, args in replayed(session, w) if method == "set_colors"] or [None]
    return spec


async def until(cond: Callable[[], bool], what: str) -> None:
    for _ in range(250):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def rebuilt(app: Application, b: FakeBrowser, browser_factory: Any) -> FakeBrowser:
    again: FakeBrowser = await browser_factory(app, session_id=b.session_id, token=b.token)
    await again.wait_for(lambda: "reconstruct-end" in trace(again.log), "the rebuild")
    return again


# the replay is bounded by the state, not by the history ------------------------------------------


async def test_a_thousand_updates_replay_as_the_current_rows(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    b = await browser_factory(app)
    session = app.sessions[b.session_id]
    W = session.get_widgets()
    cols = [{"label": "Host", "key": "host"}, {"label": "Load", "key": "load", "type": "int"}]
    tree = await W.TreeView(columns=cols)
    table = await W.TableView(columns=cols)
    await tree.set_tree({"hosts": {"alpha": {"load": 0}, "beta": {"load": 0}}})
    await table.set_data([["alpha", 0], ["beta", 0]])
    for i in range(1000):
        await tree.update_tree(
            {"hosts": {"alpha": {"load": i}, "beta": {"load": i % 7}, "gamma": {"load": -i}}}
        )
        await tree.set_cell(["hosts", "beta"], "host", f"beta #{i}")  # update_tree drops it again
        await table.update_rows([["alpha", i], ["beta", 2 * i], ["gamma", 1]])
        await table.set_cell(["row0"], "load", i + 1)
    await b.wait_for(lambda: len(b.widgets[table.wid].calls) == 2001, "the calls")
    await b.close()

    again = await rebuilt(app, b, browser_factory)
    assert again.widgets[tree.wid].calls == [
        (
            "set_tree",
            [
                {
                    "hosts": {
                        "alpha": {"load": 999},
                        "beta": {"load": 5, "host": "beta #999"},
                        "gamma": {"load": -999},
                    }
                }
            ],
        )
    ]
    assert again.widgets[table.wid].calls == [
        (
            "set_data",
            [[{"host": "alpha", "load": 1000}, {"host": "beta", "load": 1998}, {"host": "gamma", "load": 1}]],
        )
    ]
    for w in (tree, table):  # the create, that call and the listens
        assert len([m for m in again.log if m.get("wid") == w.wid]) <= 8
    assert tree.get_tree()["hosts"]["beta"] == {"load": 5, "host": "beta #999"}
    assert table.get_data()[0] == {"host": "alpha", "load": 1000}


# each call as the page applies it ----------------------------------------------------------------


async def test_update_tree_drops_what_is_gone_and_keeps_what_survives() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree(
        {"docs": {"a": {"size": 1}, "b": {"size": 2, "name": "B"}}, "old": {"x": {"size": 0}}}
    )
    await tree.collapse_item(["docs"])
    await tree.set_cell_color(["old", "x"], "size", "red")  # its row goes: the colour with it
    await tree.set_cell_color(["docs", "a"], "size", None, "yellow")
    await tree.set_selected([["old", "x"], ["docs", "a"]])
    await tree.update_tree({"docs": {"a": {"size": 10}, "b": {"size": 3}, "c": {"size": 4}}})
    # values are replaced, not merged ("name" is gone from b); c comes last; docs stays collapsed
    final = {"docs": {"a": {"size": 10}, "b": {"size": 3}, "c": {"size": 4}}}
    assert tree.get_tree() == final
    assert replayed(session, tree) == [
        ("set_tree", [final]),
        ("collapse_item", [["docs"]]),
        ("set_colors", [{"cells": [{"path": ["docs", "a"], "col_key": "size", "bg": "yellow"}]}]),
        ("set_selected", [[["docs", "a"]]]),
    ]


async def test_add_tree_replaces_same_keys_at_the_end_and_a_leaf_that_gets_children_is_collapsed() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"a": {"x": {"size": 1}}, "b": {"size": 2}})
    await tree.add_tree({"a": {"y": {"size": 5}}, "c": {"size": 3}})  # a: replaced whole, moved last
    await tree.add_tree({"z": {"size": 9}}, ["c"])  # under the leaf c
    final = {"b": {"size": 2}, "a": {"y": {"size": 5}}, "c": {"__values__": {"size": 3}, "z": {"size": 9}}}
    assert tree.get_tree() == final and list(tree.get_tree()) == ["b", "a", "c"]
    assert replayed(session, tree) == [("set_tree", [final]), ("collapse_item", [["c"]])]


async def test_delete_tree_descends_and_prunes_empty_branches() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"f": {"g": {"h": {"size": 1}}, "i": {"size": 2}}, "j": {"size": 3}})
    await tree.delete_tree({"f": {"g": {"h": {}}}})  # g is left empty: pruned too
    assert tree.get_tree() == {"f": {"i": {"size": 2}}, "j": {"size": 3}}
    await tree.delete_tree({"f": {"i": {}}}, False)  # f is left empty and stays
    assert tree.get_tree() == {"f": {}, "j": {"size": 3}}
    await tree.delete_tree({"j": {"nothing": {}}})  # j has no children to descend into: it goes
    assert tree.get_tree() == {"f": {}}
    assert replayed(session, tree) == [("set_tree", [{"f": {}}])]


async def test_tree_rows_take_free_automatic_keys_and_go_before_a_key() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"row1": {"name": "x"}})
    await tree.insert_row(["a", 1])  # row1 is taken: row2
    await tree.insert_row({"name": "b"}, "k", "row1")
    await tree.append_row(["c"])  # three rows: row3
    await tree.delete_row("row1")
    await tree.delete_row(["k"])
    assert tree.get_tree() == {"row2": {"name": "a", "size": 1}, "row3": {"name": "c"}}
    assert list(tree.get_tree()) == ["row2", "row3"]


async def test_table_positions_count_the_rows_as_shown_when_sorted() -> None:
    session = Application().create_session()
    table = await session.get_widgets().TableView(
        columns=[{"label": "Host", "key": "host"}, {"label": "Load", "key": "load", "type": "int"}]
    )
    await table.set_data([["a", 5], ["b", 1], ["c", 3]])
    await table.sort_by_column("load")  # shown: b 1, c 3, a 5
    await table.insert_row(1, ["d", 2])  # before c, the second row shown
    await table.delete_row(0)  # b, the first row shown
    await table.delete_row(7)  # past the end: nothing
    rows = {
        "row0": {"host": "a", "load": 5},
        "row3": {"host": "d", "load": 2},
        "row2": {"host": "c", "load": 3},
    }
    assert table.get_data() == list(rows.values())
    assert replayed(session, table) == [("set_tree", [rows]), ("sort_by_column", ["load", True])]


async def test_a_position_under_a_text_sort_falls_back_to_the_calls_until_the_next_reset() -> None:
    session = Application().create_session()
    table = await session.get_widgets().TableView(
        columns=[{"label": "Host", "key": "host"}, {"label": "Load", "key": "load", "type": "int"}]
    )
    await table.set_data([["b", 1], ["a", 2]])
    await table.sort_by_column("host", False)
    await table.delete_row(0)  # the row shown first: the browser's collation decides which
    await table.set_cell(["row0"], "load", 5)
    assert replayed(session, table) == [
        ("set_data", [[{"host": "b", "load": 1}, {"host": "a", "load": 2}]]),
        ("sort_by_column", ["host", False]),
        ("delete_row", [0]),  # replayed as such: the rebuilt page picks the same row
        ("set_cell", [["row0"], "load", 5]),
    ]
    await table.set_data([["x", 1]])  # the rows start over: exact again
    assert replayed(session, table) == [
        ("set_data", [[{"host": "x", "load": 1}]]),
        ("sort_by_column", ["host", False]),
    ]


async def test_keys_come_back_in_their_order_even_where_a_json_object_cannot_hold_it() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"b": {}, "a": {}})
    await tree.update_tree({"b": {}, "a": {}, "10": {}, "9": {}})  # the page takes "9", "10" first
    await tree.add_item(None, 5, {"name": "five"})  # a number key, as add_item keeps it
    assert list(tree.get_tree()) == ["b", "a", "9", "10", "5"]
    assert replayed(session, tree) == [
        ("add_tree", [{"b": {}, "a": {}}, None]),
        ("add_tree", [{"9": {}, "10": {}}, None]),  # a JSON object would list "9", "10" before "b"
        ("add_item", [None, 5, {"name": "five"}]),
    ]


async def test_colour_layers_and_what_clear_keeps() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"r": {"name": "x"}, "s": {"name": "y"}})
    await tree.set_cell_color(["r"], "name", "red")
    await tree.set_row_color(["s"], None, "blue")
    await tree.set_column_color("name", None, None, True)
    await tree.set_table_color("gray")
    await tree.set_cell_color(["r"], "name", None, None, None)  # nothing set: the override goes
    await tree.set_colors(
        {
            "cells": [{"path": ["s"], "col_key": "name", "fg": "green"}],
            "rows": [{"path": ["nope"], "bg": "x"}],
        }
    )
    await tree.clear_row_color(["s"])
    column_and_table = {"columns": [{"col_key": "name", "bold": True}], "table": {"fg": "gray"}}
    assert colours(session, tree) == {
        "cells": [{"path": ["s"], "col_key": "name", "fg": "green"}],
        **column_and_table,
    }
    await tree.clear()  # cell and row colours go with the rows; column and table ones stay
    await tree.set_tree({"r": {"name": "x"}})
    assert colours(session, tree) == column_and_table
    await tree.set_colors({"clear": True, "rows": [{"path": ["r"], "fg": "red"}]})
    assert colours(session, tree) == {"rows": [{"path": ["r"], "fg": "red"}]}


async def test_column_changes_come_back_as_one_set_columns() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=["A", {"label": "B", "key": "b", "type": "int"}])
    await tree.sort_by_column("b", False)
    await tree.append_column("C")  # an automatic key from the column count: _col2
    await tree.insert_column({"label": "D", "type": "float"}, "b")  # _col3, before b
    await tree.set_column_width("_col2", 80)
    await tree.set_column_editable("_col0", True)
    await tree.delete_column("b")  # and the sort by it
    await tree.set_tree({"r": {"_col0": "x", "b": 1}})
    assert [c["key"] for c in tree.get_columns()] == ["_col0", "_col3", "_col2"]
    assert replayed(session, tree) == [
        (
            "set_columns",
            [
                [
                    {"label": "A", "type": "string", "key": "_col0", "editable": True, "halign": "left"},
                    {"label": "D", "type": "float", "key": "_col3", "editable": False, "halign": "right"},
                    {
                        "label": "C",
                        "type": "string",
                        "key": "_col2",
                        "editable": False,
                        "halign": "left",
                        "colwidth": "80px",
                    },
                ]
            ],
        ),
        ("set_tree", [{"r": {"_col0": "x", "b": 1}}]),
    ]
    await tree.delete_column("_col3")
    assert tree.get_tree() == {"r": {"_col0": "x", "b": 1}}


async def test_the_top_level_keeps_its_order_when_the_sort_is_turned_off() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    rows = {"b": {"size": 2}, "a": {"size": 1}, "c": {"size": 3}}
    await tree.set_tree(rows)
    await tree.sort_by_column("size", False)
    await tree.sort_by_column(None)  # the page clears every sorted view but the top level's
    for i in range(50):  # the same rows, the same sizes: the order stays what the page shows
        await tree.update_tree({k: {"size": v["size"], "name": f"{k}{i}"} for k, v in rows.items()})
    named = {k: {"size": v["size"], "name": f"{k}49"} for k, v in rows.items()}
    assert replayed(session, tree) == [
        ("set_tree", [named]),
        ("sort_by_column", ["size", False]),
        ("sort_by_column", [None]),
    ]
    await tree.set_cell(["a"], "size", 9)  # no longer the order a sort by size gives: the calls
    assert replayed(session, tree)[-1] == ("set_cell", [["a"], "size", 9])
    await tree.add_item(None, "d", {"size": 0})  # the page drops that order: the model is exact again
    assert replayed(session, tree) == [
        ("set_tree", [{**named, "a": {"size": 9, "name": "a49"}, "d": {"size": 0}}])
    ]


async def test_expansion_comes_back_also_for_an_empty_collapsed_branch() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"f": {"a": {}}, "g": {"x": {"size": 1}}, "p": {"q": {"r": {"size": 1}}}})
    await tree.collapse_item(["f"])
    await tree.remove_item(["f", "a"])  # f: empty and collapsed, which no dict-tree creates
    await tree.collapse_all()
    await tree.scroll_to_path(["p", "q", "r"])  # expands p and q
    await tree.expand_item(["g"])
    assert replayed(session, tree) == [
        ("set_tree", [{"f": {"\x00pgw": {}}, "g": {"x": {"size": 1}}, "p": {"q": {"r": {"size": 1}}}}]),
        ("collapse_item", [["f"]]),
        ("delete_tree", [{"f": {"\x00pgw": {}}}, False]),  # the placeholder child goes again
    ]


async def test_clear_and_set_tree_start_the_model_over() -> None:
    session = Application().create_session()
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"a": {"b": {"size": 1}}})
    await tree.collapse_item(["a"])
    await tree.set_row_color(["a", "b"], "red")
    await tree.select_path(["a", "b"])
    await tree.clear()
    assert replayed(session, tree) == [] and tree.get_tree() == {}
    await tree.set_tree({"n": {"size": 1}})
    assert replayed(session, tree) == [("set_tree", [{"n": {"size": 1}}])]
    copy = tree.get_tree()
    copy["n"]["size"] = 99  # a copy: the model is not touched
    assert tree.get_tree() == {"n": {"size": 1}}


# what the user does in the page ------------------------------------------------------------------


async def test_what_the_user_does_in_the_page_is_restored(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    b = await browser_factory(app)
    session = app.sessions[b.session_id]
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"f": {"a": {"size": 2}, "b": {"size": 1}}})
    await b.wait_for(
        lambda: {"collapsed", "sorted", "cell_edited", "selected"} <= b.widgets[tree.wid].listens, "listens"
    )
    await b.fire(tree.wid, "collapsed", None, ["f"])  # the toggle clicked
    await b.fire(tree.wid, "sorted", "size", False)  # the header clicked twice
    await b.fire(tree.wid, "cell_edited", ["f", "a"], "size", 2, 7)
    await b.fire(tree.wid, "selected", [{"path": ["f", "b"], "values": {"size": 1}}])
    await until(lambda: ("set_selected", [[["f", "b"]]]) in replayed(session, tree), "the events")
    assert replayed(session, tree) == [
        ("set_tree", [{"f": {"a": {"size": 7}, "b": {"size": 1}}}]),
        ("sort_by_column", ["size", False]),
        ("collapse_item", [["f"]]),
        ("set_selected", [[["f", "b"]]]),
    ]


async def test_the_pages_echo_of_a_call_does_not_undo_later_calls(
    make_app: Any, browser_factory: Any
) -> None:
    app: Application = await make_app()
    b = await browser_factory(app)
    session = app.sessions[b.session_id]
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"a": {}, "b": {"x": {}}})
    await tree.set_selected([["a"]])
    await tree.update_tree({"b": {"x": {}}})  # a goes: the page fires "selected" with []
    await tree.select_path(["b"])  # the page fires nothing for this one
    await b.fire(tree.wid, "selected", [])  # the first one's echo, arriving now
    await b.fire(tree.wid, "collapsed", None, ["b"])  # a real click, after it
    await until(lambda: ("collapse_item", [["b"]]) in replayed(session, tree), "the events")
    assert replayed(session, tree)[-1] == ("set_selected", [[["b"]]])


async def test_a_change_made_in_one_browser_reaches_the_other(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    first = await browser_factory(app)
    session = app.sessions[first.session_id]
    tree = await session.get_widgets().TreeView(columns=NAME_SIZE)
    await tree.set_tree({"f": {"a": {"size": 2}}})
    second = await rebuilt(app, first, browser_factory)
    await first.fire(tree.wid, "collapsed", None, ["f"])
    await first.fire(tree.wid, "cell_edited", ["f", "a"], "name", None, "A")
    await second.wait_for(
        lambda: ("set_cell", [["f", "a"], "name", "A"]) in second.widgets[tree.wid].calls, "the push"
    )
    pushed = [(m["method"], m["args"]) for m in second.log if m.get("silent")]  # silent: no echo
    assert pushed == [("collapse_item", [["f"]]), ("set_cell", [["f", "a"], "name", "A"])]
    assert ("collapse_item", [["f"]]) not in first.widgets[tree.wid].calls  # not back to its source
