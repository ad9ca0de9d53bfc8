"""pgwidgets against the original pgwidgets-python 0.4.2: build, rebuild, callback round trips.

Each contender runs the same server script (both expose ``pgwidgets.async_.Application``) in
its own process: ours with this interpreter, the original with ``bench/.venvs/pgwidgets-python-0.4.2``
(made on first use: pgwidgets-js and pgwidgets-python installed with ``--ignore-requires-python``,
since both declare Python >= 3.12). A Python client plays the browser (it answers every request
at once, like the real page, with the verified message shapes) and measures:

- ``create``: seconds for ``on_connect`` to create N Labels and add them to a VBox in a TopLevel
  (timed inside the server, reported by the server);
- ``reconstruct``: seconds from a reconnecting browser's handshake to the end of the rebuild of
  that tree (timed by the client);
- ``roundtrips``: callbacks per second, each one answered by the handler's ``set_text`` call
  (client sends ``activated``, waits for the ``call``, replies, sends the next one).

    python bench/pgwidgets_bench.py                 # both contenders, N=1000, 5 s of round trips
    python bench/pgwidgets_bench.py --smoke         # N=50, 0.5 s, a quick check that it runs
    python bench/pgwidgets_bench.py --only ours     # skip the original (no venv needed)

Results go to bench/results/pgwidgets.json (and stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import psutil
import websockets

BENCH_DIR = Path(__file__).resolve().parent
VENV = BENCH_DIR / ".venvs" / "pgwidgets-python-0.4.2"
RESULTS = BENCH_DIR / "results" / "pgwidgets.json"
ORIGINAL = ["pgwidgets-js==0.4.2", "pgwidgets-python==0.4.2", "websockets>=12"]

SERVER = r"""
import asyncio, json, sys, time
from pgwidgets.async_ import Application

N = int(sys.argv[2])

