"""Script mode: a program that never starts a server, run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from browserclient import BrowserClient

from pywebio.utils import get_free_port, wait_host_port

SCRIPT = """
from pywebio.session import get_current_session

def put_text(text):
    get_current_session().send_task_command({"command": "output", "spec": {"type": "text", "content": text}})

def ask():
    s = get_current_session()
    spec = {"label": "", "inputs": [{"type": "text", "name": "x"}]}
    s.send_task_command({"command": "input_group", "spec": spec})
    while True:
        event = s.next_client_event()
        if event["event"] == "from_submit":
            s.send_task_command({"command": "destroy_form", "spec": None})
            return event["data"]["x"]

from pywebio.session import info
put_text("script start")
put_text(f"mobile {info.user_agent.is_mobile}")
answer = ask()
cid = get_current_session().register_callback(lambda data: put_text(f"clicked {data} after {answer}"))
put_text(cid)
"""


def test_script_mode_serves_one_session_and_holds_for_callbacks(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    port = get_free_port("127.0.0.1")
    env = {**os.environ, "PYWEBIO_SCRIPT_MODE_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert wait_host_port("127.0.0.1", port, duration=15)
        b = BrowserClient(f"http://127.0.0.1:{port}/", headers={"User-Agent": "Mozilla/5.0 (iPhone)"})
        b.expect_text("script start")
        b.expect_text("mobile True")  # session info comes from the browser that joined
        form = b.expect("input_group")
        b.submit(form["task_id"], {"x": "yes"})
        cid = b.expect_output(lambda s: str(s.get("content", "")).startswith("CB-"))["spec"]["content"]
        # the script has ended; its callback still works (auto hold) until the page closes
        b.click(cid, 1)
        b.expect_text("clicked 1 after yes")
        with BrowserClient(f"http://127.0.0.1:{port}/") as second:  # one session only
            assert second.expect("close_session")
        b.close()
        assert proc.wait(timeout=10) == 0
        assert f"http://127.0.0.1:{port}/" in (proc.stdout.read() if proc.stdout else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
