"""End to end in headless Chromium: our page and front end against real servers (tornado and
wirecore) — forms, callbacks after ``main`` returned, a coroutine app with ``run_async``, two
sessions talking, and a reconnect that keeps the session. No console errors on any page.

The apps send raw protocol commands (as in the other platform tests), so these tests exercise the
platform and session layers with the real browser side, independently of ``pywebio.output``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pywebio.session import get_current_session, run_async

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 8000

pytestmark = pytest.mark.browser


def put_text(text: str) -> None:
    get_current_session().send_task_command({"command": "output", "spec": {"type": "text", "content": text}})


def ask(name: str) -> Any:
    session = get_current_session()
    session.send_task_command(
        {
            "command": "input_group",
            "spec": {"label": name, "inputs": [{"type": "text", "name": name, "label": name}]},
        }
    )
    while True:
        event = session.next_client_event()
        if event["event"] == "from_submit":
            session.send_task_command({"command": "destroy_form", "spec": None})
            return event["data"][name]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("WIRE_REQUIRE_BROWSER"):
            pytest.fail("headless Chromium is required here (WIRE_REQUIRE_BROWSER)")
        pytest.skip("needs /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            headless=True,
        )
        yield chromium
        chromium.close()


class Pages:
    """New pages whose console errors fail the test."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.problems: list[str] = []

    def open(self, url: str) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.goto(url)
        return page


@pytest.fixture
def pages(browser: Any) -> Iterator[Pages]:
    p = Pages(browser)
    yield p
    p.context.close()
    assert not p.problems, p.problems


def test_form_and_callback_after_main_returned(serve: Any, backend: str, pages: Pages) -> None:
    def app() -> None:
        name = ask("name")
        put_text(f"hello {name}")
        cid = get_current_session().register_callback(lambda i: put_text(f"clicked {i}"))
        get_current_session().send_task_command(
            {
                "command": "output",
                "spec": {"type": "buttons", "callback_id": cid, "buttons": [{"label": "Go", "value": 0}]},
            }
        )

    server = serve(app, backend)
    page = pages.open(server.url)
    page.fill("input[name=name]", "Ada")
    page.click("button[type=submit]")
    page.wait_for_selector("text=hello Ada")
    for n in (1, 2):
        page.click("button:has-text('Go')")
        page.wait_for_function(
            f"document.querySelector('#markdown-body').innerText.split('clicked 0').length - 1 >= {n}"
        )


def test_coroutine_app_with_run_async(serve: Any, backend: str, pages: Pages) -> None:
    async def ticker() -> None:
        for i in range(3):
            put_text(f"tick {i}")
            await asyncio.sleep(0.01)

    async def app() -> None:
        run_async(ticker())
        put_text("main returned")

    server = serve(app, backend)
    page = pages.open(server.url)
    page.wait_for_selector("text=main returned")
    page.wait_for_selector("text=tick 2")


def test_two_sessions_chat(serve: Any, backend: str, pages: Pages) -> None:
    members: list[Any] = []
    lock = threading.Lock()

    def chat() -> None:
        with lock:
            members.append(get_current_session())
        while True:
            msg = ask("msg")
            with lock:
                for s in members:
                    if not s.closed():
                        s.send_task_command(
                            {"command": "output", "spec": {"type": "text", "content": f"says: {msg}"}}
                        )

    server = serve(chat, backend)
    alice, bob = pages.open(server.url), pages.open(server.url)
    bob.wait_for_selector("input[name=msg]")
    alice.fill("input[name=msg]", "hi bob")
    alice.click("button[type=submit]")
    bob.wait_for_selector("text=says: hi bob")
    bob.fill("input[name=msg]", "hi alice")
    bob.click("button[type=submit]")
    alice.wait_for_selector("text=says: hi alice")


def test_reconnect_keeps_the_session(serve: Any, backend: str, pages: Pages, wait_until: Any) -> None:
    gate = threading.Event()

    def app() -> None:
        put_text("first")
        gate.wait(10)
        put_text("while away")
        put_text(f"answer {ask('x')}")

    server = serve(app, backend, reconnect_timeout=30)
    page = pages.open(server.url)
    page.wait_for_selector("text=first")
    entry = next(iter(server.hub.entries.values()))
    old = entry.connection
    # drop the socket as a network failure would (no close_session); retry at once, not in 5 s
    page.evaluate("() => { const t = WebIO._state.Session.transport; t.lastAttempt = 0; t.ws.close(); }")
    # output written into a socket before the server notices its end is lost (the protocol has
    # no acks): produce the next output once the old socket is gone
    wait_until(lambda: entry.connection is not old, what="old socket gone")
    gate.set()
    page.wait_for_selector("text=while away")
    page.fill("input[name=x]", "still here")
    page.click("button[type=submit]")
    page.wait_for_selector("text=answer still here")
    assert page.inner_text("#markdown-body").count("first") == 1  # the same session, not a new one
    assert len(server.hub.sessions) <= 1
