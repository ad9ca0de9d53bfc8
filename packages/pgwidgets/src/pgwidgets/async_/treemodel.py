"""TreeView and TableView: a Python-side model of their content, so that a rebuilt browser gets it back.

Without a model, every content call (``update_tree``, ``set_cell``, colours ...) had to be kept and
replayed one by one: an app refreshing a table every second grew without bound and a reconnect
replayed its whole history. The generated classes get :class:`TreeViewMixin` /
:class:`TableViewMixin`, which keep a :class:`TreeModel` instead:

* each call is sent to the browsers exactly as before (``update_tree`` still sends the whole tree:
  pgwidgets-js diffs it against its rows itself, and sending that is both exact and simplest);
  before it is sent, the model applies it with the page's own rules (``TreeView.js``: how
  ``update_tree`` diffs, what ``add_tree`` replaces, how keys are made, ``insert_row``'s
  ``before``, the colour layers, which calls re-sort what ...);
* what the user does in the page and the page reports (``expanded``, ``collapsed``, ``sorted``,
  ``cell_edited``, ``selected``; the mixin listens to them) is folded in too, and passed on to
  the other browsers of the session. The page also fires some of these for calls made from
  Python (``expand_item``, or the selection dropped by ``update_tree``): the model knows which,
  and ignores those echoes;
* a replay (:func:`pgwidgets.async_.session.build_replay` calls :meth:`TreeModelMixin._replay_model`)
  sends, after the ``create``, one ``batch`` (one render in the page) built from the current
  state, however long the history: ``set_columns`` (widths and editable flags folded in) when
  they changed, ``set_tree`` with the rows (``add_tree``/``add_item`` for rows whose keys a JSON
  object cannot carry in order), ``sort_by_column``, the collapses (or ``collapse_all`` and the
  expands, whichever is shorter), one ``set_colors``, widths that are not plain CSS values, and
  ``set_selected``.

Page quirks reproduced: a branch the page shows in insertion order although a sort is active
(``delete_tree`` and ``add_item`` do not re-sort what they leave behind), and an empty branch that
is collapsed (the page creates empty branches expanded), get a placeholder child (``"\\x00pgw"``)
that one ``delete_tree(…, false)`` removes again at the end of the replay; when the sort is turned
off (``sort_by_column`` of a key that is no column) the page keeps the top level in the old order
(its ``_applySort`` clears every sorted view but the root's), which the replay recreates with
``sort_by_column(old)`` then ``sort_by_column(None)``.

What the model cannot know exactly makes it fall back to the log: it keeps the replay of its
state at that moment, then records every later call (and browser event) and replays them one by
one, until the part it lost is known again. The rows (which, and in which order): a TableView
``insert_row(index, ...)``/``delete_row(index)`` whose position depends on a sort by a text column
(the page compares text with the browser's locale), or arguments of shapes the page handles
erratically (non-integer positions, row values neither a dict nor a list, object keys); known
again at the next ``clear``/``set_tree``/``set_data``/``set_rows``. The order at every level:
``set_columns`` while sorted (the rows stay in the old order); known again at the next sort or
reset. The top level's frozen order when a call would change it in a way no call recreates
(``add_tree`` at the top level, which the page then does not show; a change of the values it was
sorted by; a column change; deleting the sorted column); known again when the page re-sorts the
top level (``add_item``/``insert_row``/``remove_item`` there, a sort, an update that adds or
removes top-level rows). The order of the selection after ``select_all`` under a text sort; known
again when the selection is set whole. Colours after a malformed ``set_colors``; known again when
they are cleared.

Known limits, none of which needs the log: column widths dragged by the user are not reported by
the page and come back as last set; ``set_optimal_column_widths`` is replayed as such (measured
again on the current rows); the cell selection and the cell cursor are not restored; colour
overrides the page keeps for rows or columns that no longer exist (``remove_item`` leaves them
behind) are not restored, so they do not reappear on a row re-added under the same path; a node
left selected after its parent was removed is not restored; after a checkbox or combobox edit
(or Delete in the cell cursor) on the sorted column the page does not re-sort, the rebuilt page
does; a branch under a number key that the page shows unsorted comes back sorted; of columns
sharing a key, only the first gets a width that is not a CSS text back.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import msgspec

from .. import defs
from .. import protocol as P
from ..classify import Kind, classify
from ..protocol import call as call_msg
from .textsource import to_units

__all__ = ["TableViewMixin", "TreeModel", "TreeViewMixin"]

logger = logging.getLogger("pgwidgets")

# JavaScript values ----------------------------------------------------------------------------


class _Undefined:
    """An argument that was not passed: the page's default applies (not the same as ``None``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


UNDEF: Any = _Undefined()
OPTIMAL: Any = type("_Optimal", (), {"__repr__": lambda self: "optimal"})()  # a width the page measured


def arg(args: list[Any], i: int) -> Any:
    return args[i] if i < len(args) else UNDEF


def nullish(v: Any) -> bool:
    return v is None or v is UNDEF


def truthy(v: Any) -> bool:
    """JavaScript's ``!!v`` for a value decoded from JSON."""
    if v is None or v is UNDEF or v is False:
        return False
    if v is True:
        return True
    if isinstance(v, (int, float)):
        return v == v and v != 0
    if isinstance(v, str):
        return v != ""
    return True


def js_num(x: float) -> str:
    """``String(x)`` for a number."""
    if isinstance(x, int):
        return str(x)
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    r = repr(x)
    if "e" in r:
        mant, exp = r.split("e")
        e = int(exp)
        if -7 < e < 21:
            return format(Decimal(r), "f")
        return f"{mant}e{'+' if e > 0 else '-'}{abs(e)}"
    return r


def js_str(v: Any) -> str:
    """``String(v)`` for a value decoded from JSON (also what a property key becomes)."""
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if v is UNDEF:
        return "undefined"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return js_num(v)
    if isinstance(v, list):
        return ",".join("" if nullish(e) else js_str(e) for e in v)
    return "[object Object]"


def strict_eq(a: Any, b: Any) -> bool:
    """``a === b`` (objects decoded from different messages are never the same)."""
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


_NULL_KEY = ("\0null",)
_TRUE_KEY = ("\0bool", True)
_FALSE_KEY = ("\0bool", False)


def jk(v: Any) -> Any:
    """A Python dict key that matches where a JavaScript ``Map`` key does (SameValueZero); None
    for an object key, which matches nothing."""
    if isinstance(v, str):
        return v
    if v is True:
        return _TRUE_KEY
    if v is False:
        return _FALSE_KEY
    if v is None:
        return _NULL_KEY
    if isinstance(v, (int, float)):
        return v
    return None


_INDEX = re.compile(r"(?:0|[1-9][0-9]{0,9})\Z")


def is_index(k: str) -> bool:
    """Whether ``k`` is an array index: JavaScript objects list those keys first, ascending."""
    return k[:1].isdigit() and _INDEX.match(k) is not None and int(k) <= 4294967294


def js_entries(obj: Any) -> list[tuple[str, Any]]:
    """``Object.entries(obj)`` in the page's order."""
    if isinstance(obj, list):
        return [(str(i), v) for i, v in enumerate(obj)]
    if not isinstance(obj, dict):
        return []
    items = list(obj.items())
    index = [(int(k), k, v) for k, v in items if is_index(k)]
    if not index:
        return items
    index.sort(key=lambda t: t[0])
    return [(k, v) for _, k, v in index] + [(k, v) for k, v in items if not is_index(k)]


def js_keys(obj: Any) -> list[tuple[str, Any]]:
    """``Object.keys(obj)`` with each key's value (strings have their indices as keys)."""
    if isinstance(obj, str):
        return [(str(i), u) for i, u in enumerate(to_units(obj))]
    return js_entries(obj)


# Object.prototype's names: ``k in values`` is true for them in the page
_PROTO = frozenset(
    {
        "constructor",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
        "__proto__",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
    }
)

_JS_WS = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")


def js_parse_int(s: str) -> float:
    m = _INT_RE.match(s.lstrip(_JS_WS))
    return float(m.group()) if m else float("nan")


