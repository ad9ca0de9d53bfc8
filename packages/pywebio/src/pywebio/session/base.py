"""The session core shared by both implementations: the task-command queue, the per-task scope
stacks, deferred calls, error reporting, and the lookup of the "current" session.

A session is a sans-I/O object for its transport: the transport feeds decoded client events in
with :meth:`Session.send_client_event` and drains commands with :meth:`Session.get_task_frames`
after the session calls ``on_task_command(session)`` (possibly from another thread). The transport
learns that the session ended through ``on_session_close()``.

Commands are encoded to JSON text the moment the app produces them: a queued command is then a
~100-byte string rather than two nested dicts (about 1.5 KiB), which is what bounds the server's
memory while many sessions produce output faster than their sockets drain.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from wirecore import codec

from ..exceptions import SessionClosedException, SessionException, SessionNotFoundException
from ..utils import ObjectDict, get_function_name

__all__ = ["Session", "get_current_session", "get_current_task_id"]

logger = logging.getLogger("pywebio")

Command = dict[str, Any]
Event = dict[str, Any]

_task_counter = itertools.count(1)
"""Task ids end in a process-wide counter, never reused (upstream used ``id(thread)``)."""


def new_task_id(name: str) -> str:
    return f"{name}-{next(_task_counter)}"


# "current session" lookup ----------------------------------------------------------------------
# Coroutine tasks carry (session, task id) in a context variable; threads are registered in a
# dict keyed by the Thread object itself (not its id, which is reused after the thread dies).

current_task: contextvars.ContextVar[tuple[Session, str] | None] = contextvars.ContextVar(
    "pywebio_current_task", default=None
)
_thread_tasks: dict[threading.Thread, tuple[Session, str]] = {}
_thread_lock = threading.Lock()


_binds = itertools.count()


def bind_thread(thread: threading.Thread, session: Session, task_id: str) -> None:
    with _thread_lock:
        _thread_tasks[thread] = (session, task_id)
        if next(_binds) % 256 == 255:
            # a thread registered after it started cannot unbind itself when it ends: prune
            # such dead entries now and then, so they do not keep their sessions alive
            for t in [t for t in _thread_tasks if t.ident is not None and not t.is_alive()]:
                del _thread_tasks[t]


def unbind_thread(thread: threading.Thread) -> None:
    with _thread_lock:
        _thread_tasks.pop(thread, None)


def current() -> tuple[Session, str] | None:
    """The (session, task id) of the calling task or thread, or ``None``."""
    found = current_task.get()
    if found is not None:
        return found
    return _thread_tasks.get(threading.current_thread())


def get_current_session() -> Session:
    """The session of the calling task or thread.

    :raises SessionNotFoundException: outside a session, or in a thread not registered with
        :func:`pywebio.session.register_thread`.
    """
    found = current()
    if found is None:
        if script_mode.enabled and threading.current_thread() is threading.main_thread():
            from ..platform.script_mode import script_mode_session

            return script_mode_session()
        raise SessionNotFoundException(
            "No session found in this context: PyWebIO functions must run inside a PyWebIO app "
            "(a thread you start yourself needs pywebio.session.register_thread(thread))."
        )
    return found[0]


class script_mode:
    """Script mode: PyWebIO functions called from the main thread of a program that started no
    server open a one-session server for it. Starting any server turns it off."""

    enabled = True


def disable_script_mode() -> None:
    script_mode.enabled = False


def get_current_task_id() -> str:
    """The id of the calling task (coroutine) or thread inside its session."""
    found = current()
    if found is None:
        raise SessionNotFoundException("No session found in this context")
    return found[1]


# the session ---------------------------------------------------------------------------------------


class Session:
    """What both implementations share; see the module docs for the transport side.

    :param session_info: the ``info`` object (user agent, language, origin...).
    :param on_task_command: called (from any thread) whenever commands are waiting.
    :param on_session_close: called once, after the session closed.
    :param debug: report unhandled app errors with a traceback popup instead of a short toast.
    """

    debug = False

    def __init__(
        self,
        session_info: ObjectDict | None = None,
        on_task_command: Callable[[Session], None] | None = None,
        on_session_close: Callable[[], None] | None = None,
        debug: bool | None = None,
    ) -> None:
        self.info: ObjectDict = session_info if session_info is not None else ObjectDict()
        self.save: dict[str, Any] = {}
        self.internal_save: dict[str, Any] = {"info": self.info}
        self._on_task_command = on_task_command
        self._on_session_close = on_session_close
        if debug is not None:
            self.debug = debug
        self._frames: list[str] = []
        self._cmd_lock = threading.Lock()
        self._scope_stacks: dict[str, list[str]] = {}
        self._deferred: list[Callable[[], Any]] = []
        self._closed = False
        self._close_lock = threading.Lock()
        self.callbacks: dict[str, Any] = {}

    # transport side ------------------------------------------------------------------------

    def get_task_frames(self) -> list[str]:
        """Take every command waiting to be sent (oldest first), each as its JSON text."""
        with self._cmd_lock:
            frames, self._frames = self._frames, []
        return frames

    def get_task_commands(self) -> list[Command]:
        """Take every command waiting to be sent (oldest first), decoded."""
        return [codec.decode(f) for f in self.get_task_frames()]

    def has_commands(self) -> bool:
        return bool(self._frames)

    def send_client_event(self, event: Event) -> None:
        """Deliver one decoded client event (``{"event", "task_id", "data"}``) to its task."""
        raise NotImplementedError

    # app side ----------------------------------------------------------------------------------

    def send_task_command(self, command: Command) -> None:
        """Queue a command for the browser; ``task_id`` is filled in with the calling task's id.

        :raises SessionClosedException: once the session is closed (this is what ends an app
            thread that keeps producing output after the user left).
        """
        if self._closed:
            raise SessionClosedException("the session is closed")
        if "task_id" not in command:
            found = current()
            command["task_id"] = found[1] if found is not None and found[0] is self else None
        frame = encode_command(command)
        with self._cmd_lock:
            self._frames.append(frame)
        if self._on_task_command is not None:
            self._on_task_command(self)

    def next_client_event(self) -> Any:
        raise NotImplementedError

    def register_callback(
        self, callback: Callable[[Any], Any], serial_mode: bool = False, mutex_mode: bool = False
    ) -> str:
        raise NotImplementedError

    def closed(self) -> bool:
        return self._closed

    def close(self, nonblock: bool = False) -> None:
        """Close the session (idempotent): run deferred functions, release waiting tasks, tell the
        transport."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        for func in self._deferred:
            try:
                func()
            except Exception:
                logger.exception("error in a function registered with defer_call()")
        self._deferred.clear()
        try:
            self._cleanup()
        finally:
            if self._on_session_close is not None:
                try:
                    self._on_session_close()
                except Exception:
                    logger.exception("error in the transport's session-close handler")

    def _cleanup(self) -> None:
        """Implementation-specific release of tasks and threads."""

    def finish(self) -> None:
        """The app is done: tell the browser (``close_session``) and close."""
        if self._closed:
            return
        try:
            self.send_task_command(dict(CLOSE_SESSION_COMMAND))
        except SessionClosedException:
            pass
        self.close()

    def defer_call(self, func: Callable[[], Any]) -> None:
        """Run ``func()`` when the session closes."""
        if self._closed:
            raise SessionClosedException("the session is closed")
        self._deferred.append(func)

    # scopes --------------------------------------------------------------------------------------

    def _stack(self) -> list[str]:
        task_id = get_current_task_id()
        stack = self._scope_stacks.get(task_id)
        if stack is None:
            stack = self._scope_stacks[task_id] = ["ROOT"]
        return stack

    def push_scope(self, name: str) -> None:
        self._stack().append(name)

    def pop_scope(self) -> str:
        """Leave the innermost scope of the calling task; ROOT is never popped."""
        stack = self._stack()
        if len(stack) <= 1:
            raise ValueError("ROOT scope cannot be popped")
        return stack.pop()

    def get_scope(self, stack_idx: int = -1) -> str:
        """The scope at ``stack_idx`` in the calling task's stack (``-1``: the current one)."""
        return self._stack()[stack_idx]

    def _forget_task(self, task_id: str) -> None:
        self._scope_stacks.pop(task_id, None)

    # errors ----------------------------------------------------------------------------------

    def on_task_exception(self, exc: BaseException | None = None, task: str = "") -> None:
        """Report an unhandled app error: log it, and show the user a toast (or, in debug mode, a
        popup with the traceback). Session errors (the user left) are only logged at debug level."""
        if exc is None:
            exc = sys.exc_info()[1]
        if exc is None:
            return
        if isinstance(exc, SessionException):
            logger.debug("task %s ended: %r", task, exc)
            return
        logger.error("unhandled error in the application%s", f" ({task})" if task else "", exc_info=exc)
        if self._closed:
            return
        try:
            if self.debug:
                tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                self.send_task_command(_error_popup(tb))
                self.send_task_command(
                    {
                        "command": "run_script",
                        "task_id": None,
                        "spec": {"code": "console.error(tb)", "args": {"tb": tb}},
                    }
                )
            else:
                self.send_task_command(
                    {
                        "command": "toast",
                        "task_id": None,
                        "spec": {
                            "content": "An internal error occurred in the application",
                            "duration": 1500,
                            "position": "center",
                            "color": "#e53935",
                            "callback_id": None,
                        },
                    }
                )
        except SessionClosedException:
            pass


