"""wesktop.run(): a real pywebview window (Qt backend) under Xvfb, plus its error paths.

The window tests start Xvfb on a free display, run ``desktop_app.py`` as a script, wait until its
page has called back through the JS bridge, take a screenshot of the X display (python-xlib) and
look for the page's colour, then close the window the way a window manager does
(``WM_DELETE_WINDOW``) or with SIGTERM, and check that the process exits 0 with the server
stopped and the PID file gone.

They need Xvfb (Debian ``xvfb``), pywebview with QtPy and PySide6 (QtWebEngine) and python-xlib.
Where one is missing they are skipped, unless ``WESKTOP_REQUIRE_DESKTOP=1`` (set in CI), which
turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import types
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import wesktop
from wesktop import desktop
from wesktop.desktop import DesktopError
from wirecore import PortInUseError

HERE = Path(__file__).parent
APP_SCRIPT = HERE / "desktop_app.py"
PAGE_RGB = (0xFF, 0x00, 0xAA)  # desktop_app.BACKGROUND
SCREEN = (1024, 768)
WINDOW_TITLE = "wesktop window test"

linux_only = pytest.mark.skipif(platform.system() != "Linux", reason="Linux display handling")


def _missing(reason: str) -> None:
    if os.environ.get("WESKTOP_REQUIRE_DESKTOP") == "1":
        pytest.fail(f"desktop test prerequisites missing: {reason}")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# an X display ------------------------------------------------------------------------------


class XDisplay:
    """Xvfb on a display number it picks itself (``-displayfd``)."""

    def __init__(self, width: int, height: int) -> None:
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        number = b""
        with os.fdopen(read_fd, "rb") as f:
            while not number.endswith(b"\n"):
                chunk = f.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            self.proc.kill()
            raise RuntimeError("Xvfb did not report its display number")
        self.name = f":{int(number)}"
        from Xlib import display as xdisplay

        self.x = xdisplay.Display(self.name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.x.close()
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def find_window(self, title: str) -> Any:
        """The top-level window whose WM_NAME is ``title``, or None."""
        pending = [self.x.screen().root]
        while pending:
            window = pending.pop()
            with contextlib.suppress(Exception):
                if window.get_wm_name() == title:
                    return window
                pending.extend(window.query_tree().children)
        return None

    def window_box(self, window: Any) -> tuple[int, int, int, int]:
        """x, y, width, height of ``window`` in root coordinates."""
        geometry = window.get_geometry()
        origin = window.translate_coords(self.x.screen().root, 0, 0)
        return -origin.x, -origin.y, geometry.width, geometry.height

    def screenshot(self) -> tuple[int, int, bytes]:
        """The whole screen as (width, height, RGB bytes)."""
        from Xlib import X

        root = self.x.screen().root
        geometry = root.get_geometry()
        width, height = geometry.width, geometry.height
        image = root.get_image(0, 0, width, height, X.ZPixmap, 0xFFFFFFFF)
        data = image.data if isinstance(image.data, bytes) else image.data.encode("latin-1")
        if len(data) != width * height * 4:
            raise AssertionError(f"unexpected X image layout ({len(data)} bytes)")
        rgb = bytearray(width * height * 3)
        rgb[0::3] = data[2::4]  # depth 24 in 32 bits per pixel: B, G, R, unused
        rgb[1::3] = data[1::4]
        rgb[2::3] = data[0::4]
        return width, height, bytes(rgb)

    def request_close(self, window: Any) -> None:
        """Send WM_DELETE_WINDOW, as a window manager does when the user clicks close."""
        from Xlib import X
        from Xlib.protocol import event

        protocols = self.x.intern_atom("WM_PROTOCOLS")
        delete = self.x.intern_atom("WM_DELETE_WINDOW")
        assert delete in (window.get_wm_protocols() or []), "window does not accept WM_DELETE_WINDOW"
        message = event.ClientMessage(
            window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        window.send_event(message, event_mask=X.NoEventMask)
        self.x.flush()


def write_png(path: Path, width: int, height: int, rgb: bytes) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    stride = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride : (y + 1) * stride] for y in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def colour_share(
    shot: tuple[int, int, bytes], box: tuple[int, int, int, int], rgb: tuple[int, int, int]
) -> float:
    """The share of pixels inside ``box`` within 8 of ``rgb`` on every channel."""
    width, height, data = shot
    x0, y0, w, h = box
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width, x0 + w), min(height, y0 + h)
    hits = total = 0
    for y in range(y0, y1, 4):
        row = y * width * 3
        for x in range(x0, x1, 4):
            i = row + x * 3
            total += 1
            if all(abs(data[i + c] - rgb[c]) <= 8 for c in range(3)):
                hits += 1
    return hits / total if total else 0.0


@pytest.fixture(scope="module")
def xdisplay() -> Iterator[XDisplay]:
    if platform.system() != "Linux":
        pytest.skip("the window test runs on Linux under Xvfb")
    if shutil.which("Xvfb") is None:
        _missing("Xvfb is not installed (Debian package xvfb)")
    try:
        import Xlib.display  # noqa: F401
    except ImportError:
        _missing("python-xlib is not installed")
    probe = subprocess.run(
        [sys.executable, "-c", "import webview, qtpy, PySide6.QtWebEngineWidgets"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        _missing(f"pywebview with Qt WebEngine is not importable: {probe.stderr.strip().splitlines()[-1:]}")
    display = XDisplay(*SCREEN)
    yield display
    display.close()


class AppProcess:
    """desktop_app.py running in its own process on ``display``."""

    def __init__(self, workdir: Path, display: XDisplay) -> None:
        self.dir = workdir
        self.pid_file = workdir / "app.pid"
        runtime = workdir / "runtime"
        runtime.mkdir(mode=0o700)
        (workdir / "home").mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "PYWEBVIEW_GUI")}
        env.update(
            DISPLAY=display.name,
            QT_QPA_PLATFORM="xcb",
            QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu",
            XDG_RUNTIME_DIR=str(runtime),
            HOME=str(workdir / "home"),
            DESKTOP_TEST_DIR=str(workdir),
            DESKTOP_TEST_PID=str(self.pid_file),
            DESKTOP_TEST_TITLE=WINDOW_TITLE,
        )
        self.log = (workdir / "app.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(APP_SCRIPT)], cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        self.log.flush()
        return (self.dir / "app.log").read_text(errors="replace")[-4000:]

    def wait_for_report(self, timeout: float = 60.0) -> dict[str, Any]:
        report = self.dir / "report.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if report.exists():
                return dict(json.loads(report.read_text()))
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited early ({self.proc.returncode}):\n{self.output()}")
            time.sleep(0.05)
        raise AssertionError(f"the page never reported back:\n{self.output()}")

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the app did not exit after its window closed:\n{self.output()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def desktop_app(tmp_path: Path, xdisplay: XDisplay) -> Iterator[AppProcess]:
    app = AppProcess(tmp_path, xdisplay)
    yield app
    app.kill()


def _check_running(app: AppProcess, report: dict[str, Any]) -> int:
    """What the page reported, and the PID file while the window is open; returns the port."""
    assert report["pong"] == {"pong": True, "pid": app.proc.pid}
    assert report["background"] == "rgb(255, 0, 170)"
    assert report["href"].startswith("http://127.0.0.1:")
    port = int(report["href"].rsplit(":", 1)[1].strip("/"))
    assert _port_open("127.0.0.1", port)
    assert app.pid_file.read_text().strip() == str(app.proc.pid)
    return port


def _check_stopped(app: AppProcess, port: int) -> None:
    assert not _port_open("127.0.0.1", port), "the server still answers after the window closed"
    assert not app.pid_file.exists(), "the PID file was left behind"
    assert (app.dir / "returned").exists(), "run() did not return"
    assert (app.dir / "module-runs").read_text() == "ran\n", "the app script ran more than once"


@linux_only
@pytest.mark.slow
def test_window_shows_the_page_and_closing_it_ends_the_app(
    desktop_app: AppProcess, xdisplay: XDisplay
) -> None:
    report = desktop_app.wait_for_report()
    port = _check_running(desktop_app, report)

    window = xdisplay.find_window(WINDOW_TITLE)
    assert window is not None, "no X window with the app's title"
    box = xdisplay.window_box(window)
    assert box[2:] == (800, 600)
    deadline = time.monotonic() + 15
    while True:  # the page has run its script; give the compositor a moment to paint
        shot = xdisplay.screenshot()
        share = colour_share(shot, box, PAGE_RGB)
        if share > 0.6 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    screenshot = desktop_app.dir / "window.png"
    write_png(screenshot, *shot)
    assert share > 0.6, f"the window shows {share:.0%} page colour (screenshot: {screenshot})"
    assert colour_share(shot, (box[0] + box[2] + 20, 0, 100, 100), PAGE_RGB) < 0.05  # not the screen

    started = time.monotonic()
    xdisplay.request_close(window)
    assert desktop_app.wait() == 0, desktop_app.output()
    assert time.monotonic() - started < 10
    _check_stopped(desktop_app, port)


@linux_only
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_close_the_window_and_clean_up(
    desktop_app: AppProcess, xdisplay: XDisplay, signum: int
) -> None:
    port = _check_running(desktop_app, desktop_app.wait_for_report())
    desktop_app.proc.send_signal(signum)
    assert desktop_app.wait() == 0, desktop_app.output()
    _check_stopped(desktop_app, port)
    assert xdisplay.find_window(WINDOW_TITLE) is None


# lazy import ------------------------------------------------------------------------------


def test_import_and_serve_never_load_a_gui_toolkit() -> None:
    port = _free_port()
    code = textwrap.dedent(
        f"""
        import os, signal, socket, sys, threading, time
        import wesktop
        wesktop.run, wesktop.create_entry, wesktop.remove_entry
        import wesktop.desktop, wesktop.entries

        def stop_when_up():
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.02)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=stop_when_up, daemon=True).start()
        wesktop.serve(wesktop.create_app(wesktop.Router()), port={port})
        gui = ("webview", "qtpy", "PySide6", "PyQt6", "PyQt5", "gi")
        print(sorted(m for m in sys.modules if m.split(".")[0] in gui))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# errors -------------------------------------------------------------------------------------

