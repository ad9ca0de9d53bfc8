"""The backend matrix: the apps of apps.py on the backend named by env PYWEBIO_BACKEND, driven by
one Playwright script in headless Chromium; the server-to-browser commands the page received,
normalised, must equal transcript.json. PYWEBIO_MATRIX_UPDATE=1 rewrites it from a tornado run."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
GOLDEN = HERE / "transcript.json"
BACKEND = os.environ.get("PYWEBIO_BACKEND", "tornado")
HTTP_BACKENDS = {"tornado_http", "flask", "django"}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 5000  # ms, for anything that should be (nearly) immediate
START_WAIT = 15.0  # s, for the server to answer
# keys whose values are per-run random ids (callbacks, popups' dom ids) or task ids
RANDOM_KEYS = {"task_id", "callback_id", "dom_id"}

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    log: Path

    def output(self) -> str:
        """What serve.py printed so far (startup line, warnings, tracebacks)."""
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """serve.py for BACKEND in a subprocess, its output in a log file; yielded once it answers."""
    port = free_port()
    srv = Server(f"http://127.0.0.1:{port}/", tmp_path_factory.mktemp("matrix") / f"{BACKEND}.log")
    with srv.log.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "serve.py"), BACKEND, str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"serve.py {BACKEND} exited with {proc.returncode}:\n{srv.output()}")
            try:
                with urllib.request.urlopen(srv.url + "?test=1", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve.py {BACKEND} did not answer on {srv.url} within {START_WAIT} s")
            time.sleep(0.05)  # polling interval while waiting for the condition above
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"the matrix needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Recorder:
    """Collects what the page received: WebSocket text frames, or HTTP poll responses' batches."""

    def __init__(self, page: Any) -> None:
        self.frames: list[Any] = []
        self.responses: list[Any] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: self.frames.append(payload)))
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        if response.request.headers.get("webio-session-id"):
            self.responses.append(response)

    def commands(self) -> list[dict[str, Any]]:
        """The commands in the order the page executed them: WebSocket frames as received; HTTP
        batches by batch id (``seq`` + index), each once however often it was sent."""
        if self.frames:
            return [json.loads(f) for f in self.frames if isinstance(f, str)]
        batches: dict[int, list[dict[str, Any]]] = {}
        for response in self.responses:
            body = response.json()
            for i, batch in enumerate(body.get("commands") or []):
                batches.setdefault(body["seq"] + i, batch)
        return [cmd for _, batch in sorted(batches.items()) for cmd in batch]


def normalise(value: Any, ids: dict[str, str], key: str | None = None) -> Any:
    """Random ids become stable placeholders (``<callback_id 1>``...), task ids are dropped."""
    if isinstance(value, dict):
        out = {k: normalise(v, ids, k) for k, v in value.items() if k != "task_id"}
        if out.get("command") == "set_session_id":
            out["spec"] = "<session id>"
        return out
    if isinstance(value, list):
        return [normalise(v, ids) for v in value]
    if key in RANDOM_KEYS and isinstance(value, str):
        return ids.setdefault(
            value, f"<{key} {sum(1 for v in ids.values() if v.startswith(f'<{key} ')) + 1}>"
        )
    if isinstance(value, str) and ids:  # an id used inside code or markup
        return re.sub(
            "|".join(map(re.escape, sorted(ids, key=len, reverse=True))), lambda m: ids[m[0]], value
        )
    return value


def expect_text(page: Any, text: str) -> None:
    page.get_by_text(text, exact=True).first.wait_for()


def drive(page: Any, url: str, app: str) -> None:
    """The fixed sequence of user actions, with what the user must see after each."""
    page.goto(f"{url}?app={app}&_pywebio_http_pull_interval=100")
    page.get_by_role("heading", name=f"Matrix {app}").wait_for()
    expect_text(page, "plain <b>text</b>")
    assert page.locator("table td").all_inner_texts() == ["any", app]
    expect_text(page, "status: waiting")
    page.get_by_role("heading", name="Details").wait_for()
    page.get_by_label("Name").fill("Ada")
    page.get_by_label("Age").fill("-1")
    page.get_by_role("button", name="Submit").click()
    expect_text(page, "Age must be positive")
    page.get_by_label("Age").fill("36")
    page.get_by_role("button", name="Submit").click()
    expect_text(page, "status: hello Ada, 36")
    expect_text(page, "Saved")
    page.locator("form").wait_for(state="detached")
    assert page.locator("#pywebio-scope-status").inner_text() == "status: hello Ada, 36"
    for n in (1, 2):  # callbacks after main returned
        page.get_by_role("button", name="Add").click()
        expect_text(page, f"count {n}")
    assert page.locator("#pywebio-scope-counter").inner_text() == "count 2"
    page.get_by_role("button", name="Popup").click()
    dialog = page.get_by_role("dialog", name="Dialog")
    dialog.get_by_text("popup body").wait_for()
    dialog.get_by_role("button", name="Close it").click()
    dialog.wait_for(state="detached")


def record(browser: Any, server: Server, app: str) -> list[dict[str, Any]]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT)
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    recorder = Recorder(page)
    try:
        drive(page, server.url, app)
        deadline = time.monotonic() + WAIT / 1000  # the last command may reach us after the DOM change
        while not any(c.get("command") == "close_popup" for c in recorder.commands()):
            assert time.monotonic() < deadline, "close_popup never recorded"
            page.wait_for_timeout(20)
        commands = recorder.commands()
    except Exception as exc:
        exc.add_note(f"serve.py {BACKEND} printed:\n{server.output()}")
        raise
    finally:
        context.close()
    assert not problems, problems
    return normalise(commands, {})


def dump(golden: dict[str, list[dict[str, Any]]]) -> str:
    """One command per line, so a diff of the golden file reads like a diff of the transcript."""
    apps = [
        f"{json.dumps(app)}: [\n"
        + ",\n".join(f"  {json.dumps(c, ensure_ascii=False)}" for c in cmds)
        + "\n ]"
        for app, cmds in golden.items()
    ]
    return "{\n " + ",\n ".join(apps) + "\n}\n"


@pytest.mark.parametrize("app", ["thread", "coro"])
def test_same_transcript_on_every_backend(browser: Any, server: Server, app: str) -> None:
    transcript = record(browser, server, app)
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if os.environ.get("PYWEBIO_MATRIX_UPDATE") == "1" and BACKEND == "tornado":
        golden[app] = transcript
        GOLDEN.write_text(dump(golden))
    assert app in golden, f"no golden transcript for {app}: run on tornado with PYWEBIO_MATRIX_UPDATE=1"
    assert transcript == golden[app], f"{BACKEND} sent other commands than tornado"


def test_thread_and_coroutine_apps_send_the_same() -> None:
    """The two golden transcripts differ only in the app's name."""
    golden = json.loads(GOLDEN.read_text())
    assert json.loads(json.dumps(golden["thread"]).replace("thread", "coro")) == golden["coro"]