def js_parse_float(s: str) -> float:
    m = _FLOAT_RE.match(s.lstrip(_JS_WS))
    return float(m.group().replace("Infinity", "inf")) if m else float("nan")


def wire(value: Any) -> Any:
    """``value`` as the page receives it (JSON: tuples are lists, keys strings, widgets refs)."""
    return msgspec.json.decode(P.encode(value))


# columns ----------------------------------------------------------------------------------------


class _Throw(Exception):
    """The page throws before changing anything."""


_TYPES = {
    "str": "string",
    "int": "integer",
    "number": "float",
    "bool": "boolean",
    "string": "string",
    "integer": "integer",
    "float": "float",
    "boolean": "boolean",
    "icon": "icon",
}
_CELL_WIDGETS = ("checkbox", "combobox", "progress", "button")


def _norm_type(t: Any) -> str:
    return _TYPES.get(t, "string") if isinstance(t, str) else "string"


def _norm_halign(h: Any, typ: str) -> str:
    if isinstance(h, str) and h in ("left", "center", "right"):
        return h
    if typ in ("integer", "float"):
        return "right"
    if typ in ("boolean", "icon"):
        return "center"
    return "left"


def _norm_widget(w: Any) -> Any:
    if nullish(w) or w == "":
        return None
    if isinstance(w, str) and w in _CELL_WIDGETS:
        return w
    raise _Throw(f"unknown column widget: {w!r}")


def _norm_colwidth(w: Any) -> Any:
    if nullish(w):
        return None
    if isinstance(w, (int, float)) and not isinstance(w, bool):
        return js_num(w) + "px"
    return js_str(w)


def _text_column(label: str, key: str) -> dict[str, Any]:
    return {"label": label, "type": "string", "key": key, "editable": False, "halign": "left"}


def _column(d: dict[str, Any], key: Any, gates: bool) -> dict[str, Any]:
    """A column as the page parses ``d`` (``_parseColumns``; ``insert_column`` without the gates)."""
    typ = _norm_type(d.get("type"))
    widget = _norm_widget(d.get("widget"))
    label = d.get("label")
    col: dict[str, Any] = {
        "label": label if truthy(label) else "",
        "type": typ,
        "key": key,
        "editable": truthy(d.get("editable")),
        "halign": _norm_halign(d.get("halign"), typ),
    }
    if "icon_size" in d:
        col["icon_size"] = d["icon_size"]
    extra = {
        "colwidth": _norm_colwidth(d.get("colwidth")),
        "widget": widget,
        "choices": list(d["choices"]) if isinstance(d.get("choices"), list) else None,
        "min": d.get("min"),
        "max": d.get("max"),
        "text": d.get("text"),
    }
    if gates:
        for name in ("enabled_key", "visible_key"):
            extra[name] = None if nullish(d.get(name)) else js_str(d[name])
    col.update((k, v) for k, v in extra.items() if v is not None)
    return col


def parse_columns(raw: Any) -> list[dict[str, Any]]:
    """The page's ``_parseColumns(raw)`` (raises :class:`_Throw` where the page throws)."""
    if not isinstance(raw, list):
        raise _Throw("columns must be an array")
    auto = 0
    out = []
    for c in raw:
        if isinstance(c, str):
            out.append(_text_column(c, f"_col{auto}"))
            auto += 1
            continue
        if c is None:
            raise _Throw("null column")
        d = c if isinstance(c, dict) else {}
        key = d.get("key")
        if not truthy(key):
            key = f"_col{auto}"
            auto += 1
        out.append(_column(d, key, gates=True))
    return out


# the tree ---------------------------------------------------------------------------------------


class Node:
    """One row: ``key`` as the page holds it, ``values`` (dict or None), children in insertion
    order (keyed by :func:`jk`), ``expanded``; ``stale`` is the sort generation in which the page
    dropped this node's sorted view (it then shows its children in insertion order)."""

    __slots__ = ("children", "expanded", "key", "parent", "stale", "values")

    def __init__(self, key: Any, values: Any, parent: Node | None, expanded: bool) -> None:
        self.key = key
        self.values = values
        self.parent = parent
        self.expanded = expanded
        self.children: dict[Any, Node] = {}
        self.stale = -1

    def __repr__(self) -> str:
        return f"<Node {self.key!r}>"


class _Unknown(Exception):
    """The page's display order depends on the browser's locale."""