HIDE_WEBVIEW = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class Hide(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("webview", "qtpy", "PySide6", "PyQt6", "PyQt5", "gi"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())
    """
)


def test_without_pywebview_run_says_what_to_install(tmp_path: Path) -> None:
    pid_file = tmp_path / "app.pid"
    port = _free_port()
    code = HIDE_WEBVIEW + textwrap.dedent(
        f"""
        import wesktop
        from wesktop.desktop import DesktopError
        app = wesktop.create_app(wesktop.Router())
        try:
            wesktop.run(app, port={port}, pid_path={str(pid_file)!r})
        except DesktopError as exc:
            print(exc)
            raise SystemExit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    message = done.stdout
    assert "pywebview" in message
    assert 'pip install "wesktop[desktop]"' in message
    assert "PySide6" in message
    assert "wesktop.serve()" in message
    assert not pid_file.exists()


@linux_only
def test_without_a_display_run_suggests_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebview()
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    pid_file = tmp_path / "app.pid"
    port = _free_port()
    with pytest.raises(DesktopError) as caught:
        desktop.run(_app(), port=port, pid_path=pid_file)
    message = str(caught.value)
    assert "$DISPLAY" in message and "$WAYLAND_DISPLAY" in message
    assert "wesktop.serve()" in message
    assert not pid_file.exists()
    assert not _port_open("127.0.0.1", port)
    assert fake.windows == []


@linux_only
def test_an_unreachable_x_display_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebview()
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    unused = next(n for n in range(4000, 5000) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{unused}")
    with pytest.raises(DesktopError, match="cannot connect to the X display"):
        desktop.run(_app(), port=0, pid_path=tmp_path / "app.pid")
    assert not (tmp_path / "app.pid").exists()
    assert fake.windows == []


def test_x_display_probe() -> None:
    assert desktop._x_display_reachable("/private/tmp/com.apple.launchd.x/org.xquartz:0")  # not probed
    assert desktop._x_display_reachable("garbage")
    for number in range(50, 200):  # a TCP display: host:N listens on port 6000 + N
        listener = socket.socket()
        try:
            listener.bind(("127.0.0.1", 6000 + number))
        except OSError:
            listener.close()
            continue
        with listener:
            listener.listen()
            assert desktop._x_display_reachable(f"127.0.0.1:{number}.0")
        assert not desktop._x_display_reachable(f"127.0.0.1:{number}")
        break


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ({"gi", "qtpy", "PySide6.QtWebEngineWidgets"}, None),  # pywebview's own order: GTK first
        ({"qtpy", "PySide6.QtWebEngineWidgets"}, "qt"),  # skip pywebview's failing GTK attempt
        ({"qtpy", "PyQt6.QtWebEngineWidgets"}, "qt"),
        ({"gi"}, None),
    ],
)
def test_backend_choice_on_linux(
    monkeypatch: pytest.MonkeyPatch, installed: set[str], expected: str | None
) -> None:
    monkeypatch.delenv("PYWEBVIEW_GUI", raising=False)
    monkeypatch.setattr(desktop, "_installed", lambda module: module in installed)
    assert desktop._choose_gui("Linux") == expected