CLOSE_SESSION_COMMAND: Command = {"command": "close_session", "task_id": None, "spec": None}
CLOSE_SESSION = '{"command":"close_session","task_id":null,"spec":null}'
"""The ``close_session`` command as sent: the last frame of every session."""


def encode_command(command: Command) -> str:
    """One command as JSON text (values JSON cannot hold are stringified, and logged)."""
    try:
        return codec.encode_str(command)
    except TypeError as exc:
        logger.warning(
            "command %r has a value JSON cannot hold (%s): sent as text", command.get("command"), exc
        )
        return json.dumps(command, default=str)


def _error_popup(tb: str) -> Command:
    fence = "````" if "```" in tb else "```"
    return {
        "command": "popup",
        "task_id": None,
        "spec": {
            "title": "Error",
            "content": [
                {
                    "type": "text",
                    "content": "An internal error occurred in the application:",
                    "inline": False,
                },
                {"type": "markdown", "content": f"{fence}\n{tb}\n{fence}", "sanitize": True, "options": {}},
            ],
            "size": "large",
            "implicit_close": True,
            "closable": True,
        },
    }


def callback_id(func: Callable[..., Any]) -> str:
    from ..utils import random_str

    return f"CB-{get_function_name(func, 'callback')}-{random_str(10)}"
