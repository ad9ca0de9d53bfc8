"""The documentation's examples, run as a new user runs them: saved as ``myapp.py``, ``python myapp.py``.

Each example ends in ``wesktop.serve("myapp:app", ...)`` (the desktop example's ``run`` swapped
for ``serve``; the SSE example, which only builds the app, gets the headless example's last
line). They listen on port 8000 as written; only when something else holds 8000 on this machine
is the port changed. A meta-path hook (from a ``sitecustomize`` on ``PYTHONPATH``) records every
execution of a module named ``myapp`` by the import system: resolving ``"myapp:app"`` must use
the running script, not import (and so run) ``myapp.py`` a second time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

MINIMAL_DESKTOP_APP = """\
import wesktop
router = wesktop.Router()
@router.get("/api/health")
async def health(req: wesktop.Request):
    return {"status": "ok"}
app = wesktop.create_app(router)
# Opens a native desktop window pointing at the server
wesktop.run("myapp:app", title="My App", width=1024, height=768)
"""

HEADLESS_SERVER = """\
import wesktop
router = wesktop.Router()
@router.get("/api/ping")
async def ping(req: wesktop.Request):
    return wesktop.TextResponse("pong")
app = wesktop.create_app(router)
# Blocks the process, serving on 127.0.0.1:8000
wesktop.serve("myapp:app", host="127.0.0.1", port=8000)
"""

SSE_EXAMPLE = """\
import wesktop
router = wesktop.Router()
sse = wesktop.Broadcaster()
# Register allowed event types
sse.register_event("status")
sse.register_event("progress")
# Wire the SSE stream to a route
router.add_route("GET", "/events", wesktop.sse_route(sse))
@router.get("/api/notify")
async def notify(req: wesktop.Request):
    sse.broadcast("status", {"message": "build complete"})
    return {"sent": True}
app = wesktop.create_app(router)
"""

SERVE_LINE = 'wesktop.serve("myapp:app", host="127.0.0.1", port=8000)\n'

WATCH = """\
import importlib.machinery
import os
import sys

_log = os.environ.get("MYAPP_IMPORT_LOG")


class _WatchMyapp:
    \"\"\"Logs every execution of a module named myapp through the import system.\"\"\"

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "myapp" or _log is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            with open(_log, "a") as f:
                f.write("myapp.py executed by an import\\n")
            run(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _WatchMyapp)
"""


def _port_8000_or_free() -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8000))
            return 8000
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


def _run_example(tmp_path: Path, source: str, helpers: Any) -> tuple[subprocess.Popen[str], int, Path]:
    port = _port_8000_or_free()
    if port != 8000:
        source = source.replace("port=8000", f"port={port}")
    (tmp_path / "myapp.py").write_text(source)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(WATCH)
    log = tmp_path / "imports.log"
    env = {**os.environ, "PYTHONPATH": str(site), "MYAPP_IMPORT_LOG": str(log)}
    proc = subprocess.Popen(
        [sys.executable, "myapp.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, port, log


def _stop(proc: subprocess.Popen[str], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert not log.exists(), "myapp.py was imported again: " + log.read_text()


def test_minimal_desktop_app_served_headless(tmp_path: Path, helpers: Any) -> None:
    source = MINIMAL_DESKTOP_APP.replace(
        'wesktop.run("myapp:app", title="My App", width=1024, height=768)\n', SERVE_LINE
    )
    assert "wesktop.serve" in source
    proc, port, log = _run_example(tmp_path, source, helpers)
    try:
        r = helpers.wait_http(f"http://127.0.0.1:{port}/api/health", proc)
        assert (r.status_code, r.json()) == (200, {"status": "ok"})
        _stop(proc, log)
    finally:
        helpers.stop_process(proc)


def test_headless_server_as_written(tmp_path: Path, helpers: Any) -> None:
    proc, port, log = _run_example(tmp_path, HEADLESS_SERVER, helpers)
    try:
        r = helpers.wait_http(f"http://127.0.0.1:{port}/api/ping", proc)
        assert (r.status_code, r.text) == (200, "pong")
        assert r.headers["content-type"].startswith("text/plain")
        _stop(proc, log)
    finally:
        helpers.stop_process(proc)


def test_sse_example(tmp_path: Path, helpers: Any, sse_client: Any) -> None:
    proc, port, log = _run_example(tmp_path, SSE_EXAMPLE + SERVE_LINE, helpers)
    try:
        base = f"http://127.0.0.1:{port}"
        helpers.wait_http(base + "/api/nothing-here", proc)

        async def check() -> None:
            async with sse_client(base + "/events") as events:
                assert events.response.headers["content-type"].startswith("text/event-stream")
                async with httpx.AsyncClient() as api:
                    # the stream is subscribed once its headers arrived: notify now
                    assert (await api.get(base + "/api/notify")).json() == {"sent": True}
                got = await events.events(1)
                assert got[0]["event"] == "status"
                assert json.loads(got[0]["data"]) == {"message": "build complete"}

        asyncio.run(check())
        _stop(proc, log)
    finally:
        helpers.stop_process(proc)


@pytest.mark.parametrize(
    "source", [MINIMAL_DESKTOP_APP, HEADLESS_SERVER, SSE_EXAMPLE], ids=["minimal", "headless", "sse"]
)
def test_examples_import_cleanly_elsewhere(tmp_path: Path, source: str) -> None:
    # importing the app module (what `wesktop serve myapp:app` does) builds the app; only the
    # examples' own last line starts a server, so check the module up to that line
    body = "".join(
        line + "\n" for line in source.splitlines() if not line.startswith(("wesktop.run", "wesktop.serve"))
    )
    (tmp_path / "myapp.py").write_text(body)
    code = "import myapp, wesktop; assert isinstance(myapp.app, wesktop.asgi.WesktopApp); print('ok')"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert out.stdout.strip() == "ok", out.stderr


def test_the_import_watch_sees_a_naive_second_import(tmp_path: Path, helpers: Any) -> None:
    # the control for the checks above: a script that imports itself by name is caught
    proc, _, log = _run_example(tmp_path, "import importlib\nimportlib.import_module('myapp')\n", helpers)
    proc.communicate(timeout=30)
    assert log.read_text().count("executed by an import") == 1


def test_dashboard_example() -> None:
    import importlib.util

    from wesktop import TestClient

    path = Path(__file__).resolve().parents[3] / "examples" / "wesktop_dashboard" / "app.py"
    spec = importlib.util.spec_from_file_location("wesktop_dashboard_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with TestClient(module.app) as client:
        page = client.get("/")
        assert page.status_code == 200 and "wesktop dashboard" in page.text
        assert client.get("/static/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
        assert client.get("/api/state").json()["jobs"] == []
        assert client.post("/api/jobs", json={"steps": 500}).status_code == 422
        with client.stream("GET", "/events") as events:
            job = client.post("/api/jobs", json={"name": "t", "steps": 2}).json()
            seen: dict[str, list[Any]] = {"stats": [], "job": []}
            kind = ""
            for line in events.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    seen[kind].append(json.loads(line[6:]))
                if seen["job"] and seen["job"][-1]["state"] == "finished" and seen["stats"]:
                    break
        assert [j["done"] for j in seen["job"] if j["id"] == job["id"]][-1] == 2
        assert seen["stats"][0]["clients"] >= 1
        assert client.delete(f"/api/jobs/{job['id']}").json() == {"removed": True}