def test_no_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYWEBVIEW_GUI", raising=False)
    monkeypatch.setattr(desktop, "_installed", lambda module: module == "qtpy")  # Qt without WebEngine
    with pytest.raises(DesktopError, match="no GUI backend") as caught:
        desktop._choose_gui("Linux")
    assert "PySide6" in str(caught.value)
    monkeypatch.setenv("PYWEBVIEW_GUI", "gtk")
    assert desktop._choose_gui("Linux") is None  # the user chose
    assert desktop._choose_gui("Darwin") is None
    assert desktop._choose_gui("Windows") is None


# run() around a stand-in pywebview ----------------------------------------------------------
# The real window is tested above; these check what run() hands to pywebview and what it does
# when start() returns or fails, quickly and for hosts the window test does not use.


class FakeWindow:
    def __init__(self) -> None:
        self.destroyed = threading.Event()

    def destroy(self) -> None:
        self.destroyed.set()


class FakeWebview:
    """A stand-in for the ``webview`` module: records windows, runs ``on_start`` in start()."""

    def __init__(self, on_start: Callable[[FakeWebview], None] | None = None) -> None:
        self.windows: list[dict[str, Any]] = []
        self.window = FakeWindow()
        self.start_options: dict[str, Any] | None = None
        self.on_start = on_start
        self.module = types.ModuleType("webview")

        class WebViewException(Exception):
            pass

        self.module.WebViewException = WebViewException  # type: ignore[attr-defined]
        self.module.create_window = self.create_window  # type: ignore[attr-defined]
        self.module.start = self.start  # type: ignore[attr-defined]

    def create_window(self, title: str, url: str | None = None, **options: Any) -> FakeWindow:
        self.windows.append({"title": title, "url": url, **options})
        return self.window

    def start(self, **options: Any) -> None:
        self.start_options = options
        if self.on_start is not None:
            self.on_start(self)


