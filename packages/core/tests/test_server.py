"""Server lifecycle: embedded and blocking granian, ports, PID files, shutdown."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from wirecore import (
    AlreadyRunningError,
    App,
    PidFile,
    PortInUseError,
    Request,
    Server,
    StreamResponse,
    WebSocket,
)


def small_app() -> App:
    app = App()

    @app.get("/ping")
    async def ping(request: Request) -> object:
        return {"pong": True}

    @app.get("/forever")
    async def forever(request: Request) -> StreamResponse:
        async def gen():  # type: ignore[no-untyped-def]
            import asyncio

            while True:
                yield b"tick\n"
                await asyncio.sleep(0.05)

        return StreamResponse(gen(), "text/plain")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        async for message in websocket:
            await websocket.send(message)

    return app


def test_port_zero_reports_the_real_port(interface: str) -> None:
    with Server(small_app(), port=0, interface=interface) as srv:  # type: ignore[arg-type]
        assert srv.port > 0
        assert httpx.get(f"http://127.0.0.1:{srv.port}/ping").json() == {"pong": True}


def test_start_returns_only_once_the_port_accepts() -> None:
    srv = Server(small_app(), port=0).start()
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=0.2):
            pass  # no retry needed: connectable the moment start() returned
    finally:
        srv.stop()


def test_port_in_use_by_a_plain_listener_raises() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PortInUseError) as info:
            Server(small_app(), port=port).start()
        assert info.value.port == port
        assert isinstance(info.value, OSError) and info.value.errno == errno.EADDRINUSE
        assert str(info.value) == f"127.0.0.1:{port} is already in use"


def test_port_in_use_by_another_wirecore_server_raises() -> None:
    # granian binds with SO_REUSEPORT; without wirecore's probe a second server would share it
    with Server(small_app(), port=0) as first:
        with pytest.raises(PortInUseError):
            Server(small_app(), port=first.port).start()
        assert httpx.get(first.url + "/ping").status_code == 200


def test_stop_closes_streams_and_websockets_within_two_seconds(interface: str) -> None:
    srv = Server(small_app(), port=0, interface=interface).start()  # type: ignore[arg-type]
    ws = connect(srv.url.replace("http", "ws") + "/ws").__enter__()
    ws.send("hi")
    assert ws.recv() == "hi"
    got_tick = threading.Event()
    stream_ended = threading.Event()

    def read_stream() -> None:
        try:
            with httpx.stream("GET", srv.url + "/forever", timeout=10) as r:
                for _ in r.iter_lines():
                    got_tick.set()
        except httpx.HTTPError:
            pass
        stream_ended.set()

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    assert got_tick.wait(5)
    t0 = time.monotonic()
    srv.stop()
    elapsed = time.monotonic() - t0
    assert elapsed < 2.5
    assert stream_ended.wait(2)
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=2)
    ws.close()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", srv.port)) != 0


def test_start_stop_start() -> None:
    srv = Server(small_app(), port=0)
    for _ in range(3):
        srv.start()
        assert httpx.get(srv.url + "/ping").status_code == 200
        srv.stop()
        assert not srv.running


def test_several_servers_in_one_process() -> None:
    with Server(small_app(), port=0) as a, Server(small_app(), port=0, interface="asgi") as b:
        assert a.port != b.port
        assert httpx.get(a.url + "/ping").json() == httpx.get(b.url + "/ping").json()


def test_pid_file_written_and_removed(tmp_path: Path) -> None:
    pid_path = tmp_path / "run" / "app.pid"
    with Server(small_app(), port=0, pid_file=pid_path):
        assert pid_path.read_text().strip() == str(os.getpid())
    assert not pid_path.exists()


def test_stale_pid_file_does_not_block(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_path = tmp_path / "app.pid"
    pid_path.write_text(str(dead.pid))
    with Server(small_app(), port=0, pid_file=pid_path):
        assert pid_path.read_text().strip() == str(os.getpid())
    pid_path.write_text("garbage")
    with Server(small_app(), port=0, pid_file=pid_path):
        pass
    assert not pid_path.exists()


def test_live_pid_file_raises_already_running(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pid_path = tmp_path / "app.pid"
        pid_path.write_text(str(sleeper.pid))
        with pytest.raises(AlreadyRunningError) as info:
            Server(small_app(), port=0, pid_file=pid_path).start()
        assert info.value.pid == sleeper.pid
        assert pid_path.read_text() == str(sleeper.pid)  # not ours: left alone
    finally:
        sleeper.kill()
        sleeper.wait()


def test_pid_file_release_leaves_other_processes_files(tmp_path: Path) -> None:
    pid_path = tmp_path / "x.pid"
    pid_path.write_text("1")
    PidFile(pid_path).release()
    assert pid_path.exists()


APP_MODULE = """
from wirecore import App

