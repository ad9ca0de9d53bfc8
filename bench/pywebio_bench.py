"""pywebio against the original pywebio 1.8.4: sessions opened, outputs delivered, memory per session.

    python bench/pywebio_bench.py                     # full size: 200 sessions x 100 put_text, 5 rounds
    python bench/pywebio_bench.py --sessions 10 --outputs 10 --rounds 1   # a tiny end-to-end check
    python bench/pywebio_bench.py --backends flask tornado_http  # some backends (and their peer)
    python bench/pywebio_bench.py --report-only

Results go to ``bench/results/pywebio.json``, the page to ``docs/benchmarks-pywebio.md``, the
chart to ``docs/benchmarks-pywebio.svg``.

The contenders serve the same script, ``bench/apps/pywebio_app.py``, each in a process of its
own on 127.0.0.1 with ``cdn=False``: this repository's pywebio on every backend (WebSocket:
tornado, the default, ``wirecore`` (granian), ``aiohttp``, ``fastapi`` (uvicorn); HTTP short
polling: ``tornado_http``, ``flask``, ``django``), and the original ``pywebio==1.8.4`` on tornado and
on flask under the Python of ``bench/.venvs/pywebio-1.8.4`` (made by the first run; the same
tornado, flask and werkzeug as ours). Each backend of ours has the original on the same transport
as its peer: WebSocket backends the original on tornado, HTTP ones the original on flask
(``--backends`` picks backends of ours; the peers they need come along). For each mode
(``thread``: a plain function; ``coro``: an ``async def``), round after round, the contenders
alternate, each with a fresh server:

1. warm-up: two sessions of the mode's app and two of its ``hold()`` variant, closed again;
2. memory: the server's RSS once idle, then with ``--sessions`` sessions of the ``hold()`` variant
   open (each having received its ``--outputs`` outputs); the difference over the sessions;
3. throughput: ``--warmup-sessions`` sessions of warm-up, then ``--sessions`` concurrent sessions of the app (``--outputs`` put_text, then return)
   from the load client processes (:mod:`pywebio_client`), at most ``--gate`` in their handshake at
   once; sessions opened per second = sessions / time until the last one has its first output,
   outputs per second = outputs / time until the last one has ``close_session``.

Over HTTP the load client polls (:mod:`pywebio_client`: again as soon as a response arrives), a
held session is one that has stopped polling after its outputs, and since HTTP sessions outlive
their browsers (until they expire) the throughput runs get a fresh server of their own after the
memory measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
import urllib.request
import venv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
import pywebio_client
from common import (
    APPS_DIR,
    BENCH_DIR,
    HOST,
    VENVS_DIR,
    ClientPool,
    ServerProcess,
    free_port,
    machine_cpu_seconds,
    machine_info,
    median,
    other_cpu_seconds,
    raise_nofile_limit,
    write_json,
)

RESULTS = BENCH_DIR / "results" / "pywebio.json"
APP_SCRIPT = APPS_DIR / "pywebio_app.py"
ORIG_VENV = "pywebio-1.8.4"
BASELINE = "pywebio-orig"  # the original on tornado: the peer of our WebSocket backends
BASELINE_HTTP = "pywebio-orig-flask"  # the original on flask: the peer of our HTTP backends
OURS = ("pywebio-tornado", "pywebio-wirecore")  # issue 5's targets
WS_BACKENDS = ("tornado", "wirecore", "aiohttp", "fastapi")
HTTP_BACKENDS = ("tornado_http", "flask", "django")
BACKENDS = WS_BACKENDS + HTTP_BACKENDS
MODES = ("thread", "coro")
MEMORY_WARMUP = 2  # sessions of each app before the idle RSS is read

# the targets, and the original's numbers there (another 2-core machine, 200 x 100)
SPEED_TARGET = 2.0  # ours over the original: outputs/s
MEMORY_TARGET = 0.5  # ours over the original: KiB per open session
REFERENCE = {
    "thread": {"outputs_per_s": 10_700, "kib_per_session": 161},
    "coro": {"outputs_per_s": 20_100, "kib_per_session": 115},
}


def log(line: str) -> None:
    print(line, flush=True)


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def orig_requirements() -> tuple[str, ...]:
    """The original, on the tornado, flask and werkzeug this Python has (so that only pywebio differs)."""
    pins = [d if (v := _version(d)) == "?" else f"{d}=={v}" for d in ("tornado", "flask", "werkzeug")]
    return ("pywebio==1.8.4", *pins)


# the contenders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impl:
    name: str
    label: str
    backend: str = "tornado"
    venv: str | None = None

    @property
    def transport(self) -> str:
        return "http" if self.backend in HTTP_BACKENDS else "ws"

    @property
    def peer(self) -> str:
        """The original on the same transport: what ratios are taken against."""
        return BASELINE_HTTP if self.transport == "http" else BASELINE

    def python(self) -> str:
        return sys.executable if self.venv is None else str(orig_python())

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": self.label, "backend": self.backend}
        out.update(transport=self.transport, peer=self.peer, original=self.venv is not None)
        if self.venv is not None:
            out["venv"] = self.venv
            out["requirements"] = list(orig_requirements())
        return out


CONTENDERS = [
    Impl(OURS[0], "pywebio (this repository) on tornado"),
    Impl(OURS[1], "pywebio (this repository) on wirecore (granian)", backend="wirecore"),
    Impl("pywebio-aiohttp", "pywebio (this repository) on aiohttp", backend="aiohttp"),
    Impl("pywebio-fastapi", "pywebio (this repository) on fastapi (uvicorn)", backend="fastapi"),
    Impl(BASELINE, "pywebio 1.8.4, the original (tornado)", venv=ORIG_VENV),
    Impl("pywebio-tornado_http", "pywebio (this repository) on tornado_http (HTTP)", backend="tornado_http"),
    Impl("pywebio-flask", "pywebio (this repository) on flask (HTTP)", backend="flask"),
    Impl("pywebio-django", "pywebio (this repository) on django (HTTP)", backend="django"),
    Impl(BASELINE_HTTP, "pywebio 1.8.4, the original (flask, HTTP)", backend="flask", venv=ORIG_VENV),
]


def pick(backends: list[str] | None, names: list[str] | None) -> list[Impl]:
    """Ours on ``backends`` (default: all) and the originals they are compared with; ``names`` narrows."""
    chosen = set(backends or BACKENDS)
    ours = [c for c in CONTENDERS if c.venv is None and c.backend in chosen]
    peers = {c.peer for c in ours}
    out = [c for c in CONTENDERS if c in ours or c.name in peers]
    return [c for c in out if not names or c.name in names]


def orig_python(log: Callable[[str], None] = log) -> Path:
    """The Python of ``bench/.venvs/pywebio-1.8.4``, made and filled the first time."""
    env_dir = VENVS_DIR / ORIG_VENV
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    marker = env_dir / ".installed"
    wanted = "\n".join(orig_requirements())
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"installing {' '.join(orig_requirements())} into {env_dir} (once)")
    venv.create(env_dir, with_pip=True, clear=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    out = subprocess.run([*pip, *orig_requirements()], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"pip could not fill {env_dir}:\n{out.stdout}{out.stderr}")
    marker.write_text(wanted)
    return python


@dataclass
class PywebioServer(ServerProcess):
    """``python bench/apps/pywebio_app.py --port N --outputs K --backend B`` in a process of its own."""

    impl: Impl
    outputs: int
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _ps: list[psutil.Process] = field(default_factory=list)

    def start(self, timeout: float = 30.0) -> PywebioServer:
        self.port = free_port()
        cmd = [self.impl.python(), str(APP_SCRIPT), "--port", str(self.port), "--outputs", str(self.outputs)]
        cmd += ["--backend", self.impl.backend]
        proc = self._launch(cmd, "bench-pywebio-")
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.impl.name} server exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/", timeout=2) as resp:
                    page = resp.read()
                if resp.status == 200 and b"<html" in page.lower():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"{self.impl.name} server did not serve its page in {timeout}s:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        self._ps = self._tree()
        return self

    def settle(self, quiet_pct: float = 5.0, most: float = 5.0) -> float:
        """Wait until the server uses under ``quiet_pct`` of a core (at most ``most`` s); the wait."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < most:
            c0 = self.cpu_seconds()
            time.sleep(0.2)
            if (self.cpu_seconds() - c0) / 0.2 * 100 < quiet_pct:
                break
        return time.monotonic() - t0


