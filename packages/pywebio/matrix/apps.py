"""The matrix's test apps: one plain-function app and one ``async def`` app doing the same things.

Everything they output is deterministic, so every backend must send the same commands."""

from __future__ import annotations

from typing import Any

from pywebio.input import NUMBER, input, input_group
from pywebio.output import (
    close_popup,
    popup,
    put_buttons,
    put_markdown,
    put_table,
    put_text,
    toast,
    use_scope,
)

FIELDS = [input("Name", name="name"), input("Age", name="age", type=NUMBER)]


def check(data: dict[str, Any]) -> tuple[str, str] | None:
    """The form's validation: an age must be positive."""
    return ("age", "Age must be positive") if data["age"] <= 0 else None


def header(kind: str) -> None:
    put_markdown(f"## Matrix {kind}")
    put_text("plain <b>text</b>")
    put_table([["Backend", "Kind"], ["any", kind]])
    with use_scope("status", clear=True):
        put_text("status: waiting")


def greet(data: dict[str, Any]) -> None:
    with use_scope("status", clear=True):
        put_text(f"status: hello {data['name']}, {data['age']}")
    toast("Saved", duration=0, color="success")


def thread_app() -> None:
    """Matrix (threads)"""
    header("thread")
    greet(input_group("Details", FIELDS, validate=check))
    count = [0]

    def add() -> None:
        count[0] += 1
        with use_scope("counter", clear=True):
            put_text(f"count {count[0]}")

    def show() -> None:
        popup("Dialog", [put_text("popup body"), put_buttons(["Close it"], onclick=[close_popup])])

    put_buttons(["Add", "Popup"], onclick=[add, show])  # used after main returned


async def coro_app() -> None:
    """Matrix (coroutines)"""
    header("coro")
    greet(await input_group("Details", FIELDS, validate=check))
    count = [0]

    async def add() -> None:
        count[0] += 1
        with use_scope("counter", clear=True):
            put_text(f"count {count[0]}")

    async def show() -> None:
        popup("Dialog", [put_text("popup body"), put_buttons(["Close it"], onclick=[close_popup])])

    put_buttons(["Add", "Popup"], onclick=[add, show])  # used after main returned


APPS = {"thread": thread_app, "coro": coro_app}
