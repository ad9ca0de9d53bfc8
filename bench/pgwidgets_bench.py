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

Two floors run the round trips too: the same three messages per callback with no framework at
all, one on granian's RSGI interface (what ours runs on), one on the ``websockets`` library (what
the original runs on). They show what the servers underneath allow before any pgwidgets code.
Contenders alternate over ``--rounds`` rounds (3 by default); medians are kept.

    python bench/pgwidgets_bench.py                 # everything, N=1000, 5 s of round trips
    python bench/pgwidgets_bench.py --smoke         # N=50, 0.5 s, a quick check that it runs
    python bench/pgwidgets_bench.py --only ours     # skip the original (no venv needed)

Results go to bench/results/pgwidgets.json (and stdout), the chart to docs/img/bench-pgwidgets.png
(``bench/pgwidgets_chart.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
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
OURS = "pgwidgets (wirecore)"
ORIGINAL_NAME = "pgwidgets-python 0.4.2"
FLOOR_GRANIAN = "floor: no framework, granian RSGI"
FLOOR_WEBSOCKETS = "floor: no framework, websockets"

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


# The floors for the round trips: the same three messages per callback (the event, the handler's
# set_text call, the browser's result), with no framework at all, on granian (RSGI, what ours runs
# on) and on the websockets library (what the original runs on). The handler waits for the result
# as a pgwidgets handler awaits its call.
BARE_HANDLER = r"""
import asyncio, json, sys, time
BUTTON, LABEL = 1, 2
count = 0

async def on_message(text, send, pending):
    global count
    msg = json.loads(text)
    if msg.get("type") == "callback" and msg.get("wid") == BUTTON:
        count += 1
        fut = asyncio.get_running_loop().create_future()
        pending[count] = fut
        await send(json.dumps({"type": "call", "id": count, "wid": LABEL, "method": "set_text",
                               "args": [str(count)]}))
        await fut
    elif msg.get("type") == "result" and msg.get("id") in pending:
        pending.pop(msg["id"]).set_result(msg)

def hello():
    print(json.dumps({"button": BUTTON, "label": LABEL}), flush=True)
"""

BARE_RSGI = BARE_HANDLER + r"""
import os, socket, threading
from granian import Granian

async def app(scope, proto):
    if scope.proto != "ws":
        proto.response_bytes(404, [], b"")
        return
    transport = await proto.accept()
    pending = {}
    hello()
    while True:
        msg = await transport.receive()
        if msg.kind == 0:
            break
        # the reader never waits for a handler, as a server that also reads results must not
        asyncio.ensure_future(on_message(msg.data, transport.send_str, pending))
    proto.close()

if __name__ == "__main__":
    port = int(sys.argv[1])
    def ready():
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        print("READY", flush=True)
    threading.Thread(target=ready, daemon=True).start()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    module = os.path.splitext(os.path.basename(__file__))[0]
    Granian(f"{module}:app", address="127.0.0.1", port=port, interface="rsgi", workers=1,
            log_enabled=False).serve()
"""

BARE_WEBSOCKETS = BARE_HANDLER + r"""
import websockets

async def handler(ws):
    pending = {}
    hello()
    async for text in ws:
        asyncio.ensure_future(on_message(text, ws.send, pending))

async def main():
    async with websockets.serve(handler, "127.0.0.1", int(sys.argv[1]), max_size=None):
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


async def bench(
    python: str, n: int, seconds: float, env: dict[str, str], script: str = SERVER
) -> dict[str, Any]:
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
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
        rebuilt: float | None = None
        if script is SERVER:
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
        else:  # a floor: round trips only, on the first connection
            again = b
            again.label_wid = info["label"]

        server = psutil.Process(proc.pid)

        def server_cpu() -> float:  # granian's worker is a child process of the floor's script
            return sum(sum(p.cpu_times()[:2]) for p in [server, *server.children(recursive=True)])

        cpu0 = server_cpu()
        count, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            await again.ws.send(
                json.dumps({"type": "callback", "wid": info["button"], "action": "activated", "args": []})
            )
            await asyncio.wait_for(again.label_calls.get(), 10)
            count += 1
        rate = count / (time.perf_counter() - t0)
        server_us = (server_cpu() - cpu0) / count * 1e6
        await again.ws.close()
        await reader
        return {
            "create": info.get("create"),
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


def fmt_ms(seconds: float | None) -> str:
    return "       -" if seconds is None else f"{seconds * 1000:8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widgets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are kept")
    parser.add_argument(
        "--smoke", action="store_true", help="50 widgets, 0.5 s of round trips, 1 round, no results file"
    )
    parser.add_argument("--only", choices=["ours", "original"])
    parser.add_argument("--no-floors", action="store_true", help="skip the two no-framework floors")
    args = parser.parse_args()
    n, seconds, rounds = (50, 0.5, 1) if args.smoke else (args.widgets, args.seconds, args.rounds)
    # name -> (interpreter, server script)
    contenders: dict[str, tuple[str, str]] = {}
    if args.only != "original":
        contenders[OURS] = (sys.executable, SERVER)
    if args.only != "ours":
        contenders[ORIGINAL_NAME] = (str(original_python()), SERVER)
    if not args.no_floors:
        contenders[FLOOR_GRANIAN] = (sys.executable, BARE_RSGI)
        contenders[FLOOR_WEBSOCKETS] = (sys.executable, BARE_WEBSOCKETS)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, (python, script) in contenders.items():
            env = dict(os.environ)
            if python != sys.executable:
                env.pop("PYTHONPATH", None)
            r = asyncio.run(bench(python, n, seconds, env, script))
            runs[name].append(r)
            print(
                f"{name:34s} create {n}: {fmt_ms(r['create'])} ms"
                f"   reconstruct: {fmt_ms(r['reconstruct'])} ms   callbacks: {r['roundtrips_per_s']:8.0f}/s"
                f"   server cpu {r['server_us_per_roundtrip']:6.1f} us/callback",
                flush=True,
            )
    results: dict[str, Any] = {"widgets": n, "seconds": seconds, "rounds": rounds, "contenders": {}}
    for name, samples in runs.items():
        median: dict[str, Any] = {}
        for key in ("create", "reconstruct", "roundtrips_per_s", "server_us_per_roundtrip"):
            values = [r[key] for r in samples if r[key] is not None]
            median[key] = statistics.median(values) if values else None
        median["runs"] = samples
        results["contenders"][name] = median
    base = results["contenders"].get(ORIGINAL_NAME)
    if base:
        for name, r in results["contenders"].items():
            print(f"{name:34s} callbacks, median: {r['roundtrips_per_s']:8.0f}/s"
                  f" = {r['roundtrips_per_s'] / base['roundtrips_per_s']:.2f}x the original")
    if not args.smoke:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        import pgwidgets_chart

        print(f"chart: {pgwidgets_chart.chart(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