def _app() -> Any:
    router = wesktop.Router()

    @router.get("/api/ping")
    async def ping(request: wesktop.Request) -> Any:
        return {"pong": True}

    return wesktop.create_app(router)


@pytest.fixture
def headless_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let run() past its display and backend checks (the stand-in needs neither)."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("PYWEBVIEW_GUI", "qt")


def _fetch_ping(fake: FakeWebview) -> None:
    url = fake.windows[0]["url"]
    fake.windows[0]["answer"] = httpx.get(url + "/api/ping", timeout=5).json()


@pytest.mark.usefixtures("headless_env")
def test_run_passes_window_options_and_stops_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeWebview(on_start=_fetch_ping)
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    pid_file = tmp_path / "run" / "app.pid"
    api = object()
    seen_pid: list[str] = []

    def on_start(f: FakeWebview) -> None:
        _fetch_ping(f)
        seen_pid.append(pid_file.read_text().strip())

    fake.on_start = on_start
    icon = tmp_path / "icon.png"
    desktop.run(
        _app(),
        title="Hello",
        width=640,
        height=480,
        icon=icon,
        port=0,
        pid_path=pid_file,
        js_api=api,
        debug=True,
    )
    (window,) = fake.windows
    assert window["title"] == "Hello" and window["width"] == 640 and window["height"] == 480
    assert window["js_api"] is api
    assert window["answer"] == {"pong": True}
    assert window["url"].startswith("http://127.0.0.1:")
    assert fake.start_options == {"debug": True, "icon": str(icon)}
    assert seen_pid == [str(os.getpid())]
    assert not pid_file.exists()
    port = int(window["url"].rsplit(":", 1)[1])
    assert not _port_open("127.0.0.1", port)


