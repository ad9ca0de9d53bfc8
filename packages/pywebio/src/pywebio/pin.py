"""Pin widgets: inputs that live in the output area and are read or written at any time.

``pin.name`` / ``pin['name']`` reads a value (``await pin.name`` in a coroutine session), assigning
writes it; :func:`pin_wait_change` waits for a change and :func:`pin_on_change` registers a callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from .input import _action_buttons, _options
from .io_ctrl import (
    Output,
    check_scope_name,
    current_session,
    interactive,
    scope2dom,
    send_command,
    wait_js_yield,
)
from .output import OutputPosition

logger = logging.getLogger("pywebio")

__all__ = [
    "put_input", "put_textarea", "put_select", "put_checkbox", "put_radio", "put_slider", "put_actions",
    "pin", "pin_update", "pin_wait_change", "pin_on_change", "get_pin_values",
]  # fmt: skip


def _pin_output(name: str, item: dict[str, Any], scope: str | None, position: int) -> Output:
    check_scope_name(name)
    item = {k: v for k, v in item.items() if v is not None}
    item["name"] = name
    spec = {"type": "pin", "input": item, "scope": scope2dom(scope), "position": position}
    return Output(spec)


def put_input(
    name: str, type: str = "text", *, label: str = "", value: Any = None,
    placeholder: str | None = None, readonly: bool | None = None, datalist: Sequence[str] | None = None,
    help_text: str | None = None, scope: str | None = None, position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A pinned one-line input (types as :func:`pywebio.input.input`)."""
    item = {
        "type": type, "label": label, "value": value, "placeholder": placeholder, "readonly": readonly,
        "datalist": list(datalist) if datalist is not None else None, "help_text": help_text,
    }  # fmt: skip
    return _pin_output(name, item, scope, position)