class TreeModel:
    """A TreeView's (or TableView's) state, updated with the page's rules; see the module."""

    def __init__(self, options: Any = None) -> None:
        opts = options if isinstance(options, dict) else {}
        try:
            cols = parse_columns(opts["columns"]) if "columns" in opts else []
        except _Throw:
            cols = []
        self.columns: list[dict[str, Any]] = cols
        self.widths: list[Any] = [c.get("colwidth") or "1fr" for c in cols]
        self.show_header = truthy(opts["show_header"]) if "show_header" in opts else True
        self.header_hidden = not self.show_header or not cols
        self._ctor_columns = self._column_state()
        self.sort_on = False
        self.sort_col: Any = None
        self.sort_asc = True
        self.sort_gen = 0
        # the sort (column, ascending) the top level is still shown in after the sort was turned
        # off: the page's _applySort() then clears every sorted view but the root's
        self.root_frozen: tuple[Any, bool] | None = None
        self.root = Node(None, None, None, True)
        self.selection: list[Node] = []
        # (path key, String(col)) -> col, fg, bg, bold
        self.cell_styles: dict[tuple[Any, str], list[Any]] = {}
        self.row_styles: dict[Any, list[Any]] = {}  # path key -> fg, bg, bold
        self.column_styles: dict[Any, list[Any]] = {}  # jk(col) -> col, fg, bg, bold
        self.table_style: list[Any] | None = None
        # the fallback: the replay of the state when the model lost track, then every call since
        self.degraded: list[tuple[str, list[Any]]] | None = None
        self.degraded_why = ""
        self.unknown: set[str] = set()  # what the fallback waits to know again (see _uncertain)
        self.fired: list[Any] = []  # callbacks the page fires for the call being applied
        self.echoes: dict[Any, list[Any]] = {}  # callbacks expected back from the page: [count, deadline]

    # helpers ------------------------------------------------------------------------------------

    def _column_state(self) -> list[tuple[dict[str, Any], Any]]:
        return [(dict(c), w) for c, w in zip(self.columns, self.widths, strict=False)]

    def col_index(self, key: Any) -> int:
        for i, c in enumerate(self.columns):
            if strict_eq(c["key"], key):
                return i
        return -1

    def _uncertain(self, why: str, part: str = "rows") -> None:
        """The next change cannot be modelled exactly: keep the replay of the state as it is now
        and record the calls from here on (see the module), until ``part`` is known again:
        ``rows`` (which rows, in which order) at the next ``clear``; ``root`` (the page shows
        the top level in an order no call recreates) when the page re-sorts it; ``views`` (the
        same at every level) at the next sort or ``clear``; ``selection`` (its order) when the
        selection is set whole; ``colors`` when they are cleared."""
        if self.degraded is None:
            self.degraded = list(wire(self.replay_calls()))
            self.degraded_why = why
            logger.info("TreeView model: %s; recording the calls from here", why)
        self.unknown.add(part)

    def _known(self, *parts: str) -> None:
        """``parts`` of the state are as the model has them again."""
        if self.degraded is not None and self.unknown & set(parts):
            self.unknown -= set(parts)
            if not self.unknown:
                self.degraded = None
                self.degraded_why = ""

    def _stale(self, n: Node) -> None:  # the page sets n.sortedView = null
        n.stale = self.sort_gen
        if n is self.root:
            self.root_frozen = None
            self._known("root")

    def _fresh(self, n: Node) -> None:  # the page's _applySortToNode(n)
        n.stale = -1
        if n is self.root:
            self.root_frozen = None
            self._known("root")

    def _full_sort(self) -> None:  # the page's _applySort(): every view is fresh again
        self.sort_gen += 1
        if self.sort_on:
            self.root_frozen = None
            self._known("root", "views")

    def _root_sorted(self) -> bool:
        """Whether the page holds a sorted view of the top level (sorted, or frozen)."""
        return bool(self.root.children) and (
            self.root_frozen is not None or (self.sort_on and not self.is_stale(self.root))
        )

    def _frozen_prop(self) -> str | None:
        return None if self.root_frozen is None else js_str(self.root_frozen[0])

    def is_stale(self, n: Node) -> bool:
        return n.stale == self.sort_gen

    def walk(self, node: Node | None = None) -> Iterator[Node]:
        """The descendants of ``node`` (the root by default), parents first, insertion order."""
        stack = [iter(list((node or self.root).children.values()))]
        while stack:
            for n in stack[-1]:
                yield n
                if n.children:
                    stack.append(iter(list(n.children.values())))
                break
            else:
                stack.pop()

    def node_at(self, path: Any) -> Node | None:
        if not isinstance(path, list):
            return None
        node = self.root
        for key in path:
            k = jk(key)
            child = node.children.get(k) if k is not None else None
            if child is None:
                return None
            node = child
        return None if node is self.root else node

    def _resolve(self, ref: Any) -> Node | None:
        return self.node_at(ref) if isinstance(ref, list) else None

    @staticmethod
    def raw_path(node: Node) -> list[Any]:
        keys = []
        while node.parent is not None:
            keys.append(node.key)
            node = node.parent
        keys.reverse()
        return keys

    @staticmethod
    def path_of(node: Node) -> list[Any] | None:
        """The page's ``_pathOfNode``: null when a key on the way is null."""
        keys = []
        while node.parent is not None:
            if node.key is None:
                return None
            keys.append(node.key)
            node = node.parent
        keys.reverse()
        return keys

    def pathkey(self, node: Node) -> tuple[Any, ...] | None:
        path = self.path_of(node)
        return None if path is None else tuple(jk(k) for k in path)

    @staticmethod
    def list_key(path: Any) -> Any:
        if not isinstance(path, list):
            return None
        keys = tuple(jk(k) for k in path)
        return None if None in keys else keys

    def _node_by_key(self, pk: tuple[Any, ...] | None) -> Node | None:
        if pk is None or not pk:
            return None
        node = self.root
        for k in pk:
            child = node.children.get(k)
            if child is None:
                return None
            node = child
        return node

    def attached(self, node: Node) -> bool:
        n = node
        while n.parent is not None:
            if n.parent.children.get(jk(n.key)) is not n:
                return False
            n = n.parent
        return n is self.root

    def _under(self, n: Node, top: Node) -> bool:
        p: Node | None = n
        while p is not None:
            if p is top:
                return True
            p = p.parent
        return False

    def _drop_from_selection(self, node: Node) -> None:
        if self.selection:
            self.selection = [n for n in self.selection if not self._under(n, node)]

    def _selection_key(self) -> tuple[Any, ...]:
        return tuple(self.pathkey(n) for n in self.selection)

    def _fire_selected(self) -> None:
        self.fired.append(("selected", self._selection_key()))

    def _cell_value(self, n: Node, i: int) -> Any:
        if i < 0 or i >= len(self.columns):
            return UNDEF
        prop = js_str(self.columns[i]["key"])
        if isinstance(n.values, dict) and prop in n.values:
            return n.values[prop]
        if i == 0 and n.key is not None:
            return n.key
        return UNDEF

    # display order ----------------------------------------------------------------------------

    def view(self, n: Node, guess: bool = False) -> list[Node]:
        """``n``'s children in the order the page shows them (raises :class:`_Unknown` when that
        is a text sort, unless ``guess``: insertion order then)."""
        kids = list(n.children.values())
        if n is self.root and self.root_frozen is not None and len(kids) > 1:
            col, asc = self.root_frozen
        elif not self.sort_on or len(kids) < 2 or self.is_stale(n):
            return kids
        else:
            col, asc = self.sort_col, self.sort_asc
        try:
            return self._sorted(kids, col, asc)
        except _Unknown:
            if guess:
                return kids
            raise

    def _sorted(self, kids: list[Node], col: Any, asc: bool) -> list[Node]:
        idx = self.col_index(col)
        if idx < 0:
            return kids
        typ = self.columns[idx]["type"]
        if typ in ("integer", "float"):
            parse = js_parse_int if typ == "integer" else js_parse_float

            def number(n: Node) -> tuple[int, float]:
                v = self._cell_value(n, idx)
                if nullish(v):
                    v = ""
                x = v if isinstance(v, (int, float)) and not isinstance(v, bool) else parse(js_str(v))
                return (1, 0.0) if x != x else (0, float(x))

            return sorted(kids, key=number, reverse=not asc)
        if typ == "boolean":

            def flag(n: Node) -> bool:
                v = self._cell_value(n, idx)
                return truthy("" if nullish(v) else v)

            return sorted(kids, key=flag, reverse=not asc)
        raise _Unknown  # localeCompare: the browser's locale decides

    def visible(self, upto: int | None = None, guess: bool = False) -> list[Node]:
        """The page's ``_getVisibleNodes()`` (the first ``upto + 1`` of them)."""
        out: list[Node] = []
        stack = [iter(self.view(self.root, guess))]
        while stack:
            for n in stack[-1]:
                out.append(n)
                if upto is not None and len(out) > upto:
                    return out
                if n.expanded and n.children:
                    stack.append(iter(self.view(n, guess)))
                break
            else:
                stack.pop()
        return out

    def _count_visible(self) -> int:
        count = 0
        stack = [iter(list(self.root.children.values()))]
        while stack:
            for n in stack[-1]:
                count += 1
                if n.expanded and n.children:
                    stack.append(iter(list(n.children.values())))
                break
            else:
                stack.pop()
        return count

    def _visible_at(self, index: int, why: str) -> Node:
        try:
            return self.visible(upto=index)[index]
        except _Unknown:
            self._uncertain(why)
            return self.visible(upto=index, guess=True)[index]

    # loading ------------------------------------------------------------------------------------

    def _check_spec(self, spec: Any) -> None:
        """Shapes the page handles erratically (``__values__`` that is not an object)."""
        stack = [spec]
        while stack:
            d = stack.pop()
            if not isinstance(d, dict):
                continue
            v = d.get("__values__", None)
            if truthy(v) and not isinstance(v, dict):
                self._uncertain("a __values__ that is not an object")
                return
            stack.extend(x for k, x in d.items() if k != "__values__" and isinstance(x, dict))

    def _split(self, data: Any) -> tuple[Any, list[tuple[str, Any]] | None]:
        """The page's ``_splitNodeData``: (own values, child entries or None for a leaf)."""
        if data is None:
            return None, None
        if not isinstance(data, dict):
            values: dict[str, Any] = {}
            if self.columns:
                values[js_str(self.columns[0]["key"])] = data
            return values, None
        if "__values__" in data:
            v = data["__values__"]
            own = v if truthy(v) and isinstance(v, dict) else None
            return own, [(k, x) for k, x in js_entries(data) if k != "__values__"]
        if not data:
            return None, []
        mine: dict[str, Any] | None = None
        kids: list[tuple[str, Any]] | None = None
        for k, x in js_entries(data):
            if isinstance(x, dict):
                if kids is None:
                    kids = []
                kids.append((k, x))
            else:
                if mine is None:
                    mine = {}
                mine[k] = x
        return mine, kids

    def _add_node(self, parent: Node, key: Any, data: Any) -> Node:
        """The page's ``_addNodeFromDict``."""
        values, kids = self._split(data)
        node = Node(key, values, parent, kids is not None)
        node.stale = self.sort_gen  # a new node has no sorted view yet
        parent.children[jk(key)] = node
        for k, x in kids or ():
            self._add_node(node, k, x)
        return node

    def _load(self, parent: Node, tree: Any) -> None:
        """The page's ``_loadDictTree``."""
        if not isinstance(tree, (dict, list)):
            return
        for key, data in js_entries(tree):
            parent.children.pop(key, None)
            self._add_node(parent, key, data)

    def _row_values(self, row: Any) -> Any:
        if isinstance(row, list):
            return {js_str(self.columns[c]["key"]): row[c] for c in range(min(len(self.columns), len(row)))}
        if isinstance(row, dict):
            return row
        values: dict[str, Any] = {}
        if self.columns:
            values[js_str(self.columns[0]["key"])] = row
        return values

    def _merge(self, node: Node, values: Any) -> bool:
        """The page's ``_mergeValues``: the row's values become ``values``; whether any changed."""
        if values is None:
            return False
        if node.values is None:
            node.values = {}
        cur = node.values
        changed = False
        for k, v in values.items():
            if k not in cur or not strict_eq(cur[k], v):
                cur[k] = v
                changed = True
        for k in [k for k in cur if k not in values and k not in _PROTO]:
            del cur[k]
            changed = True
        return changed

    def _drop_styles_under(self, path: list[Any]) -> None:
        """The page's ``_dropStylesUnder`` (its match on JSON text, reproduced on key tuples)."""
        if not self.row_styles and not self.cell_styles:
            return
        top = tuple(jk(k) for k in path)
        n = len(top)

        def hit(k: Any, strict: bool = False) -> bool:
            return k is not None and k[:n] == top and (len(k) > n or not strict)

        for k in [k for k in self.row_styles if hit(k)]:
            del self.row_styles[k]
        for ck in [ck for ck in self.cell_styles if hit(ck[0], "|" in ck[1])]:
            del self.cell_styles[ck]

    def _diff(self, parent: Node, spec: Any, path: list[Any]) -> int:
        """The page's ``_diffApply``: the number of changes."""
        changed = 0
        incoming = dict(js_entries(spec)) if isinstance(spec, (dict, list)) else {}
        for k, node in list(parent.children.items()):
            if isinstance(k, str) and k in incoming:
                continue
            self._drop_from_selection(node)
            self._drop_styles_under([*path, node.key])
            del parent.children[k]
            self._stale(parent)
            changed += 1
        for key, data in incoming.items():
            existing = parent.children.get(key)
            if existing is None:
                self._add_node(parent, key, data)
                self._stale(parent)
                changed += 1
                continue
            values, kids = self._split(data)
            if self._merge(existing, values):
                changed += 1
            changed += self._diff(existing, dict(kids or ()), [*path, key])
        return changed

    # content calls (each takes the arguments as the page gets them) ----------------------------

    def clear(self, a: Any = None) -> None:
        self.root.children = {}
        self._stale(self.root)
        self.selection = []
        self.cell_styles.clear()
        self.row_styles.clear()
        self._known("rows", "views", "selection")  # the rows start over

    def set_tree(self, a: list[Any]) -> None:
        tree = arg(a, 0)
        self.clear()
        self._check_spec(tree)
        self._load(self.root, tree)
        self._full_sort()

    def add_tree(self, a: list[Any]) -> None:
        tree, parent = arg(a, 0), arg(a, 1)
        pnode = self.root if nullish(parent) else self.node_at(parent)
        if pnode is None:
            return
        self._check_spec(tree)
        if pnode is self.root and self.root_frozen is not None and js_entries(tree):
            # the page keeps showing its old top-level rows: new ones stay hidden
            self._uncertain("add_tree at the top level while it keeps an old sort order", "root")
        paths = [self.path_of(n) for n in self.selection]
        self._load(pnode, tree)
        self._full_sort()
        restored = [n for n in (self.node_at(p) for p in paths if p is not None) if n is not None]
        self.selection = restored
        if len(restored) != len(paths):
            self._fire_selected()

    def update_tree(self, a: list[Any]) -> None:
        tree = arg(a, 0)
        if not self.root.children:
            self.set_tree([tree])
            return
        spec = tree if truthy(tree) else {}
        self._check_spec(spec)
        self._check_frozen_merge(spec)
        before = len(self.selection)
        if self._diff(self.root, spec, []):
            self._full_sort()
        if len(self.selection) != before:
            self._fire_selected()

    def _check_frozen_merge(self, spec: Any) -> None:
        """An update that keeps the top-level rows but changes what their frozen order was
        sorted by: no call recreates that order."""
        prop = self._frozen_prop()
        if prop is None:
            return
        incoming = dict(js_entries(spec)) if isinstance(spec, (dict, list)) else {}
        kids = self.root.children
        if len(incoming) != len(kids) or any(not isinstance(k, str) or k not in incoming for k in kids):
            return  # rows come or go: the page drops the old order
        for k, node in kids.items():
            values, _ = self._split(incoming[k])
            if values is None:
                continue
            cur = node.values if isinstance(node.values, dict) else {}
            if (prop in values) != (prop in cur) or (prop in cur and not strict_eq(cur[prop], values[prop])):
                self._uncertain("an update of the column the top level is still ordered by", "root")
                return

    def set_data(self, a: list[Any]) -> None:
        data = arg(a, 0)
        self.clear()
        if nullish(data):
            return  # the page throws after clearing
        if isinstance(data, str):
            self._uncertain("set_data with a string")
            return
        for i, row in enumerate(data if isinstance(data, list) else ()):
            key = f"row{i}"
            self.root.children[key] = Node(key, self._row_values(row), self.root, False)
        self._full_sort()

    def update_data(self, a: list[Any]) -> None:
        data = arg(a, 0)
        if not self.root.children:
            self.set_data([data])
            return
        if nullish(data):
            return  # the page throws
        if isinstance(data, str):
            self._uncertain("update_data with a string")
            return
        spec = {f"row{i}": self._row_values(r) for i, r in enumerate(data if isinstance(data, list) else ())}
        self._check_spec(spec)
        self._check_frozen_merge(spec)
        before = len(self.selection)
        if self._diff(self.root, spec, []):
            self._full_sort()
        if len(self.selection) != before:
            self._fire_selected()

    def add_item(self, a: list[Any]) -> None:
        parent, key, values = arg(a, 0), arg(a, 1), arg(a, 2)
        pnode = self.root if nullish(parent) else self.node_at(parent)
        if pnode is None:
            return
        if key is UNDEF or jk(key) is None:
            self._uncertain("add_item with a key that is missing or an object")
            return
        data = values if truthy(values) else {}
        self._check_spec(data)
        self._add_node(pnode, key, data)
        self._fresh(pnode)

    def remove_item(self, a: list[Any]) -> None:
        node = self._resolve(arg(a, 0))
        if node is None or node.parent is None:
            return
        parent = node.parent
        del parent.children[jk(node.key)]
        self._fresh(parent)
        self.selection = [n for n in self.selection if n is not node]

    def remove_items(self, a: list[Any]) -> None:
        paths = arg(a, 0)
        if not isinstance(paths, list):
            return  # the page throws
        if not all(isinstance(p, (list, str)) for p in paths):
            self._uncertain("remove_items with paths that are not arrays")
            paths = [p for p in paths if isinstance(p, list)]
        ordered = sorted(
            paths, key=lambda p: len(p) if isinstance(p, list) else len(to_units(p)), reverse=True
        )
        touched: list[Node] = []
        for path in ordered:
            node = self.node_at(path)
            if node is None or node.parent is None:
                continue
            del node.parent.children[jk(node.key)]
            if not any(t is node.parent for t in touched):
                touched.append(node.parent)
            self.selection = [n for n in self.selection if n is not node]
        for p in touched:
            self._fresh(p)

    def delete_tree(self, a: list[Any]) -> None:
        spec = arg(a, 0)
        prune = True if arg(a, 1) is UNDEF else truthy(arg(a, 1))
        before = len(self.selection)
        removed = self._delete(self.root, spec if truthy(spec) else {}, prune)
        if removed and len(self.selection) != before:
            self._fire_selected()

    def _delete(self, parent: Node, spec: Any, prune: bool) -> int:
        count = 0
        for key, sub in js_keys(spec):
            node = parent.children.get(key)
            if node is None:
                continue
            if isinstance(sub, (dict, list)) and js_entries(sub) and node.children:
                count += self._delete(node, sub, prune)
                if not (prune and not node.children):
                    continue
            self._drop_from_selection(node)
            del parent.children[key]
            self._stale(parent)
            count += 1
        return count

    def expand_all(self, a: list[Any]) -> None:
        for n in self.walk():
            if n.children:
                n.expanded = True

    def collapse_all(self, a: list[Any]) -> None:
        for n in self.walk():
            if n.children:
                n.expanded = False

    def expand_item(self, a: list[Any], state: bool = True) -> None:
        node = self._resolve(arg(a, 0))
        if node is not None and node.children:
            node.expanded = state
            self.fired.append(("expanded" if state else "collapsed", self.pathkey(node)))

    def collapse_item(self, a: list[Any]) -> None:
        self.expand_item(a, False)

    def scroll_to_path(self, a: list[Any]) -> None:
        path = arg(a, 0)
        if isinstance(path, str):
            self._uncertain("scroll_to_path with a string")
            return
        if not isinstance(path, list):
            return
        node = self.root
        for key in path[:-1]:
            k = jk(key)
            child = node.children.get(k) if k is not None else None
            if child is None:
                return
            node = child
            if node.children:
                node.expanded = True

    # selection --------------------------------------------------------------------------------

    def set_selected(self, a: list[Any]) -> None:
        self._known("selection")
        paths = arg(a, 0)
        if not isinstance(paths, list):
            self.selection = []
        elif not paths or isinstance(paths[0], str):
            node = self.node_at(paths)
            self.selection = [node] if node is not None else []
        else:
            self.selection = [n for n in (self.node_at(p) for p in paths) if n is not None]

    def clear_selection(self, a: list[Any]) -> None:
        self.selection = []
        self._known("selection")

    def select_path(self, a: list[Any]) -> None:
        self.select_paths([[arg(a, 0)], arg(a, 1)])

    def select_paths(self, a: list[Any]) -> None:
        paths = arg(a, 0)
        state = True if arg(a, 1) is UNDEF else truthy(arg(a, 1))
        for path in paths if isinstance(paths, list) else ():
            node = self.node_at(path)
            if node is None:
                continue
            idx = next((i for i, n in enumerate(self.selection) if n is node), -1)
            if state and idx < 0:
                self.selection.append(node)
            elif not state and idx >= 0:
                del self.selection[idx]

    def select_all(self, a: list[Any]) -> None:
        state = True if arg(a, 0) is UNDEF else truthy(arg(a, 0))
        if not state:
            self.selection = []
            self._known("selection")
            return
        try:
            self.selection = self._walk_shown(guess=False)
            self._known("selection")
        except _Unknown:  # the selection's order is the browser's
            self._uncertain("select_all under a sort by a text column", "selection")
            self.selection = self._walk_shown(guess=True)

    def _walk_shown(self, guess: bool) -> list[Node]:
        """The page's ``_walkNodes``: every node, in display order."""
        out: list[Node] = []
        stack = [iter(self.view(self.root, guess))]
        while stack:
            for n in stack[-1]:
                out.append(n)
                if n.children:
                    stack.append(iter(self.view(n, guess)))
                break
            else:
                stack.pop()
        return out

    # columns ----------------------------------------------------------------------------------

    def _has_sorted_view(self) -> bool:
        return any(len(n.children) > 1 and not self.is_stale(n) for n in [self.root, *self.walk()])

    def set_columns(self, a: list[Any]) -> None:
        try:
            cols = parse_columns(arg(a, 0))
        except _Throw:
            return
        if self.sort_on and self._has_sorted_view():
            self._uncertain("set_columns while the rows are sorted", "views")
        elif self._root_sorted():
            self._uncertain("set_columns while the top level keeps an old sort order", "root")
        self.columns = cols
        self.widths = [c.get("colwidth") or "1fr" for c in cols]
        self.sort_on, self.sort_col = False, None
        if self.show_header and cols:
            self.header_hidden = False

    def set_column_width(self, a: list[Any]) -> None:
        i = self.col_index(arg(a, 0))
        if i < 0:
            return
        w = arg(a, 1)
        if isinstance(w, (int, float)) and not isinstance(w, bool):
            w = js_num(w) + "px"
        self.widths[i] = None if w is UNDEF else w

    def set_optimal_column_widths(self, a: list[Any]) -> None:
        if self.columns:
            self.widths = [OPTIMAL] * len(self.columns)

    def set_column_editable(self, a: list[Any]) -> None:
        i = self.col_index(arg(a, 0))
        if i >= 0:
            self.columns[i]["editable"] = truthy(arg(a, 1))

    def insert_column(self, a: list[Any]) -> None:
        column, before = arg(a, 0), arg(a, 1)
        n = len(self.columns)
        if isinstance(column, str):
            col = _text_column(column, f"_col{n}")
        elif nullish(column):
            return  # the page throws
        else:
            d = column if isinstance(column, dict) else {}
            try:
                col = _column(d, d["key"] if truthy(d.get("key")) else f"_col{n}", gates=False)
            except _Throw:
                return
        at = n
        if not nullish(before):
            i = self.col_index(before)
            if i >= 0:
                at = i
        if self.root_frozen is not None and self._root_sorted():
            self._uncertain("a column change while the top level keeps an old sort order", "root")
        self.columns.insert(at, col)
        self.widths.insert(at, col.get("colwidth") or "1fr")

    def append_column(self, a: list[Any]) -> None:
        self.insert_column([arg(a, 0), None])

    def delete_column(self, a: list[Any]) -> None:
        key = arg(a, 0)
        i = self.col_index(key)
        if i < 0:
            return
        if self._root_sorted() and (self.root_frozen is not None or strict_eq(self.sort_col, key)):
            # the page keeps the top level in the order of a column no call can sort by again
            self._uncertain("delete_column while the top level is sorted", "root")
        del self.columns[i]
        del self.widths[i]
        if self.sort_on and strict_eq(self.sort_col, key):
            self.sort_on, self.sort_col = False, None
            self._full_sort()
        prop = js_str(key)
        for n in self.walk():
            if isinstance(n.values, dict):
                n.values.pop(prop, None)

    def sort_by_column(self, a: list[Any]) -> None:
        key = arg(a, 0)
        if self.col_index(key) < 0:
            if self.sort_on and self.root.children and not self.is_stale(self.root):
                self.root_frozen = (self.sort_col, self.sort_asc)
            self.sort_on, self.sort_col = False, None
        else:
            self.sort_on, self.sort_col = True, key
            self.sort_asc = True if arg(a, 1) is UNDEF else truthy(arg(a, 1))
        self._full_sort()

    # cells and rows -----------------------------------------------------------------------------

    def set_cell(self, a: list[Any]) -> None:
        self._set_value(self.node_at(arg(a, 0)), arg(a, 1), arg(a, 2))

    def _set_value(self, node: Node | None, col: Any, value: Any) -> None:
        if node is None:
            return
        if node.parent is self.root and js_str(col) == self._frozen_prop():
            old = node.values.get(js_str(col), UNDEF) if isinstance(node.values, dict) else UNDEF
            if old is UNDEF or not strict_eq(old, value):
                self._uncertain("a change to the column the top level is still ordered by", "root")
        if node.values is None:
            node.values = {}
        node.values[js_str(col)] = None if value is UNDEF else value
        if strict_eq(self.sort_col, col) and node.parent is not None:
            self._fresh(node.parent)  # the page re-sorts the row's siblings

    def insert_row(self, a: list[Any]) -> None:
        """TreeView's ``insert_row(values, key, before)`` (top level)."""
        values, key, before = arg(a, 0), arg(a, 1), arg(a, 2)
        root = self.root
        if nullish(key):
            i = len(root.children)
            while True:
                key = f"row{i}"
                i += 1
                if key not in root.children:
                    break
        elif jk(key) is None:
            self._uncertain("insert_row with a key that is an object")
            return
        if isinstance(values, list):
            values = {
                js_str(self.columns[c]["key"]): values[c] for c in range(min(len(self.columns), len(values)))
            }
        elif not nullish(values) and not isinstance(values, dict):
            self._uncertain("insert_row with values that are neither a dict nor a list")
            values = None
        node = Node(key, None if values is UNDEF else values, root, False)
        k, b = jk(key), jk(before)
        if not nullish(before) and b is not None and b in root.children:
            children: dict[Any, Node] = {}
            for kk, vv in root.children.items():
                if kk == b:
                    children[k] = node
                children[kk] = vv
            root.children = children
        else:
            root.children[k] = node
        self._fresh(root)

    def append_row(self, a: list[Any]) -> None:
        self.insert_row([arg(a, 0), None, None])

    def delete_row(self, a: list[Any]) -> None:
        """TreeView's ``delete_row(path_or_key)``."""
        p = arg(a, 0)
        self.remove_item([p if isinstance(p, list) else [p]])

    def table_insert_row(self, a: list[Any]) -> None:
        """TableView's ``insert_row(index, values)``: before the row shown at ``index``."""
        index, values = arg(a, 0), arg(a, 1)
        if not _is_int(index):
            self._uncertain("insert_row with a position that is not an integer")
            return
        before = None
        if 0 <= index < self._count_visible():
            before = self._visible_at(int(index), "insert_row at a position that depends on a text sort").key
        self.insert_row([values, None, before])

    def table_delete_row(self, a: list[Any]) -> None:
        """TableView's ``delete_row(index)``: the row shown at ``index``."""
        index = arg(a, 0)
        if not _is_int(index):
            self._uncertain("delete_row with a position that is not an integer")
            return
        if index < 0 or index >= self._count_visible():
            return
        node = self._visible_at(int(index), "delete_row at a position that depends on a text sort")
        self.remove_item([[node.key]])

    # colours ----------------------------------------------------------------------------------

    def _cell_style(self, path: Any, col: Any, fg: Any, bg: Any, bold: Any) -> None:
        node = self.node_at(path)
        if node is None or self.col_index(col) < 0:
            return
        key = (self.pathkey(node), js_str(col))
        if nullish(fg) and nullish(bg) and nullish(bold):
            self.cell_styles.pop(key, None)
        else:
            self.cell_styles[key] = [col, _n(fg), _n(bg), _n(bold)]

    def _row_style(self, path: Any, fg: Any, bg: Any, bold: Any) -> None:
        node = self.node_at(path)
        if node is None:
            return
        key = self.pathkey(node)
        if nullish(fg) and nullish(bg) and nullish(bold):
            self.row_styles.pop(key, None)
        else:
            self.row_styles[key] = [_n(fg), _n(bg), _n(bold)]

    def _column_style(self, col: Any, fg: Any, bg: Any, bold: Any) -> None:
        if self.col_index(col) < 0:
            return
        if nullish(fg) and nullish(bg) and nullish(bold):
            self.column_styles.pop(jk(col), None)
        else:
            self.column_styles[jk(col)] = [col, _n(fg), _n(bg), _n(bold)]

    def _table_style(self, fg: Any, bg: Any, bold: Any) -> None:
        self.table_style = (
            None if nullish(fg) and nullish(bg) and nullish(bold) else [_n(fg), _n(bg), _n(bold)]
        )

    def set_cell_color(self, a: list[Any]) -> None:
        self._cell_style(arg(a, 0), arg(a, 1), arg(a, 2), arg(a, 3), arg(a, 4))

    def set_row_color(self, a: list[Any]) -> None:
        self._row_style(arg(a, 0), arg(a, 1), arg(a, 2), arg(a, 3))

    def set_column_color(self, a: list[Any]) -> None:
        self._column_style(arg(a, 0), arg(a, 1), arg(a, 2), arg(a, 3))

    def set_table_color(self, a: list[Any]) -> None:
        self._table_style(arg(a, 0), arg(a, 1), arg(a, 2))

    def clear_cell_color(self, a: list[Any]) -> None:
        node = self.node_at(arg(a, 0))
        if node is not None:
            self.cell_styles.pop((self.pathkey(node), js_str(arg(a, 1))), None)

    def clear_row_color(self, a: list[Any]) -> None:
        node = self.node_at(arg(a, 0))
        if node is not None:
            self.row_styles.pop(self.pathkey(node), None)

    def clear_column_color(self, a: list[Any]) -> None:
        k = jk(arg(a, 0))
        if k is not None:
            self.column_styles.pop(k, None)

    def clear_all_colors(self, a: Any = None) -> None:
        self._clear_styles()
        self._known("colors")

    def _clear_styles(self) -> None:
        self.cell_styles.clear()
        self.row_styles.clear()
        self.column_styles.clear()
        self.table_style = None

    def set_colors(self, a: list[Any]) -> None:
        spec = arg(a, 0)
        if not isinstance(spec, dict):
            return
        lists = []
        well_formed = True
        for name in ("cells", "rows", "columns"):
            entries = spec.get(name)
            if not truthy(entries):
                entries = []
            elif not isinstance(entries, (list, str)) or any(e is None for e in entries):
                self._uncertain("a set_colors spec the page cannot apply", "colors")
                well_formed = False
                entries = entries if isinstance(entries, list) else []
            lists.append([e for e in entries if isinstance(e, dict)])
        cells, rows, columns = lists
        if truthy(spec.get("clear")):
            self._clear_styles()
            if well_formed:
                self._known("colors")
        for e in cells:
            self._cell_style(e.get("path"), e.get("col_key", UNDEF), e.get("fg"), e.get("bg"), e.get("bold"))
        for e in rows:
            self._row_style(e.get("path"), e.get("fg"), e.get("bg"), e.get("bold"))
        for e in columns:
            self._column_style(e.get("col_key", UNDEF), e.get("fg"), e.get("bg"), e.get("bold"))
        if "table" in spec:
            t = spec["table"]
            t = t if isinstance(t, dict) else {}
            self._table_style(t.get("fg"), t.get("bg"), t.get("bold"))

    # browser events -----------------------------------------------------------------------------

    def expect(self, key: Any, count: int) -> None:
        """``count`` browsers will fire the callback ``key`` for a call made from Python."""
        entry = self.echoes.get(key)
        deadline = time.monotonic() + 30
        if entry is None:
            self.echoes[key] = [count, deadline]
            if len(self.echoes) > 256:
                del self.echoes[next(iter(self.echoes))]
        else:
            entry[0] += count
            entry[1] = deadline

    def is_echo(self, key: Any) -> bool:
        entry = self.echoes.get(key)
        if entry is None:
            return False
        if entry[1] < time.monotonic():
            del self.echoes[key]
            return False
        entry[0] -= 1
        if entry[0] <= 0:
            del self.echoes[key]
        return True

    def on_event(self, action: str, args: list[Any]) -> tuple[str, list[Any]] | None:
        """A callback from the page: fold it in; returns the call that brings the other browsers
        to the same state (None: not understood, or an echo of a call made from Python)."""
        if action in ("expanded", "collapsed"):
            path = arg(args, 1)
            if not isinstance(path, list) or self.is_echo((action, self.list_key(path))):
                return None
            node = self.node_at(path)
            if node is not None and node.children:
                node.expanded = action == "expanded"
            return ("expand_item" if action == "expanded" else "collapse_item", [path])
        if action == "sorted":
            sort_args = [x for x in args[:2] if x is not UNDEF]
            if not sort_args:
                return None
            self.sort_by_column(sort_args)
            return ("sort_by_column", sort_args)
        if action == "cell_edited":
            path, col, new = arg(args, 0), arg(args, 1), arg(args, 3)
            if not isinstance(path, list) or new is UNDEF:
                return None
            self._set_value(self.node_at(path), col, new)
            return ("set_cell", [path, col, new])
        if action == "selected":
            items = arg(args, 0)
            if not isinstance(items, list):
                return None
            paths = [it.get("path") for it in items if isinstance(it, dict)]
            if self.is_echo(("selected", tuple(self.list_key(p) for p in paths))):
                return None
            self.selection = [n for n in (self.node_at(p) for p in paths) if n is not None]
            self._known("selection")
            return ("set_selected", [paths])
        return None

    # replay -------------------------------------------------------------------------------------

    def replay_calls(self) -> list[tuple[str, list[Any]]]:
        """Calls that bring a freshly created widget (same constructor) to this state."""
        out: list[tuple[str, list[Any]]] = []
        descs, odd_widths = self._replay_columns()
        if self._column_state() != self._ctor_columns:
            if self.header_hidden and self.show_header:  # set_columns would show the header
                out += [("append_column", [d]) for d in descs]
            else:
                out.append(("set_columns", [descs]))
        em = _Emitter(self)
        out += em.content()
        if self.root_frozen is not None and self._root_sorted():
            out += [("sort_by_column", list(self.root_frozen)), ("sort_by_column", [None])]
        if self.sort_on:
            out.append(("sort_by_column", [self.sort_col, self.sort_asc]))
        if len(em.collapse) > len(em.expand) + 1:
            out.append(("collapse_all", []))
            out += [("expand_item", [p]) for p in em.expand]
        else:
            out += [("collapse_item", [p]) for p in em.collapse]
        out += em.remove_placeholders()
        colors = self._replay_colors()
        if colors:
            out.append(("set_colors", [colors]))
        if any(w is OPTIMAL for w in self.widths):
            out.append(("set_optimal_column_widths", []))
            odd_widths = [(i, w) for i, w in enumerate(self.widths) if w is not OPTIMAL]
        for i, w in odd_widths:
            key = self.columns[i]["key"]
            if self.col_index(key) == i:  # set_column_width reaches the first column of a key
                out.append(("set_column_width", [key, w]))
        paths = [self.raw_path(n) for n in self.selection if self.attached(n)]
        if paths:
            out.append(("set_selected", [paths]))
        return out

    def _replay_columns(self) -> tuple[list[dict[str, Any]], list[tuple[int, Any]]]:
        descs = []
        odd = []
        for i, (c, w) in enumerate(zip(self.columns, self.widths, strict=False)):
            d = dict(c)
            d.pop("colwidth", None)
            if isinstance(w, str) and w:
                if w != "1fr":
                    d["colwidth"] = w
            elif w is not OPTIMAL:
                odd.append((i, w))
            descs.append(d)
        return descs, odd

    def _replay_colors(self) -> dict[str, Any]:
        def entry(fg: Any, bg: Any, bold: Any) -> dict[str, Any]:
            return {k: v for k, v in (("fg", fg), ("bg", bg), ("bold", bold)) if v is not None}

        spec: dict[str, Any] = {}
        cells = []
        for (pk, _), (col, fg, bg, bold) in self.cell_styles.items():
            node = self._node_by_key(pk)
            if node is not None and self.col_index(col) >= 0:
                cells.append({"path": self.raw_path(node), "col_key": col, **entry(fg, bg, bold)})
        rows = []
        for pk, (fg, bg, bold) in self.row_styles.items():
            node = self._node_by_key(pk)
            if node is not None:
                rows.append({"path": self.raw_path(node), **entry(fg, bg, bold)})
        columns = [
            {"col_key": col, **entry(fg, bg, bold)}
            for col, fg, bg, bold in self.column_styles.values()
            if self.col_index(col) >= 0
        ]
        for name, entries in (("cells", cells), ("rows", rows), ("columns", columns)):
            if entries:
                spec[name] = entries
        if self.table_style is not None:
            spec["table"] = entry(*self.table_style)
        return spec

    # local getters ----------------------------------------------------------------------------

    def tree(self) -> dict[str, Any]:
        """The rows as a dict-tree (the shape of ``set_tree`` and ``get_subtree('all')``)."""

        def children(node: Node) -> dict[str, Any]:
            return {js_str(c.key): one(c) for c in node.children.values()}

        def one(node: Node) -> Any:
            if not node.children:
                return dict(node.values) if isinstance(node.values, dict) else {}
            out = children(node)
            if isinstance(node.values, dict) and node.values:
                return {"__values__": dict(node.values), **out}
            return out

        return wire(children(self.root))  # type: ignore[no-any-return]

    def data(self) -> list[dict[str, Any]]:
        """The top-level rows' values, in insertion order."""
        return wire([n.values if isinstance(n.values, dict) else {} for n in self.root.children.values()])  # type: ignore[no-any-return]


