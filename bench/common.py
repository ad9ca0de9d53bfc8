"""Helpers shared by the benchmarks: contenders and their granian server processes, the virtual
environments of other package versions, CPU and memory accounting, stats."""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
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
import venv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
APPS_DIR = BENCH_DIR / "apps"
REPO_ROOT = BENCH_DIR.parent
HOST = "127.0.0.1"
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def raise_nofile_limit() -> None:
    """Let this process hold as many sockets as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def http_get(port: int, path: str, timeout: float = 2.0, method: str = "GET") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def end_process(proc: subprocess.Popen[Any], sig: int, timeout: float = 5.0) -> None:
    """Ask a server process (its own process group) to stop with ``sig``; SIGKILL the group after
    ``timeout``."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


def remove_log(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


class ClientPool:
    """Load-client processes (``target(conn, index)`` in each), driven over pipes: send a command
    to several at once and collect their replies (a reply with ``"error"`` raises)."""

    def __init__(self, target: Callable[..., Any], processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        for i in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=target, args=(child, i), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    def ask(self, cmds: list[tuple[Any, ...]], timeout: float) -> list[dict[str, Any]]:
        """Send ``cmds[i]`` to process ``i`` (as many as there are commands); their replies."""
        conns = self.conns[: len(cmds)]
        for conn, cmd in zip(conns, cmds, strict=True):
            conn.send(cmd)
        replies = []
        deadline = time.monotonic() + timeout
        for conn in conns:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"a client process did not answer {cmds[0][0]!r} in {timeout}s")
            reply = conn.recv()
            if "error" in reply:
                raise RuntimeError(f"client process: {reply['error']}")
            replies.append(reply)
        return replies


class ServerProcess:
    """What every benchmarked server process shares: launching it in its own process group with
    its output in a temporary log, its CPU and memory (main process and children), stopping it.
    Subclasses (dataclasses with ``proc``, ``log_path`` and ``_ps`` fields) write ``start()``."""

    proc: subprocess.Popen[bytes] | None
    log_path: Path | None
    _ps: list[psutil.Process]
    stop_signal: int = signal.SIGINT

    def _launch(
        self, cmd: list[str], prefix: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=APPS_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=raise_nofile_limit,
            )
        return self.proc

    def _tree(self) -> list[psutil.Process]:
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def cpu_seconds(self) -> float:
        """user + system CPU of the server's processes (all threads)."""
        total = 0.0
        for p in self._ps:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def rss_bytes(self) -> int:
        total = 0
        for p in self._ps:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def threads(self) -> int:
        total = 0
        for p in self._ps:
            with contextlib.suppress(psutil.Error):
                total += p.num_threads()
        return total

    def log_text(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process(proc, self.stop_signal, timeout)
        for p in self._ps[1:]:  # a worker left behind by a hard kill
            with contextlib.suppress(psutil.Error):
                p.kill()
        remove_log(self.log_path)

    def start(self, timeout: float = 30.0) -> Any:
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class GranianServer(ServerProcess):
    """One contender served by ``granian --interface X --workers 1`` in a subprocess.

    Nothing else is set: granian's defaults (event loop, threads, backpressure) apply alike to
    every contender. ``extra_args`` exists for the fan-out bench, which needs a larger backlog.
    ``python`` runs granian: this interpreter, or that of one of :data:`VENVS`.
    """

    target: str
    interface: str
    ready_path: str = "/"
    extra_args: tuple[str, ...] = ()
    python: str = sys.executable
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _ps: list[psutil.Process] = field(default_factory=list)

    def command(self) -> list[str]:
        return [
            self.python, "-m", "granian",
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
        proc = self._launch(self.command(), "bench-granian-", env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
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

    def loop_thread_cpu_seconds(self) -> float | None:
        """CPU of the worker's main thread, the one that runs the event loop and so the app's
        Python code (granian's own Rust threads are not in it); None where /proc is missing."""
        worker = (self._ps[1:] or self._ps)[0].pid
        try:
            stat = Path(f"/proc/{worker}/task/{worker}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK

    def worker_rss_bytes(self) -> int:
        """Resident memory of the process(es) that run the app (granian's worker)."""
        workers = self._ps[1:] or self._ps
        total = 0
        for p in workers:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total


# other package versions --------------------------------------------------------------------------

VENVS_DIR = BENCH_DIR / ".venvs"
VENVS: dict[str, tuple[str, ...]] = {
    # the original wesktop from PyPI, where ``import wesktop`` is not this repository's
    "wesktop-0.2.1": ("wesktop==0.2.1",),
}
"""Virtual environments under ``bench/.venvs/`` (git-ignored, made on first use) and what they
hold besides granian, which is always the one pinned in bench/requirements.txt so that only the
framework differs between contenders."""


def pinned(dist: str) -> str:
    """The ``dist==version`` line of bench/requirements.txt."""
    for line in (BENCH_DIR / "requirements.txt").read_text().splitlines():
        if line.split("==")[0].strip().lower() == dist:
            return line.strip()
    raise LookupError(f"{dist} is not pinned in bench/requirements.txt")


def venv_requirements(name: str) -> list[str]:
    return [*VENVS[name], pinned("granian")]


def venv_python(name: str, log: Callable[[str], None] = print) -> Path:
    """The Python of ``bench/.venvs/<name>``, made and filled the first time."""
    env_dir = VENVS_DIR / name
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    marker = env_dir / ".installed"
    wanted = "\n".join(venv_requirements(name))
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"installing {' '.join(venv_requirements(name))} into {env_dir} (once)")
    venv.create(env_dir, with_pip=True, clear=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    out = subprocess.run([*pip, *venv_requirements(name)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"pip could not fill {env_dir}:\n{out.stdout}{out.stderr}")
    marker.write_text(wanted)
    return python


# contenders --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    """One app as a benchmark serves it: ``granian --interface <interface> <target>``.

    ``venv`` names one of :data:`VENVS` whose Python runs granian (default: this Python);
    ``transports`` are the fan-out transports the app serves.
    """

    name: str
    label: str
    interface: str
    target: str
    venv: str | None = None
    transports: tuple[str, ...] = ("sse", "ws")

    def python(self) -> str:
        """The Python that runs granian for this contender (making its venv the first time)."""
        return sys.executable if self.venv is None else str(venv_python(self.venv))

    def server(self, ready_path: str, extra_args: Sequence[str] = ()) -> GranianServer:
        return GranianServer(self.target, self.interface, ready_path, tuple(extra_args), python=self.python())

    def info(self) -> dict[str, Any]:
        """What the results file says about this contender."""
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "interface": self.interface,
            "target": self.target,
        }
        if self.venv is not None:
            out["venv"] = self.venv
            out["requirements"] = venv_requirements(self.venv)
        return out


def select(contenders: Sequence[Contender], only: Sequence[str] | None, *keep: str) -> list[Contender]:
    """The contenders named in ``only`` (all when empty) and those in ``keep``, their virtual
    environments made (so that a first run installs before, not between, measurements)."""
    if only:
        unknown = set(only) - {c.name for c in contenders}
        if unknown:
            raise SystemExit(f"no such contender: {', '.join(sorted(unknown))}")
    chosen = [c for c in contenders if not only or c.name in only or c.name in keep]
    for c in chosen:
        c.python()
    return chosen


# CPU accounting and stats ------------------------------------------------------------------------


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores together."""
    t = psutil.cpu_times()
    total = sum(t)
    return total - t.idle - getattr(t, "iowait", 0.0), total


def other_cpu_seconds(machine_busy: float, *accounted: float) -> float:
    """The machine's busy CPU that none of ``accounted`` (server, load generator) used: what the
    rest of the machine took meanwhile (another job, the kernel's unattributed network work)."""
    return max(0.0, machine_busy - sum(accounted))


def children_cpu_seconds() -> float:
    """CPU used so far by this process's waited-for children (wrk runs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def median_pct(runs: list[dict[str, Any]], key: str, per: str) -> float | None:
    """Median over ``runs`` of ``run[key] / run[per]`` in percent (CPU seconds over wall seconds)."""
    values = [r[key] / r[per] for r in runs if r.get(key) is not None and r.get(per)]
    return 100 * median(values) if values else None


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as JSON, atomically (a half-written file never replaces a good one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def machine_info() -> dict[str, Any]:
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("wirecore", "wesktop", "granian", "starlette", "litestar", "msgspec", "websockets"):
        with contextlib.suppress(PackageNotFoundError):
            versions[dist] = version(dist)
    wrk = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5)
        wrk = (out.stdout or out.stderr).strip().splitlines()[0].split(" Copyright")[0].strip()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": versions,
        "venvs": {name: venv_requirements(name) for name in VENVS},
        "wrk": wrk,
    }
