"""Output functions: put content on the page, manage scopes, popups and toasts.

Every ``put_*`` returns an :class:`Output` that is sent when discarded and embedded when passed to
another ``put_*`` (see :mod:`pywebio.io_ctrl` for the exact rules).
"""

from __future__ import annotations

import base64
import functools
import html as _html
import io
import logging
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from .io_ctrl import (
    Output,
    check_scope_name,
    current_session,
    embed,
    embed_deep,
    embed_list,
    random_str,
    scope2dom,
    send_command,
)

logger = logging.getLogger("pywebio")

__all__ = [
    "Output", "OutputPosition", "Position", "PopupSize", "span",
    "set_scope", "get_scope", "clear", "remove", "scroll_to", "use_scope",
    "put_text", "put_markdown", "put_html", "put_link", "put_processbar", "set_processbar",
    "put_loading", "put_code", "put_info", "put_success", "put_warning", "put_error",
    "put_table", "put_buttons", "put_button", "put_image", "put_file", "put_tabs", "put_scope",
    "put_collapse", "put_scrollable", "put_scrolltable", "put_widget", "put_row", "put_column",
    "put_grid", "put_datatable", "toast", "popup", "close_popup", "output", "style",
]  # fmt: skip


class OutputPosition:
    """Where a widget goes in its scope: TOP = first, BOTTOM = last, or an index."""

    TOP = 0
    BOTTOM = -1


class Position:
    """Scroll targets of :func:`scroll_to`."""

    TOP = "top"
    MIDDLE = "middle"
    BOTTOM = "bottom"


class PopupSize:
    LARGE = "large"
    NORMAL = "normal"
    SMALL = "small"


def _put(spec: dict[str, Any], scope: str | None, position: int) -> Output:
    session = current_session()
    spec["scope"] = scope2dom(scope, session)
    spec["position"] = position
    return Output(spec, session=session)


# ---------------------------------------------------------------------------------------------------
# Scopes


def set_scope(
    name: str,
    container_scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
    if_exist: str | None = None,
) -> None:
    """Create scope ``name`` inside ``container_scope`` (default: the current scope)."""
    check_scope_name(name)
    send_command(
        "output_ctl",
        {
            "set_scope": scope2dom(name, no_css_selector=True),
            "container": scope2dom(container_scope),
            "position": position,
            "if_exist": if_exist,
        },
    )


def get_scope(stack_idx: int = -1) -> str | None:
    """Name of the scope at ``stack_idx`` of the current task's scope stack (-1: innermost)."""
    try:
        return str(current_session().get_scope(stack_idx))
    except IndexError:
        return None


def clear(scope: str | None = None) -> None:
    """Remove everything inside a scope (default: the current one)."""
    send_command("output_ctl", {"clear": scope2dom(scope)})


def remove(scope: str | None = None) -> None:
    """Remove a scope and its content (default: the current one; ROOT cannot be removed)."""
    if scope is None:
        scope = get_scope()
    if scope == "ROOT":
        raise ValueError("the ROOT scope cannot be removed")
    send_command("output_ctl", {"remove": scope2dom(scope)})


def scroll_to(scope: str | None = None, position: str = Position.TOP) -> None:
    """Scroll the page so that a scope is visible at ``position`` ('top', 'middle', 'bottom')."""
    send_command("output_ctl", {"scroll_to": scope2dom(scope), "position": position})


class use_scope:
    """Enter a scope: ``with use_scope('x', clear=True):`` or ``@use_scope('x')``.

    ``name=None`` picks a random name (returned by ``__enter__``); ``clear=True`` empties the scope
    first; ``create_scope=False`` uses an existing scope only. Extra keywords go to :func:`set_scope`.
    """

    def __init__(self, name: str | None = None, clear: bool = False, **scope_params: Any) -> None:
        self.create_scope = scope_params.pop("create_scope", True)
        self.scope_params = scope_params
        self.name = check_scope_name(name) if name is not None else random_str(10)
        self.clear = clear

    def __enter__(self) -> str:
        session = current_session()
        if self.create_scope:
            params = dict(self.scope_params)
            if self.clear:
                params["if_exist"] = "blank"
            set_scope(self.name, **params)
        elif self.clear:
            clear(self.name)
        session.push_scope(self.name)
        return self.name

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        session = current_session()
        session.pop_scope()
        if self.clear and self.create_scope and not session.closed():
            send_command("output_ctl", {"loose": scope2dom(self.name)}, session)
        return None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        import inspect

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def coro_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return coro_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


