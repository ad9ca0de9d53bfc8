"""Input functions: show a form, wait for the user, return the value.

Each function called without ``name`` shows a one-field form and returns its value (an awaitable in a
coroutine session). With ``name=`` it returns an item for :func:`input_group`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from .io_ctrl import current_onchange_item, current_session, input_control, interactive, message, send_command

logger = logging.getLogger("pywebio")

__all__ = [
    "TEXT", "NUMBER", "FLOAT", "PASSWORD", "URL", "DATE", "TIME", "COLOR", "DATETIME_LOCAL",
    "CHECKBOX", "RADIO", "SELECT", "TEXTAREA",
    "input", "textarea", "select", "checkbox", "radio", "actions", "file_upload", "slider",
    "input_group", "input_update",
]  # fmt: skip

TEXT = "text"
NUMBER = "number"
FLOAT = "float"
PASSWORD = "password"
URL = "url"
DATE = "date"
TIME = "time"
COLOR = "color"
DATETIME_LOCAL = "datetime-local"
DATETIME = DATETIME_LOCAL
CHECKBOX = "checkbox"
RADIO = "radio"
SELECT = "select"
TEXTAREA = "textarea"

_TEXT_TYPES = (TEXT, NUMBER, FLOAT, PASSWORD, URL, DATE, TIME, COLOR, DATETIME_LOCAL)
_FORBIDDEN_UPDATES = {
    "action", "buttons", "code", "inline", "max_size", "max_total_size", "multiple", "name",
    "onchange", "type", "validate",
}  # fmt: skip


class _Item(dict):  # type: ignore[type-arg]
    """An input item for input_group: the spec plus its server-side functions."""

    def __init__(
        self,
        spec: dict[str, Any],
        validate: Callable[[Any], Any] | None,
        preprocess: Callable[[Any], Any] | None,
        onchange: Callable[[Any], Any] | None,
    ) -> None:
        super().__init__(spec)
        self.validate = validate
        self.preprocess = preprocess
        self.onchange = onchange


def _item_spec(type_: str, label: str, other: dict[str, Any], **params: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": type_, "label": label}
    for k, v in params.items():
        if v is not None:
            spec[k] = v
    for k, v in other.items():  # extra HTML attributes, copied onto the element by the front end
        if v is not None:
            spec[k] = v
    return spec


def _single(
    spec: dict[str, Any],
    validate: Callable[[Any], Any] | None,
    preprocess: Callable[[Any], Any] | None,
    onchange: Callable[[Any], Any] | None,
) -> Any:
    if validate is not None:
        spec["onblur"] = True
    if onchange is not None:
        spec["onchange"] = True
    item = _Item(spec, validate, preprocess, onchange)
    if spec.get("name") is not None:
        return item
    item["name"] = "data"
    item["auto_focus"] = True
    label = item.get("label", "")
    item["label"] = ""
    return _run_single(label, item)


@interactive
def _single_form(label: str, item: _Item) -> Any:
    spec = {"label": label, "inputs": [dict(item)], "cancelable": False}
    pre = {"data": item.preprocess} if item.preprocess else {}
    val = {"data": item.validate} if item.validate else {}
    chg = {"data": item.onchange} if item.onchange else {}
    data = yield from input_control(spec, pre, val, chg)
    return None if data is None else data.get("data")


def _run_single(label: str, item: _Item) -> Any:
    return _single_form(label, item)


def _parse_int(value: Any) -> int | None:
    if value is None or value == "":
        return None  # an empty optional field
    if isinstance(value, bool):
        raise ValueError("")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(_msg("int")) from None


def _parse_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValueError(_msg("float")) from None


def _msg(key: str) -> str:
    try:
        return message(current_session(), key)
    except Exception:
        return message(None, key)


def input(
    label: str = "",
    type: str = TEXT,
    *,
    validate: Callable[[Any], str | None] | None = None,
    name: str | None = None,
    value: Any = None,
    action: tuple[str, Callable[[Callable[..., None]], Any]] | None = None,
    onchange: Callable[[Any], Any] | None = None,
    placeholder: str | None = None,
    required: bool | None = None,
    readonly: bool | None = None,
    datalist: Sequence[str] | None = None,
    help_text: str | None = None,
    **other_html_attrs: Any,
) -> Any:
    """A one-line input: types text, number, float, password, url, date, time, color, datetime-local."""
    if type not in _TEXT_TYPES:
        raise ValueError(f"input() type must be one of {_TEXT_TYPES}")
    spec = _item_spec(
        type, label, other_html_attrs, name=name, value=value, placeholder=placeholder, required=required,
        readonly=readonly, datalist=list(datalist) if datalist is not None else None, help_text=help_text,
    )  # fmt: skip
    preprocess: Callable[[Any], Any] | None = None
    if type == NUMBER:
        preprocess = _parse_int
    elif type == FLOAT:
        preprocess = _parse_float
    if action is not None:
        preprocess = _with_action(spec, action, preprocess)
    return _single(spec, validate, preprocess, onchange)


def _with_action(
    spec: dict[str, Any],
    action: tuple[str, Callable[[Callable[..., None]], Any]],
    preprocess: Callable[[Any], Any] | None,
) -> Callable[[Any], Any]:
    """Register the button beside an input; its callback gets ``set_value(value, label=value)``."""
    label, callback = action
    session = current_session()
    shown: dict[str, Any] = {}  # label shown in the box -> the value returned

    def set_value(value: Any, label: Any = None) -> None:
        name = spec.get("name") or "data"
        text = str(value if label is None else label)
        shown[text] = value
        attrs = {"value": text}
        session.send_task_command(
            {"command": "update_input", "spec": {"target_name": name, "attributes": attrs}}
        )

    def on_click(_data: Any) -> None:
        callback(set_value)

    cid = session.register_callback(on_click)
    spec["action"] = {"label": str(label), "callback_id": cid}

    def convert(value: Any) -> Any:
        if isinstance(value, str) and value in shown:
            return shown[value]
        return preprocess(value) if preprocess is not None else value

    return convert


def textarea(
    label: str = "",
    *,
    rows: int = 6,
    code: bool | dict[str, Any] | None = None,
    maxlength: int | None = None,
    minlength: int | None = None,
    validate: Callable[[Any], str | None] | None = None,
    name: str | None = None,
    value: str | None = None,
    onchange: Callable[[Any], Any] | None = None,
    placeholder: str | None = None,
    required: bool | None = None,
    readonly: bool | None = None,
    help_text: str | None = None,
    **other_html_attrs: Any,
) -> Any:
    """A multi-line text input; ``code=True`` gives a monospace editor."""
    spec = _item_spec(
        TEXTAREA, label, other_html_attrs, rows=rows, code=code, maxlength=maxlength, minlength=minlength,
        name=name, value=value, placeholder=placeholder, required=required, readonly=readonly,
        help_text=help_text,
    )  # fmt: skip
    return _single(spec, validate, None, onchange)


def _options(options: Sequence[Any] | None, value: Any, multiple: bool) -> list[dict[str, Any]]:
    result = []
    for opt in options or []:
        if isinstance(opt, dict):
            item = dict(opt)
            item.setdefault("value", item.get("label"))
        elif isinstance(opt, (tuple, list)):
            item = {"label": opt[0], "value": opt[1]}
            if len(opt) > 2:
                item["selected"] = bool(opt[2])
            if len(opt) > 3:
                item["disabled"] = bool(opt[3])
        else:
            item = {"label": opt, "value": opt}
        item["label"] = str(item["label"])
        if value is not None:
            selected = (
                item["value"] in value
                if multiple and isinstance(value, (list, tuple, set))
                else (item["value"] == value)
            )
            item["selected"] = bool(selected)
        result.append(item)
    return result


def select(
    label: str = "",
    options: Sequence[Any] | None = None,
    *,
    multiple: bool | None = None,
    validate: Callable[[Any], str | None] | None = None,
    name: str | None = None,
    value: Any = None,
    onchange: Callable[[Any], Any] | None = None,
    native: bool = True,
    required: bool | None = None,
    help_text: str | None = None,
    **other_html_attrs: Any,
) -> Any:
    """A drop-down list; options are values, ``(label, value[, selected[, disabled]])`` or dicts."""
    opts = _options(options, value, bool(multiple))
    spec = _item_spec(
        SELECT, label, other_html_attrs, options=opts, multiple=multiple, name=name, native=native,
        required=required, help_text=help_text,
    )  # fmt: skip
    return _single(spec, validate, None, onchange)


def checkbox(
    label: str = "",
    options: Sequence[Any] | None = None,
    *,
    inline: bool | None = None,
    validate: Callable[[Any], str | None] | None = None,
    name: str | None = None,
    value: Sequence[Any] | None = None,
    onchange: Callable[[Any], Any] | None = None,
    help_text: str | None = None,
    **other_html_attrs: Any,
) -> Any:
    """Check boxes; returns the list of checked values."""
    opts = _options(options, list(value) if value is not None else None, True)
    spec = _item_spec(
        CHECKBOX, label, other_html_attrs, options=opts, inline=inline, name=name, help_text=help_text
    )
    return _single(spec, validate, lambda v: list(v or []), onchange)


def radio(
    label: str = "",
    options: Sequence[Any] | None = None,
    *,
    inline: bool | None = None,
    validate: Callable[[Any], str | None] | None = None,
    name: str | None = None,
    value: Any = None,
    onchange: Callable[[Any], Any] | None = None,
    required: bool | None = None,
    help_text: str | None = None,
    **other_html_attrs: Any,
) -> Any:
    """Radio buttons; returns the chosen value, or None."""
    opts = _options(options, value, False)
    spec = _item_spec(
        RADIO, label, other_html_attrs, options=opts, inline=inline, name=name, required=required,
        help_text=help_text,
    )  # fmt: skip
    return _single(spec, validate, None, onchange)


def _action_buttons(buttons: Sequence[Any] | None) -> list[dict[str, Any]]:
    result = []
    for b in buttons or []:
        if isinstance(b, dict):
            item = dict(b)
            item.setdefault("value", item.get("label"))
        elif isinstance(b, (tuple, list)):
            item = {"label": b[0], "value": b[1]}
            if len(b) > 2:
                item["type"] = b[2]
            if len(b) > 3:
                item["disabled"] = b[3]
        else:
            item = {"label": b, "value": b}
        item["label"] = str(item["label"])
        item.setdefault("type", "submit")
        if item["type"] not in ("submit", "reset", "cancel"):
            raise ValueError("actions button type must be 'submit', 'reset' or 'cancel'")
        result.append(item)
    return result


def actions(
    label: str = "",
    buttons: Sequence[Any] | None = None,
    name: str | None = None,
    help_text: str | None = None,
) -> Any:
    """A row of buttons; returns the value of the clicked submit button (None for cancel)."""
    spec = _item_spec("actions", label, {}, buttons=_action_buttons(buttons), name=name, help_text=help_text)
    return _single(spec, None, None, None)


_SIZE = re.compile(r"^\s*([0-9.]+)\s*([kmgtp]?)\s*$")


def parse_size(size: int | float | str) -> int:
    """Bytes from an int or a string like '200M', '1.5k', '3 GB' (powers of 1024)."""
    if isinstance(size, (int, float)):
        return int(size)
    match = _SIZE.match(str(size).lower().replace("b", ""))
    if not match:
        raise ValueError(f"invalid size {size!r}")
    number, unit = match.groups()
    return int(float(number) * 1024 ** ("kmgtp".index(unit) + 1 if unit else 0))


def file_upload(
    label: str = "",
    accept: str | Sequence[str] | None = None,
    name: str | None = None,
    placeholder: str = "Choose file",
    multiple: bool = False,
    max_size: int | str = 0,
    max_total_size: int | str = 0,
    required: bool | None = None,
    help_text: str | None = None,
    **other_html_attrs: Any,
) -> Any:
    """File chooser; returns ``{filename, content: bytes, mime_type, last_modified}`` (a list if multiple)."""
    if accept is not None and not isinstance(accept, str):
        accept = ",".join(accept)
    size, total = parse_size(max_size), parse_size(max_total_size)
    # the server's max_payload_size is the default and the upper bound: a bigger file would be
    # refused by the server with the connection closed, so the browser refuses it first
    from .platform.utils import get_max_payload_size

    limit = get_max_payload_size()
    if limit:
        if size > limit or total > limit:
            raise ValueError(
                f"file_upload(max_size={max_size!r}, max_total_size={max_total_size!r}) exceeds the "
                f"server's max_payload_size ({limit} bytes)"
            )
        size, total = size or limit, total or limit
    spec = _item_spec(
        "file", label, other_html_attrs, accept=accept, name=name, placeholder=placeholder, multiple=multiple,
        max_size=size, max_total_size=total, required=required, help_text=help_text,
    )  # fmt: skip

    def files(value: Any) -> Any:
        items = value if isinstance(value, list) else ([] if value is None else [value])
        items = [dict(f, filename=os.path.basename(str(f.get("filename", "")))) for f in items if f]
        if multiple:
            return items
        return items[0] if items else None

    return _single(spec, None, files, None)


def slider(
    label: str = "",
    *,
    name: str | None = None,
    value: int | float = 0,
    min_value: int | float = 0,
    max_value: int | float = 100,
    step: int | float = 1,
    validate: Callable[[Any], str | None] | None = None,
    onchange: Callable[[Any], Any] | None = None,
    required: bool | None = None,
    help_text: str | None = None,
    **other_html_attrs: Any,
) -> Any:
    """A range slider; returns an int, or a float when any bound or the step is a float."""
    is_float = any(isinstance(v, float) for v in (value, min_value, max_value, step))
    spec = _item_spec(
        "slider", label, other_html_attrs, name=name, value=value, min_value=min_value, max_value=max_value,
        step=step, float=is_float, required=required, help_text=help_text,
    )  # fmt: skip
    return _single(spec, validate, _parse_float if is_float else _parse_int, onchange)


@interactive
def _group(
    label: str, items: list[_Item], validate: Callable[[dict[str, Any]], Any] | None, cancelable: bool
) -> Any:
    pre = {i["name"]: i.preprocess for i in items if i.preprocess}
    val = {i["name"]: i.validate for i in items if i.validate}
    chg = {i["name"]: i.onchange for i in items if i.onchange}
    spec = {"label": label, "inputs": [dict(i) for i in items], "cancelable": cancelable}
    data = yield from input_control(spec, pre, val, chg, validate)
    return data


def input_group(
    label: str = "",
    inputs: Sequence[Any] | None = None,
    validate: Callable[[dict[str, Any]], tuple[str, str] | None] | None = None,
    cancelable: bool = False,
) -> Any:
    """Several inputs in one form; returns ``{name: value}`` or None when cancelled.

    ``validate(data)`` returns None or ``(name, error message)``."""
    items: list[_Item] = []
    names = set()
    for item in inputs or []:
        if not isinstance(item, _Item):
            raise TypeError(
                "input_group() items must be input functions called with name=, e.g. input('Age', name='age')"
            )
        if item["name"] in names:
            raise ValueError(f"duplicate input name {item['name']!r} in input_group()")
        names.add(item["name"])
        item.pop("auto_focus", None)
        items.append(item)
    first = next((i for i in items if i["type"] not in ("actions", "checkbox", "radio")), None)
    if first is not None:
        first["auto_focus"] = True
    return _group(label, items, validate, cancelable)


def input_update(name: str | None = None, **spec: Any) -> None:
    """Update an item of the form being filled (from its ``onchange`` callback when ``name`` is None)."""
    if name is None:
        name = current_onchange_item()
        if name is None:
            raise ValueError("input_update() needs name= outside an onchange callback")
    bad = _FORBIDDEN_UPDATES & set(spec)
    if bad:
        raise ValueError(f"input_update() cannot change {sorted(bad)}")
    if "options" in spec:
        spec["options"] = _options(spec["options"], None, False)
    send_command("update_input", {"target_name": name, "attributes": spec})
