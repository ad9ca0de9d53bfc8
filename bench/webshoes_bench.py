"""webshoes against the original webshoes 1.0.0: HTTP calls, WebSocket calls, event fan-out.

    python bench/webshoes_bench.py            # full size (about 6 minutes on 2 cores)
    python bench/webshoes_bench.py --quick    # a quick end-to-end check (under a minute)
    python bench/webshoes_bench.py --report-only

Results go to ``bench/results/webshoes.json``, the page to ``docs/benchmarks-webshoes.md``, the
chart to ``docs/img/bench-webshoes.png``. ``nox -s bench_webshoes`` runs the first form.

Both implementations serve the same script, ``bench/apps/webshoes_server.py`` (the README's group
``cmd`` with a plain ``add`` handler, plus ``fire``, which triggers events from a thread): this
repository's webshoes (wirecore on granian) under this Python, the original from PyPI under the
Python of ``bench/.venvs/webshoes-1.0.0`` (``webshoes==1.0.0 propertybag==0.1.9``: propertybag
1.0.1 breaks the original's WebSocket side), which the first run makes.

Two more contenders show the ceiling, what granian itself allows with no framework at all:
``bench/apps/webshoes_bare_rsgi.py``, a bare RSGI app that answers the same messages the same way
with its handlers on the event loop (``bare-rsgi``), and the same app running ``add`` through
wirecore's thread pool as webshoes runs plain handlers (``bare-rsgi-thread``, HTTP and WebSocket
calls only: fan-out calls no handler). They are not targets; the targets compare ours with the
original. ``--contenders`` picks who runs.

Each measurement starts a fresh server; the implementations alternate (A B C D A B C D ...) round
after round:

1. **HTTP calls**: ``wrk -t1 -c64 'http://127.0.0.1:PORT/cmd/add?a=3&b=4'`` after a warm-up.
2. **WebSocket calls**: 64 connections from several client processes (:mod:`webshoes_client`,
   raw sockets in an epoll loop), each sending ``{"cmd":"cmd/add","q":{"a":3,"b":4},"tid":N}``
   and waiting for its reply before the next; round trips per second, and the CPU the clients
   and the server used.
3. **Event fan-out**: 200 subscribers of event ``tick``; the server triggers it 200 times from a
   thread (``{"n": i, "data": "x" * 100}``); the time from the first trigger until every
   subscriber has the last one, and how many of the 200 each received. Run once as it is and once
   with one more subscriber that has stopped reading (its socket buffers filled beforehand by
   large events of its own, ``fill``): the healthy subscribers should not notice it.

``--quick`` checks that everything starts, answers and is measured, and that the report is
written; its numbers are too short-lived to compare, and the page says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
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
import webshoes_client
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

RESULTS = BENCH_DIR / "results" / "webshoes.json"
SERVER_SCRIPT = APPS_DIR / "webshoes_server.py"
BARE_SCRIPT = APPS_DIR / "webshoes_bare_rsgi.py"
ORIG_VENV = "webshoes-1.0.0"
ORIG_REQUIREMENTS = ("webshoes==1.0.0", "propertybag==0.1.9")
BASELINE = "webshoes-orig"
OURS = "webshoes"
BARE = "bare-rsgi"  # the ceiling: no framework, handlers on the loop
BARE_THREAD = "bare-rsgi-thread"  # the same with wirecore's thread hop for the handler
PARTS = ("http", "ws", "fanout")

# (full, quick) defaults of the knobs --quick changes
ROUNDS = (5, 1)
DURATION = (5, 2)
RETRIES = (2, 0)
FANOUT_TIMEOUT = (10.0, 3.0)

# the targets and the original's numbers there (another 2-core machine)
SPEED_TARGET = 2.0  # ours over the original: calls/s (HTTP, WebSocket) and fan-out time
# "costs the others nothing": with the stalled subscriber, every run complete and the median time
# at most this much above the clean one's (a factor, plus a floor for timer and scheduling noise)
STALL_ALLOWANCE = 1.25
STALL_SLACK_S = 0.05
REFERENCE = {"http_calls_per_s": 12_800, "ws_calls_per_s": 14_000, "fanout_s": 0.67}


def log(line: str) -> None:
    print(line, flush=True)


# the contenders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impl:
    name: str
    label: str
    venv: str | None = None
    script: Path = SERVER_SCRIPT
    args: tuple[str, ...] = ()
    parts: tuple[str, ...] = PARTS  # what it is measured on

    def python(self) -> str:
        return sys.executable if self.venv is None else str(orig_python())

    def command(self, port: int) -> list[str]:
        return [self.python(), str(self.script), *self.args, "--port", str(port)]

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "script": self.script.relative_to(BENCH_DIR.parent).as_posix(),
            "args": list(self.args),
            "parts": list(self.parts),
        }
        if self.venv is not None:
            out["venv"] = self.venv
            out["requirements"] = list(ORIG_REQUIREMENTS)
        return out


CONTENDERS = [
    Impl(OURS, "webshoes (this repository: wirecore on granian)"),
    Impl(BASELINE, "webshoes 1.0.0, the original (aiohttp)", venv=ORIG_VENV),
    Impl(BARE, "bare RSGI app on granian (the ceiling: no framework)", script=BARE_SCRIPT),
    Impl(
        BARE_THREAD,
        "bare RSGI app on granian, add in wirecore's thread pool",
        script=BARE_SCRIPT,
        args=("--handlers", "thread"),
        parts=("http", "ws"),
    ),
]


def orig_python(log: Callable[[str], None] = log) -> Path:
    """The Python of ``bench/.venvs/webshoes-1.0.0``, made and filled the first time."""
    env_dir = VENVS_DIR / ORIG_VENV
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    marker = env_dir / ".installed"
    wanted = "\n".join(ORIG_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"installing {' '.join(ORIG_REQUIREMENTS)} into {env_dir} (once)")
    venv.create(env_dir, with_pip=True, clear=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    out = subprocess.run([*pip, *ORIG_REQUIREMENTS], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"pip could not fill {env_dir}:\n{out.stdout}{out.stderr}")
    marker.write_text(wanted)
    return python


def get_json(port: int, path: str, timeout: float = 10.0) -> Any:
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=timeout) as resp:
        return json.loads(resp.read())


@dataclass
class WebshoesServer(ServerProcess):
    """``python <the contender's script> --port N`` in a subprocess of its own."""

    impl: Impl
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    ready_line: str = ""
    _ps: list[psutil.Process] = field(default_factory=list)
    stop_signal = signal.SIGTERM

    def start(self, timeout: float = 30.0) -> WebshoesServer:
        self.port = free_port()
        proc = self._launch(self.impl.command(self.port), "bench-webshoes-")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.impl.name} server exited early:\n{self.log_tail()}")
            ready = [line for line in self.log_text().splitlines() if line.startswith("READY")]
            if ready:
                self.ready_line = ready[0]
                break
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError(
                f"{self.impl.name} server did not print READY in {timeout}s:\n{self.log_tail()}"
            )
        # a fast wrong answer counts for nothing
        answer = get_json(self.port, "/cmd/add?a=3&b=4")
        if answer != {"result": 7}:
            self.stop()
            raise RuntimeError(f"{self.impl.name}: GET /cmd/add?a=3&b=4 answered {answer!r}")
        self._ps = self._tree()
        return self

    def loop_thread_cpu_seconds(self) -> float | None:
        """Not measured here (http_bench.measure asks): the servers do not all run their loop on
        the main thread, and Python does not name its threads for the OS to tell them apart."""
        return None