async def main():
    app = Application(ws_port=int(sys.argv[1]), http_port=0, http_server=False,
                      concurrency_handling="per_session", max_sessions=None)

    @app.on_connect
    async def setup(session):
        W = session.get_widgets()
        t0 = time.perf_counter()
        top = await W.TopLevel(title="bench")
        box = await W.VBox()
        for i in range(N):
            await box.add_widget(await W.Label(f"label {i}"), 0)
        await top.set_widget(box)
        await top.show()
        created = time.perf_counter() - t0
        label = await W.Label("0")
        button = await W.Button("go")
        count = [0]

        async def clicked(*args):
            count[0] += 1
            await label.set_text(str(count[0]))

        await button.on("activated", clicked)
        await box.add_widget(button, 0)
        await box.add_widget(label, 0)
        print(json.dumps({"create": created, "button": button.wid, "label": label.wid}), flush=True)

    await app.start()
    print("READY", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class Browser:
    """Answers like pgwidgets-js's RemoteInterface; records what it needs for the timings."""

    def __init__(self, url: str, session_id: Any = None, token: str | None = None) -> None:
        self.url, self.session_id, self.token = url, session_id, token
        self.ws: Any = None
        self.next_wid = 1
        self.reconstructed = asyncio.Event()
        self.label_calls: asyncio.Queue[None] = asyncio.Queue()
        self.label_wid: int | None = None

    async def run(self) -> None:
        try:
            async for frame in self.ws:
                msg = json.loads(frame)
                if isinstance(msg, list):
                    await self.ws.send(json.dumps([self.reply(m) for m in msg]))
                else:
                    r = self.reply(msg)
                    if r is not None:
                        await self.ws.send(json.dumps(r))
        except websockets.ConnectionClosed:
            pass  # the server dropped us (the original closes without a close frame)

    def reply(self, m: dict[str, Any]) -> Any:
        kind, mid = m.get("type"), m.get("id")
        if kind == "init":
            r: dict[str, Any] = {"type": "result", "id": mid}
            if self.session_id is not None:
                r.update(session_id=self.session_id, token=self.token)
            return r
        if kind == "session-info":
            self.session_id, self.token = m["session_id"], m["token"]
            return None
        if kind == "create":
            self.next_wid = max(self.next_wid, m["wid"] + 1) + 1
            return {"type": "result", "id": mid, "wid": m["wid"], "next_wid": self.next_wid}
        if kind == "reconstruct-start":
            self.next_wid = m["next_wid"]
        if kind == "reconstruct-end":
            self.reconstructed.set()
        if kind == "call" and m.get("wid") == self.label_wid and m.get("method") == "set_text":
            self.label_calls.put_nowait(None)
        return {"type": "result", "id": mid}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def original_python() -> Path:
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if python.exists() and marker.exists() and marker.read_text() == "\n".join(ORIGINAL):
        return python
    print(f"installing {' '.join(ORIGINAL)} into {VENV} (once)", flush=True)
    venv.create(VENV, with_pip=True, clear=True)
    pip = [
        str(python),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--ignore-requires-python",
    ]
    subprocess.run([*pip, *ORIGINAL], check=True)
    marker.write_text("\n".join(ORIGINAL))
    return python


async def bench(python: str, n: int, seconds: float, env: dict[str, str]) -> dict[str, float]:
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(SERVER)
    proc = await asyncio.create_subprocess_exec(
        python, f.name, str(port), str(n), stdout=asyncio.subprocess.PIPE, cwd=tempfile.gettempdir(), env=env
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.strip() == b"READY", line
        url = f"ws://127.0.0.1:{port}/"
        b = Browser(url)
        b.ws = await websockets.connect(url, max_size=None)
        reader = asyncio.ensure_future(b.run())
        while True:  # the server may print other lines before its result
            line = await asyncio.wait_for(proc.stdout.readline(), 600)
            assert line, "the server exited"
            if line.startswith(b"{"):
                break
        info = json.loads(line)
        stdout = proc.stdout

        async def drain() -> None:  # keep the pipe from filling up and blocking the server
            while await stdout.readline():
                pass

        drainer = asyncio.ensure_future(drain())
        await b.ws.close()
        await reader

        again = Browser(url, b.session_id, b.token)
        again.label_wid = info["label"]
        t0 = time.perf_counter()
        again.ws = await websockets.connect(url, max_size=None)
        reader = asyncio.ensure_future(again.run())
        await asyncio.wait_for(again.reconstructed.wait(), 600)
        rebuilt = time.perf_counter() - t0
        # let the server leave its rebuild state: the original drops callbacks that arrive while
        # its reconstruct task is still finishing, even after the browser acknowledged the end
        await asyncio.sleep(0.3)

        server = psutil.Process(proc.pid)
        cpu0 = sum(server.cpu_times()[:2])
        count, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            await again.ws.send(
                json.dumps({"type": "callback", "wid": info["button"], "action": "activated", "args": []})
            )
            await asyncio.wait_for(again.label_calls.get(), 10)
            count += 1
        rate = count / (time.perf_counter() - t0)
        server_us = (sum(server.cpu_times()[:2]) - cpu0) / count * 1e6
        await again.ws.close()
        await reader
        return {
            "create": info["create"],
            "reconstruct": rebuilt,
            "roundtrips_per_s": rate,
            "server_us_per_roundtrip": server_us,
        }
    finally:
        proc.terminate()
        await proc.wait()
        if "drainer" in locals():
            drainer.cancel()
        os.unlink(f.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widgets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--smoke", action="store_true", help="50 widgets, 0.5 s of round trips, no results file"
    )
    parser.add_argument("--only", choices=["ours", "original"])
    args = parser.parse_args()
    n, seconds = (50, 0.5) if args.smoke else (args.widgets, args.seconds)
    contenders: dict[str, str] = {}
    if args.only != "original":
        contenders["pgwidgets (wirecore)"] = sys.executable
    if args.only != "ours":
        contenders["pgwidgets-python 0.4.2"] = str(original_python())
    results: dict[str, Any] = {"widgets": n, "seconds": seconds, "contenders": {}}
    for name, python in contenders.items():
        env = dict(os.environ)
        if python != sys.executable:
            env.pop("PYTHONPATH", None)
        r = asyncio.run(bench(python, n, seconds, env))
        results["contenders"][name] = r
        print(
            f"{name:26s} create {n}: {r['create'] * 1000:8.1f} ms   reconstruct: {r['reconstruct'] * 1000:8.1f} ms"
            f"   callbacks: {r['roundtrips_per_s']:8.0f}/s   server cpu {r['server_us_per_roundtrip']:6.1f} us/callback",
            flush=True,
        )
    if not args.smoke:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
