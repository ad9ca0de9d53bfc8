"""A small wesktop desktop app that test_desktop.py runs as a script under Xvfb.

Like the documentation's example it calls ``wesktop.run("desktop_app:app", ...)`` unguarded at
module level: the target names this very script, which must not be run a second time.

On load the page fetches ``/api/ping`` and hands the answer to ``Api.report`` through pywebview's
JS bridge; the report (written to ``$DESKTOP_TEST_DIR/report.json``) proves that the page was
served, loaded in the window and ran its JavaScript. After ``run()`` returns the script writes
``returned``; ``module-runs`` gets one line each time this module is executed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import wesktop

OUT = Path(os.environ["DESKTOP_TEST_DIR"])
BACKGROUND = "#ff00aa"  # test_desktop.py looks for this colour on the screen
TITLE = os.environ.get("DESKTOP_TEST_TITLE", "wesktop window test")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>wesktop test page</title>
<style>
  html, body { margin: 0; height: 100%; background: BACKGROUND; }
  h1 { margin: 0; padding: 48px; font: bold 56px sans-serif; color: #ffffff; }
</style></head>
<body><h1>wesktop</h1>
<script>
let sent = false;
async function report() {
  const api = window.pywebview && window.pywebview.api;
  if (sent || !api || !api.report) return;
  sent = true;
  const pong = await (await fetch("/api/ping")).json();
  const answer = await api.report({
    pong: pong,
    href: location.href,
    width: window.innerWidth,
    height: window.innerHeight,
    background: getComputedStyle(document.body).backgroundColor,
  });
  document.querySelector("h1").textContent = "wesktop: " + answer;
}
window.addEventListener("pywebviewready", report);
report();
</script></body></html>
""".replace("BACKGROUND", BACKGROUND)

router = wesktop.Router()


@router.get("/")
async def index(request: wesktop.Request) -> Any:
    return wesktop.HTMLResponse(PAGE)


@router.get("/api/ping")
async def ping(request: wesktop.Request) -> Any:
    return {"pong": True, "pid": os.getpid()}


class Api:
    """Called from the page as ``window.pywebview.api.report(...)``."""

    def report(self, data: Any) -> str:
        tmp = OUT / "report.json.tmp"
        tmp.write_text(json.dumps(data))
        tmp.replace(OUT / "report.json")
        return "recorded"


app = wesktop.create_app(router)

with (OUT / "module-runs").open("a") as runs:
    runs.write("ran\n")

wesktop.run(
    "desktop_app:app",
    title=TITLE,
    width=800,
    height=600,
    port=0,
    pid_path=os.environ["DESKTOP_TEST_PID"],
    js_api=Api(),
)
(OUT / "returned").write_text("run() returned\n")