# the client processes ----------------------------------------------------------------------------


class Clients(ClientPool):
    """The client processes (:mod:`webshoes_client`) and commands sent to several at once."""

    def __init__(self, processes: int) -> None:
        super().__init__(webshoes_client.main, processes)

    def all(self, n: int, cmd: tuple[Any, ...], timeout: float) -> list[dict[str, Any]]:
        return self.ask([cmd] * n, timeout)

    @staticmethod
    def shares(total: int, n: int) -> list[int]:
        return [total // n + (1 if i < total % n else 0) for i in range(n)]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.all(len(self.conns), ("exit",), 10)
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


# 1. HTTP -----------------------------------------------------------------------------------------


def measure_http(
    impl: Impl,
    wrk: str,
    duration: int,
    warmup: int,
    connections: int,
    retries: int,
    max_foreign: float,
    handler: str = "add",
) -> dict[str, Any]:
    from http_bench import measure, run_wrk

    with WebshoesServer(impl) as server:
        url = f"http://{HOST}:{server.port}/cmd/{handler}?a=3&b=4"
        if warmup > 0:
            run_wrk(wrk, url, warmup, connections, 1)
        sample = measure(server, wrk, url, duration, connections, 1, max_foreign, retries)
        sample["server"] = server.ready_line
    sample.pop("loop_thread_cpu_s", None)
    sample["calls_per_s"] = sample.pop("rps")
    return sample


# 2. WebSocket calls ------------------------------------------------------------------------------


def ws_run(server: WebshoesServer, clients: Clients, processes: int, seconds: float) -> dict[str, Any]:
    """Every client process calls for ``seconds`` from the same moment; totals and CPU."""
    cpu_server0 = server.cpu_seconds()
    busy0, _ = machine_cpu_seconds()
    start = time.monotonic() + 0.1
    replies = clients.all(processes, ("call", start, seconds), seconds + 30)
    busy = machine_cpu_seconds()[0] - busy0
    server_cpu = server.cpu_seconds() - cpu_server0
    wall = max(r["wall_s"] for r in replies)
    calls = sum(r["calls"] for r in replies)
    client_cpu = sum(r["cpu_s"] for r in replies)
    # the server's CPU and the machine's are read around the whole command (a little longer than
    # the calls); scale them to the measured window
    span = seconds + 0.1
    return {
        "calls_per_s": sum(r["calls"] / r["wall_s"] for r in replies),
        "calls": calls,
        "errors": sum(r["errors"] for r in replies),
        "lost": sum(r["lost"] for r in replies),
        "wall_s": wall,
        "mean_latency_ms": statistics.fmean(r["mean_latency_ms"] for r in replies if r["mean_latency_ms"]),
        "client_cpu_s": client_cpu,
        "client_cpu_s_per_process": [r["cpu_s"] for r in replies],
        "server_cpu_s": server_cpu * wall / span,
        "machine_busy_s": busy * wall / span,
    }


def measure_ws(
    impl: Impl,
    clients: Clients,
    connections: int,
    processes: int,
    duration: int,
    warmup: int,
    retries: int,
    max_foreign: float,
    handler: str = "add",
) -> dict[str, Any]:
    with WebshoesServer(impl) as server:
        shares = Clients.shares(connections, processes)
        clients.ask([("callers", server.port, k, f"cmd/{handler}") for k in shares], 60)
        checks = clients.all(processes, ("check",), 30)
        bad = [b for r in checks for b in r["bad"]]
        if bad:
            raise RuntimeError(f"{impl.name}: wrong WebSocket replies, e.g. {bad[0]}")
        if warmup > 0:
            ws_run(server, clients, processes, warmup)
        best: dict[str, Any] | None = None
        attempts = 0
        while attempts <= retries:
            attempts += 1
            sample = ws_run(server, clients, processes, duration)
            sample["foreign_cpu_s"] = other_cpu_seconds(
                sample["machine_busy_s"], sample["server_cpu_s"], sample["client_cpu_s"]
            )
            if best is None or sample["foreign_cpu_s"] < best["foreign_cpu_s"]:
                best = sample
            if sample["foreign_cpu_s"] / sample["wall_s"] * 100 <= max_foreign:
                break
        clients.all(processes, ("close",), 30)
    assert best is not None
    best["attempts"] = attempts
    best["connections"] = connections
    best["processes"] = processes
    return best


# 3. event fan-out --------------------------------------------------------------------------------


def fire(
    port: int, count: int, size: int, name: str = "tick", gap_us: int = 0, timeout: float = 60.0
) -> dict[str, Any]:
    """Ask the server to trigger ``name`` ``count`` times from a thread; wait for that thread."""
    started = get_json(port, f"/cmd/fire?count={count}&size={size}&name={name}&gap_us={gap_us}")
    if started != {"started": count}:
        raise RuntimeError(f"fire: {started!r}")
    deadline = time.monotonic() + timeout
    while True:
        fired = get_json(port, "/cmd/fired")
        if not fired["running"]:
            return dict(fired)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server's fire thread did not finish in {timeout}s")
        time.sleep(0.01)


def deliver(
    server: WebshoesServer,
    clients: Clients,
    processes: int,
    events: int,
    size: int,
    timeout: float,
    gap_us: int = 0,
) -> dict[str, Any]:
    """Arm the subscribers, fire, wait until each has the last event (or ``timeout``)."""
    clients.all(processes, ("arm",), 10)
    cpu_server0 = server.cpu_seconds()
    busy0, _ = machine_cpu_seconds()
    t0 = time.monotonic()
    fired = fire(server.port, events, size, gap_us=gap_us)
    replies = clients.all(processes, ("wait", max(0.0, timeout - (time.monotonic() - t0))), timeout + 30)
    busy = machine_cpu_seconds()[0] - busy0
    server_cpu = server.cpu_seconds() - cpu_server0
    last_at = [t for r in replies for t in r["last_at"]]
    counts = [c for r in replies for c in r["counts"]]
    complete = all(t is not None for t in last_at) and bool(last_at)
    seconds = max(last_at) - fired["first"] if complete else None
    window = seconds if seconds else time.monotonic() - t0
    client_cpu = sum(r["cpu_s"] for r in replies)
    return {
        "complete": complete,
        "seconds": seconds,
        "subscribers": len(counts),
        "done": sum(1 for t in last_at if t is not None),
        "trigger_s": fired["last"] - fired["first"],
        "events": events,
        "event_size": size,
        "min_received": min(counts) if counts else 0,
        "median_received": median([float(c) for c in counts]) if counts else 0,
        "max_received": max(counts) if counts else 0,
        "received_total": sum(counts),
        "client_cpu_s": client_cpu,
        "client_reads": sum(r["reads"] for r in replies),
        "server_cpu_s": server_cpu,
        "machine_busy_s": busy,
        "foreign_cpu_s": other_cpu_seconds(busy, server_cpu, client_cpu),
        "window_s": window,
    }


def measure_fanout(
    impl: Impl,
    clients: Clients,
    processes: int,
    subscribers: int,
    events: int,
    size: int,
    stalled: bool,
    fill: tuple[int, int],
    timeout: float,
    gap_us: int = 0,
) -> dict[str, Any]:
    with WebshoesServer(impl) as server:
        port = server.port
        shares = Clients.shares(subscribers, processes)
        t0 = time.monotonic()
        opened = clients.ask([("subscribers", port, k, ["tick"]) for k in shares], 120)
        connect_s = time.monotonic() - t0
        # warm-up: a few events to everyone
        warm = deliver(server, clients, processes, 5, size, 10)
        stall: dict[str, Any] = {}
        slow = None
        if stalled:
            slow = webshoes_client.StalledSubscriber(port, ["tick", "fill"])
            # fill the stalled subscriber's socket buffers (and the server's for it) with events
            # only it wants, as a client that stopped reading a while ago would have them
            n_fill, fill_size = fill
            fire(port, n_fill, fill_size, name="fill")
            time.sleep(0.5)
            stall = {
                "fill_events": n_fill,
                "fill_event_size": fill_size,
                "stalled_rcvbuf": slow.rcvbuf,
                "stalled_unread_bytes_before": slow.unread_bytes(),
            }
        try:
            result = deliver(server, clients, processes, events, size, timeout, gap_us)
            if slow is not None:
                stall["stalled_unread_bytes_after"] = slow.unread_bytes()
        finally:
            clients.all(processes, ("close",), 30)
            if slow is not None:
                slow.close()
        rss = server.rss_bytes()
    result.update(stall)
    result.update(
        {
            "stalled": stalled,
            "subscribers_opened": sum(r["subscribers"] for r in opened),
            "connect_s": connect_s,
            "warmup_complete": warm["complete"],
            "server_rss_after": rss,
        }
    )
    return result


# the run -----------------------------------------------------------------------------------------


def summarize(samples: list[dict[str, Any]], key: str) -> dict[str, Any]:
    values = [s[key] for s in samples if s.get(key) is not None]
    return {
        "median": median(values) if values else None,
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "n": len(values),
    }


def pct(samples: list[dict[str, Any]], key: str, per: str) -> float | None:
    values = [s[key] / s[per] for s in samples if s.get(key) is not None and s.get(per)]
    return 100 * median(values) if values else None


def summary(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"http": {}, "ws": {}, "fanout": {}}
    for part in ("http", "ws"):
        for name, runs in results[part]["samples"].items():
            calls = [s for s in runs if s.get("calls_per_s") is not None]
            if not calls:
                continue
            entry = {
                "calls_per_s": summarize(calls, "calls_per_s"),
                "mean_latency_ms": summarize(calls, "latency_ms" if part == "http" else "mean_latency_ms"),
                "client_cpu_pct": pct(calls, "wrk_cpu_s" if part == "http" else "client_cpu_s", "wall_s"),
                "server_cpu_pct": pct(calls, "server_cpu_s", "wall_s"),
                "foreign_cpu_pct": pct(calls, "foreign_cpu_s", "wall_s"),
                # CPU per call: steadier than calls/s when something else loads the machine
                "server_us_per_call": median(
                    [
                        1e6 * s["server_cpu_s"] / (s["calls_per_s"] * s["wall_s"])
                        for s in calls
                        if s["calls_per_s"]
                    ]
                ),
                "client_us_per_call": median(
                    [
                        1e6
                        * s["wrk_cpu_s" if part == "http" else "client_cpu_s"]
                        / (s["calls_per_s"] * s["wall_s"])
                        for s in calls
                        if s["calls_per_s"]
                    ]
                ),
                "errors": sum(
                    s.get("errors", 0) + s.get("non_2xx", 0) + s.get("socket_errors", 0) for s in calls
                ),
            }
            out[part][name] = entry
    for name, scenarios in results["fanout"]["samples"].items():
        out["fanout"][name] = {}
        for scenario, runs in scenarios.items():
            if not runs:
                continue
            ok = [s for s in runs if s["complete"]]
            out["fanout"][name][scenario] = {
                "seconds": summarize(ok, "seconds"),
                "complete_runs": len(ok),
                "runs": len(runs),
                "received_min": min((s["min_received"] for s in runs), default=None),
                "received_median": median([s["median_received"] for s in runs]) if runs else None,
                "received_max": max((s["max_received"] for s in runs), default=None),
                "events": runs[0]["events"] if runs else None,
                "client_cpu_pct": pct(ok, "client_cpu_s", "seconds"),
                "server_cpu_pct": pct(ok, "server_cpu_s", "seconds"),
                "server_cpu_s": median([s["server_cpu_s"] for s in ok]) if ok else None,
                "trigger_s": median([s["trigger_s"] for s in runs]) if runs else None,
                # pushes delivered (all subscribers together) per second of the run
                "delivered_per_s": median([s["received_total"] / s["seconds"] for s in ok]) if ok else None,
                "server_us_per_push": median(
                    [1e6 * s["server_cpu_s"] / s["received_total"] for s in ok if s["received_total"]]
                )
                if ok
                else None,
            }
    return out


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets, computed from this run's medians."""
    s = results["summary"]
    out: list[dict[str, Any]] = []

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    for part, what in (("http", "HTTP calls/s"), ("ws", "WebSocket round trips/s")):
        ours, orig = s[part].get(OURS), s[part].get(BASELINE)
        if ours and orig:
            value = ratio(ours["calls_per_s"]["median"], orig["calls_per_s"]["median"])
            by_cpu = ratio(orig["server_us_per_call"], ours["server_us_per_call"])
            out.append(
                {
                    "kind": "target",
                    "what": f"{part}_ratio",
                    "label": f"{what}: ours / the original",
                    "value": value,
                    "value_by_cpu": by_cpu,
                    "bar": f">= {SPEED_TARGET:.0f}x",
                    "met": value is not None and value >= SPEED_TARGET,
                }
            )
    fo = s["fanout"]
    ours_clean = fo.get(OURS, {}).get("clean", {})
    orig_clean = fo.get(BASELINE, {}).get("clean", {})
    if ours_clean and orig_clean:
        value = ratio(orig_clean["seconds"]["median"], ours_clean["seconds"]["median"])
        out.append(
            {
                "kind": "target",
                "what": "fanout_speedup",
                "label": "fan-out, time until every subscriber has the last event: the original's / ours",
                "value": value,
                "bar": f">= {SPEED_TARGET:.0f}x",
                "met": value is not None and value >= SPEED_TARGET,
                # the same work? (ours coalesces to the latest version; the original sends all)
                "ours_received_median": ours_clean["received_median"],
                "orig_received_median": orig_clean["received_median"],
                "delivered_per_s_ratio": ratio(ours_clean["delivered_per_s"], orig_clean["delivered_per_s"]),
            }
        )
    ours_stalled = fo.get(OURS, {}).get("stalled", {})
    if ours_clean and ours_stalled:
        clean_s, stalled_s = ours_clean["seconds"]["median"], ours_stalled["seconds"]["median"]
        complete = ours_stalled["complete_runs"] == ours_stalled["runs"]
        out.append(
            {
                "kind": "target",
                "what": "stall_cost",
                "label": "ours, fan-out time with a stalled subscriber / without",
                "value": ratio(stalled_s, clean_s),
                "seconds": [clean_s, stalled_s],
                "bar": f"<= {STALL_ALLOWANCE}x + {1000 * STALL_SLACK_S:.0f} ms, every run complete",
                "met": complete
                and clean_s is not None
                and stalled_s is not None
                and stalled_s <= STALL_ALLOWANCE * clean_s + STALL_SLACK_S,
            }
        )
    for name in (OURS,):
        for scenario in ("clean", "stalled"):
            e = fo.get(name, {}).get(scenario)
            if e:
                out.append(
                    {
                        "kind": "check",
                        "what": f"every_event_{scenario}",
                        "label": f"ours, {scenario}: every healthy subscriber gets every event "
                        "(the original's behaviour)",
                        "value": e["received_min"],
                        "bar": f"= {e['events']} events",
                        "met": e["received_min"] == e["events"],
                    }
                )
    return out


def ceiling(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per measure, each contender's median as a ratio to the original's (the fan-out one: the
    original's time over theirs), beside the target: what granian allows with no framework."""
    s = results["summary"]
    rows: list[dict[str, Any]] = []
    for part, what in (("http", "HTTP calls/s"), ("ws", "WebSocket round trips/s")):
        medians = {name: e["calls_per_s"]["median"] for name, e in s[part].items()}
        orig = medians.get(BASELINE)
        if orig and (BARE in medians or BARE_THREAD in medians):
            ratios = {name: m / orig if m else None for name, m in medians.items() if name != BASELINE}
            rows.append({"what": part, "label": what, "values": medians, "ratios": ratios})
    clean = {name: e["clean"]["seconds"]["median"] for name, e in s["fanout"].items() if e.get("clean")}
    orig = clean.get(BASELINE)
    if orig and BARE in clean:
        ratios = {name: orig / t if t else None for name, t in clean.items() if name != BASELINE}
        rows.append(
            {
                "what": "fanout",
                "label": "fan-out time (healthy subscribers)",
                "values": clean,
                "ratios": ratios,
            }
        )
    for row in rows:
        row["target"] = SPEED_TARGET
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    from http_bench import find_wrk

    def knob(value: Any, defaults: tuple[Any, Any]) -> Any:
        return value if value is not None else defaults[args.quick]

    rounds = knob(args.rounds, ROUNDS)
    duration = knob(args.duration, DURATION)
    retries = knob(args.retries, RETRIES)
    timeout = knob(args.fanout_timeout, FANOUT_TIMEOUT)
    wrk = find_wrk()
    contenders = [c for c in CONTENDERS if c.name in args.contenders]
    for impl in contenders:
        impl.python()  # make the venv before, not between, measurements
    raise_nofile_limit()
    results: dict[str, Any] = {
        "machine": machine_info(),
        "quick": args.quick,
        "config": {
            "rounds": rounds,
            "duration_s": duration,
            "warmup_s": args.warmup,
            "http_connections": args.connections,
            "wrk_threads": 1,
            "ws_connections": args.connections,
            "ws_processes": args.ws_processes,
            "fanout_subscribers": args.subscribers,
            "fanout_events": args.events,
            "fanout_event_size": args.size,
            "fanout_processes": args.fanout_processes,
            "fanout_timeout_s": timeout,
            "fill_events": args.fill_events,
            "fill_event_size": args.fill_size,
            "max_foreign_cpu_pct": args.max_other_cpu,
            "retries": retries,
            "handler": args.handler,
            "parts": args.parts,
            "gap_us": args.gap_us,
            "speed_target": SPEED_TARGET,
            "stall_allowance": STALL_ALLOWANCE,
            "stall_slack_s": STALL_SLACK_S,
        },
        "contenders": [c.info() for c in contenders],
        "reference": REFERENCE,
        "http": {"samples": {c.name: [] for c in contenders if "http" in c.parts}},
        "ws": {"samples": {c.name: [] for c in contenders if "ws" in c.parts}},
        "fanout": {
            "samples": {c.name: {"clean": [], "stalled": []} for c in contenders if "fanout" in c.parts}
        },
    }
    results["machine"]["packages"]["webshoes"] = _version("webshoes")
    results["machine"]["venvs"] = {ORIG_VENV: list(ORIG_REQUIREMENTS)}
    started = time.time()
    clients = Clients(max(args.ws_processes, args.fanout_processes))
    try:
        for rnd in range(1, rounds + 1):
            for impl in taking_part(contenders, "http", args.parts):
                s = measure_http(
                    impl,
                    wrk,
                    duration,
                    args.warmup,
                    args.connections,
                    retries,
                    args.max_other_cpu,
                    args.handler,
                )
                s["round"] = rnd
                results["http"]["samples"][impl.name].append(s)
                log(
                    f"  round {rnd}/{rounds} HTTP      {impl.name:16s} {s['calls_per_s']:9.0f} calls/s"
                    f"  wrk cpu {s['wrk_cpu_s'] / s['wall_s']:4.0%}  server cpu {s['server_cpu_s'] / s['wall_s']:4.0%}"
                    f"  other cpu {s['foreign_cpu_s'] / s['wall_s']:4.0%}"
                    + (
                        f"  ERRORS non2xx={s['non_2xx']} sock={s['socket_errors']}"
                        if s["non_2xx"] or s["socket_errors"]
                        else ""
                    )
                )
            for impl in taking_part(contenders, "ws", args.parts):
                s = measure_ws(
                    impl,
                    clients,
                    args.connections,
                    args.ws_processes,
                    duration,
                    args.warmup,
                    retries,
                    args.max_other_cpu,
                    args.handler,
                )
                s["round"] = rnd
                results["ws"]["samples"][impl.name].append(s)
                log(
                    f"  round {rnd}/{rounds} WebSocket {impl.name:16s} {s['calls_per_s']:9.0f} calls/s"
                    f"  clients cpu {s['client_cpu_s'] / s['wall_s']:4.0%}  server cpu {s['server_cpu_s'] / s['wall_s']:4.0%}"
                    f"  other cpu {s['foreign_cpu_s'] / s['wall_s']:4.0%}"
                    + (f"  ERRORS {s['errors']}" if s["errors"] else "")
                )
            for scenario in ("clean", "stalled") if "fanout" in args.parts else ():
                for impl in taking_part(contenders, "fanout", args.parts):
                    s = measure_fanout(
                        impl,
                        clients,
                        args.fanout_processes,
                        args.subscribers,
                        args.events,
                        args.size,
                        scenario == "stalled",
                        (args.fill_events, args.fill_size),
                        timeout,
                        args.gap_us,
                    )
                    s["round"] = rnd
                    results["fanout"]["samples"][impl.name][scenario].append(s)
                    log(
                        f"  round {rnd}/{rounds} fan-out   {impl.name:16s} {scenario:7s} "
                        + (
                            f"{s['seconds']:7.3f} s"
                            if s["complete"]
                            else f"INCOMPLETE after {timeout:.0f} s ({s['done']}/{s['subscribers']} got the last)"
                        )
                        + f"  received per subscriber {s['min_received']}-{s['max_received']} of {s['events']}"
                        + f"  server cpu {s['server_cpu_s']:.2f} s  clients cpu {s['client_cpu_s']:.2f} s"
                    )
    finally:
        clients.close()
    results["summary"] = summary(results)
    results["verdicts"] = verdicts(results)
    results["ceiling"] = ceiling(results)
    results["generated"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["elapsed_s"] = time.time() - started
    return results


def taking_part(contenders: list[Impl], part: str, parts: list[str]) -> list[Impl]:
    return [c for c in contenders if part in c.parts] if part in parts else []


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def print_summary(results: dict[str, Any]) -> None:
    s = results["summary"]
    for part, what in (("http", "HTTP calls/s"), ("ws", "WebSocket round trips/s")):
        log(what)
        for name, e in s[part].items():
            c = e["calls_per_s"]
            log(
                f"  {name:16s} {c['median']:9.0f}  (range {c['min']:.0f}-{c['max']:.0f})"
                f"  server {e['server_us_per_call']:.1f} us/call, client {e['client_us_per_call']:.1f} us/call"
            )
    log("fan-out: time until every healthy subscriber has the last event")
    for name, scenarios in s["fanout"].items():
        for scenario, e in scenarios.items():
            t = e["seconds"]
            log(
                f"  {name:16s} {scenario:7s} "
                + (
                    f"{t['median']:.3f} s (range {t['min']:.3f}-{t['max']:.3f})"
                    if t["median"] is not None
                    else "never"
                )
                + f"  complete {e['complete_runs']}/{e['runs']}"
                + f"  received {e['received_min']}-{e['received_max']} of {e['events']}"
            )
    for v in results["verdicts"]:
        value = v["value"]
        shown = "n/a" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))
        log(f"  {v['kind']} {v['label']} = {shown} ({v['bar']}): {'met' if v['met'] else 'NOT met'}")
    for row in results.get("ceiling", []):
        shown = ", ".join(f"{name} {r:.2f}x" for name, r in row["ratios"].items() if r is not None)
        log(f"  ratio to the original, {row['label']}: {shown}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 round of 2 s runs, a 3 s fan-out timeout")
    p.add_argument("--report-only", action="store_true", help="only rebuild the chart and the page")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 5)")
    p.add_argument("--duration", type=int, help="seconds per measured run, HTTP and WebSocket (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="seconds of warm-up before each run")
    p.add_argument("--connections", type=int, default=64, help="HTTP and WebSocket connections")
    p.add_argument("--ws-processes", type=int, default=4, help="WebSocket client processes")
    p.add_argument("--retries", type=int, help="repeats of a run that other load disturbed (default 2)")
    p.add_argument(
        "--max-other-cpu",
        type=float,
        default=20.0,
        help="repeat a run when others took more than this %% of a core",
    )
    p.add_argument("--subscribers", type=int, default=200, help="fan-out subscribers")
    p.add_argument("--events", type=int, default=200, help="fan-out events")
    p.add_argument("--size", type=int, default=100, help="characters of padding per event")
    p.add_argument("--fanout-processes", type=int, default=2, help="fan-out client processes")
    p.add_argument("--fanout-timeout", type=float, help="seconds to wait for the last event (default 10)")
    p.add_argument("--fill-events", type=int, default=128, help="events that fill the stalled subscriber")
    p.add_argument("--fill-size", type=int, default=64 * 1024, help="their size, characters")
    p.add_argument(
        "--parts",
        nargs="+",
        choices=["http", "ws", "fanout"],
        default=["http", "ws", "fanout"],
        help="what to measure",
    )
    p.add_argument(
        "--handler",
        choices=["add", "addasync"],
        default="add",
        help="the handler called (addasync: the same as an async def, a diagnostic)",
    )
    p.add_argument(
        "--gap-us", type=int, default=0, help="microseconds between the server's triggers (default 0)"
    )
    p.add_argument(
        "--contenders",
        nargs="+",
        choices=[c.name for c in CONTENDERS],
        default=[c.name for c in CONTENDERS],
        help="who runs (default: all; the targets need webshoes and webshoes-orig)",
    )
    p.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = p.parse_args(argv)

    import webshoes_report

    if args.report_only:
        if not args.results.exists():
            raise SystemExit(f"no results in {args.results}: run without --report-only first")
        results = json.loads(args.results.read_text())
    else:
        log(
            f"webshoes against webshoes 1.0.0: {knob_text(args)}; HTTP wrk -t1 -c{args.connections}, "
            f"WebSocket {args.connections} connections from {args.ws_processes} processes, fan-out "
            f"{args.subscribers} subscribers x {args.events} events"
        )
        results = run(args)
        write_json(args.results, results)
        print_summary(results)
    for path in webshoes_report.write(results):
        log(f"wrote {path}")
    return 0


def knob_text(args: argparse.Namespace) -> str:
    rounds = args.rounds if args.rounds is not None else ROUNDS[args.quick]
    duration = args.duration if args.duration is not None else DURATION[args.quick]
    return f"{rounds} round(s) of {args.warmup}+{duration} s runs" + (" (quick)" if args.quick else "")


if __name__ == "__main__":
    sys.exit(main())
