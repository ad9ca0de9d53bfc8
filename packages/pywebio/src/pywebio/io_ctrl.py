"""Output objects, the form round trip and small helpers shared by output, input and pin.

Output objects and when they are sent
-------------------------------------
Every ``put_*`` function returns an :class:`Output`. As in the original, an Output that is discarded
(an expression statement such as ``put_text("hi")``) is sent to the browser at once, and an Output
passed into another ``put_*`` call is embedded there instead of being sent on its own.

Ours does not depend on ``__del__`` alone. An Output remembers the session (and scope) current when it
was created and is *pending* until one of these happens, whichever comes first:

* it is discarded (its last reference dies): it is sent;
* it is embedded into another widget: it is never sent on its own;
* ``.send()`` is called, or it is used as a context manager: it is sent;
* its session's task is about to wait for the user (an input form, a pin read or wait): every pending
  Output of that session is sent first, in creation order, so nothing the user should see before
  answering is held back by a lingering reference (a variable, a traceback, a list).

An Output is never sent twice. Embedding an Output that was already sent renders a second copy, which
is what the original does too.
"""

from __future__ import annotations

import logging
import random
import re
import string
import threading
import weakref
from collections.abc import Callable, Generator, Iterable
from typing import Any

from .exceptions import SessionClosedException

logger = logging.getLogger("pywebio")

__all__ = [
    "Output",
    "current_session",
    "input_control",
    "interactive",
    "random_str",
    "scope2dom",
    "send_command",
]

_ID_CHARS = string.ascii_letters + string.digits
_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def random_str(length: int = 10) -> str:
    """A random id made of ASCII letters and digits."""
    return "".join(random.choices(_ID_CHARS, k=length))


_session_mod: Any = None


def _session_module() -> Any:
    # Imported late: the session layer may import output (toasts for errors), and tests patch it.
    global _session_mod
    if _session_mod is None:
        from pywebio import session

        _session_mod = session
    return _session_mod


def current_session() -> Any:
    """The current session (Contract 1); raises SessionNotFoundException outside one."""
    return _session_module().get_current_session()


def current_task_id() -> str:
    return str(_session_module().get_current_task_id())


