"""Installed alone from its wheel (with wirecore and tornado), pywebio serves an app.

Starts a small PyWebIO program with `start_server` (tornado, default arguments, so `cdn=True`)
in a subprocess on a free port, then checks what a browser would get: the page, the bundled
front end (no CDN), and over the WebSocket the app's output followed by `close_session`.
"""

import json
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

from tornado.httpclient import HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

import pywebio

assert "site-packages" in pywebio.__file__, pywebio.__file__  # the wheel, not the source tree

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
app = textwrap.dedent(
    f"""
    from pywebio import start_server
    from pywebio.output import put_text

    def main():
        put_text("hello from the wheel")

    start_server(main, port={port}, host="127.0.0.1")
    """
)
server = subprocess.Popen([sys.executable, "-c", app], cwd="/")
try:
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            page = urllib.request.urlopen(base + "/", timeout=2).read().decode()
            break
        except OSError:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.1)
    assert "pywebio.js" in page and "cdn.jsdelivr" not in page, page[:500]
    js = urllib.request.urlopen(base + "/js/pywebio.js", timeout=5).read()
    assert b"startWebIOClient" in js

    async def session() -> list[dict]:
        request = HTTPRequest(f"ws://127.0.0.1:{port}/?app=index&session=NEW", headers={"Origin": base})
        conn = await websocket_connect(request)
        commands = []
        while not commands or commands[-1]["command"] != "close_session":
            message = await conn.read_message()
            assert message is not None, f"closed before close_session: {commands}"
            commands.append(json.loads(message))
        conn.close()
        return commands

    commands = IOLoop.current().run_sync(session, timeout=15)
    texts = [c["spec"].get("content") for c in commands if c["command"] == "output"]
    assert "hello from the wheel" in texts, commands
finally:
    server.terminate()
    server.wait(10)
print(f"pywebio {pywebio.__version__} installed alone: tornado serves the page, the front end and a session")