def _n(v: Any) -> Any:
    return None if v is UNDEF else v


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


_PLACEHOLDER = "\x00pgw"


class _Emitter:
    """Builds the content part of a replay: the rows in as few calls as their keys allow, and
    which nodes then need collapsing or a placeholder child (see the module)."""

    def __init__(self, model: TreeModel) -> None:
        self.m = model
        self.collapse: list[list[Any]] = []
        self.expand: list[list[Any]] = []
        self.placeholders: list[list[Any]] = []  # raw paths of nodes given a placeholder child
        self.later: list[tuple[list[Any], Node]] = []  # nodes whose children go in their own calls

    @staticmethod
    def _run(kids: list[Node], start: int) -> int:
        """How many children from ``start`` fit in one JSON object in their order."""
        last = -1
        named = False
        i = start
        while i < len(kids):
            k = kids[i].key
            if not isinstance(k, str) or k == "__values__":
                break
            if is_index(k):
                if named or int(k) <= last:
                    break
                last = int(k)
            else:
                named = True
            i += 1
        return i - start

    def _placeholder(self, node: Node) -> str:
        key = _PLACEHOLDER
        while key in node.children:
            key += "_"
        return key

    def _needs_placeholder(self, node: Node) -> bool:
        """Shown in insertion order although sorted: the page only gets there by losing rows."""
        return self.m.sort_on and len(node.children) > 1 and self.m.is_stale(node)

    def data(self, node: Node, path: list[Any]) -> Any:
        """What to give for ``node`` in a dict-tree (its children too when they fit)."""
        values = node.values
        if not node.children:
            if node.expanded:  # created as a branch: expanded
                return {"__values__": values} if values is not None else {}
            leaf = isinstance(values, dict) and values and "__values__" not in values
            if leaf and not any(isinstance(v, dict) for v in values.values()):
                return dict(values)  # a leaf: created collapsed
            # collapsed, no children, and no values a leaf can carry (none, {}, or dicts among
            # them): created as a branch with a placeholder child, collapsed, then emptied
            self.collapse.append(path)
            self.placeholders.append(path)
            d: dict[str, Any] = {"__values__": values} if values is not None else {}
            d[self._placeholder(node)] = {}
            return d
        (self.expand if node.expanded else self.collapse).append(path)
        d = {"__values__": values} if values is not None else {}
        kids = list(node.children.values())
        if self._run(kids, 0) == len(kids):
            for c in kids:
                d[c.key] = self.data(c, [*path, c.key])
            if self._needs_placeholder(node):
                d[self._placeholder(node)] = {}
                self.placeholders.append(path)
        else:
            self.later.append((path, node))
        return d

    def content(self) -> list[tuple[str, list[Any]]]:
        out: list[tuple[str, list[Any]]] = []
        root = self.m.root
        kids = list(root.children.values())
        if kids and all(
            n.key == f"row{i}" and isinstance(n.values, dict) and not n.children and not n.expanded
            for i, n in enumerate(kids)
        ):  # what set_data makes: the rows' values as they are
            out.append(("set_data", [[n.values for n in kids]]))
            if self._needs_placeholder(root):
                out.append(("add_item", [None, self._placeholder(root), {}]))
                self.placeholders.append([])
        elif kids and self._run(kids, 0) == len(kids):
            spec = {c.key: self.data(c, [c.key]) for c in kids}
            if self._needs_placeholder(root):
                spec[self._placeholder(root)] = {}
                self.placeholders.append([])
            out.append(("set_tree", [spec]))
        elif kids:
            self.later.append(([], root))
        i = 0
        while i < len(self.later):  # grows while it is walked: parents come first
            path, node = self.later[i]
            i += 1
            out += self._children(path, node)
        return out

    def _children(self, path: list[Any], node: Node) -> list[tuple[str, list[Any]]]:
        out: list[tuple[str, list[Any]]] = []
        parent = path or None
        kids = list(node.children.values())
        i = 0
        while i < len(kids):
            n = self._run(kids, i)
            if n:
                spec = {c.key: self.data(c, [*path, c.key]) for c in kids[i : i + n]}
                out.append(("add_tree", [spec, parent]))
                i += n
            else:
                c = kids[i]
                out.append(("add_item", [parent, c.key, self.data(c, [*path, c.key])]))
                i += 1
        if self._needs_placeholder(node):
            out.append(("add_item", [parent, self._placeholder(node), {}]))
            self.placeholders.append(path)
        return out

    def remove_placeholders(self) -> list[tuple[str, list[Any]]]:
        """One ``delete_tree(spec, false)`` for the placeholders under text keys (it leaves their
        parents in insertion order, as the page had them); ``remove_item`` for the others."""
        out: list[tuple[str, list[Any]]] = []
        spec: dict[str, Any] = {}
        for path in self.placeholders:
            node = self.m.node_at(path) if path else self.m.root
            assert node is not None
            key = self._placeholder(node)
            if all(isinstance(k, str) for k in path):
                d = spec
                for k in path:
                    d = d.setdefault(k, {})
                d[key] = {}
            else:
                out.append(("remove_item", [[*path, key]]))
        if spec:
            out.insert(0, ("delete_tree", [spec, False]))
        return out


