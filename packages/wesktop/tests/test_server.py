"""wesktop.serve: blocking granian through wirecore, the interface choice, PID files, typed errors."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import wesktop
from wesktop import Router, create_app
from wesktop.server import AlreadyRunningError, LifespanError, PortInUseError, interface_for
from wirecore import App

SCRIPT = """
import sys
import wesktop


class Stamp:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def stamped(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-stamp", b"1")]
            await send(message)

        await self.app(scope, receive, stamped)


router = wesktop.Router()


@router.get("/ping")
async def ping(req):
    # under RSGI, req.scope is an ASGI-shaped dict built from granian's scope object
    return {"pong": True, "interface": "asgi" if req.wire.scope is req.scope else "rsgi"}


plain = wesktop.create_app(router)
stamped = wesktop.create_app(router, middleware=[Stamp])
which, port, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
target = {"plain": plain, "stamped": stamped, "string": "appmod:plain"}[which]
wesktop.serve(target, port=port, pid_path=pid if pid != "-" else None, name="svc-" + which)
"""


@pytest.mark.parametrize("which", ["plain", "stamped", "string"])
def test_serve_blocks_until_sigterm(tmp_path: Path, helpers: Any, which: str) -> None:
    (tmp_path / "appmod.py").write_text(SCRIPT)
    port = helpers.free_port()
    pid_path = tmp_path / "app.pid"
    proc = subprocess.Popen(
        [sys.executable, "appmod.py", which, str(port), str(pid_path)],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        r = helpers.wait_http(f"http://127.0.0.1:{port}/ping", proc)
        expected_interface = "asgi" if which == "stamped" else "rsgi"
        assert r.json() == {"pong": True, "interface": expected_interface}
        assert ("x-stamp" in r.headers) == (which == "stamped")  # middleware ran: served over ASGI
        assert pid_path.read_text().strip() == str(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert not pid_path.exists()
        assert f"svc-{which} serving on http://127.0.0.1:{port} ({expected_interface})" in err
    finally:
        helpers.stop_process(proc)


def test_typed_errors_are_reexported() -> None:
    import wirecore

    assert PortInUseError is wirecore.PortInUseError
    assert AlreadyRunningError is wirecore.AlreadyRunningError
    assert LifespanError is wirecore.LifespanError


def test_interface_for() -> None:
    class Passthrough:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    async def bare_asgi(scope: Any, receive: Any, send: Any) -> None:
        pass

    assert interface_for(create_app(Router())) == "rsgi"
    assert interface_for(create_app(Router(), middleware=[Passthrough])) == "asgi"
    assert interface_for(App()) == "rsgi"
    assert interface_for(bare_asgi) == "asgi"


def test_port_in_use_raises_before_anything_runs(helpers: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(PortInUseError):
            wesktop.serve(create_app(Router()), port=s.getsockname()[1])


def test_a_bad_target_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="module:attribute"):
        wesktop.serve("no-colon")
    with pytest.raises(ModuleNotFoundError):
        wesktop.serve("surely_not_a_module_here:app")


def test_warns_when_listening_beyond_loopback_with_the_default_allowlist(
    caplog: pytest.LogCaptureFixture, helpers: Any
) -> None:
    import socket

    with socket.socket() as s:  # make serve stop early, after the check
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        with caplog.at_level(logging.WARNING, logger="wesktop"), pytest.raises(PortInUseError):
            wesktop.serve(create_app(Router()), host="0.0.0.0", port=port)
    assert "allowed_hosts" in caplog.text
    caplog.clear()
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        with caplog.at_level(logging.WARNING, logger="wesktop"), pytest.raises(PortInUseError):
            wesktop.serve(create_app(Router(), allowed_hosts=["pc.lan"]), host="0.0.0.0", port=port)
    assert "allowed_hosts" not in caplog.text
