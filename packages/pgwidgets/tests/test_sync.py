"""The blocking facade: same behaviour, no await; handlers run on callback threads
(test_sync_threads.py checks which)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from pgwidgets import sync
from pgwidgets.async_ import WidgetDestroyed

from .conftest import FakeBrowser

T = TypeVar("T")
pytestmark = pytest.mark.timeout(30)


class BrowserThread:
    """A FakeBrowser on its own event loop thread (the test itself is synchronous)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def open(self, url: str, **kwargs: Any) -> FakeBrowser:
        async def make() -> FakeBrowser:
            return await FakeBrowser(url, **kwargs).connect()

        return self.run(make())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def browsers() -> Iterator[BrowserThread]:
    bt = BrowserThread()
    yield bt
    bt.stop()


@pytest.fixture
def app() -> Iterator[sync.Application]:
    application = sync.Application(ws_port=0, http_port=0)
    yield application
    application.close()


def test_sync_build_click_and_headless_session(app: sync.Application, browsers: BrowserThread) -> None:
    clicked = threading.Event()
    seen: dict[str, Any] = {}

    @app.on_connect
    def setup(session: sync.Session) -> None:
        seen["thread"] = threading.current_thread()
        seen["session_thread"] = session.get_session_thread()
        W = session.get_widgets()
        top = W.TopLevel(title="sync")
        label = W.Label("waiting")
        button = W.Button("press")
        box = W.VBox()
        box.add_widget(button, 0)
        box.add_widget(label, 0)
        top.set_widget(box)
        top.show()

        def pressed(widget: sync.Widget) -> None:
            assert isinstance(widget, sync.Widget)
            label.set_text("pressed")  # a blocking call from a handler thread
            clicked.set()

        button.add_callback("activated", pressed)
        seen["label"] = label

    app.start()
    b = browsers.open(app.ws_url)
    browsers.run(
        b.wait_for(lambda: bool(b.find("Button")) and "activated" in b.widgets[b.find("Button")[0]].listens)
    )
    browsers.run(b.fire(b.find("Button")[0], "activated"))
    assert clicked.wait(5)
    assert seen["label"].get_text() == "pressed"
    assert seen["thread"] is seen["session_thread"]  # per_session: the session's own thread
    assert seen["thread"].name.startswith("pgwidgets-session-")

    headless = app.create_session()
    W = headless.get_widgets()
    entry = W.TextEntry("x")
    entry.set_text("y")
    assert entry.get_text() == "y"
    entry.destroy()
    with pytest.raises(WidgetDestroyed):
        entry.set_text("z")
    browsers.run(b.close())


def test_sync_calls_need_a_started_app() -> None:
    app = sync.Application(ws_port=0, http_port=0)
    session = app.create_session()
    with pytest.raises(RuntimeError, match="not started"):
        session.get_widgets().Button("x")