# the widget side ------------------------------------------------------------------------------------

# state keys the model replays (the generic setter replay skips them)
MODEL_KEYS = frozenset({"columns", "tree", "data", "rows", "selected"})
EVENTS = ("expanded", "collapsed", "sorted", "cell_edited", "selected")


class TreeModelMixin:
    """What TreeView and TableView share: the model, its replay, events and local getters."""

    def _tree_model(self: Any) -> TreeModel:
        model: TreeModel | None = self.__dict__.get("_tree_model_state")
        if model is None:
            opts = self._ctor_args[-1] if self._ctor_args and isinstance(self._ctor_args[-1], dict) else {}
            try:
                opts = wire(opts)
            except Exception:
                opts = {}
            model = self.__dict__["_tree_model_state"] = TreeModel(opts)
        return model

    async def _initialize(self: Any) -> Any:
        self._tree_model()
        await super()._initialize()  # type: ignore[misc]
        for action in EVENTS:  # what the user changes in the page comes back to the model
            self._listen(action)
        return self

    def _js_args(self: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        from .widget import _resolve_kwargs

        return _resolve_kwargs(self._specs[name], args, kwargs, self._js_class)

    def _apply(self: Any, name: str, args: list[Any], op: Callable[[TreeModel, list[Any]], Any]) -> None:
        """Apply ``name(*args)`` to the model (before it is sent)."""
        model: TreeModel = self._tree_model()
        try:
            a = wire(args)
        except Exception:
            return  # it cannot be sent either: sending raises
        model.fired.clear()
        try:
            op(model, a)
        except Exception:  # a fault in the model must not break the call: record calls instead
            logger.exception("%r: the model could not apply %s; recording the calls from here", self, name)
            if model.degraded is None:
                model.degraded = list(wire(model.replay_calls()))
                model.degraded_why = f"{name} failed in the model"
            model.unknown.add("fault")  # for good: nothing says the model is right again
        if model.degraded is not None:
            model.degraded.append((name, wire(args)))
        browsers = len(self._session._connections)
        for key in model.fired:
            if browsers:
                model.expect(key, browsers)
        model.fired.clear()

    async def _send_js(self: Any, name: str, args: list[Any]) -> Any:
        wid = self._wid
        value = await self._session._request(lambda mid: call_msg(mid, wid, name, args), batchable=True)
        return self._session._resolve(value)

    def _auto_sync(self: Any, action: str, args: list[Any]) -> tuple[str, list[Any]] | None:
        if action not in EVENTS:
            return super()._auto_sync(action, args)  # type: ignore[misc, no-any-return]
        model: TreeModel = self._tree_model()
        try:
            push = model.on_event(action, wire(args))
        except Exception:
            logger.exception("%r: the model could not fold in %s", self, action)
            return None
        if push is not None and model.degraded is not None:
            model.degraded.append((push[0], wire(push[1])))
        return push

    def _replay_model(self: Any, new_mid: Callable[[], int]) -> tuple[list[dict[str, Any]], frozenset[str]]:
        """The messages that restore the model after the ``create`` (one batch: one render), and
        the state keys the generic replay must skip."""
        model: TreeModel = self._tree_model()
        calls = model.degraded if model.degraded is not None else model.replay_calls()
        wid = self._wid
        if not calls:
            return [], MODEL_KEYS
        if len(calls) == 1:
            return [call_msg(new_mid(), wid, calls[0][0], calls[0][1])], MODEL_KEYS
        batch = [{"wid": wid, "method": m, "args": a} for m, a in calls]
        return [{"type": "batch", "id": new_mid(), "calls": batch}], MODEL_KEYS

    # local getters ----------------------------------------------------------------------------

    def get_tree(self: Any) -> dict[str, Any]:
        """The rows as a dict-tree, as ``set_tree`` takes them (answered locally; a copy)."""
        model: TreeModel = self._tree_model()
        return _read(model.tree)  # type: ignore[no-any-return]

    def get_data(self: Any) -> list[dict[str, Any]]:
        """The values of the top-level rows in insertion order (the order shown without a sort;
        answered locally; a copy)."""
        model: TreeModel = self._tree_model()
        return _read(model.data)  # type: ignore[no-any-return]

    def get_columns(self: Any) -> list[dict[str, Any]]:
        """The columns as the page parsed them, with their current ``editable`` flag (answered
        locally; a copy)."""
        model: TreeModel = self._tree_model()
        return _read(lambda: wire(model.columns))  # type: ignore[no-any-return]


def _read(fn: Callable[[], Any]) -> Any:
    """``fn()``, again if the event loop's thread changed the model meanwhile (the blocking API
    calls getters from other threads)."""
    for _ in range(5):
        try:
            return fn()
        except RuntimeError:  # "dictionary changed size during iteration"
            continue
    return fn()


def _modelled(cls: str, name: str, op: Callable[[TreeModel, list[Any]], Any]) -> Callable[..., Any]:
    spec = classify(cls, name, defs.WIDGETS[cls]["methods"][name], defs.WIDGETS[cls]["methods"])
    state_key = spec.key if spec.kind is Kind.SETTER else None

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        js_args = self._js_args(name, args, kwargs)
        self._check()
        self._apply(name, js_args, op)
        if state_key is not None:  # get_state() shows what was set, as for other setters
            self._state[state_key] = js_args[0] if len(js_args) == 1 else tuple(js_args)
        elif name == "clear":
            for key in MODEL_KEYS - {"columns"}:
                self._state.pop(key, None)
        return await self._send_js(name, js_args)

    params = defs.WIDGETS[cls]["methods"][name]
    method.__name__ = name
    method.__qualname__ = f"{cls}.{name}"
    method.__doc__ = f"{cls}.{name}({', '.join(params)}): applied to the Python-side model, then sent"
    return method


# every call that changes what the model holds (the model's method has the call's name)
_MODELLED = [
    "set_columns",
    "set_tree",
    "set_data",
    "add_tree",
    "update_tree",
    "update_data",
    "add_item",
    "remove_item",
    "remove_items",
    "delete_tree",
    "clear",
    "expand_all",
    "collapse_all",
    "expand_item",
    "collapse_item",
    "scroll_to_path",
    "set_selected",
    "clear_selection",
    "select_path",
    "select_paths",
    "select_all",
    "set_column_width",
    "set_optimal_column_widths",
    "sort_by_column",
    "set_column_editable",
    "set_cell",
    "insert_column",
    "append_column",
    "delete_column",
    "insert_row",
    "append_row",
    "delete_row",
    "set_colors",
    "set_cell_color",
    "set_row_color",
    "set_column_color",
    "set_table_color",
    "clear_cell_color",
    "clear_row_color",
    "clear_column_color",
    "clear_all_colors",
]
_COMMON: dict[str, Callable[[TreeModel, list[Any]], Any]] = {
    name: getattr(TreeModel, name) for name in _MODELLED
}
_TABLE = {
    "insert_row": TreeModel.table_insert_row,
    "delete_row": TreeModel.table_delete_row,
    "set_rows": TreeModel.set_data,
    "update_rows": TreeModel.update_data,
}


def _build(cls: str, ops: dict[str, Callable[[TreeModel, list[Any]], Any]]) -> type:
    methods = defs.WIDGETS[cls]["methods"]
    ns: dict[str, Any] = {name: _modelled(cls, name, op) for name, op in ops.items() if name in methods}
    ns["__doc__"] = f"The Python-side model of a {cls} (see :mod:`pgwidgets.async_.treemodel`)."
    return type(f"{cls}Model", (TreeModelMixin,), ns)


TreeViewMixin = _build("TreeView", _COMMON)
TableViewMixin = _build("TableView", {**_COMMON, **_TABLE})
