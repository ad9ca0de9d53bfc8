"""Helpers shared by the benchmarks: granian server processes, CPU and memory accounting, stats."""

from __future__ import annotations

import contextlib
import http.client
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
APPS_DIR = BENCH_DIR / "apps"
REPO_ROOT = BENCH_DIR.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def raise_nofile_limit() -> None:
    """Let this process hold as many sockets as the hard limit allows."""
    _raise_nofile()


def http_get(port: int, path: str, timeout: float = 2.0, method: str = "GET") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass
class GranianServer:
    """One contender served by ``granian --interface X --workers 1`` in a subprocess.

    Nothing else is set: granian's defaults (event loop, threads, backpressure) apply alike to
    every contender. ``extra_args`` exists for the fan-out bench, which needs a larger backlog.
    """

    target: str
    interface: str
    ready_path: str = "/"
    extra_args: tuple[str, ...] = ()
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _ps: list[psutil.Process] = field(default_factory=list)

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "granian",
            "--interface", self.interface,
            "--workers", "1",
            "--host", HOST,
            "--port", str(self.port),
            *self.extra_args,
            self.target,
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> GranianServer:
        self.port = free_port()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(APPS_DIR), env.get("PYTHONPATH", "")]))
        fd, name = tempfile.mkstemp(prefix="bench-granian-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "wb") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=APPS_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_raise_nofile,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.target} ({self.interface}) exited early:\n{self.log_tail()}")
            try:
                status, _ = http_get(self.port, self.ready_path, timeout=1.0)
                if status < 500:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f"{self.target} ({self.interface}) did not answer in {timeout}s")
        self._ps = self._tree()
        return self

    def _tree(self) -> list[psutil.Process]:
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def cpu_seconds(self) -> float:
        """user + system CPU of granian's processes (main and worker, all threads)."""
        total = 0.0
        for p in self._ps:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def rss_bytes(self) -> int:
        """Resident memory of granian's processes."""
        total = 0
        for p in self._ps:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def worker_rss_bytes(self) -> int:
        """Resident memory of the process(es) that run the app (granian's worker)."""
        workers = self._ps[1:] or self._ps
        total = 0
        for p in workers:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 5.0) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout)
        for p in self._ps[1:]:  # a worker left behind by a hard kill
            with contextlib.suppress(psutil.Error):
                p.kill()
        self.proc = None
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> GranianServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def children_cpu_seconds() -> float:
    """CPU used so far by this process's waited-for children (wrk runs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine_info() -> dict[str, Any]:
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("wirecore", "granian", "starlette", "litestar", "msgspec", "websockets"):
        with contextlib.suppress(PackageNotFoundError):
            versions[dist] = version(dist)
    wrk = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
        wrk = (out.stdout or out.stderr).strip().splitlines()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
        "wrk": wrk,
    }
