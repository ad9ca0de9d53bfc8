"""Installed alone from its wheel (with wirecore), wesktop imports, serves headless and answers.

Runs ``python -m wesktop serve smokeapp:app --port 0`` in a subprocess, reads the real port from
its log line, makes one request and stops it with SIGTERM. Needs neither pywebview nor a display.
"""

import importlib.util
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import wesktop

APP = """
import wesktop

router = wesktop.Router()


@router.get("/api/health")
async def health(req: wesktop.Request):
    return {"status": "ok", "version": wesktop.__version__}


app = wesktop.create_app(router)
"""

assert "webview" not in sys.modules
with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "smokeapp.py").write_text(APP)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wesktop", "serve", "smokeapp:app", "--port", "0", "--name", "smoke"],
        cwd=tmp,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 20
        assert proc.stderr is not None
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                raise SystemExit(f"wesktop serve exited early with {proc.wait()}")
            found = re.search(r"smoke serving on http://127\.0\.0\.1:(\d+)", line)
            port = int(found.group(1)) if found else None
        assert port, "no 'serving on' line"
        body = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5).read())
        assert body == {"status": "ok", "version": wesktop.__version__}, body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
# the dashboard example serves too, headless, from the installed wheel
dashboard = Path(__file__).resolve().parents[2] / "examples" / "wesktop_dashboard" / "app.py"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    free_port = s.getsockname()[1]
proc = subprocess.Popen([sys.executable, str(dashboard), "--port", str(free_port)], stderr=subprocess.PIPE)
try:
    deadline = time.monotonic() + 20
    while True:
        try:
            state = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{free_port}/api/state", timeout=2).read())
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the dashboard example did not serve") from None
            time.sleep(0.1)
    page = urllib.request.urlopen(f"http://127.0.0.1:{free_port}/", timeout=5).read().decode()
    assert "<html" in page.lower() and isinstance(state, dict), state
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
finally:
    if proc.poll() is None:
        proc.kill()

gui = "without" if importlib.util.find_spec("webview") is None else "with"
print(f"wesktop {wesktop.__version__} installed alone ({gui} pywebview): serves headless over granian, dashboard example too")
