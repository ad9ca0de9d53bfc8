"""TreeView and TableView end to end: a page rebuilt from the Python-side model shows what the page
that lived through the whole history shows (the real pgwidgets-js in headless Chromium).

The app runs through ``pgwidgets.sync``. Each test drives a long, varied history into one page, then
opens a second page on the same session (it gets the replay) and compares what both show: the rows
in order with their texts, indentation, toggles, colours and selection, the headers and column
widths (from the DOM), and what the page's own queries answer (``get_subtree``, ``get_expanded``,
``get_collapsed``, ``get_selected``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pgwidgets")
from pgw_support import wait_until

from pgwidgets.sync import Application

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


# what a page shows: the DOM of each TreeView/TableView, in page order, and its own queries
SHOWN = """async () => {
    const {Callback} = await import('/modules/Callback.js');
    const widgets = [...Callback._registry.values()];
    return [...document.querySelectorAll('.treeview-widget')].map(el => {
        const w = widgets.find(x => x.element === el);
        return {
            header_shown: el.querySelector('.treeview-header-clip').style.display !== 'none',
            headers: [...el.querySelectorAll('.treeview-header-cell')].map(c => c.textContent),
            widths: el.querySelector('.treeview-header').style.gridTemplateColumns,
            rows: [...el.querySelectorAll('.treeview-body .treeview-row')].map(r => ({
                selected: r.classList.contains('treeview-row-selected'),
                indent: r.querySelector('.treeview-indent').style.paddingLeft,
                toggle: r.querySelector('.treeview-toggle').textContent,
                cells: [...r.querySelectorAll('.treeview-cell')].map(c => [
                    c.textContent, c.style.color, c.style.backgroundColor, c.style.fontWeight,
                    c.style.gridColumn, c.classList.contains('treeview-cell-editable')]),
            })),
            subtree: JSON.stringify(w.get_subtree('all')),
            expanded: w.get_expanded(),
            collapsed: w.get_collapsed(),
            selected: w.get_selected().map(s => s.path),
        };
    });
}"""


def shown(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(SHOWN)  # type: ignore[no-any-return]


def same_as(page: Any, expected: list[dict[str, Any]]) -> None:
    """``page`` comes to show ``expected`` (it may still be rebuilding or applying pushes)."""
    try:
        wait_until(lambda: shown(page) == expected, "the same rows")
    except AssertionError:
        got = shown(page)
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            for key in a:
                assert a[key] == b[key], f"widget {i}: {key}"
        raise


def replay_size(session: Any, wid: int) -> tuple[int, int]:
    """(messages, calls) the replay sends for widget ``wid`` (a batch counts once, and its calls)."""
    msgs = calls = 0
    for m in session.async_session.replay_messages():
        if m["type"] == "batch":
            mine = [c for c in m["calls"] if c["wid"] == wid]
            msgs += bool(mine)
            calls += len(mine)
        elif m.get("wid") == wid:
            msgs += 1
            calls += m["type"] == "call"
    return msgs, calls


TREE_COLUMNS = [
    {"label": "Name", "key": "name", "editable": True},
    {"label": "Size", "key": "size", "type": "int"},
    {"label": "Flag", "key": "flag", "type": "bool"},
]
TABLE_COLUMNS = [
    {"label": "Host", "key": "host"},
    {"label": "Load", "key": "load", "type": "int", "editable": True},
    {"label": "Up", "key": "up", "type": "boolean"},
]


def two_views(state: dict[str, Any]) -> Callable[[Any], None]:
    def setup(session: Any) -> None:
        if state:
            return  # the second page joins the same session
        W = session.get_widgets()
        top = W.TopLevel(title="Views")
        top.resize(900, 800)
        box = W.VBox()
        tree = W.TreeView(columns=TREE_COLUMNS, sortable=True, selection_mode="multiple")
        table = W.TableView(columns=TABLE_COLUMNS, sortable=True, selection_mode="multiple")
        box.add_widget(tree, 1)
        box.add_widget(table, 1)
        top.set_widget(box)
        top.show()
        state.update(session=session, tree=tree, table=table)

    return setup


def varied_calls(tree: Any, table: Any, rng: random.Random, count: int) -> None:
    """``count`` valid calls of every kind, drawn with ``rng`` (paths from the current rows)."""
    keys = ["a", "b", "c", "x y", "2", "10"]

    def value() -> Any:
        return rng.choice(
            ["s" + str(rng.randint(0, 9)), rng.randint(-5, 30), str(rng.randint(0, 20)), True, None]
        )

    def values() -> dict[str, Any]:
        return {c: value() for c in rng.sample(["name", "size", "flag"], rng.randint(1, 3))}

    def subtree(depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in rng.sample(keys, rng.randint(1, 3)):
            out[k] = subtree(depth + 1) if depth < 2 and rng.random() < 0.4 else values()
        return out

    def path() -> list[Any]:  # a row the page has (from its own query)
        paths: list[list[Any]] = []

        def walk(d: dict[str, Any], prefix: list[Any]) -> None:
            for k, v in d.items():
                if k != "__values__":
                    paths.append([*prefix, k])
                    if isinstance(v, dict) and any(isinstance(x, dict) for x in v.values()):
                        walk(v, [*prefix, k])

        walk(tree.get_subtree("all") or {}, [])
        return rng.choice(paths) if paths else ["a"]

    def row() -> list[str]:
        return [f"row{rng.randint(0, 5)}"]

    calls: list[tuple[int, Callable[[], Any]]] = [
        (3, lambda: tree.update_tree(subtree())),
        (2, lambda: tree.add_tree(subtree(1), rng.choice([None, path()]))),
        (
            2,
            lambda: tree.add_item(
                rng.choice([None, path()]), rng.choice([*keys, 7]), rng.choice([values(), subtree(1)])
            ),
        ),
        (2, lambda: tree.remove_item(path())),
        (1, lambda: tree.remove_items([path(), path()])),
        (
            2,
            lambda: tree.delete_tree(
                {path()[0]: {}} if rng.random() < 0.5 else subtree(), rng.random() < 0.5
            ),
        ),
        (3, lambda: tree.collapse_item(path())),
        (2, lambda: tree.expand_item(path())),
        (1, lambda: rng.choice([tree.expand_all, tree.collapse_all])()),
        (4, lambda: tree.set_cell(path(), rng.choice(["name", "size", "flag"]), value())),
        (2, lambda: tree.insert_row(values(), rng.choice([None, *keys]), rng.choice([None, *keys]))),
        (1, lambda: tree.delete_row(rng.choice(keys))),
        (2, lambda: tree.sort_by_column(rng.choice(["size", "flag", "none"]), rng.random() < 0.5)),
        (
            3,
            lambda: tree.set_cell_color(
                path(), rng.choice(["name", "size"]), rng.choice([None, "red"]), "yellow"
            ),
        ),
        (2, lambda: tree.set_row_color(path(), "blue", rng.choice([None, "pink"]), rng.choice([None, True]))),
        (1, lambda: tree.clear_cell_color(path(), "name")),
        (2, lambda: tree.select_path(path(), rng.random() < 0.7)),
        (1, lambda: tree.scroll_to_path(path())),
        (
            3,
            lambda: table.update_rows(
                [[f"h{rng.randint(0, 9)}", rng.randint(0, 99), value()] for _ in range(rng.randint(2, 6))]
            ),
        ),
        (2, lambda: table.insert_row(rng.randint(0, 6), [f"new{rng.randint(0, 9)}", rng.randint(0, 99)])),
        (2, lambda: table.delete_row(rng.randint(0, 6))),
        (1, lambda: table.append_row([f"end{rng.randint(0, 9)}", rng.randint(0, 99), True])),
        (3, lambda: table.set_cell(row(), rng.choice(["host", "load", "up"]), value())),
        (2, lambda: table.sort_by_column(rng.choice(["load", "up"]), rng.random() < 0.5)),
        (
            2,
            lambda: table.set_cell_color(
                row(), rng.choice(["host", "load"]), "white", rng.choice(["green", "black"])
            ),
        ),
        (1, lambda: table.set_row_color(row(), None, "orange")),
        (1, lambda: table.set_selected([row(), row()])),
    ]
    weights = [w for w, _ in calls]
    for _ in range(count):
        rng.choices(calls, weights)[0][1]()


def test_a_second_page_rebuilds_the_same_tree_and_table(
    make_app: Callable[..., Application], browser: Any, page: Any
) -> None:
    app = make_app()
    state: dict[str, Any] = {}
    app.on_connect(two_views(state))
    app.start()
    page.goto(app.url)
    wait_until(lambda: "table" in state, "the views")
    session, tree, table = state["session"], state["tree"], state["table"]

    base = {
        "docs": {"a.txt": {"size": 3}, "b.txt": {"size": 1}, "c.txt": {"size": 2}, "old": {"x": {"size": 9}}},
        "pics": {"p1": {"size": 5, "flag": True}, "p2": {"size": 4}},
        "10": {"size": 0},
        "2": {"__values__": {"name": "two"}, "t": {"size": 7}},
    }
    tree.set_tree(base)
    table.set_data([["alpha", 5, True], ["beta", 1, False], ["gamma", 3, True]])
    with session.batch():  # a refresh every second for a while: one message here
        for i in range(250):
            tree.update_tree(
                {
                    "docs": {
                        "a.txt": {"size": i},
                        "b.txt": {"size": 1},
                        "c.txt": {"size": 2},
                        "old": {"x": {"size": 9}},
                    },
                    "pics": {"p1": {"size": 5, "flag": True}, "p2": {"size": i % 5}},
                    "10": {"size": 0},
                    "2": {"__values__": {"name": "two"}, "t": {"size": 7}},
                }
            )
            tree.set_cell(["pics", "p2"], "name", f"p2 #{i}")
            table.update_rows([["alpha", i, True], ["beta", 1, False], ["gamma", 3, i % 2 == 0]])
            table.set_cell(["row1"], "load", i)
    varied_calls(tree, table, random.Random(7), 150)
    tree.add_tree(base)  # those rows again (replaced whole), after what the random calls left
    # colours of every layer, some in one set_colors
    tree.set_cell_color(["docs", "a.txt"], "size", "rgb(255, 0, 0)", None, True)
    tree.set_row_color(["pics"], None, "rgb(0, 0, 255)")
    tree.set_column_color("flag", "rgb(0, 128, 0)")
    tree.set_table_color(None, "rgb(250, 250, 240)")
    with session.batch():
        table.set_cell_color(["row0"], "host", "rgb(1, 2, 3)", "rgb(200, 200, 0)")
        table.set_cell_color(["row2"], "load", None, "rgb(0, 200, 200)")
        table.set_row_color(["row1"], "rgb(9, 9, 9)")
    # columns
    tree.insert_column({"label": "Kind", "key": "kind", "colwidth": 60}, "size")
    tree.append_column("Note")
    tree.set_column_width("name", 150)
    tree.set_column_editable("size", True)
    tree.set_cell(["docs", "b.txt"], "kind", "text")
    table.append_column({"label": "Zone", "key": "zone"})
    table.delete_column("up")
    table.set_column_width("host", "9em")
    # rows
    table.insert_row(1, ["delta", 8])
    table.append_row(["epsilon", 2])
    table.delete_row(0)
    tree.insert_row({"name": "top"}, None, "pics")
    tree.add_item(["docs"], "d.txt", {"size": 11})
    tree.add_item(None, 42, {"name": "a number key"})
    # sorting, and what the page keeps unsorted
    tree.sort_by_column("size", False)
    table.sort_by_column("load", True)
    table.insert_row(0, ["zeta", 4])  # before the row shown first
    tree.delete_tree({"docs": {"c.txt": {}}})  # the page leaves docs in insertion order now
    tree.collapse_item(["docs", "old"])
    tree.remove_item(["docs", "old", "x"])  # an empty branch, collapsed
    tree.collapse_item(["2"])
    tree.select_paths([["pics", "p1"], ["docs", "b.txt"]])
    table.set_selected([["row2"]])

    # what the user does in the page
    trees = page.locator(".treeview-widget")
    trees.nth(0).locator(".treeview-row", has_text="pics").locator(".treeview-toggle-active").click()
    tree.get_row_count()  # the callback is in before the answer
    trees.nth(1).get_by_text("Load", exact=True).click()  # sorts the table by load
    table.get_row_count()
    trees.nth(1).locator(".treeview-cell-editable").first.dblclick()
    page.locator(".treeview-cell-editor").fill("77")
    page.locator(".treeview-cell-editor").press("Enter")
    table.get_row_count()

    first = shown(page)
    assert len(first) == 2 and len(first[0]["rows"]) >= 3 and len(first[1]["rows"]) >= 3
    for wid in (tree.wid, table.wid):  # about 1,500 calls made: the replay is the state, not them
        msgs, calls = replay_size(session, wid)
        assert msgs <= 10 and calls <= 25, (msgs, calls)

    other_context = browser.new_context()
    try:
        other = other_context.new_page()
        other.goto(session.get_url())  # a second browser on the session: it gets the replay
        same_as(other, first)

        # both live now: calls reach both, and what the user does in one reaches the other
        tree.update_tree({"fresh": {"one": {"size": 1}, "two": {"size": 2}}, "pics": {"p1": {"size": 6}}})
        tree.set_cell(["fresh", "two"], "name", "second")
        table.update_rows([["alpha", 1, True], ["beta", 2, False]])
        page.locator(".treeview-widget").nth(0).locator(".treeview-toggle-active").first.click()
        page.locator(".treeview-widget").nth(1).locator(".treeview-row").nth(1).click()
        tree.get_row_count()
        now = shown(page)
        same_as(other, now)
        other.reload()  # and rebuilt once more
        same_as(other, now)
    finally:
        other_context.close()


def test_positions_under_a_text_sort_are_replayed_as_calls(
    make_app: Callable[..., Application], browser: Any, page: Any
) -> None:
    """Where the rows are shown depends on the browser's collation: such calls are replayed as
    they were made, until the rows start over."""
    app = make_app()
    state: dict[str, Any] = {}
    app.on_connect(two_views(state))
    app.start()
    page.goto(app.url)
    wait_until(lambda: "table" in state, "the views")
    session, table = state["session"], state["table"]
    table.set_data([["b", 1], ["A", 2], ["á", 3], ["a", 4], ["B-2", 5], ["b 1", 6]])
    table.sort_by_column("host", False)
    table.delete_row(1)
    table.insert_row(2, ["Ab", 7])
    for i in range(20):
        table.set_cell(["row0"], "load", i)
    table.get_row_count()
    first = shown(page)
    calls = replay_size(session, table.wid)[1]
    assert calls > 20  # the calls since the state was last known
    other_context = browser.new_context()
    try:
        other = other_context.new_page()
        other.goto(session.get_url())
        same_as(other, first)
        table.set_data([["x", 1], ["y", 2]])  # the rows start over: the model is exact again
        table.get_row_count()
        assert replay_size(session, table.wid)[1] == 2  # set_data and the sort
        now = shown(page)
        same_as(other, now)
        other.reload()
        same_as(other, now)
    finally:
        other_context.close()
