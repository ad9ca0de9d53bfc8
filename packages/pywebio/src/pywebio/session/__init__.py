"""The session API: what an app can do with its browser session besides output and input.

A session is one browser tab running one app. Plain functions run in a
:class:`ThreadBasedSession`, ``async def`` functions in a :class:`CoroutineBasedSession`
(chosen per app by :func:`session_class_for`, as the original does).

Interactive functions are written once as generators and wrapped with :func:`chose_impl`: in a
thread session the call runs to completion, in a coroutine session it returns a coroutine.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import threading
from collections.abc import Callable, Coroutine, Generator, Iterator
from typing import Any, ParamSpec, TypeVar

from ..exceptions import SessionClosedException, SessionException, SessionNotFoundException
from ..utils import run_as_function, to_coroutine
from .base import Session, get_current_session, get_current_task_id
from .coroutinebased import CoroutineBasedSession, TaskHandler
from .info import UserAgent, parse_user_agent
from .threadbased import ThreadBasedSession

__all__ = [
    "CoroutineBasedSession",
    "Session",
    "SessionClosedException",
    "SessionException",
    "SessionNotFoundException",
    "TaskHandler",
    "ThreadBasedSession",
    "UserAgent",
    "chose_impl",
    "data",
    "defer_call",
    "download",
    "eval_js",
    "get_current_session",
    "get_current_task_id",
    "get_info",
    "go_app",
    "hold",
    "info",
    "local",
    "next_client_event",
    "parse_user_agent",
    "register_thread",
    "run_async",
    "run_asyncio_coroutine",
    "run_js",
    "set_env",
]

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")


def chose_impl(gen_func: Callable[P, Generator[Any, Any, Any]]) -> Callable[P, Any]:
    """Turn a generator function into an interactive function for both session kinds.

    The generator yields ``session.next_client_event()`` (or any awaitable) and receives the
    result. In a thread session the wrapped call runs it to completion and returns its value; in
    a coroutine session it returns a coroutine to ``await``.
    """

    @functools.wraps(gen_func)
    def inner(*args: Any, **kwargs: Any) -> Any:
        session = get_current_session()
        gen = gen_func(*args, **kwargs)
        if isinstance(session, CoroutineBasedSession):
            return to_coroutine(gen)
        return run_as_function(gen)

    return inner


@chose_impl
def next_client_event() -> Generator[Any, Any, Any]:
    """The next event addressed to the calling task (awaitable in coroutine sessions)."""
    res = yield get_current_session().next_client_event()
    return res


def _send(command: str, spec: Any) -> None:
    get_current_session().send_task_command({"command": command, "spec": spec})


def run_js(code_: str, **args: Any) -> None:
    """Run JavaScript ``code_`` in the browser; ``args`` become its local variables."""
    _send("run_script", {"code": code_, "args": args})


@chose_impl
def eval_js(expression_: str, **args: Any) -> Generator[Any, Any, Any]:
    """Evaluate a JavaScript expression in the browser and return its (JSON) value.

    Promises are awaited by the browser; an error or ``undefined`` gives ``None``.
    """
    session = get_current_session()
    session.send_task_command(
        {"command": "run_script", "spec": {"code": expression_, "args": args, "eval": True}}
    )
    while True:
        event = yield session.next_client_event()
        if event.get("event") == "js_yield":
            return event.get("data")


def download(name: str, content: bytes) -> None:
    """Make the browser save ``content`` as a file called ``name``."""
    _send("download", {"name": name, "content": base64.b64encode(content).decode("ascii")})


_ENV_KEYS = frozenset(
    {
        "title",
        "output_animation",
        "auto_scroll_bottom",
        "http_pull_interval",
        "input_panel_fixed",
        "input_panel_min_height",
        "input_panel_init_height",
        "input_auto_focus",
        "output_max_width",
    }
)


def set_env(**env_info: Any) -> None:
    """Change page settings: ``title``, ``output_animation``, ``auto_scroll_bottom``,
    ``http_pull_interval`` (ms), ``input_panel_fixed``, ``input_panel_min_height``,
    ``input_panel_init_height``, ``input_auto_focus``, ``output_max_width``."""
    unknown = set(env_info) - _ENV_KEYS
    assert not unknown, f"unknown set_env() settings: {', '.join(sorted(unknown))}"
    _send("set_env", env_info)


def go_app(name: str, new_window: bool = True) -> None:
    """Open another app of this server (``?app=name``), in a new window by default."""
    run_js("WebIO.openApp(name, new_window)", name=name, new_window=new_window)


@chose_impl
def hold() -> Generator[Any, Any, Any]:
    """Keep the session open until the browser leaves (only needed when nothing else does:
    sessions with callbacks are held automatically)."""
    session = get_current_session()
    while True:
        try:
            yield session.next_client_event()
        except SessionClosedException:
            return


def defer_call(func: F) -> F:
    """Run ``func()`` when the session closes; usable as a decorator."""
    get_current_session().defer_call(func)
    return func


def run_async(coro_obj: Coroutine[Any, Any, Any]) -> TaskHandler:
    """Run a coroutine in the background of the current (coroutine-based) session."""
    session = get_current_session()
    if not isinstance(session, CoroutineBasedSession):
        coro_obj.close()
        raise RuntimeError("run_async() is only available in coroutine-based sessions (async def apps)")
    return session.run_async(coro_obj)


async def run_asyncio_coroutine(coro_obj: Coroutine[Any, Any, Any]) -> Any:
    """Await an asyncio coroutine from a coroutine-based session.

    Sessions here run on the server's own loop, so this is a plain ``await``; when the session's
    loop is another thread's, the coroutine runs there and its result is handed back.
    """
    session = get_current_session()
    if not isinstance(session, CoroutineBasedSession):
        coro_obj.close()
        raise RuntimeError("run_asyncio_coroutine() is only available in coroutine-based sessions")
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is session.loop or running is None:
        return await coro_obj
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro_obj, session.loop))


def register_thread(thread: threading.Thread) -> None:
    """Let ``thread`` call PyWebIO functions for the current (thread-based) session.

    Register it before ``thread.start()``; the session stays open until it ends.
    """
    session = get_current_session()
    if not isinstance(session, ThreadBasedSession):
        raise RuntimeError("register_thread() is only available in thread-based sessions")
    session.register_thread(thread)


class _Local:
    """Per-session attribute storage: ``local.x = 1``; a missing attribute is ``None``."""

    __slots__ = ()

    @staticmethod
    def _store() -> dict[str, Any]:
        return get_current_session().save

    @property
    def _dict(self) -> dict[str, Any]:
        return self._store()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # reserved; and a tool's probe (pytest's _mock_name) must not start a session
            raise AttributeError(name)
        return self._store().get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise AttributeError("names starting with '_' are reserved in pywebio.session.local")
        self._store()[name] = value

    def __delattr__(self, name: str) -> None:
        self._store().pop(name, None)

    def __getitem__(self, name: str) -> Any:
        return self._store()[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self.__setattr__(name, value)

    def __delitem__(self, name: str) -> None:
        del self._store()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._store()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._store()))

    def __len__(self) -> int:
        return len(self._store())

    def get(self, name: str, default: Any = None) -> Any:
        return self._store().get(name, default)

    def __repr__(self) -> str:
        try:
            return f"local({self._store()!r})"
        except SessionException:
            return "<pywebio.session.local (no session)>"


local = _Local()
data = local  # the pre-1.1 name


class _Info:
    """The current session's info: ``user_agent``, ``user_language``, ``server_host``, ``origin``,
    ``user_ip``, ``backend``, ``protocol``, ``request``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # no info key starts with "_"; a tool's probe must not start a session
            raise AttributeError(name)
        return get_current_session().info.get(name)

    def __getitem__(self, name: str) -> Any:
        return get_current_session().info[name]

    def __iter__(self) -> Iterator[str]:
        return iter(get_current_session().info)

    def __contains__(self, name: object) -> bool:
        return name in get_current_session().info

    def keys(self) -> Any:
        return get_current_session().info.keys()

    def items(self) -> Any:
        return get_current_session().info.items()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("pywebio.session.info is read-only")

    def __repr__(self) -> str:
        try:
            return f"info({dict(get_current_session().info)!r})"
        except SessionException:
            return "<pywebio.session.info (no session)>"


info = _Info()


def get_info() -> Any:
    """The current session's info object itself (a dict with attribute access)."""
    return get_current_session().info


def get_session_implement() -> type[Session]:
    """The class of the current session."""
    return type(get_current_session())


def _is_coroutine_target(func: Any) -> bool:
    from ..utils import iscoroutinefunction, isgeneratorfunction

    return iscoroutinefunction(func) or isgeneratorfunction(func)


def session_class_for(target: Callable[..., Any]) -> type[ThreadBasedSession] | type[CoroutineBasedSession]:
    """The implementation an app gets: coroutine-based for ``async def`` and generator functions
    (looking through ``functools.partial``), thread-based otherwise."""
    return CoroutineBasedSession if _is_coroutine_target(target) else ThreadBasedSession
