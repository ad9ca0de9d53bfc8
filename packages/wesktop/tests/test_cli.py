"""The wesktop command line: --version, serve, run, diagnose; also as ``python -m wesktop``."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import wesktop
from wesktop import cli

APP = """
import wesktop

router = wesktop.Router()


@router.get("/hello")
async def hello(req):
    return {"hello": "cli"}


app = wesktop.create_app(router)
"""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"wesktop {wesktop.__version__}"


def test_python_dash_m_and_the_console_script() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "wesktop", "--version"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0 and out.stdout.strip() == f"wesktop {wesktop.__version__}"
    script = shutil.which("wesktop", path=str(Path(sys.executable).parent))
    if script is not None:
        out = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == f"wesktop {wesktop.__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    text = capsys.readouterr().out
    for command in ("serve", "run", "diagnose"):
        assert command in text
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--pid-path", "--name"):
        assert option in text


def test_diagnose(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose"]) == 0
    out = capsys.readouterr().out
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert rows["wesktop"] == wesktop.__version__
    for key in ("python", "wirecore", "granian", "msgspec", "pywebview", "platform"):
        assert key in out


def test_serve_command(tmp_path: Path, helpers: Any) -> None:
    (tmp_path / "cliapp.py").write_text(APP)
    port = helpers.free_port()
    pid_path = tmp_path / "cli.pid"
    cmd = [sys.executable, "-m", "wesktop", "serve", "cliapp:app", "--port", str(port)]
    cmd += ["--pid-path", str(pid_path), "--name", "clitest"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        assert helpers.wait_http(f"http://127.0.0.1:{port}/hello", proc).json() == {"hello": "cli"}
        assert pid_path.exists()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "clitest serving on" in err
        assert not pid_path.exists()
    finally:
        helpers.stop_process(proc)


def test_serve_command_errors(tmp_path: Path) -> None:
    (tmp_path / "cliapp.py").write_text(APP)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wesktop", *args], cwd=tmp_path, capture_output=True, text=True, timeout=30
        )

    out = run("serve", "missing_module:app")
    assert out.returncode == 1 and "cannot load 'missing_module:app'" in out.stderr
    assert "Traceback" not in out.stderr
    out = run("serve", "cliapp:nothing")
    assert out.returncode == 1 and "has no attribute" in out.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        out = run("serve", "cliapp:app", "--port", str(busy.getsockname()[1]))
    assert out.returncode == 1 and "already in use" in out.stderr
    out = run("serve")
    assert out.returncode == 2 and "target" in out.stderr  # argparse usage error


def test_run_command_calls_desktop_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cliapp.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    calls: list[tuple[Any, ...]] = []
    fake = types.ModuleType("wesktop.desktop")
    fake.run = lambda target, **kw: calls.append((target, kw))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wesktop.desktop", fake)
    argv = ["run", "cliapp:app", "--title", "My App", "--width", "1024", "--height", "768"]
    argv += ["--icon", "icon.png", "--port", "0", "--pid-path", "x.pid"]
    assert cli.main(argv) == 0
    assert calls == [
        (
            "cliapp:app",
            {
                "title": "My App",
                "width": 1024,
                "height": 768,
                "icon": "icon.png",
                "host": "127.0.0.1",
                "port": 0,
                "pid_path": Path("x.pid"),
            },
        )
    ]
    calls.clear()
    assert cli.main(["run", "cliapp:app"]) == 0
    assert calls[0][1] == {
        "title": "wesktop",
        "width": 1280,
        "height": 800,
        "icon": None,
        "host": "127.0.0.1",
        "port": 8000,
        "pid_path": None,
    }


SELF_SERVING = """
import wesktop

print("module body ran", flush=True)
router = wesktop.Router()


@router.get("/api/ping")
async def ping(req):
    return wesktop.TextResponse("pong")


app = wesktop.create_app(router)
# the documentation's headless example ends like this
wesktop.serve("myapp:app", host="127.0.0.1", port=8000)
"""


def test_serve_command_on_a_script_that_serves_itself(tmp_path: Path, helpers: Any) -> None:
    (tmp_path / "myapp.py").write_text(SELF_SERVING)
    port = helpers.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wesktop", "serve", "myapp:app", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert helpers.wait_http(f"http://127.0.0.1:{port}/api/ping", proc).text == "pong"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert out.count("module body ran") == 1
        assert "skipped" in err and f"serving on http://127.0.0.1:{port} " in err
    finally:
        helpers.stop_process(proc)