# ---------------------------------------------------------------------------------------------------
# Basic content


def put_text(
    *texts: Any,
    sep: str = " ",
    inline: bool = False,
    scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:
    """Plain text (HTML is shown literally, whitespace kept)."""
    content = sep.join(str(t) for t in texts)
    return _put({"type": "text", "content": content, "inline": inline}, scope, position)


def put_markdown(
    mdcontent: str,
    lstrip: bool = True,
    options: dict[str, Any] | None = None,
    sanitize: bool = True,
    scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
    **kwargs: Any,
) -> Output:
    """Markdown, rendered by the front end; raw HTML in it is escaped unless ``sanitize=False``."""
    if kwargs.pop("strip_indent", 0) or lstrip:
        mdcontent = textwrap.dedent(str(mdcontent)).strip("\n")
    spec = {"type": "markdown", "content": str(mdcontent), "options": options, "sanitize": sanitize}
    return _put(spec, scope, position)


def _html_of(obj: Any) -> str:
    if hasattr(obj, "__html__"):
        return str(obj.__html__())
    if hasattr(obj, "_repr_html_"):
        return str(obj._repr_html_())
    return str(obj)


def put_html(
    html: Any, sanitize: bool = False, scope: str | None = None, position: int = OutputPosition.BOTTOM
) -> Output:
    """Raw HTML (the only way to insert markup); objects with ``_repr_html_`` are accepted."""
    return _put({"type": "html", "content": _html_of(html), "sanitize": sanitize}, scope, position)


def put_code(
    content: str, language: str = "", rows: int | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A code block; ``rows`` limits its visible height."""
    content = str(content)
    fence = "```"
    while fence in content:
        fence += "`"
    out = put_markdown(f"{fence}{language}\n{content}\n{fence}", lstrip=False, scope=scope, position=position)
    if rows is not None:
        out.style(f"max-height: {rows * 1.5 + 2:.1f}em; overflow-y: auto")
    return out


def put_link(
    name: str, url: str | None = None, app: str | None = None, new_window: bool = False,
    scope: str | None = None, position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A hyperlink to ``url``, or to another app of this server with ``app=``."""
    if (url is None) == (app is None):
        raise ValueError("put_link() needs exactly one of url and app")
    label = _html.escape(str(name))
    if app is not None:
        href = f"javascript:WebIO.openApp({_js_str(app)}, {'true' if new_window else 'false'})"
        tag = f'<a href="{_html.escape(href)}">{label}</a>'
    else:
        target = ' target="_blank" rel="noopener"' if new_window else ""
        tag = f'<a href="{_html.escape(str(url))}"{target}>{label}</a>'
    return put_html(tag, scope=scope, position=position)


def _js_str(value: str) -> str:
    import json

    return json.dumps(str(value))


def put_processbar(
    name: str, init: float = 0, label: str | None = None, auto_close: bool = False,
    scope: str | None = None, position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A progress bar named ``name`` at ``init`` (0..1); update it with :func:`set_processbar`."""
    check_scope_name(name)
    spec = {"type": "progressbar", "name": name, "value": init, "label": label, "auto_close": auto_close}
    return _put(spec, scope, position)


def set_processbar(name: str, value: float, label: str | None = None) -> None:
    """Set a progress bar's value (0..1) and optionally its label."""
    send_command("progressbar_update", {"name": name, "value": value, "label": label})


put_progressbar = put_processbar
set_progressbar = set_processbar


def put_loading(
    shape: str = "border",
    color: str = "dark",
    scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:
    """A loading spinner; as a context manager it is removed when the block ends."""
    if shape not in ("border", "grow"):
        raise ValueError("shape must be 'border' or 'grow'")
    out = _put({"type": "loading", "shape": shape, "color": color}, scope, position)

    def enter(o: Output) -> Output:
        o._ctx_scope = random_str(10)
        o.spec["container_dom_id"] = scope2dom(o._ctx_scope, no_css_selector=True)
        o.send()
        return o

    def exit_(o: Output, *exc: Any) -> bool:
        if o._ctx_scope and not o._session.closed():
            send_command("output_ctl", {"remove": scope2dom(o._ctx_scope)}, o._session)
        return False

    return out.enable_context_manager(custom_enter=enter, custom_exit=exit_)


def _alert(color: str, contents: Sequence[Any], closable: bool, scope: str | None, position: int) -> Output:
    spec = {"type": "alert", "color": color, "contents": embed_list(list(contents)), "closable": closable}
    return _put(spec, scope, position).enable_context_manager(container_selector=".webio-alert-body")


def put_info(*contents: Any, closable: bool = False, scope: str | None = None, position: int = -1) -> Output:
    """An info alert box."""
    return _alert("info", contents, closable, scope, position)


def put_success(
    *contents: Any, closable: bool = False, scope: str | None = None, position: int = -1
) -> Output:
    """A success alert box."""
    return _alert("success", contents, closable, scope, position)


def put_warning(
    *contents: Any, closable: bool = False, scope: str | None = None, position: int = -1
) -> Output:
    """A warning alert box."""
    return _alert("warning", contents, closable, scope, position)


def put_error(*contents: Any, closable: bool = False, scope: str | None = None, position: int = -1) -> Output:
    """An error alert box."""
    return _alert("danger", contents, closable, scope, position)


# ---------------------------------------------------------------------------------------------------
# Tables


class span:
    """A table or grid cell spanning ``row`` rows and ``col`` columns."""

    def __init__(self, content: Any, row: int = 1, col: int = 1) -> None:
        if row < 1 or col < 1:
            raise ValueError("span row and col must be >= 1")
        self.content, self.row, self.col = content, row, col


def put_table(
    tdata: Sequence[Any], header: Sequence[Any] | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A table; cells are text or nested widgets; rows may be lists or dicts (keyed by ``header``)."""
    rows: list[list[Any]] = []
    tdata = list(tdata)
    if tdata and isinstance(tdata[0], dict):
        if header is None:
            keys = list(tdata[0].keys())
            labels: list[Any] = list(keys)
        else:
            pairs = [h if isinstance(h, (tuple, list)) else (h, h) for h in header]
            labels = [p[0] for p in pairs]
            keys = [p[1] for p in pairs]
        rows.append(labels)
        rows.extend([row.get(k, "") for k in keys] for row in tdata)
    else:
        if header is not None:
            rows.append(list(header))
        rows.extend(list(r) for r in tdata)

    spans: dict[str, dict[str, int]] = {}
    data: list[list[Any]] = []
    for r, row in enumerate(rows):
        cells = []
        for c, cell in enumerate(row):
            if isinstance(cell, span):
                spans[f"{r},{c}"] = {"row": cell.row, "col": cell.col}
                cell = cell.content
            cells.append(embed(cell))
        data.append(cells)
    return _put({"type": "table", "data": data, "span": spans}, scope, position)


# ---------------------------------------------------------------------------------------------------
# Buttons, images, files


def _button_items(buttons: Sequence[Any]) -> list[dict[str, Any]]:
    items = []
    for b in buttons:
        if isinstance(b, dict):
            item = dict(b)
            item.setdefault("value", item.get("label"))
        elif isinstance(b, (tuple, list)):
            item = {"label": b[0], "value": b[1]}
        else:
            item = {"label": b, "value": b}
        item["label"] = str(item.get("label"))
        items.append(item)
    return items


def put_buttons(
    buttons: Sequence[Any],
    onclick: Callable[[Any], Any] | Sequence[Callable[[], Any]],
    small: bool | None = None,
    link_style: bool = False,
    outline: bool = False,
    group: bool = False,
    scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
    **callback_options: Any,
) -> Output:
    """A row of buttons; ``onclick(value)`` runs on each click (or ``onclick[i]()`` for a list).

    Callbacks keep working after the app's main function returned."""
    items = _button_items(buttons)
    values = [b["value"] for b in items]
    if callable(onclick):
        func = onclick

        def on_event(index: Any) -> Any:
            return func(values[int(index)])
    else:
        funcs = list(onclick)
        if len(funcs) != len(items):
            raise ValueError("put_buttons: onclick list must have one callback per button")

        def on_event(index: Any) -> Any:
            return funcs[int(index)]()

    session = current_session()
    cid = session.register_callback(on_event, **callback_options)
    btns = []
    for i, b in enumerate(items):
        spec_b = {"label": b["label"], "value": i}
        for key in ("color", "disabled"):
            if b.get(key) is not None:
                spec_b[key] = b[key]
        btns.append(spec_b)
    spec = {
        "type": "buttons", "callback_id": cid, "buttons": btns, "small": small,
        "link": link_style, "outline": outline, "group": group,
    }  # fmt: skip
    return _put(spec, scope, position)


def put_button(
    label: str,
    onclick: Callable[[], Any],
    color: str | None = None,
    small: bool | None = None,
    link_style: bool = False,
    outline: bool = False,
    disabled: bool = False,
    scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:
    """One button; ``onclick()`` runs on each click."""
    btn = {"label": label, "value": label, "color": color or "primary", "disabled": disabled}
    return put_buttons(
        [btn], onclick=[onclick], small=small, link_style=link_style, outline=outline,
        scope=scope, position=position,
    )  # fmt: skip


_IMAGE_MAGIC = [
    (b"\x89PNG", "png"), (b"\xff\xd8", "jpeg"), (b"GIF8", "gif"), (b"RIFF", "webp"),
    (b"<svg", "svg+xml"), (b"<?xml", "svg+xml"), (b"BM", "bmp"),
]  # fmt: skip


def put_image(
    src: Any, format: str | None = None, title: str = "", width: str | None = None,
    height: str | None = None, scope: str | None = None, position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """An image from a URL, raw bytes, or a PIL-like image (anything with ``save()``)."""
    if hasattr(src, "save") and not isinstance(src, (bytes, str)):
        fmt = format or getattr(src, "format", None) or "png"
        buf = io.BytesIO()
        src.save(buf, format=fmt)
        src, format = buf.getvalue(), fmt
    if isinstance(src, (bytes, bytearray)):
        fmt = (format or "").lower().replace("jpg", "jpeg")
        if not fmt:
            fmt = next((f for magic, f in _IMAGE_MAGIC if bytes(src[:5]).startswith(magic)), "png")
        if fmt == "svg":
            fmt = "svg+xml"
        url = f"data:image/{fmt};base64,{base64.b64encode(bytes(src)).decode('ascii')}"
    else:
        url = str(src)
    attrs = [f'src="{_html.escape(url)}"', f'alt="{_html.escape(str(title))}"']
    if title:
        attrs.append(f'title="{_html.escape(str(title))}"')
    if width is not None:
        attrs.append(f'width="{_html.escape(str(width))}"')
    if height is not None:
        attrs.append(f'height="{_html.escape(str(height))}"')
    return put_html(f"<img {' '.join(attrs)}>", scope=scope, position=position)


def put_file(
    name: str, content: bytes, label: str | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A link that downloads ``content`` as file ``name`` when clicked."""
    data = bytes(content)
    encoded = base64.b64encode(data).decode("ascii")
    session = current_session()

    def download(_value: Any = None) -> None:
        send_command("download", {"name": name, "content": encoded}, session)

    return put_buttons(
        [{"label": label if label is not None else name, "value": name}],
        onclick=download, link_style=True, scope=scope, position=position,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Containers


def put_tabs(
    tabs: Sequence[dict[str, Any]], scope: str | None = None, position: int = OutputPosition.BOTTOM
) -> Output:
    """Tabs: a list of ``{'title': str, 'content': str | Output | list}``."""
    items = []
    for tab in tabs:
        content = tab.get("content")
        if isinstance(content, (list, tuple)):
            rendered: Any = embed_list(content)
        else:
            rendered = embed(content)
        items.append({"title": str(tab.get("title", "")), "content": rendered})
    return _put({"type": "tabs", "tabs": items}, scope, position)


def put_scope(
    name: str, content: Any = (), scope: str | None = None, position: int = OutputPosition.BOTTOM
) -> Output:
    """A named scope holding ``content``; also a context manager that writes into it."""
    check_scope_name(name)
    spec = {"type": "scope", "dom_id": scope2dom(name, no_css_selector=True), "contents": embed_list(content)}
    out = _put(spec, scope, position)
    out._ctx_scope = name
    return out


def put_collapse(
    title: str, content: Any = (), open: bool = False, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A collapsible section; also a context manager that writes into its body."""
    spec = {"type": "collapse", "title": str(title), "contents": embed_list(content), "open": open}
    return _put(spec, scope, position).enable_context_manager(container_selector=".webio-collapse-body")


def put_scrollable(
    content: Any = (), height: int | tuple[int, int] = 400, keep_bottom: bool = False, border: bool = True,
    scope: str | None = None, position: int = OutputPosition.BOTTOM, **kwargs: Any,
) -> Output:  # fmt: skip
    """A fixed-height (or ``(min, max)``) scrolling box; ``keep_bottom`` follows new content."""
    if "max_height" in kwargs:  # old spelling
        height = kwargs.pop("max_height")
    lo, hi = height if isinstance(height, (tuple, list)) else (height, height)
    spec = {
        "type": "scrollable", "contents": embed_list(content), "min_height": lo, "max_height": hi,
        "keep_bottom": keep_bottom, "border": border,
    }  # fmt: skip
    return _put(spec, scope, position).enable_context_manager(container_selector=".webio-scrollable-body")


put_scrolltable = put_scrollable


def put_widget(
    template: str, data: dict[str, Any], scope: str | None = None, position: int = OutputPosition.BOTTOM
) -> Output:
    """A custom widget from a Mustache template; Outputs in ``data`` render with ``pywebio_output_parse``."""
    return _put({"type": "custom_widget", "template": template, "data": embed_deep(data)}, scope, position)


def _layout(kind: str, content: Sequence[Any], size: str | None, scope: str | None, position: int) -> Output:
    content = list(content or [])
    contents = [embed(c) if c is not None else "" for c in content]
    if size is None:
        size = " ".join("10px" if c is None else "1fr" for c in content) or "1fr"
    if kind == "row":
        css = f"grid-auto-flow: column; grid-template-columns: {size};"
    else:
        css = f"grid-auto-flow: row; grid-template-rows: {size};"
    spec = {"type": kind, "contents": contents, "css": css, "item_css": ["" for _ in contents]}
    return _put(spec, scope, position).enable_context_manager()


def put_row(
    content: Sequence[Any] = (), size: str | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """Items side by side; ``size`` is a CSS grid-template-columns value; None items are 10px gaps."""
    return _layout("row", content, size, scope, position)


def put_column(
    content: Sequence[Any] = (), size: str | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """Items stacked vertically; ``size`` is a CSS grid-template-rows value."""
    return _layout("column", content, size, scope, position)


def put_grid(
    content: Sequence[Sequence[Any]],
    cell_width: str = "auto",
    cell_height: str = "auto",
    cell_widths: str | None = None,
    cell_heights: str | None = None,
    direction: str = "row",
    scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:
    """A grid of cells (a list of rows); cells may be :class:`span` objects."""
    if direction not in ("row", "column"):
        raise ValueError("direction must be 'row' or 'column'")
    lines = [list(line) for line in content]
    n_lines = len(lines)
    n_cells = max((sum(c.col if isinstance(c, span) and direction == "row" else
                       c.row if isinstance(c, span) else 1 for c in line) for line in lines), default=0)  # fmt: skip
    n_cols, n_rows = (n_cells, n_lines) if direction == "row" else (n_lines, n_cells)
    cols = cell_widths or f"repeat({max(n_cols, 1)}, {cell_width})"
    rows = cell_heights or f"repeat({max(n_rows, 1)}, {cell_height})"
    css = f"grid-auto-flow: {direction}; grid-template-columns: {cols}; grid-template-rows: {rows};"
    contents, item_css = [], []
    for line in lines:
        for cell in line:
            extra = ""
            if isinstance(cell, span):
                extra = f"grid-row-start: span {cell.row}; grid-column-start: span {cell.col};"
                cell = cell.content
            contents.append(embed(cell) if cell is not None else "")
            item_css.append(extra)
    spec = {"type": "grid", "contents": contents, "css": css, "item_css": item_css}
    return _put(spec, scope, position)


# ---------------------------------------------------------------------------------------------------
# Toast and popup

_TOAST_COLORS = {"info": "#1565c0", "error": "#e53935", "warn": "#ef6c00", "success": "#2e7d32"}


def toast(
    content: str, duration: float = 2, position: str = "center", color: str = "info",
    onclick: Callable[[], Any] | None = None,
) -> None:  # fmt: skip
    """A short notification; ``duration=0`` keeps it until closed; ``onclick()`` runs when clicked."""
    session = current_session()
    cid = session.register_callback(lambda _d: onclick()) if onclick is not None else None
    spec = {
        "content": str(content), "duration": int(duration * 1000), "position": position,
        "color": _TOAST_COLORS.get(color, color), "callback_id": cid,
    }  # fmt: skip
    send_command("toast", spec, session)


class _PopupScope:
    """Returned by :func:`popup`; ``with popup(...):`` writes into the popup body."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> str:
        current_session().push_scope(self.name)
        return self.name

    def __exit__(self, *exc: Any) -> None:
        current_session().pop_scope()
        return None


def popup(
    title: str, content: Any = None, size: str = PopupSize.NORMAL, implicit_close: bool = True,
    closable: bool = True,
) -> _PopupScope:  # fmt: skip
    """Show a modal dialog (closing any open one); use ``with popup(title):`` to fill it later."""
    name = random_str(10)
    spec = {
        "title": str(title), "content": embed_list(content), "size": size,
        "implicit_close": implicit_close, "closable": closable,
        "dom_id": scope2dom(name, no_css_selector=True),
    }  # fmt: skip
    send_command("popup", spec)
    return _PopupScope(name)


def close_popup() -> None:
    """Close the open popup."""
    send_command("close_popup", None)


def put_datatable(
    records: Sequence[dict[str, Any]],
    actions: Any = None,
    onselect: Any = None,
    multiple_select: bool = False,
    id_field: str | None = None,
    height: int | str = 600,
    theme: str = "balham",
    cell_content_bar: bool = True,
    instance_id: str = "",
    column_order: Sequence[str] | None = None,
    column_args: Any = None,
    grid_args: Any = None,
    enterprise_key: str = "",
    scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:
    """A reduced put_datatable: the records as a scrollable table (no ag-grid, no selection or actions)."""
    if actions or onselect:
        logger.warning("put_datatable(): actions and onselect are not supported; showing a plain table")
    records = list(records)
    keys = list(column_order) if column_order else list(dict.fromkeys(k for r in records for k in r))
    rows = [[_cell_text(r.get(k, "")) for k in keys] for r in records]
    table = put_table(rows, header=keys)
    px = height if isinstance(height, int) else 600
    return put_scrollable(table, height=(0, px), border=False, scope=scope, position=position)


def _cell_text(value: Any) -> Any:
    return value if isinstance(value, (str, Output)) else str(value)


# ---------------------------------------------------------------------------------------------------
# Deprecated helpers kept for old programs


class OutputHandler(Output):
    """Returned by :func:`output`: a placeholder whose content can be reset, appended or inserted."""

    def __init__(self, spec: dict[str, Any], name: str) -> None:
        super().__init__(spec)
        self.name = name

    def reset(self, *contents: Any) -> None:
        clear(self.name)
        self.append(*contents)

    def append(self, *contents: Any) -> None:
        for c in contents:
            _put_content(c, self.name, OutputPosition.BOTTOM)

    def insert(self, idx: int, *contents: Any) -> None:
        for offset, c in enumerate(contents):
            _put_content(c, self.name, idx + offset if idx >= 0 else idx)


def _put_content(item: Any, scope: str, position: int) -> None:
    if isinstance(item, Output):
        item.spec["scope"] = scope2dom(scope)
        item.spec["position"] = position
        item.send()
    else:
        put_text(str(item), scope=scope, position=position)


def output(*contents: Any) -> OutputHandler:
    """A deprecated placeholder (use scopes): ``o = output(); put_table([[o]]); o.append('x')``."""
    name = random_str(10)
    spec: dict[str, Any] = {
        "type": "scope",
        "dom_id": scope2dom(name, no_css_selector=True),
        "contents": embed_list(list(contents)),
    }
    session = current_session()
    spec["scope"] = scope2dom(None, session)
    spec["position"] = OutputPosition.BOTTOM
    return OutputHandler(spec, name)


def style(outputs: Output | Sequence[Output], css_style: str) -> Output | list[Output]:
    """Deprecated: use ``.style()``. Apply CSS to one Output or each of a list."""
    if isinstance(outputs, Output):
        return outputs.style(css_style)
    return [o.style(css_style) for o in outputs]