def put_textarea(
    name: str, *, label: str = "", rows: int = 6, code: bool | dict[str, Any] | None = None,
    maxlength: int | None = None, minlength: int | None = None, value: str | None = None,
    placeholder: str | None = None, readonly: bool | None = None, help_text: str | None = None,
    scope: str | None = None, position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A pinned multi-line input."""
    item = {
        "type": "textarea", "label": label, "rows": rows, "code": code, "maxlength": maxlength,
        "minlength": minlength, "value": value, "placeholder": placeholder, "readonly": readonly,
        "help_text": help_text,
    }  # fmt: skip
    return _pin_output(name, item, scope, position)


def put_select(
    name: str, options: Sequence[Any] | None = None, *, label: str = "", multiple: bool | None = None,
    value: Any = None, native: bool | None = None, help_text: str | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A pinned drop-down list."""
    item = {
        "type": "select", "label": label, "options": _options(options, value, bool(multiple)),
        "multiple": multiple, "native": native, "help_text": help_text,
    }  # fmt: skip
    return _pin_output(name, item, scope, position)


def put_checkbox(
    name: str, options: Sequence[Any] | None = None, *, label: str = "", inline: bool | None = None,
    value: Sequence[Any] | None = None, help_text: str | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """Pinned check boxes."""
    opts = _options(options, list(value) if value is not None else None, True)
    item = {"type": "checkbox", "label": label, "options": opts, "inline": inline, "help_text": help_text}
    return _pin_output(name, item, scope, position)


def put_radio(
    name: str, options: Sequence[Any] | None = None, *, label: str = "", inline: bool | None = None,
    value: Any = None, help_text: str | None = None, scope: str | None = None,
    position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """Pinned radio buttons."""
    item = {
        "type": "radio", "label": label, "options": _options(options, value, False), "inline": inline,
        "help_text": help_text,
    }  # fmt: skip
    return _pin_output(name, item, scope, position)


def put_slider(
    name: str, *, label: str = "", value: int | float = 0, min_value: int | float = 0,
    max_value: int | float = 100, step: int | float = 1, required: bool | None = None,
    help_text: str | None = None, scope: str | None = None, position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """A pinned range slider."""
    is_float = any(isinstance(v, float) for v in (value, min_value, max_value, step))
    item = {
        "type": "slider", "label": label, "value": value, "min_value": min_value, "max_value": max_value,
        "step": step, "float": is_float, "required": required, "help_text": help_text,
    }  # fmt: skip
    return _pin_output(name, item, scope, position)


def put_actions(
    name: str, *, label: str = "", buttons: Sequence[Any] | None = None, help_text: str | None = None,
    scope: str | None = None, position: int = OutputPosition.BOTTOM,
) -> Output:  # fmt: skip
    """Pinned buttons: the pin's value is the value of the last clicked button."""
    item = {"type": "actions", "label": label, "buttons": _action_buttons(buttons), "help_text": help_text}
    return _pin_output(name, item, scope, position)


@interactive
def _read_values(names: list[str]) -> Any:
    data = yield from wait_js_yield("pin_values", {"names": names})
    return data if isinstance(data, dict) else {}


@interactive
def _read_one(name: str) -> Any:
    data = yield from wait_js_yield("pin_values", {"names": [name]})
    return data.get(name) if isinstance(data, dict) else None


def get_pin_values(names: Sequence[str]) -> Any:
    """Values of several pins at once: ``{name: value}`` for the pins that exist."""
    if isinstance(names, str):
        names = [names]
    return _read_values(list(names))


def pin_update(name: str, **spec: Any) -> None:
    """Change a pin widget's value or attributes (label, options, placeholder, help_text, ...)."""
    if "options" in spec:
        spec["options"] = _options(spec["options"], spec.get("value"), True)
    send_command("pin_update", {"name": name, "attributes": spec})


@interactive
def _wait(names: list[str], timeout: float | None) -> Any:
    data = yield from wait_js_yield("pin_wait", {"names": names, "timeout": timeout})
    return data if isinstance(data, dict) else None


def pin_wait_change(*names: Any, timeout: float | None = None) -> Any:
    """Wait until one of the pins changes: returns ``{'name': ..., 'value': ...}``, or None on timeout."""
    flat: list[str] = []
    for n in names:
        flat.extend(n if isinstance(n, (list, tuple)) else [n])
    if not flat:
        raise ValueError("pin_wait_change() needs at least one pin name")
    return _wait(flat, timeout)


def pin_on_change(
    name: str, onchange: Callable[[Any], Any] | None = None, clear: bool = False, init_run: bool = False,
    **callback_options: Any,
) -> None:  # fmt: skip
    """Call ``onchange(value)`` whenever pin ``name`` changes (``clear=True`` drops earlier callbacks).

    ``init_run=True`` also calls it once with the current value (the front end reports it)."""
    session = current_session()
    cid = None
    if onchange is not None:
        func = onchange

        def on_event(data: Any) -> Any:
            return func(data.get("value") if isinstance(data, dict) else data)

        cid = session.register_callback(on_event, **callback_options)
    spec = {"name": name, "callback_id": cid, "clear": clear}
    if init_run and cid is not None:
        spec["init_run"] = True
    send_command("pin_onchange", spec, session)


class Pin:
    """The ``pin`` object: ``pin.x`` / ``pin['x']`` read, ``pin.x = v`` / ``pin['x'] = v`` write."""

    _instance: Pin | None = None

    def __getattr__(self, name: str) -> Any:
        # Tools probe objects for private attributes (pytest asks for ``_mock_name``,
        # ``inspect.unwrap`` for ``__wrapped__``): such a probe must not start a session.
        # A pin whose name starts with "_" is still read as ``pin["_name"]``.
        if name.startswith("_"):
            raise AttributeError(name)
        check_scope_name(name)
        return _read_one(name)

    def __getitem__(self, name: str) -> Any:
        return _read_one(check_scope_name(name))

    def __setattr__(self, name: str, value: Any) -> None:
        pin_update(check_scope_name(name), value=value)

    def __setitem__(self, name: str, value: Any) -> None:
        pin_update(check_scope_name(name), value=value)


pin = Pin()