# the client processes ----------------------------------------------------------------------------


class Clients(ClientPool):
    """The load client processes (:mod:`pywebio_client`), driven together."""

    def __init__(self, processes: int) -> None:
        super().__init__(pywebio_client.main, processes)

    def run(
        self,
        port: int,
        app: str,
        sessions: int,
        expected: int,
        gate: int,
        timeout: float,
        hold: bool = False,
        transport: str = "ws",
    ) -> dict[str, Any]:
        """``sessions`` sessions of ``app`` spread over the processes, started at the same moment."""
        n = len(self.conns)
        shares = [s for s in (sessions // n + (1 if i < sessions % n else 0) for i in range(n)) if s]
        gates = [max(1, gate // len(shares))] * len(shares)
        start_at = time.monotonic() + 0.2
        replies = self.ask(
            [
                ("run", port, app, k, expected, g, start_at, timeout, hold, transport)
                for k, g in zip(shares, gates, strict=True)
            ],
            timeout + 30,
        )
        firsts: list[float] = []
        dones: list[float] = []
        for r in replies:
            late = r["t0"] - start_at
            firsts += [t + late for t in r["first_output_s"]]
            dones += [t + late for t in r["done_s"]]
        walls = [r["wall_s"] + r["t0"] - start_at for r in replies]
        return {
            "sessions": sum(r["sessions"] for r in replies),
            "upgraded": sum(r["upgraded"] for r in replies),
            "complete": sum(r["complete"] for r in replies),
            "bad": sum(r["bad"] for r in replies),
            "bad_examples": [e for r in replies for e in r["bad_examples"]][:3],
            "outputs": sum(r["outputs"] for r in replies),
            "other_commands": sum(r["other_commands"] for r in replies),
            "open_s": max(firsts) if firsts else None,
            "first_output_median_s": median(firsts) if firsts else None,
            "done_s": max(dones) if dones else None,
            "wall_s": max(walls),
            "client_cpu_s": sum(r["cpu_s"] for r in replies),
            "client_cpu_pct_max": max(100 * r["cpu_s"] / r["wall_s"] for r in replies if r["wall_s"] > 0),
            "held": sum(r["held"] for r in replies),
            # the last 101 Switching Protocols, from the start (the upgrade alone, no session work)
            "handshake_s": max(
                (
                    r["handshake_last_s"] + r["t0"] - start_at
                    for r in replies
                    if r["handshake_last_s"] is not None
                ),
                default=None,
            ),
        }

    def close_sessions(self) -> None:
        self.ask([("close",)] * len(self.conns), 30)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ask([("exit",)] * len(self.conns), 10)
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


# one measurement ---------------------------------------------------------------------------------


def throughput_run(
    server: PywebioServer, clients: Clients, app: str, args: argparse.Namespace
) -> dict[str, Any]:
    cpu0 = server.cpu_seconds()
    busy0, _ = machine_cpu_seconds()
    run = clients.run(
        server.port,
        app,
        args.sessions,
        args.outputs,
        args.gate,
        args.timeout,
        transport=server.impl.transport,
    )
    busy = machine_cpu_seconds()[0] - busy0
    server_cpu = server.cpu_seconds() - cpu0
    done = run["done_s"]
    ok = run["complete"] == run["sessions"] and done
    # CPU is read around the whole command (0.2 s of start delay, the reply): scale to the run
    span = run["wall_s"] + 0.2
    scale = run["wall_s"] / span if span > 0 else 1.0
    run.update(
        complete_run=bool(ok),
        sessions_per_s=run["sessions"] / run["open_s"] if ok and run["open_s"] else None,
        outputs_per_s=run["outputs"] / done if ok else None,
        server_cpu_s=server_cpu,
        machine_busy_s=busy * scale,
        server_us_per_output=1e6 * server_cpu / run["outputs"] if run["outputs"] else None,
    )
    run["foreign_cpu_s"] = other_cpu_seconds(run["machine_busy_s"], server_cpu * scale, run["client_cpu_s"])
    return run


def measure(impl: Impl, mode: str, clients: Clients, args: argparse.Namespace) -> dict[str, Any]:
    """A fresh server: warm-up, memory with held sessions, then throughput."""
    sample: dict[str, Any] = {"impl": impl.name, "mode": mode}
    hold_app = f"{mode}_hold"
    tr = impl.transport
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(PywebioServer(impl, args.outputs))
        sample["startup_rss_kib"] = server.rss_bytes() / 1024
        # imports and lazy set-up only: memory that a larger warm-up frees would be reused by
        # the held sessions, and their cost under-counted
        clients.run(server.port, mode, MEMORY_WARMUP, args.outputs, args.gate, args.timeout, transport=tr)
        clients.run(server.port, hold_app, MEMORY_WARMUP, args.outputs, args.gate, args.timeout, True, tr)
        clients.close_sessions()
        server.settle()
        idle = server.rss_bytes()
        idle_threads = server.threads()
        held = clients.run(
            server.port, hold_app, args.sessions, args.outputs, args.gate, args.timeout, True, tr
        )
        server.settle()
        held_rss = server.rss_bytes()
        sample["memory"] = {
            "idle_rss_kib": idle / 1024,
            "held_rss_kib": held_rss / 1024,
            "held_sessions": held["held"],
            "held_complete": held["complete"],
            "held_bad_examples": held["bad_examples"],
            "idle_threads": idle_threads,
            "held_threads": server.threads(),
            "kib_per_session": (held_rss - idle) / 1024 / held["held"] if held["held"] else None,
        }
        clients.close_sessions()
        server.settle()
        sample["after_close_rss_kib"] = server.rss_bytes() / 1024
        sample["after_close_threads"] = server.threads()  # the held sessions' threads should be gone
        if tr == "http":  # the held sessions live on until they expire: a fresh server for throughput
            stack.close()
            server = stack.enter_context(PywebioServer(impl, args.outputs))
            clients.run(server.port, mode, MEMORY_WARMUP, args.outputs, args.gate, args.timeout, transport=tr)
        if args.warmup_sessions:
            clients.run(
                server.port, mode, args.warmup_sessions, args.outputs, args.gate, args.timeout, transport=tr
            )
        best: dict[str, Any] | None = None
        attempts = 0
        while attempts <= args.retries:
            attempts += 1
            run = throughput_run(server, clients, mode, args)
            if best is None or run["foreign_cpu_s"] < best["foreign_cpu_s"]:
                best = run
            if run["foreign_cpu_s"] / max(run["wall_s"], 1e-9) * 100 <= args.max_other_cpu:
                break
        assert best is not None
        best["attempts"] = attempts
        sample["run"] = best
        sample["log_tail"] = server.log_tail(5) if not best["complete_run"] else ""
    return sample


# summary and verdicts ----------------------------------------------------------------------------


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summary(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, per_impl in results["samples"].items():
        out[mode] = {}
        for name, samples in per_impl.items():
            if not samples:
                continue
            failed = [s["error"] for s in samples if "error" in s]
            samples = [s for s in samples if "error" not in s]
            runs = [s["run"] for s in samples]
            ok = [r for r in runs if r["complete_run"]]
            mem = [
                s["memory"]["kib_per_session"] for s in samples if s["memory"]["kib_per_session"] is not None
            ]
            out[mode][name] = {
                "runs": len(runs) + len(failed),
                "failed": failed,
                "complete_runs": len(ok),
                "sessions_per_s": _stats([r["sessions_per_s"] for r in ok if r["sessions_per_s"]]),
                "outputs_per_s": _stats([r["outputs_per_s"] for r in ok]),
                "kib_per_session": _stats(mem),
                "server_us_per_output": median(
                    [r["server_us_per_output"] for r in ok if r["server_us_per_output"]]
                ),
                "server_cpu_pct": median([100 * r["server_cpu_s"] / r["wall_s"] for r in ok]),
                "client_cpu_pct": median([100 * r["client_cpu_s"] / r["wall_s"] for r in ok]),
                "client_cpu_pct_max": max((r["client_cpu_pct_max"] for r in runs), default=None),
                "foreign_cpu_pct": median([100 * r["foreign_cpu_s"] / r["wall_s"] for r in ok]),
                "first_output_median_ms": median(
                    [1000 * r["first_output_median_s"] for r in ok if r["first_output_median_s"] is not None]
                ),
                "bad_sessions": sum(r["bad"] for r in runs)
                + sum(s["memory"]["held_sessions"] - s["memory"]["held_complete"] for s in samples),
                "bad_examples": [e for r in runs for e in r["bad_examples"]][:3]
                + [e for s in samples for e in s["memory"]["held_bad_examples"]][:2]
                + failed[:1],
                "idle_rss_kib": median([s["memory"]["idle_rss_kib"] for s in samples]),
                "held_threads": median([s["memory"]["held_threads"] for s in samples]),
            }
    return out


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets, computed from this run's medians, for each mode and each backend of ours."""
    out: list[dict[str, Any]] = []

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    for mode, s in results["summary"].items():
        orig = s.get(BASELINE)
        for name in OURS:
            ours = s.get(name)
            if not ours or not orig:
                continue
            speed = ratio(ours["outputs_per_s"]["median"], orig["outputs_per_s"]["median"])
            mem = ratio(ours["kib_per_session"]["median"], orig["kib_per_session"]["median"])
            opened = ratio(ours["sessions_per_s"]["median"], orig["sessions_per_s"]["median"])
            complete = ours["bad_sessions"] == 0 and ours["complete_runs"] == ours["runs"]
            base = {"mode": mode, "impl": name}
            out += [
                {
                    **base,
                    "kind": "target",
                    "what": "outputs_ratio",
                    "value": speed,
                    "value_by_cpu": ratio(orig["server_us_per_output"], ours["server_us_per_output"]),
                    "bar": f">= {SPEED_TARGET:.0f}x",
                    "met": speed is not None and speed >= SPEED_TARGET and complete,
                },
                {
                    **base,
                    "kind": "target",
                    "what": "memory_ratio",
                    "value": mem,
                    "bar": f"<= {MEMORY_TARGET}x",
                    "met": mem is not None and mem <= MEMORY_TARGET and complete,
                },
                {**base, "kind": "info", "what": "sessions_ratio", "value": opened, "bar": "", "met": True},
            ]
    return out


# the run -----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    contenders = pick(args.backends, args.contenders)
    for impl in contenders:
        impl.python()  # make the venv before, not between, measurements
    raise_nofile_limit()
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": {
            "rounds": args.rounds,
            "sessions": args.sessions,
            "outputs": args.outputs,
            "gate": args.gate,
            "client_processes": args.client_processes,
            "warmup_sessions": args.warmup_sessions,
            "memory_warmup_sessions": MEMORY_WARMUP,
            "timeout_s": args.timeout,
            "retries": args.retries,
            "max_foreign_cpu_pct": args.max_other_cpu,
            "modes": args.modes,
            "backends": sorted({c.backend for c in contenders if c.venv is None}, key=BACKENDS.index),
            "speed_target": SPEED_TARGET,
            "memory_target": MEMORY_TARGET,
            "command": "python bench/pywebio_bench.py " + " ".join(args.argv),
        },
        "contenders": [c.info() for c in contenders],
        "reference": REFERENCE,
        "samples": {mode: {c.name: [] for c in contenders} for mode in args.modes},
    }
    results["machine"]["packages"].update(
        {
            d: _version(d)
            for d in (
                "pywebio",
                "tornado",
                "granian",
                "wirecore",
                "psutil",
                "aiohttp",
                "fastapi",
                "uvicorn",
                "flask",
                "werkzeug",
                "django",
            )
        }
    )
    results["machine"]["venvs"] = {ORIG_VENV: list(orig_requirements())}
    started = time.time()
    clients = Clients(args.client_processes)
    try:
        for rnd in range(1, args.rounds + 1):
            for mode in args.modes:
                order = contenders if rnd % 2 else contenders[::-1]  # nobody always goes first
                for impl in order:
                    try:
                        s = measure(impl, mode, clients, args)
                    except Exception as exc:  # one broken contender does not lose the others' numbers
                        log(f"  round {rnd}/{args.rounds} {mode:6s} {impl.name:20s} FAILED: {exc}")
                        results["samples"][mode][impl.name].append(
                            {"impl": impl.name, "mode": mode, "round": rnd, "error": str(exc)}
                        )
                        clients.close_sessions()
                        continue
                    s["round"] = rnd
                    results["samples"][mode][impl.name].append(s)
                    r, m = s["run"], s["memory"]
                    kib = m["kib_per_session"]
                    log(
                        f"  round {rnd}/{args.rounds} {mode:6s} {impl.name:20s} "
                        + (
                            f"{r['sessions_per_s']:7.0f} sessions/s {r['outputs_per_s']:8.0f} outputs/s"
                            if r["complete_run"]
                            else f"INCOMPLETE {r['complete']}/{r['sessions']} {r['bad_examples'][:1]}"
                        )
                        + f"  {'n/a' if kib is None else f'{kib:6.1f}'} KiB/session"
                        + f"  server cpu {r['server_cpu_s'] / r['wall_s']:4.0%}"
                        + f"  clients cpu {r['client_cpu_s'] / r['wall_s']:4.0%}"
                        + f"  other cpu {r['foreign_cpu_s'] / r['wall_s']:4.0%}"
                    )
    finally:
        clients.close()
    results["summary"] = summary(results)
    results["verdicts"] = verdicts(results)
    results["generated"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["elapsed_s"] = time.time() - started
    return results


def print_summary(results: dict[str, Any]) -> None:
    peers = {c["name"]: c.get("peer", BASELINE) for c in results["contenders"]}
    for mode, s in results["summary"].items():
        log(f"{mode} sessions: median over {results['config']['rounds']} round(s)")
        for name, e in s.items():
            o, k, so = e["outputs_per_s"], e["kib_per_session"], e["sessions_per_s"]
            log(
                f"  {name:20s} {so['median'] or 0:7.0f} sessions/s  {o['median'] or 0:8.0f} outputs/s"
                f"  {k['median'] if k['median'] is not None else float('nan'):6.1f} KiB/session"
                f"  server {e['server_us_per_output'] or float('nan'):5.1f} us/output"
                f"  complete {e['complete_runs']}/{e['runs']}"
                + (f"  BAD {e['bad_sessions']}: {e['bad_examples'][:1]}" if e["bad_sessions"] else "")
            )
        for name, e in s.items():  # issue 6: side by side, against the original on the same transport
            peer = s.get(peers.get(name, BASELINE))
            if peer is None or name == peers.get(name, BASELINE) or name in (BASELINE, BASELINE_HTTP):
                continue
            po, pk = peer["outputs_per_s"]["median"], peer["kib_per_session"]["median"]
            o, k = e["outputs_per_s"]["median"], e["kib_per_session"]["median"]
            log(
                f"  {name:20s} vs {peers[name]:18s} outputs/s "
                + (f"{o / po:5.2f}x" if o and po else "  n/a")
                + "  KiB/session "
                + (f"{k / pk:5.2f}x" if k is not None and pk else "  n/a")
            )
    for v in results["verdicts"]:
        value = v["value"]
        shown = "n/a" if value is None else f"{value:.2f}x"
        what = {"outputs_ratio": "outputs/s", "memory_ratio": "KiB/session", "sessions_ratio": "sessions/s"}
        verdict = "" if v["kind"] == "info" else f" ({v['bar']}): {'met' if v['met'] else 'NOT met'}"
        log(f"  {v['mode']:6s} {v['impl']:20s} {what[v['what']]} ours/original = {shown}{verdict}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--report-only", action="store_true", help="only rebuild the chart and the page")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--sessions", type=int, default=200, help="concurrent sessions (default 200)")
    p.add_argument("--outputs", type=int, default=100, help="put_text per session (default 100)")
    p.add_argument("--gate", type=int, default=64, help="most sessions in their handshake at once")
    p.add_argument("--client-processes", type=int, default=2, help="load client processes (default 2)")
    p.add_argument("--warmup-sessions", type=int, default=20, help="sessions of warm-up (default 20)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a run may take (default 120)")
    p.add_argument("--retries", type=int, default=1, help="repeats of a run that other load disturbed")
    p.add_argument(
        "--max-other-cpu",
        type=float,
        default=20.0,
        help="repeat a run when others took more than this %% of a core",
    )
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument(
        "--backends",
        nargs="+",
        choices=BACKENDS,
        help="backends of ours (default: all); the original comes along on tornado for WebSocket ones, "
        "on flask for HTTP ones",
    )
    p.add_argument(
        "--contenders", nargs="+", choices=[c.name for c in CONTENDERS], help="narrow further by name"
    )
    p.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    import pywebio_report

    if args.report_only:
        if not args.results.exists():
            raise SystemExit(f"no results in {args.results}: run without --report-only first")
        results = json.loads(args.results.read_text())
    else:
        log(
            f"pywebio against pywebio 1.8.4: {args.rounds} round(s), {args.sessions} sessions x "
            f"{args.outputs} put_text, modes {' '.join(args.modes)}, {args.client_processes} client process(es)"
        )
        results = run(args)
        write_json(args.results, results)
        print_summary(results)
    for path in pywebio_report.write(results):
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