@pytest.mark.usefixtures("headless_env")
def test_wildcard_host_opens_the_window_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebview(on_start=_fetch_ping)
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    desktop.run(_app(), host="0.0.0.0", port=0)
    assert fake.windows[0]["url"].startswith("http://127.0.0.1:")
    assert fake.windows[0]["answer"] == {"pong": True}


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.usefixtures("headless_env")
@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_host_is_bracketed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebview(on_start=_fetch_ping)
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    desktop.run(_app(), host="::1", port=0)
    assert fake.windows[0]["url"].startswith("http://[::1]:")
    assert fake.windows[0]["answer"] == {"pong": True}


@pytest.mark.usefixtures("headless_env")
def test_gui_failure_becomes_desktop_error_with_the_server_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(f: FakeWebview) -> None:
        raise f.module.WebViewException("QT cannot be loaded")

    fake = FakeWebview(on_start=fail)
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    pid_file = tmp_path / "app.pid"
    with pytest.raises(DesktopError, match="QT cannot be loaded"):
        desktop.run(_app(), port=0, pid_path=pid_file)
    port = int(fake.windows[0]["url"].rsplit(":", 1)[1])
    assert not _port_open("127.0.0.1", port)
    assert not pid_file.exists()


@pytest.mark.usefixtures("headless_env")
def test_other_errors_propagate_with_the_server_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(f: FakeWebview) -> None:
        raise KeyboardInterrupt

    fake = FakeWebview(on_start=fail)
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    with pytest.raises(KeyboardInterrupt):
        desktop.run(_app(), port=0, pid_path=tmp_path / "app.pid")
    port = int(fake.windows[0]["url"].rsplit(":", 1)[1])
    assert not _port_open("127.0.0.1", port)
    assert not (tmp_path / "app.pid").exists()


@pytest.mark.usefixtures("headless_env")
def test_busy_port_fails_before_any_window(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebview()
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(PortInUseError):
            desktop.run(_app(), port=taken.getsockname()[1])
    assert fake.windows == []


@pytest.mark.usefixtures("headless_env")
def test_sigterm_closes_the_window_and_signal_handlers_are_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    def terminate(f: FakeWebview) -> None:
        signal.signal(signal.SIGINT, lambda *_: None)  # as pywebview's Qt backend does
        os.kill(os.getpid(), signal.SIGTERM)
        assert f.window.destroyed.wait(5), "SIGTERM did not close the window"

    fake = FakeWebview(on_start=terminate)
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    desktop.run(_app(), port=0)
    assert fake.window.destroyed.is_set()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


@pytest.mark.usefixtures("headless_env")
def test_run_outside_the_main_thread_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebview()
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            desktop.run(_app(), port=0)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(10)
    assert len(errors) == 1 and isinstance(errors[0], DesktopError)
    assert "main thread" in str(errors[0])
    assert fake.windows == []


@pytest.mark.usefixtures("headless_env")
def test_plain_asgi_app_is_served_over_asgi(monkeypatch: pytest.MonkeyPatch) -> None:
    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"pong": true}'})

    fake = FakeWebview(on_start=_fetch_ping)
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    desktop.run(asgi_app, port=0)
    assert fake.windows[0]["answer"] == {"pong": True}


@pytest.mark.usefixtures("headless_env")
def test_a_host_the_app_refuses_is_caught_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebview()
    monkeypatch.setitem(sys.modules, "webview", fake.module)
    with pytest.raises(DesktopError, match="allowed_hosts"):
        desktop.run(_app(), host="192.0.2.10", port=0)  # TEST-NET-1: never bound, refused first
    assert fake.windows == []


def test_run_signature_is_the_documented_one() -> None:
    parameters = inspect.signature(wesktop.run).parameters
    assert list(parameters) == [
        "target", "title", "width", "height", "icon", "host", "port", "pid_path", "js_api", "debug"
    ]  # fmt: skip
    assert parameters["target"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    defaults = {name: p.default for name, p in parameters.items() if name != "target"}
    assert defaults == {
        "title": "wesktop",
        "width": 1280,
        "height": 800,
        "icon": None,
        "host": "127.0.0.1",
        "port": 8000,
        "pid_path": None,
        "js_api": None,
        "debug": False,
    }
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for name, p in parameters.items() if name != "target")