def interactive(gen_func: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
    """Wrap a generator function with the session's ``chose_impl`` at call time.

    Resolved per call rather than at import so that ``pywebio.session`` may import this module."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _session_module().chose_impl(gen_func)(*args, **kwargs)

    wrapper.__name__ = gen_func.__name__
    wrapper.__qualname__ = gen_func.__qualname__
    wrapper.__doc__ = gen_func.__doc__
    wrapper.__wrapped__ = gen_func  # type: ignore[attr-defined]
    return wrapper


def send_command(command: str, spec: Any = None, session: Any = None) -> None:
    """Send one command of the current task (pending Outputs of the session go first)."""
    session = session if session is not None else current_session()
    session.send_task_command({"command": command, "spec": spec})


def check_scope_name(name: str) -> str:
    if not isinstance(name, str) or not _SCOPE_NAME.match(name):
        raise ValueError(f"invalid scope name {name!r}: use letters, digits, '_' and '-'")
    return name


def scope2dom(name: str | None, session: Any = None, no_css_selector: bool = False) -> str:
    """CSS selector (or bare DOM id) of a scope; None means the task's current scope."""
    if name is None:
        session = session if session is not None else current_session()
        name = session.get_scope()
    elif isinstance(name, int):
        session = session if session is not None else current_session()
        name = session.get_scope(name)
    check_scope_name(name)
    dom_id = f"pywebio-scope-{name}"
    return dom_id if no_css_selector else "#" + dom_id


# ---------------------------------------------------------------------------------------------------
# Output objects


_PENDING_ATTR = "_pywebio_pending_outputs"
_PRUNE_AT = 32  # small: the list costs memory in every session
_state_lock = threading.Lock()  # guards Output._state transitions (uncontended in practice)
_fallback_pending: weakref.WeakKeyDictionary[Any, list[weakref.ref[Output]]] = weakref.WeakKeyDictionary()


def _pending_list(session: Any) -> list[weakref.ref[Output]]:
    """The session's list of weak references to Outputs that may still be pending."""
    try:
        return getattr(session, _PENDING_ATTR)  # type: ignore[no-any-return]
    except AttributeError:
        pass
    pending: list[weakref.ref[Output]] = []
    try:
        setattr(session, _PENDING_ATTR, pending)
    except AttributeError:  # a session class with __slots__
        return _fallback_pending.setdefault(session, pending)
    return pending


def _remember(output: Output) -> None:
    pending = _pending_list(output._session)
    pending.append(weakref.ref(output))
    if len(pending) > _PRUNE_AT:  # sessions that never wait: keep the list short
        pending[:] = [r for r in pending if (o := r()) is not None and o._state == "pending"]


def flush_pending(session: Any) -> None:
    """Send every pending Output of ``session`` (called before the task waits for the user)."""
    pending = _pending_list(session)
    refs = pending[:]
    del pending[: len(refs)]
    for ref in refs:
        output = ref()
        if output is not None and output._state == "pending":
            output.send()


class Output:
    """A widget produced by a ``put_*`` function: sent when discarded, embedded when nested."""

    def __init__(
        self,
        spec: dict[str, Any],
        on_embed: Callable[[dict[str, Any]], Any] | None = None,
        session: Any = None,
    ) -> None:
        self.spec = spec
        self._state = "new"  # new -> pending -> sent | embedded; "new" is never sent
        self._on_embed = on_embed
        self._enter: Callable[[Output], Any] | None = None
        self._exit: Callable[[Output, Any, Any, Any], Any] | None = None
        self._container_selector: str | None = None
        self._ctx_scope: str | None = None  # the scope a `with` block writes into
        self._session = session if session is not None else current_session()
        if self._session.closed():
            # raised here, not from __del__ where it would be lost: ends an app that outputs in a loop
            raise SessionClosedException("the session is closed")
        if "scope" not in spec:
            spec["scope"] = scope2dom(None, self._session)
        spec.setdefault("position", -1)
        self._state = "pending"
        _remember(self)

    # -- chaining helpers --------------------------------------------------------------------------
    def style(self, css_style: str) -> Output:
        """Append CSS declarations to the widget's style attribute."""
        old = self.spec.get("style")
        self.spec["style"] = f"{old};{css_style}" if old else css_style
        return self

    def onclick(self, callback: Callable[[], Any]) -> Output:
        """Make the whole widget clickable; ``callback()`` runs on each click."""
        cid = self._session.register_callback(lambda _data: callback())
        self.spec["click_callback_id"] = cid
        return self

    # -- sending -----------------------------------------------------------------------------------
    def _claim(self, state: str) -> bool:
        with _state_lock:
            if self._state != "pending":
                return False
            self._state = state
        return True

    def send(self) -> Output:
        """Send now, if not already sent or embedded."""
        if self._claim("sent"):
            spec = {k: v for k, v in self.spec.items() if v is not None}
            self._session.send_task_command({"command": "output", "spec": spec})
        return self

    show = send

    def embed_data(self) -> dict[str, Any]:
        """The spec to nest in another widget; this Output will not be sent on its own."""
        if not self._claim("embedded"):
            logger.debug("embedding an Output that was already %s", self._state)
        spec = {k: v for k, v in self.spec.items() if v is not None and k not in ("scope", "position")}
        if self._on_embed is not None:
            self._on_embed(spec)
        return spec

    def __del__(self) -> None:
        try:
            if getattr(self, "_state", None) == "pending":
                self.send()
        except Exception as exc:
            if type(exc).__name__ in ("SessionClosedException", "SessionException"):
                logger.debug("output dropped, session closed")
            else:
                logger.exception("could not send output")

    # -- context manager ---------------------------------------------------------------------------
    def enable_context_manager(
        self,
        container_selector: str | None = None,
        custom_enter: Callable[[Output], Any] | None = None,
        custom_exit: Callable[[Output, Any, Any, Any], Any] | None = None,
    ) -> Output:
        self._container_selector = container_selector
        self._enter = custom_enter
        self._exit = custom_exit
        return self

    def __enter__(self) -> Any:
        if self._enter is not None:
            return self._enter(self)
        if self._ctx_scope is None:
            self._ctx_scope = random_str(10)
            self.spec["container_dom_id"] = scope2dom(self._ctx_scope, no_css_selector=True)
            if self._container_selector:
                self.spec["container_selector"] = self._container_selector
        self.send()
        self._session.push_scope(self._ctx_scope)
        return self._ctx_scope

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        if self._exit is not None:
            return self._exit(self, exc_type, exc, tb)
        self._session.pop_scope()
        return False


def embed(item: Any) -> Any:
    """A content item for a container: Output -> nested spec, other values -> text."""
    if isinstance(item, Output):
        return item.embed_data()
    if item is None:
        return ""
    if isinstance(item, (dict, list)) and not isinstance(item, str):
        return str(item)
    return item if isinstance(item, str) else str(item)


def embed_list(content: Any) -> list[Any]:
    """Normalise ``content`` (one item or a list) into a list of nested specs / strings."""
    if content is None:
        return []
    if not isinstance(content, (list, tuple)):
        content = [content]
    return [embed(c) for c in content]


def embed_deep(value: Any) -> Any:
    """Replace Outputs anywhere in a JSON-like value by their specs (put_widget data)."""
    if isinstance(value, Output):
        return value.embed_data()
    if isinstance(value, dict):
        return {k: embed_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [embed_deep(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------
# The form round trip

_MESSAGES = {
    # the same words the browser shows for its own checks
    "en": {"int": "Please enter an integer.", "float": "Please enter a number."},
    "zh": {"int": "请输入整数。", "float": "请输入数字。"},
}

# onchange context per task: the item name an input_update() without name refers to
_onchange_item: dict[str, str] = {}


def message(session: Any, key: str) -> str:
    lang = str(getattr(getattr(session, "info", None), "user_language", "") or "")
    return _MESSAGES["zh" if "zh" in lang.lower() else "en"][key]


def current_onchange_item() -> str | None:
    try:
        return _onchange_item.get(current_task_id())
    except Exception:
        return None


def _update(session: Any, name: str, attributes: dict[str, Any]) -> None:
    session.send_task_command(
        {"command": "update_input", "spec": {"target_name": name, "attributes": attributes}}
    )


def _check_item(
    session: Any,
    name: str,
    value: Any,
    preprocess: dict[str, Callable[[Any], Any]],
    validators: dict[str, Callable[[Any], Any]],
) -> tuple[bool, Any, str | None]:
    """Preprocess and validate one value -> (ok, converted value, error message)."""
    try:
        if name in preprocess:
            value = preprocess[name](value)
    except ValueError as exc:
        return False, value, str(exc) or message(session, "float")
    validator = validators.get(name)
    if validator is not None:
        try:
            error = validator(value)
        except Exception as exc:
            logger.exception("validate function of %r raised", name)
            error = f"{type(exc).__name__}: {exc}"
        if error is not None:
            return False, value, str(error)
    return True, value, None


def input_control(
    spec: dict[str, Any],
    preprocess: dict[str, Callable[[Any], Any]],
    validators: dict[str, Callable[[Any], Any]],
    onchange: dict[str, Callable[[Any], Any]],
    form_validate: Callable[[dict[str, Any]], Any] | None = None,
) -> Generator[Any, Any, dict[str, Any] | None]:
    """Show a form and wait until it is submitted with valid data (None when cancelled).

    A generator for ``chose_impl``: it yields ``next_client_event()`` and is sent the event."""
    session = current_session()
    flush_pending(session)
    task_id = current_task_id()
    session.send_task_command({"command": "input_group", "spec": spec})
    try:
        while True:
            event = yield session.next_client_event()
            kind = event.get("event") if isinstance(event, dict) else None
            data = event.get("data") if isinstance(event, dict) else None
            if kind == "input_event" and isinstance(data, dict):
                name = data.get("name")
                if data.get("event_name") == "blur" and name in validators:
                    ok, _, error = _check_item(session, name, data.get("value"), preprocess, validators)
                    attrs = {"valid_status": 0} if ok else {"valid_status": False, "invalid_feedback": error}
                    _update(session, name, attrs)
                elif data.get("event_name") == "change" and name in onchange:
                    _onchange_item[task_id] = name
                    try:
                        value = data.get("value")
                        try:
                            value = preprocess[name](value) if name in preprocess else value
                        except ValueError:
                            continue
                        onchange[name](value)
                    except Exception:
                        logger.exception("onchange callback of %r raised", name)
                    finally:
                        _onchange_item.pop(task_id, None)
            elif kind == "from_submit" and isinstance(data, dict):
                result: dict[str, Any] = {}
                all_ok = True
                for name, value in data.items():
                    ok, value, error = _check_item(session, name, value, preprocess, validators)
                    result[name] = value
                    if not ok:
                        all_ok = False
                        _update(session, name, {"valid_status": False, "invalid_feedback": error})
                if not all_ok:
                    continue
                if form_validate is not None:
                    form_error: Any
                    try:
                        form_error = form_validate(result)
                    except Exception as exc:
                        logger.exception("input_group validate function raised")
                        form_error = (None, f"{type(exc).__name__}: {exc}")
                    if form_error is not None:
                        if isinstance(form_error, (tuple, list)):
                            name, msg = form_error[0], form_error[1]
                        else:
                            name, msg = None, form_error
                        if name is None or name not in result:
                            name = next(iter(result), "")
                        _update(session, name, {"valid_status": False, "invalid_feedback": str(msg)})
                        continue
                return result
            elif kind == "from_cancel":
                return None
            else:
                logger.debug("event ignored while waiting for a form: %r", event)
    finally:
        if not session.closed():
            try:
                session.send_task_command({"command": "destroy_form", "spec": None})
            except Exception:
                logger.debug("could not destroy form", exc_info=True)


def wait_js_yield(command: str, spec: Any) -> Generator[Any, Any, Any]:
    """Send a command and return the data of the next ``js_yield`` event of this task."""
    session = current_session()
    flush_pending(session)
    session.send_task_command({"command": command, "spec": spec})
    while True:
        event = yield session.next_client_event()
        if isinstance(event, dict) and event.get("event") == "js_yield":
            return event.get("data")
        logger.debug("event ignored while waiting for js_yield: %r", event)


def iter_nonempty(values: Iterable[Any]) -> list[Any]:
    return [v for v in values if v is not None]
