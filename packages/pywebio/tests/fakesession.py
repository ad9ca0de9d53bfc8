"""A fake session implementing Contract 1 (INTERNALS.md), for unit tests of output/input/pin.

``install(monkeypatch, FakeSession(...))`` makes it the current session of ``pywebio.session``;
commands sent are recorded, events are scripted (a list) or produced by a ``responder(command)``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Generator
from types import SimpleNamespace
from typing import Any

from pywebio.exceptions import SessionClosedException


class FakeSession:
    """Records commands; hands out scripted events; runs callbacks on demand."""

    def __init__(
        self,
        events: list[dict[str, Any]] | None = None,
        responder: Callable[[dict[str, Any]], list[dict[str, Any]] | None] | None = None,
        coroutine: bool = False,
        language: str = "en-US",
    ) -> None:
        self.commands: list[dict[str, Any]] = []
        self.events: deque[dict[str, Any]] = deque(events or [])
        self.responder = responder
        self.coroutine = coroutine
        self.callbacks: dict[str, Callable[[Any], Any]] = {}
        self.callback_options: dict[str, dict[str, Any]] = {}
        self.scopes = ["ROOT"]
        self.info = SimpleNamespace(user_language=language)
        self._closed = False
        self._ids = itertools.count()
        self.task_id = "main-1"

    # Contract 1 ------------------------------------------------------------------------------
    def send_task_command(self, command: dict[str, Any]) -> None:
        if self._closed:
            raise SessionClosedException("closed")
        command.setdefault("task_id", self.task_id)
        self.commands.append(command)
        if self.responder is not None:
            self.events.extend(self.responder(command) or [])

    def next_client_event(self) -> Any:
        if not self.events:
            self._closed = True
            raise SessionClosedException("no more scripted events")
        event = self.events.popleft()
        if self.coroutine:

            async def later() -> dict[str, Any]:
                await asyncio.sleep(0)
                return event

            return later()
        return event

    def register_callback(
        self, fn: Callable[[Any], Any], serial_mode: bool = False, mutex_mode: bool = False
    ) -> str:
        cid = f"CB-{next(self._ids)}"
        self.callbacks[cid] = fn
        self.callback_options[cid] = {"serial_mode": serial_mode, "mutex_mode": mutex_mode}
        return cid

    def closed(self) -> bool:
        return self._closed

    def push_scope(self, name: str) -> None:
        self.scopes.append(name)

    def pop_scope(self) -> str:
        if len(self.scopes) <= 1:
            raise ValueError("ROOT scope cannot be popped")
        return self.scopes.pop()

    def get_scope(self, stack_idx: int = -1) -> str:
        return self.scopes[stack_idx]

    # helpers for tests -------------------------------------------------------------------------
    def click(self, callback_id: str, data: Any = None) -> Any:
        return self.callbacks[callback_id](data)

    def of(self, command: str) -> list[Any]:
        """Specs of the recorded commands named ``command``."""
        return [c["spec"] for c in self.commands if c["command"] == command]

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return self.of("output")

    def close(self) -> None:
        self._closed = True


def chose_impl(gen_func: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
    """Contract 1's chose_impl for the fake: sync run, or a coroutine when the session is async."""

    def inner(*args: Any, **kwargs: Any) -> Any:
        session = _current["session"]
        gen = gen_func(*args, **kwargs)
        if session is not None and session.coroutine:

            async def run() -> Any:
                value: Any = None
                try:
                    while True:
                        awaitable = gen.send(value)
                        value = await awaitable
                except StopIteration as stop:
                    return stop.value

            return run()
        value = None
        try:
            while True:
                value = gen.send(value)
        except StopIteration as stop:
            return stop.value

    return inner


_current: dict[str, FakeSession | None] = {"session": None}


def install(monkeypatch: Any, session: FakeSession) -> FakeSession:
    """Make ``session`` the current session for the pywebio API until the test ends."""
    import pywebio.session as session_module

    _current["session"] = session
    monkeypatch.setattr(session_module, "get_current_session", lambda: session, raising=False)
    monkeypatch.setattr(session_module, "get_current_task_id", lambda: session.task_id, raising=False)
    monkeypatch.setattr(session_module, "chose_impl", chose_impl, raising=False)
    return session
