"""Our own classification of pgwidgets-js methods (the defs give only names and parameters).

Every method of every class gets one :class:`MethodSpec`; the rules, in order:

1. child methods: attach (``add_widget``, ``insert_widget``, ``add_button``, ``add_menu``,
   ``set_widget`` replaces), detach (``remove``, ``remove_widget``, ``remove_all``);
2. factories rewritten in Python so every widget gets a server-allocated id
   (``Menu.add_name``, ``MenuBar.add_name``, ``ToolBar.add_action``);
3. layout calls recorded in order with the children (``add_separator``, ``add_spacer``);
4. content calls recorded for replay until the next reset (``append_text``, ``add_item`` ...);
5. explicit browser queries and explicit actions (tables below);
6. ``show``/``hide``/``resize``/``is_visible``/``get_size``;
7. naming: ``set_X(…)`` is a setter on state key ``X``; ``get_X()`` is a local getter when
   ``set_X`` exists, else a browser query; ``is_X``/``get_X(args)`` are queries; the rest actions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Kind", "MethodSpec", "classify"]


class Kind(enum.Enum):
    SETTER = "setter"  # stores state, replayed on reconnect
    GETTER = "getter"  # answered from local state, no round trip (plain method)
    QUERY = "query"  # asks the browser (async; None without a browser)
    ACTION = "action"  # sent, not replayed
    ATTACH = "attach"  # adds a child, replayed in order
    REPLACE = "replace"  # set_widget: the one child
    DETACH = "detach"  # remove(child) / remove_widget(child)
    DETACH_ALL = "detach_all"
    FACTORY = "factory"  # rewritten as create + attach
    LAYOUT = "layout"  # recorded in order with children
    CONTENT = "content"  # recorded until the next content reset
    RESET = "reset"  # clear(): drops content and content state
    SHOW = "show"
    HIDE = "hide"
    RESIZE = "resize"


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    params: tuple[str, ...]
    kind: Kind
    key: str | None = None  # the state key of setters and getters
    child_param: int = 0  # where the child is, for child methods

    @property
    def awaitable(self) -> bool:
        return self.kind is not Kind.GETTER


ATTACH = {"add_widget", "insert_widget", "add_button", "add_menu"}
FACTORIES = {("Menu", "add_name"), ("MenuBar", "add_name"), ("ToolBar", "add_action")}
LAYOUT = {"add_separator", "add_spacer"}
CONTENT = {
    "append_text",
    "insert_alpha",
    "delete_alpha",
    "append_html",
    "add_tree",
    "update_tree",
    "update_data",
    "add_item",
    "remove_item",
    "remove_items",
    "delete_tree",
    "insert_row",
    "append_row",
    "delete_row",
    "insert_column",
    "append_column",
    "delete_column",
    "set_cell",
    "set_column_width",
    "set_column_editable",
    "set_cell_color",
    "set_row_color",
    "set_column_color",
    "set_table_color",
    "clear_cell_color",
    "clear_row_color",
    "clear_column_color",
    "clear_all_colors",
    "set_colors",
    "expand_item",
    "collapse_item",
    "expand_all",
    "collapse_all",
    "sort_by_column",
}
QUERIES = {
    "get_element",
    "get_position",
    "get_children",
    "num_children",
    "is_container",
    "is_set",
    "elapsed_time",
    "time_left",
    "get_selected",
    "get_expanded",
    "get_collapsed",
    "get_subtree",
    "get_column_widths",
    "get_column_count",
    "get_row_count",
    "get_selected_cells",
    "get_draw_context",
    "get_thumb_percent",
    "get_icon",
    "get_alpha",
}
ACTIONS = {
    "set_focus",
    "set_message",
    "set_minimum_size",
    "set_binary_image",
    "raise_",
    "lower",
    "popup",
    "toggle_minimize",
    "toggle_maximize",
    "toggle_shade",
    "toggleContent",
    "update",
    "open",
    "save",
    "close_widget",
    "close_child",
    "move_child",
    "resize_child",
    "cascade_windows",
    "tile_windows",
    "scroll_to_path",
    "scroll_to_end",
    "scroll_to_top",
    "scroll_to_bottom",
    "scroll_to_lineno",
    "clear_selection",
    "select_path",
    "select_paths",
    "select_all",
    "select_cell",
    "select_cells",
    "clear_cell_selection",
    "copy_selection",
    "cut_selection",
    "paste_selection",
    "draw_image",
    "set_optimal_column_widths",
    "highlight_tab",
    "start",
    "stop",
    "cancel",
    "set",
    "cond_set",
    "play",
    "pause",
    "add_cursor",
    "destroy",
}
# clear() and these setters start the content over
RESETS_CONTENT = {"clear", "set_tree", "set_data", "set_html"}
# widgets whose set_text replaces the whole content (TextArea) reset it too
TEXT_RESETS = {"TextArea"}


def classify(cls: str, name: str, params: list[str], methods: dict[str, list[str]]) -> MethodSpec:
    """The :class:`MethodSpec` of ``cls.name(params)``; ``methods`` is the class's full method map."""
    p = tuple(params)
    if name == "set_widget":
        return MethodSpec(name, p, Kind.REPLACE, child_param=_child_index(p))
    if (cls, name) in FACTORIES:
        return MethodSpec(name, p, Kind.FACTORY)
    if name in ATTACH:
        return MethodSpec(name, p, Kind.ATTACH, child_param=_child_index(p))
    if name in ("remove", "remove_widget"):
        return MethodSpec(name, p, Kind.DETACH, child_param=_child_index(p))
    if name == "remove_all":
        return MethodSpec(name, p, Kind.DETACH_ALL)
    if name in LAYOUT:
        return MethodSpec(name, p, Kind.LAYOUT)
    if name == "clear":
        return MethodSpec(name, p, Kind.RESET)
    if name in CONTENT:
        return MethodSpec(name, p, Kind.CONTENT)
    if name == "get_menu":
        return MethodSpec(name, p, Kind.GETTER, key="menu")
    if name in QUERIES:
        return MethodSpec(name, p, Kind.QUERY)
    if name in ACTIONS:
        return MethodSpec(name, p, Kind.ACTION)
    if name == "show":
        return MethodSpec(name, p, Kind.SHOW, key="visible")
    if name == "hide":
        return MethodSpec(name, p, Kind.HIDE, key="visible")
    if name == "resize":
        return MethodSpec(name, p, Kind.RESIZE, key="size")
    if name == "is_visible":
        return MethodSpec(name, p, Kind.GETTER, key="visible")
    if name == "get_size":
        return MethodSpec(name, p, Kind.GETTER, key="size")
    if name.startswith("set_") and p:
        return MethodSpec(name, p, Kind.SETTER, key=name[4:])
    if name.startswith("get_"):
        if not p and f"set_{name[4:]}" in methods:
            return MethodSpec(name, p, Kind.GETTER, key=name[4:])
        return MethodSpec(name, p, Kind.QUERY)
    if name.startswith("is_") or name in ("index_of", "index_to_widget"):
        return MethodSpec(name, p, Kind.QUERY)
    return MethodSpec(name, p, Kind.ACTION)


def _child_index(params: tuple[str, ...]) -> int:
    for i, name in enumerate(params):
        if name in ("child", "menu"):
            return i
    return 0
