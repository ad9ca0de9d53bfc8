"""Cross-package fixtures: headless Chromium driven by Playwright, and pgwidgets apps.

Helpers shared as plain functions live beside this file (``from pgw_support import wait_until``):
it puts this folder on ``sys.path``, as pytest runs with ``--import-mode=importlib``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (Debian's), shared by a module's tests.

    Per module, not per session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, and asyncio tests in other modules could not run meanwhile."""
    if not shutil.which(CHROMIUM) or not _has_playwright():
        if os.environ.get("WIRE_REQUIRE_BROWSER"):
            pytest.fail("headless Chromium and playwright are required here (WIRE_REQUIRE_BROWSER)")
        pytest.skip("needs /usr/bin/chromium and playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; the test fails if the page logged a console error or threw."""
    context = browser.new_context()
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    yield pg
    context.close()
    assert not problems, problems


@pytest.fixture
def make_app() -> Iterator[Any]:
    """``make_app(**options)``: a ``pgwidgets.sync.Application`` on free ports, closed after the test."""
    from pgwidgets.sync import Application

    apps: list[Application] = []

    def factory(**kwargs: Any) -> Application:
        app = Application(ws_port=0, http_port=0, **kwargs)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


def _has_playwright() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True
