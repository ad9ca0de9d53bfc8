"""The blocking ``start_server`` functions, run as real programs: port 0, the startup line,
static_dir, remote_access failing harmlessly, and ``from pywebio import start_server``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browserclient import BrowserClient, fetch_page

PROGRAM = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from pywebio.session import get_current_session
{import_line}

def main():
    spec = {{"type": "text", "content": "served"}}
    get_current_session().send_task_command({{"command": "output", "spec": spec}})

start_server(main, port=0, host="127.0.0.1", static_dir={static!r}, remote_access=True,
             reconnect_timeout=5, max_payload_size="2M", cdn=True)
"""


def run(tmp_path: Path, import_line: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    static = tmp_path / "static"
    static.mkdir()
    (static / "hello.txt").write_text("static ok")
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(PROGRAM.format(import_line=import_line, static=str(static))))
    env = {**os.environ, "PYWEBIO_REMOTE_ACCESS": "127.0.0.1:9", "PATH": os.environ.get("PATH", "")}
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True).start()
    proc.stderr_lines = lines  # type: ignore[attr-defined]
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, f"no startup line: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        yield f"http://127.0.0.1:{match.group(1)}/", proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "import_line",
    ["from pywebio import start_server", "from pywebio.platform.wirecore import start_server"],
    ids=["tornado", "wirecore"],
)
def test_start_server_program(tmp_path: Path, import_line: str) -> None:
    for url, proc in run(tmp_path, import_line):
        from pywebio.utils import wait_host_port

        assert wait_host_port("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/")), duration=15)
        with BrowserClient(url) as b:
            assert len(b.expect("set_session_id")["spec"]) == 24  # reconnect_timeout is on
            b.expect_text("served")
        assert fetch_page(url + "static/hello.txt") == (200, "static ok")
        status, page = fetch_page(url)
        assert status == 200 and "js/pywebio.js" in page
        # remote_access cannot reach a relay here: the log says why, and the server runs on
        deadline = time.monotonic() + 15
        while not any("remote_access" in line for line in proc.stderr_lines):  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "remote_access failure not logged"
            time.sleep(0.05)
        with BrowserClient(url) as b:
            b.expect_text("served")
