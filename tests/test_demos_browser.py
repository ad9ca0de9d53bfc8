"""The demo apps end to end in headless Chromium: what a person opening them would see."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from wirecore import Server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def core_demo() -> Iterator[Server]:
    module = load(EXAMPLES / "core_demo.py", "core_demo")
    with Server(module.app, port=0) as srv:
        yield srv


@pytest.fixture
def dashboard() -> Iterator[Server]:
    module = load(EXAMPLES / "wesktop_dashboard" / "app.py", "wesktop_dashboard_app")
    with Server(module.app, port=0, interface=module.app.preferred_interface) as srv:
        yield srv


def test_core_demo_json_sse_and_websocket(core_demo: Server, page: Any) -> None:
    page.goto(core_demo.url + "/")
    page.wait_for_function("document.getElementById('health').textContent.includes('\"status\":\"ok\"')")
    # the SSE clock ticks every second: two different readings prove it is live
    page.wait_for_function("document.getElementById('clock').textContent.includes('#')", timeout=5000)
    first = page.text_content("#clock")
    page.wait_for_function(f"document.getElementById('clock').textContent !== {first!r}", timeout=5000)
    page.fill("input[name=msg]", "hello there")
    page.click("text=Send")
    page.wait_for_function("document.getElementById('log').textContent.includes('echo: hello there')")


def test_dashboard_shows_live_stats_and_runs_a_job(dashboard: Server, page: Any) -> None:
    page.goto(dashboard.url + "/")
    page.wait_for_function("document.getElementById('time').textContent.includes(':')", timeout=5000)
    first = page.text_content("#time")
    page.wait_for_function(f"document.getElementById('time').textContent !== {first!r}", timeout=5000)
    assert page.text_content("#clients") == "1"  # this page's own SSE stream
    page.fill("input[name=name]", "nightly")
    page.fill("input[name=steps]", "3")
    page.click("button[type=submit]")
    page.wait_for_selector("li.running >> text=#1 nightly", timeout=5000)
    page.wait_for_selector("li.finished >> text=done", timeout=10000)
    # a second tab sees the finished job from the state endpoint
    other = page.context.new_page()
    other.goto(dashboard.url + "/")
    other.wait_for_selector("li.finished >> text=#1 nightly", timeout=5000)
    other.close()
