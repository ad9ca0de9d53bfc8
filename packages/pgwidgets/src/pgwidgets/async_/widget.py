"""Widget wrappers: the :class:`Widget` base and the classes generated from pgwidgets-js's defs.

A widget records what the browser must show (constructor arguments, setter state, children in
attach order, layout and content calls, callbacks, cursors) so that a browser that connects later
gets the same tree (see :meth:`Session.reconstruct <pgwidgets.async_.Session.reconstruct>`).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
import mimetypes
import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .. import defs
from ..classify import RESETS_CONTENT, TEXT_RESETS, Kind, MethodSpec, classify
from ..protocol import Buffer
from ..protocol import call as call_msg
from .textsource import TextSourceMixin
from .treemodel import TableViewMixin, TreeViewMixin

if TYPE_CHECKING:
    from .application import Application, Session


class BrowserError(RuntimeError):
    """The browser answered a request with an error (``Unknown widget id: 7`` ...)."""


__all__ = ["Widget", "WidgetDestroyed", "Widgets", "build_widget_class"]

logger = logging.getLogger("pgwidgets")


class WidgetDestroyed(RuntimeError):
    """The widget was destroyed (or never created with ``await``)."""


@dataclass(slots=True)
class Handler:
    fn: Callable[..., Any]
    extra: tuple[Any, ...]
    kwargs: dict[str, Any]
    with_widget: bool


# which callback writes which state key (the browser is the source of these values)
_ARG0 = 0
AUTO_SYNC: dict[str, dict[str, tuple[str, Any]]] = {
    "TextEntry": {"activated": ("text", _ARG0), "modified": ("text", _ARG0)},
    "TextEntrySet": {"activated": ("text", _ARG0), "modified": ("text", _ARG0)},
    "TextArea": {"modified": ("text", _ARG0)},
    "ComboBox": {"activated": ("index", "combo"), "modified": ("text", _ARG0)},
    "Slider": {"activated": ("value", _ARG0)},
    "SpinBox": {"activated": ("value", _ARG0)},
    "Dial": {"activated": ("value", _ARG0)},
    "ScrollBar": {"activated": ("value", _ARG0)},
    "CheckBox": {"activated": ("state", _ARG0)},
    "RadioButton": {"activated": ("state", _ARG0)},
    "ToggleButton": {"activated": ("state", _ARG0)},
    "ToolBarAction": {"activated": ("state", _ARG0)},
    "TabWidget": {"page-switch": ("index", 1)},
    "StackWidget": {"page-switch": ("index", 1)},
    "MDIWidget": {"page-switch": ("index", 1)},
    "Splitter": {"sizing": ("sizes", _ARG0)},
    "Expander": {"toggled": ("collapsed", _ARG0)},
    "TopLevel": {"window-state": ("window_state", _ARG0)},
    "ColorDialog": {"pick": ("color", _ARG0)},
}
# state keys whose value is only known after the children exist (replayed in a second pass)
DEFERRED_KEYS = {
    "index",
    "sizes",
    "scroll_position",
    "scroll_percent",
    "window_state",
    "collapsed",
    "selected",
}
# content state dropped by clear()
CONTENT_KEYS = {"text", "html", "tree", "data", "index", "items"}
# per-class defaults for getters before anything was set
DEFAULTS: dict[str, dict[str, Any]] = {
    "TextEntry": {"text": ""},
    "TextEntrySet": {"text": ""},
    "TextArea": {"text": ""},
    "ComboBox": {"index": -1, "text": ""},
    "TabWidget": {"index": -1},
    "StackWidget": {"index": -1},
    "MDIWidget": {"index": -1},
    "CheckBox": {"state": False},
    "RadioButton": {"state": False},
    "ToggleButton": {"state": False},
    "Slider": {"value": 0},
    "SpinBox": {"value": 0},
    "Dial": {"value": 0},
    "ProgressBar": {"value": 0},
    "Expander": {"collapsed": False},
}
# top-level windows start hidden; everything else is shown where it is attached
HIDDEN_AT_FIRST = {"TopLevel", "Dialog", "ColorDialog", "Menu", "MDISubWindow"}
# arguments that name a picture: local files become data: URIs (also for replay)
PATH_METHODS = {"set_icon", "set_image", "set_icon_gutter"}
PATH_OPTIONS = {"icon", "icon_url"}


def to_data_uri(path: str | os.PathLike[str]) -> str:
    """``data:<mime>;base64,...`` for a local file (MIME type guessed from the extension)."""
    mime = mimetypes.guess_type(os.fspath(path))[0] or "application/octet-stream"
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f"data:{mime};base64,{data}"


def _maybe_path(value: Any) -> Any:
    """A local file named by ``value`` as a data: URI (so replays work too); else ``value``."""
    if isinstance(value, os.PathLike) or (
        isinstance(value, str) and value and not value.startswith(("data:", "http:", "https:", "blob:"))
    ):
        try:
            if os.path.isfile(value):
                return to_data_uri(value)
        except (OSError, ValueError):
            pass
    return value


class Widget:
    """Base class of every widget wrapper; construct with ``await Cls(session, ...)``.

    The constructor only parses arguments; awaiting the object creates the widget in the
    browser(s) and returns it. Setters (``set_*``, ``show``, ``resize``...) and actions are
    coroutines; getters (``get_text``...) are plain methods reading the state kept here;
    queries only the browser can answer (``get_position``...) are coroutines that return
    ``None`` when no browser is connected.
    """

    _js_class: ClassVar[str] = ""
    _defn: ClassVar[dict[str, Any]] = {}
    _specs: ClassVar[dict[str, MethodSpec]] = {}
    _local_only: ClassVar[bool] = False  # lives in Python only (the server-side Timer)

    if TYPE_CHECKING:  # the generated methods, for type checkers (no runtime effect)

        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, session: Session, *args: Any, **kwargs: Any) -> None:
        if not self._js_class:
            raise TypeError(
                "Widget is a base class: use a generated class such as session.get_widgets().Button"
            )
        defn = self._defn
        names: list[str] = list(defn.get("args", []))
        options: list[str] = list(defn.get("options", []))
        if len(args) > len(names) + len(options):
            raise TypeError(
                f"{self._js_class}() takes at most {len(names) + len(options)} positional arguments "
                f"({', '.join(names + options) or 'none'}), got {len(args)}"
            )
        positional = list(args[: len(names)])
        opts: dict[str, Any] = {}
        for name, value in zip(options, args[len(names) :], strict=False):
            opts[name] = value
        extra: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in names:
                idx = names.index(key)
                positional.extend([None] * (idx + 1 - len(positional)))
                positional[idx] = value
            elif key in options:
                opts[key] = value
            else:
                extra[key] = value
        for key in PATH_OPTIONS & opts.keys():
            opts[key] = _maybe_path(opts[key])
        opts = {k: v for k, v in opts.items() if v is not None}
        js_args: list[Any] = list(positional)
        if opts:
            js_args.extend([None] * (len(names) - len(js_args)))
            js_args.append(opts)
        else:
            while js_args and js_args[-1] is None:
                js_args.pop()
        self._session = session
        self._wid: int | None = None
        self._alive = False
        self._refused: str | None = None  # why the browser refused a pipelined create
        self._ctor_args = js_args
        self._extra_kwargs = extra
        self._ctor_state: dict[str, Any] = dict(DEFAULTS.get(self._js_class, {}))
        self._ctor_state["visible"] = self._js_class not in HIDDEN_AT_FIRST
        for name, value in zip(names, positional, strict=False):
            if value is not None:
                self._ctor_state[name] = value
        self._ctor_state.update(opts)
        self._state: dict[str, Any] = dict(self._ctor_state)
        self._dirty: dict[str, None] = {}  # keys set after creation, in order
        self._replay_set: dict[str, tuple[str, list[Any]]] = {}  # key -> the call that sets it
        self._ops: list[tuple[str, list[Any]]] = []  # attach / layout calls, in order
        self._content: list[tuple[str, list[Any]]] = []  # content calls since the last reset
        self._children: list[Widget] = []
        self._parent: Widget | None = None
        self._handlers: dict[str, list[Handler]] = {}
        self._listens: dict[str, None] = {}
        self._cursors: dict[str, list[Any]] = {}
        self._reported_size: tuple[int, int] | None = None

    # construction --------------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, Any]:
        return self._initialize().__await__()

    async def _initialize(self) -> Widget:
        """Create the widget in the browser(s); subclasses extend it and ``await super()._initialize()``."""
        if self._wid is not None:
            return self
        session = self._session
        for key in self._extra_kwargs:  # checked before anything is created
            setter = getattr(self, f"set_{key}", None)
            if setter is None or not inspect.iscoroutinefunction(setter):
                raise TypeError(f"{self._js_class}() got an unexpected keyword argument {key!r}")
        self._wid = session._alloc_wid()
        self._alive = True
        session._register(self)
        if not self._local_only:
            try:
                await session._create(self)
            except BrowserError:
                self._alive = False  # the browser refused it: never replay it
                session._unregister(self)
                raise
        for key, value in self._extra_kwargs.items():
            setter = getattr(self, f"set_{key}")
            await setter(*value) if isinstance(value, tuple) else await setter(value)
        self._extra_kwargs = {}
        for action in AUTO_SYNC.get(self._js_class, {}):
            if action in self._callback_names() or action == "modified":
                self._listen(action)
        if self._js_class == "Dialog" and self._state.get("autoclose"):
            self._listen("activated")
        if "move" in self._callback_names() and "set_position" in self._specs:
            self._listen("move")  # window positions survive a reload
        return self

    # identity ------------------------------------------------------------------------------

    @property
    def wid(self) -> int | None:
        """The widget id shared with the browser (``None`` before ``await``)."""
        return self._wid

    @property
    def session(self) -> Session:
        """The Session this widget belongs to."""
        return self._session

    @property
    def app(self) -> Application:
        """The Application this widget belongs to."""
        return self._session.app

    @property
    def parent(self) -> Widget | None:
        return self._parent

    @property
    def children(self) -> list[Widget]:
        return list(self._children)

    @property
    def alive(self) -> bool:
        return self._alive

    def __wire_ref__(self) -> dict[str, int]:
        if self._wid is None:
            raise WidgetDestroyed(f"{self!r} was never created: construct widgets with await")
        return {"__wid__": self._wid}

    def __repr__(self) -> str:
        return f"<{self._js_class or 'Widget'} wid={self._wid}>"

    @classmethod
    def _callback_names(cls) -> set[str]:
        names = set(cls._defn.get("callbacks", []))
        if cls._defn.get("base") != "callback":
            names |= {"resize", "map"}
        return names

    @classmethod
    def has_callback(cls, action: str) -> bool:
        """Whether pgwidgets-js documents ``action`` for this class."""
        return action in cls._callback_names()

    to_data_uri = staticmethod(to_data_uri)

    # state --------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """A copy of the state kept on the Python side."""
        return dict(self._state)

    def _set_state(
        self, key: str, value: Any, method: str | None = None, args: list[Any] | None = None
    ) -> None:
        """Record ``key = value``; ``method(*args)`` is what replays it (default ``set_<key>(value)``)."""
        self._state[key] = value
        self._dirty.pop(key, None)
        self._dirty[key] = None
        self._replay_set[key] = (method or f"set_{key}", [value] if args is None else list(args))

    def _check(self) -> None:
        if not self._alive:
            if self._refused is not None:
                raise BrowserError(f"the browser could not create {self!r}: {self._refused}")
            raise WidgetDestroyed(
                f"{self!r} was destroyed" if self._wid is not None else f"{self!r} was not created: use await"
            )

    # the generic method paths -----------------------------------------------------------------

    async def _invoke(self, spec: MethodSpec, args: list[Any]) -> Any:
        self._check()
        kind = spec.kind
        name = spec.name
        if args and any(type(a) is Buffer for a in args):
            if type(args[0]) is not Buffer:
                raise TypeError(f"{name}: only the first argument can be a Buffer")
            await self._send_buffer(name, args[0], list(args[1:]))
            return None
        if kind is Kind.SETTER:
            if name in PATH_METHODS and args:
                args = [_maybe_path(args[0]), *args[1:]]
            key = spec.key or name
            self._set_state(key, args[0] if len(args) == 1 else tuple(args), name, args)
            if name in RESETS_CONTENT or (name == "set_text" and self._js_class in TEXT_RESETS):
                self._content.clear()
            if name == "set_image":
                self.__dict__.get("_binary", {}).pop("set_binary_image", None)
        elif kind is Kind.SHOW or kind is Kind.HIDE:
            self._set_state("visible", kind is Kind.SHOW, name, [])
        elif kind is Kind.RESIZE:
            self._set_state("size", tuple(args), name, args)
        elif kind is Kind.ATTACH:
            child = args[spec.child_param] if len(args) > spec.child_param else None
            if child is None and name == "add_menu":
                child = await self._session._widget_class("Menu")(self._session)
                args = list(args) + [None] * (spec.child_param + 1 - len(args))
                args[spec.child_param] = child
            if isinstance(child, Widget):
                child._check()
                self._attach(child)
            self._ops.append((name, list(args)))
        elif kind is Kind.REPLACE:
            child = args[spec.child_param] if args else None
            for old in [c for c in self._children]:
                self._detach(old)
            self._ops = [op for op in self._ops if op[0] != name]
            if isinstance(child, Widget):
                child._check()
                self._attach(child)
            self._ops.append((name, list(args)))
        elif kind is Kind.DETACH:
            child = args[spec.child_param] if args else None
            if isinstance(child, Widget):
                destroy = len(args) > 1 and bool(args[1])
                self._detach(child)
                if destroy:
                    child._forget()
        elif kind is Kind.DETACH_ALL:
            destroy = bool(args[0]) if args else False
            for child in list(self._children):
                self._detach(child)
                if destroy:
                    child._forget()
            self._ops = []
        elif kind is Kind.LAYOUT:
            self._ops.append((name, list(args)))
        elif kind is Kind.CONTENT:
            self._content.append((name, list(args)))
            if name == "append_text" and self._js_class == "ComboBox":
                self._state["items"] = [*self._state.get("items", []), args[0] if args else ""]
        elif kind is Kind.RESET:
            self._content.clear()
            for key in CONTENT_KEYS:
                self._state.pop(key, None)
                self._dirty.pop(key, None)
                self._replay_set.pop(key, None)
            self._state.update(
                {k: v for k, v in DEFAULTS.get(self._js_class, {}).items() if k in CONTENT_KEYS}
            )
        wid = self._wid
        if self._local_only:
            return None
        value = await self._session._request(
            lambda mid: call_msg(mid, wid, name, args),  # type: ignore[arg-type]
            batchable=kind is not Kind.QUERY,
        )
        return self._session._resolve(value)

    async def _send_buffer(self, method: str, buffer: Buffer, args: list[Any]) -> None:
        """``method(buffer, *args)`` as binary frames (the browser does not answer); the latest
        call of each such method is kept for replays."""
        if any(isinstance(a, Buffer) for a in args):
            raise TypeError(f"{method}: only the first argument can be a Buffer")
        self.__dict__.setdefault("_binary", {})[method] = (buffer.data, args, buffer.shape, buffer.dtype)
        if self._local_only:
            return
        session = self._session
        session._send_binary(self._wid, method, buffer.data, args, buffer.shape, buffer.dtype)  # type: ignore[arg-type]
        conns = session._connections
        if conns and not conns[0]._writing:
            await conns[0].flush()

    def _attach(self, child: Widget) -> None:
        if child is self:
            raise ValueError(f"cannot add {self!r} to itself")
        if child._parent is not None and child._parent is not self:
            child._parent._detach(child, reroot=False)
        self._session._unroot(child)
        if child not in self._children:
            self._children.append(child)
        child._parent = self

    def _detach(self, child: Widget, reroot: bool = True) -> None:
        if child in self._children:
            self._children.remove(child)
        self._ops = [op for op in self._ops if not _mentions(op[1], child)]
        child._parent = None
        if reroot and child._alive:
            self._session._reroot(child)

    def _forget(self) -> None:
        """Drop this widget and its descendants from the session (it is gone in the browser)."""
        for child in list(self._children):
            child._forget()
        self._children.clear()
        if self._parent is not None:
            self._parent._detach(self, reroot=False)
        self._alive = False
        self._session._unregister(self)

    # callbacks ------------------------------------------------------------------------------

    def _listen(self, action: str) -> None:
        if action in self._listens or self._local_only:
            self._listens.setdefault(action, None)
            return
        self._listens[action] = None
        self._session._send_listen(self, action)

    async def on(
        self, action: str, handler: Callable[..., Any], *extra_args: Any, **extra_kwargs: Any
    ) -> None:
        """Register a callback. The handler receives (*callback_args, *extra_args, **extra_kwargs), with
        no widget arg. Handler can be sync or async."""
        self._add_handler(action, Handler(handler, extra_args, extra_kwargs, False))

    async def add_callback(
        self, action: str, handler: Callable[..., Any], *extra_args: Any, **extra_kwargs: Any
    ) -> None:
        """Register a callback. The handler receives (widget, *callback_args, *extra_args,
        **extra_kwargs). Handler can be sync or async."""
        self._add_handler(action, Handler(handler, extra_args, extra_kwargs, True))

    def _add_handler(self, action: str, handler: Handler) -> None:
        self._check()
        if not callable(handler.fn):
            raise TypeError(f"callback handler must be callable, not {handler.fn!r}")
        self._handlers.setdefault(action, []).append(handler)
        self._listen(action)

    async def remove_callbacks(self, action: str) -> None:
        """Unregister every handler of ``action``."""
        self._handlers.pop(action, None)

    def _auto_sync(self, action: str, args: list[Any]) -> tuple[str, list[Any]] | None:
        """Write what a browser event says into the state; returns (setter, args) to push to peers."""
        rule = AUTO_SYNC.get(self._js_class, {}).get(action)
        if action == "resize" and args and isinstance(args[0], dict):
            w, h = args[0].get("width"), args[0].get("height")
            if isinstance(w, (int, float)) and isinstance(h, (int, float)):
                self._reported_size = (int(w), int(h))
            return None
        if action == "move" and "set_position" in self._specs and len(args) >= 2:
            x, y = args[0], args[1]
            if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                self._set_state("position", (x, y), "set_position", [x, y])
                return ("set_position", [x, y])
            return None
        if self._js_class == "Dialog" and action == "activated" and self._state.get("autoclose"):
            self._set_state("visible", False, "hide", [])
            return None
        if rule is None:
            return None
        key, where = rule
        if where == "combo":
            if len(args) < 2:
                return None
            idx, text = args[0], args[1]
            items = self._state.get("items", [])
            if isinstance(idx, int) and idx >= len(items) and isinstance(text, str):
                self._content.append(("append_text", [text]))
                self._state["items"] = [*items, text]
            self._set_state("index", idx)
            self._state["text"] = text
            return ("set_index", [idx])
        if len(args) <= where:
            return None
        value = args[where]
        if key == "index" and not isinstance(value, int):
            return None
        if key == "text" and self._js_class in TEXT_RESETS:
            self._content.clear()  # the browser's text already holds what was appended
        self._set_state(key, value)
        return (f"set_{key}", [value]) if f"set_{key}" in self._specs else None

    # cursors, destroy ----------------------------------------------------------------------

    async def add_cursor(self, name: str, url: str, hotspot_x: int, hotspot_y: int, size: Any = None) -> None:
        """Register a named custom cursor. If url is a local file path it is read and converted to a
        data URI before sending."""
        self._check()
        args = [name, _maybe_path(url), hotspot_x, hotspot_y, size]
        self._cursors[name] = args
        wid = self._wid
        await self._session._request(lambda mid: call_msg(mid, wid, "add_cursor", args))  # type: ignore[arg-type]

    async def destroy(self) -> None:
        """Destroy this widget: tear it down on the JS side and drop it from the Python-side registry
        so it can be garbage-collected."""
        if not self._alive:
            return
        wid = self._wid
        self._forget()
        self._session._cancel_local(self)
        if not self._local_only:
            await self._session._request(lambda mid: call_msg(mid, wid, "destroy", []))  # type: ignore[arg-type]

    def batch(self) -> Any:
        """``async with widget.batch():`` is ``async with widget.session.batch():``."""
        return self._session.batch()

    def walk(self) -> Iterator[Widget]:
        """This widget and its descendants, parents first."""
        yield self
        for child in self._children:
            yield from child.walk()


def _mentions(value: Any, widget: Widget) -> bool:
    if value is widget:
        return True
    if isinstance(value, (list, tuple)):
        return any(_mentions(v, widget) for v in value)
    if isinstance(value, dict):
        return any(_mentions(v, widget) for v in value.values())
    return False


# generation ---------------------------------------------------------------------------------


def _resolve_kwargs(spec: MethodSpec, args: tuple[Any, ...], kwargs: dict[str, Any], cls: str) -> list[Any]:
    """Positional + keyword arguments → the JS argument list (kwargs fill named slots; leftovers
    go into a final ``options`` parameter when there is one)."""
    params = spec.params
    if len(args) > len(params):
        raise TypeError(
            f"{cls}.{spec.name}() takes {len(params)} arguments ({', '.join(params)}), got {len(args)}"
        )
    out = list(args)
    leftovers: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in params:
            idx = params.index(key)
            if idx < len(args):
                raise TypeError(f"{cls}.{spec.name}() got multiple values for argument {key!r}")
            out.extend([None] * (idx + 1 - len(out)))
            out[idx] = value
        else:
            leftovers[key] = value
    if leftovers:
        if params and params[-1] == "options":
            idx = len(params) - 1
            out.extend([None] * (idx + 1 - len(out)))
            current = out[idx]
            if isinstance(current, str):
                current = {"text": current}
            out[idx] = {**(current or {}), **leftovers}
        else:
            raise TypeError(f"{cls}.{spec.name}() got unexpected keyword arguments: {', '.join(leftovers)}")
    return out


def _make_method(cls_name: str, spec: MethodSpec) -> Callable[..., Any]:
    doc = f"{cls_name}.{spec.name}({', '.join(spec.params)}): {spec.kind.value}"
    if spec.kind is Kind.GETTER:
        key = spec.key or spec.name

        def getter(self: Widget) -> Any:
            if key == "size" and "size" not in self._dirty and self._reported_size is not None:
                return self._reported_size
            if key == "menu":
                return None
            return self._state.get(key)

        getter.__name__ = spec.name
        getter.__doc__ = doc + " (answered from the state kept in Python; not awaited)"
        return getter

    async def method(self: Widget, *args: Any, **kwargs: Any) -> Any:
        return await self._invoke(spec, _resolve_kwargs(spec, args, kwargs, cls_name))

    method.__name__ = spec.name
    method.__qualname__ = f"{cls_name}.{spec.name}"
    method.__doc__ = doc
    return method


BASE_NAMES = {"on", "add_callback", "add_cursor", "destroy"}


def build_widget_class(name: str, defn: dict[str, Any], base: type[Widget] = Widget) -> type[Widget]:
    """A Widget subclass for pgwidgets-js class ``name`` from its definition."""
    kind = defn.get("base", "widget")
    inherited = {
        "callback": defs.CALLBACK_METHODS,
        "container": defs.CONTAINER_METHODS,
    }.get(kind, defs.WIDGET_METHODS)
    methods: dict[str, list[str]] = {**inherited, **defn.get("methods", {})}
    specs = {m: classify(name, m, p, methods) for m, p in methods.items()}
    ns: dict[str, Any] = {
        "_js_class": name,
        "_defn": defn,
        "_specs": specs,
        "__doc__": f"pgwidgets-js ``{name}``: args {defn.get('args', [])}, options {defn.get('options', [])}.",
        "__module__": __name__,
    }
    for m, spec in specs.items():
        if m in BASE_NAMES or spec.kind is Kind.FACTORY:
            continue
        ns[m] = _make_method(name, spec)
    return type(name, (base,), ns)


# hand-written behaviour on top of the generated classes ------------------------------------


class _MenuMixin:
    async def add_name(self: Any, name: str, checkable: bool = False) -> Widget:
        """Add an entry; returns its MenuAction (created here so its id is the server's)."""
        action = await self._session._widget_class("MenuAction")(
            self._session, name=name, checkable=checkable
        )
        await self.add_widget(action)
        return action  # type: ignore[no-any-return]

    def get_menu(self: Any, name: str) -> Widget | None:
        """The submenu added under ``name`` (answered locally)."""
        for op, args in self._ops:
            if op == "add_menu" and len(args) > 1 and args[0] == name and isinstance(args[1], Widget):
                return args[1]
        return None


class _MenuBarMixin:
    async def add_name(self: Any, name: str) -> Widget:
        """Add a menu under ``name``; returns the new Menu."""
        menu = await self._session._widget_class("Menu")(self._session)
        await self.add_menu(menu, name)
        return menu  # type: ignore[no-any-return]

    def get_menu(self: Any, name: str) -> Widget | None:
        for op, args in self._ops:
            if op == "add_menu" and len(args) > 1 and args[1] == name and isinstance(args[0], Widget):
                return args[0]
        return None


class _ToolBarMixin:
    async def add_action(self: Any, options: Any = None, **kwargs: Any) -> Widget:
        """Add a ToolBarAction (``options``: its text, or a dict of its options)."""
        opts = {"text": options} if isinstance(options, str) else dict(options or {})
        opts.update(kwargs)
        action = await self._session._widget_class("ToolBarAction")(self._session, **opts)
        await self.add_widget(action)
        return action  # type: ignore[no-any-return]


class _ImageMixin:
    async def set_binary_image(self: Any, data: bytes | bytearray | memoryview | Buffer, format: str = "jpeg") -> None:
        """Show an encoded image (``format``: jpeg, png, webp, gif) sent as binary frames, with
        no base64 (over 1 MiB in 512 KiB chunks); the latest one is kept for replays. The
        browser does not answer."""
        self._check()
        self._state.pop("image", None)
        self._dirty.pop("image", None)
        self._replay_set.pop("image", None)
        await self._send_buffer("set_binary_image", data if isinstance(data, Buffer) else Buffer(data), [format])


class _TimerMixin:
    """A Timer that runs on the server (asyncio): it fires once per session, with or without a
    browser, and keeps running across reconnects."""

    _local_only = True

    def _timer(self: Any) -> dict[str, Any]:
        t = self.__dict__.get("_timer_state")
        if t is None:
            t = self.__dict__["_timer_state"] = {"handle": None, "started": 0.0, "duration": None}
        return t  # type: ignore[no-any-return]

    def _duration(self: Any, duration: float | None) -> float:
        if duration is None:
            duration = self._state.get("duration")
        return float(duration or 0)

    async def start(self: Any, duration: float | None = None) -> None:
        """Start (or restart) the timer; it fires ``expired(duration)`` after ``duration`` seconds."""
        self._check()
        d = self._duration(duration)
        t = self._timer()
        if t["handle"] is not None:
            t["handle"].cancel()
        loop = asyncio.get_running_loop()
        t["started"], t["duration"] = time.monotonic(), d
        t["handle"] = loop.call_later(d, self._expire)

    async def set(self: Any, duration: float | None = None) -> None:
        await self.start(duration)

    async def cond_set(self: Any, duration: float | None = None) -> None:
        """Start only if the timer is not running."""
        if self._timer()["handle"] is None:
            await self.start(duration)

    async def stop(self: Any) -> None:
        """Stop without firing anything."""
        t = self._timer()
        if t["handle"] is not None:
            t["handle"].cancel()
            t["handle"] = None

    async def cancel(self: Any) -> None:
        """Stop and fire ``cancelled(elapsed)``."""
        t = self._timer()
        if t["handle"] is not None:
            elapsed = time.monotonic() - t["started"]
            await self.stop()
            self._session._fire_local(self, "cancelled", [elapsed])

    def _expire(self: Any) -> None:
        t = self._timer()
        t["handle"] = None
        self._session._fire_local(self, "expired", [t["duration"]])

    async def is_set(self: Any) -> bool:
        return self._timer()["handle"] is not None

    async def elapsed_time(self: Any) -> float:
        t = self._timer()
        return float(time.monotonic() - t["started"]) if t["handle"] is not None else 0.0

    async def time_left(self: Any) -> float:
        t = self._timer()
        if t["handle"] is None:
            return 0.0
        left: float = t["duration"] - (time.monotonic() - t["started"])
        return max(0.0, left)

    async def get_duration(self: Any) -> float:
        return float(self._duration(None))

    def _cancel_timer(self: Any) -> None:
        t = self._timer()
        if t["handle"] is not None:
            t["handle"].cancel()
            t["handle"] = None


MIXINS: dict[str, type] = {
    "Menu": _MenuMixin,
    "MenuBar": _MenuBarMixin,
    "ToolBar": _ToolBarMixin,
    "Timer": _TimerMixin,
    "Image": _ImageMixin,
    "TextSource": TextSourceMixin,
    "TreeView": TreeViewMixin,
    "TableView": TableViewMixin,
}


def _build_all() -> dict[str, type[Widget]]:
    classes: dict[str, type[Widget]] = {}
    for name, defn in defs.WIDGETS.items():
        cls = build_widget_class(name, defn)
        mixin = MIXINS.get(name)
        if mixin is not None:
            cls = type(name, (mixin, cls), {"__module__": __name__, "__doc__": cls.__doc__})
        classes[name] = cls
    return classes


class _Namespace:
    """Attribute access to widget classes (``Widgets.Button``)."""

    def __init__(self, classes: dict[str, Any]) -> None:
        self.__dict__.update(classes)

    def __getattr__(self, name: str) -> Any:  # only for missing names (and lets type checkers through)
        raise AttributeError(
            f"no widget class {name!r} (pgwidgets-js defines: {', '.join(sorted(self.__dict__))})"
        )

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.__dict__))

    def __repr__(self) -> str:
        return f"<widgets: {', '.join(sorted(self.__dict__))}>"


WIDGET_CLASSES: dict[str, type[Widget]] = _build_all()
Widgets = _Namespace(WIDGET_CLASSES)
"""Every generated widget class (shared by all applications and sessions)."""