app = App()


@app.get("/ping")
async def ping(request):
    return {"pong": True}
"""

RUNNER = """
import sys
from wirecore import serve

port, pid_file, interface, form = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if form == "object":
    from servemod import app as target
else:
    target = "servemod:app"
serve(target, host="127.0.0.1", port=port, pid_file=pid_file, interface=interface)
"""


@pytest.mark.parametrize("form", ["object", "import-string"])
def test_blocking_serve_stops_on_sigterm_and_removes_pid(tmp_path: Path, interface: str, form: str) -> None:
    (tmp_path / "servemod.py").write_text(APP_MODULE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pid_path = tmp_path / "serve.pid"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    cmd = [sys.executable, "-c", RUNNER, str(port), str(pid_path), interface, form]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            proc.kill()
            pytest.fail("server did not come up: " + proc.communicate()[1])
        assert pid_path.read_text().strip() == str(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert not pid_path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_blocking_serve_reports_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code = (
            "from wirecore import App, serve, PortInUseError\n"
            "try:\n"
            f"    serve(App(), port={port})\n"
            "except PortInUseError as e:\n"
            "    print('in use:', e)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert f"in use: 127.0.0.1:{port} is already in use" in out.stdout


SELF_SERVING_SCRIPT = """
import sys
from wirecore import App, serve

print("module body ran", flush=True)
app = App()


@app.get("/ping")
async def ping(request):
    return {"pong": True}


serve("selfserve:app", host="127.0.0.1", port=int(sys.argv[1]))
"""


def test_serving_an_import_string_that_names_the_running_script(tmp_path: Path) -> None:
    # `python selfserve.py` whose last line is serve("selfserve:app"): the module must not run twice
    script = tmp_path / "selfserve.py"
    script.write_text(SELF_SERVING_SCRIPT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port)], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/ping", timeout=0.5).json() == {"pong": True}
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        assert proc.poll() is None, "the server exited"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert out.count("module body ran") == 1
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_hundreds_of_concurrent_streams_are_all_served(interface: str) -> None:
    # granian's default would admit only 128 concurrent connections; wirecore raises the cap
    import asyncio

    from wirecore import Hub, sse_response

    hub = Hub()
    app = App()

    @app.get("/events")
    async def events(request: Request) -> object:
        return sse_response(hub, "t", heartbeat=None)

    clients = 300

    async def run(port: int) -> int:
        async def one() -> bool:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            data = b""
            try:
                while b"hello" not in data:
                    chunk = await reader.read(4096)
                    if not chunk:
                        return False
                    data += chunk
                return True
            finally:
                writer.close()

        tasks = [asyncio.ensure_future(one()) for _ in range(clients)]
        deadline = time.monotonic() + 15
        while hub.subscriber_count("t") < clients and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        hub.publish("t", "hello")
        results = await asyncio.wait_for(asyncio.gather(*tasks), 15)
        return sum(results)

    with Server(app, port=0, interface=interface) as srv:  # type: ignore[arg-type]
        assert asyncio.run(run(srv.port)) == clients


async def test_loop_server_runs_handlers_on_the_callers_loop(interface: str) -> None:
    """LoopServer: handlers share the caller's loop (an object created here can be awaited there),
    the port is real once start() returns, a second bind on it is refused, and stop() runs the
    app's shutdown and frees the port."""
    import asyncio

    import httpx

    from wirecore import App, JSONResponse, LoopServer, PortInUseError

    here = asyncio.get_running_loop()
    answer: asyncio.Future[str] = here.create_future()
    events: list[str] = []
    app = App()
    app.on_shutdown.append(lambda: events.append("shutdown"))

    @app.get("/wait")
    async def wait(_request: object) -> JSONResponse:
        return JSONResponse({"same_loop": asyncio.get_running_loop() is here, "answer": await answer})

    server = await LoopServer(app, interface=interface).start()
    assert server.port != 0
    with pytest.raises(PortInUseError):
        await LoopServer(App(), port=server.port, interface=interface).start()
    async with httpx.AsyncClient() as client:
        pending = asyncio.ensure_future(client.get(server.url + "/wait"))
        await asyncio.sleep(0.05)
        answer.set_result("42")  # resolved by the caller's code, awaited by the handler
        reply = await pending
    assert reply.json() == {"same_loop": True, "answer": "42"}
    await server.stop()
    assert events == ["shutdown"]
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(server.url + "/wait")
