"""Scale-out: SSE fan-out to 1,000 clients over 2 granian workers and the Redis backplane,
against 1 worker with the in-process hub, side by side in one run.

    python bench/scaleout_bench.py            # full size (about a minute on 2 cores)
    python bench/scaleout_bench.py --quick    # a quick end-to-end check (about 15 seconds)
    python bench/scaleout_bench.py --report-only

Results go to ``bench/results/scaleout.json``; at the end the benchmark page is rebuilt
(``bench/report.py``: docs/benchmarks.md gets a "Scale-out" section and docs/img/bench-scaleout.png,
the rest of the page still comes from ``bench/results/latest.json``). ``nox -s bench_scaleout``
runs the first form. Needs ``redis-server`` (Debian: ``apt-get install -y redis-server``), which
the benchmark starts itself on a free port (no persistence), and the ``redis`` package.

Every configuration serves the same app, ``bench/apps/scaleout_app.py`` (a wirecore ``Hub``, SSE
subscribers of one topic), on ``granian --interface rsgi --workers N --backlog 4096 --http 1``,
what ``wirecore.serve("scaleout_app:app", workers=N)`` runs:

- ``1w-inproc``: 1 worker, the default in-process hub (no Redis): the baseline;
- ``2w-redis``: 2 workers with ``WIRECORE_REDIS_URL`` set, so every hub uses the Redis backplane;
- ``1w-redis``: 1 worker with the Redis backplane: the cost of the Redis hop alone.

The configurations alternate (A B C A B C ...), each measurement on a fresh server:

1. N subscribers connect from several client processes (:mod:`scaleout_client`); each stream
   starts with the pid of the worker that holds it, and the clients spread themselves evenly over
   the workers (a connection landing on a worker that has its share is made again).
2. **sync**: 3 events, which every subscriber must receive (proves the path through Redis works
   for the clients of every worker before anything is timed).
3. **burst**: ``POST /publish?n=E`` makes the worker that gets it publish E events of about 200
   bytes in a loop; the time from sending that request until the last subscriber has its E-th
   event gives the delivered events per second (N x E / time).
4. **paced**: ``POST /publish?n=P&rate=R``: the worker that gets it publishes P events at R per
   second from a background task. Each event carries the publisher's ``time.time()``; every
   client subtracts it from ``time.time()`` after the read that brought the event:
   publish-to-receive latency, p50 and p99 over every (subscriber, event). With 2 workers one of
   them publishes, so the other's clients get each event only through Redis (with the Redis
   backplane, the publisher's own clients get it through Redis too: the hub delivers its own
   messages only via the backplane, so that every process sees one order per topic).

The burst's latencies are reported too: there they measure how long the backlog of a burst takes
to drain, not the path of one event.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
import scaleout_client
from common import (
    BENCH_DIR,
    HOST,
    GranianServer,
    free_port,
    http_get,
    machine_cpu_seconds,
    machine_info,
    median,
    other_cpu_seconds,
    write_json,
)
from fanout_bench import Clients as FanoutClients

RESULTS = BENCH_DIR / "results" / "scaleout.json"
LATEST = BENCH_DIR / "results" / "latest.json"
TARGET = "scaleout_app:app"
QUEUE = 4096  # the app's queue bound per subscriber (bench/apps/scaleout_app.py)
GRANIAN_ARGS = ("--backlog", "4096", "--http", "1")  # wirecore.serve's defaults
REDIS_ENV = "WIRECORE_REDIS_URL"

# (full, quick) defaults of the knobs --quick changes
ROUNDS = (3, 1)
BURST = (1000, 200)
PACED = (200, 100)


@dataclass(frozen=True)
class Config:
    name: str
    label: str
    workers: int
    redis: bool


CONFIGS = [
    Config("1w-inproc", "1 worker, in-process hub (no Redis)", 1, False),
    Config("2w-redis", "2 workers, Redis backplane", 2, True),
    Config("1w-redis", "1 worker, Redis backplane", 1, True),
]
BASELINE = "1w-inproc"
SCALED = "2w-redis"


def log(line: str) -> None:
    print(line, flush=True)


# Redis ------------------------------------------------------------------------------------------


def _resp(port: int, *args: str, timeout: float = 1.0) -> bytes:
    """One Redis command over a plain socket (no client library in the coordinator)."""
    cmd = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(cmd.encode())
        out = b""
        while not out.endswith(b"\r\n") or (out.startswith(b"$") and out.count(b"\r\n") < 2):
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


class RedisServer:
    """``redis-server`` on a free loopback port, without persistence, for the run."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise SystemExit("redis-server is missing: apt-get install -y redis-server (Debian)")
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None
        self.version = ""

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> RedisServer:
        self.port = free_port()
        assert self.binary is not None
        args = ["--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [self.binary, *args, "--daemonize", "no", "--loglevel", "warning"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited at start")
            try:
                if _resp(self.port, "PING").startswith(b"+PONG"):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("redis-server did not answer PING in 10 s")
        self.ps = psutil.Process(self.proc.pid)
        info = _resp(self.port, "INFO", "server").decode(errors="replace")
        for line in info.splitlines():
            if line.startswith("redis_version:"):
                self.version = line.split(":", 1)[1].strip()
        return self

    def cpu_seconds(self) -> float:
        if self.ps is None:
            return 0.0
        with contextlib.suppress(psutil.Error):
            t = self.ps.cpu_times()
            return t.user + t.system
        return 0.0

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# the server -------------------------------------------------------------------------------------


@dataclass
class WorkersServer(GranianServer):
    """:class:`common.GranianServer` with N workers (granian's own multi-process server)."""

    workers: int = 1

    def command(self) -> list[str]:
        cmd = super().command()
        cmd[cmd.index("--workers") + 1] = str(self.workers)
        return cmd


@contextlib.contextmanager
def environ(name: str, value: str | None) -> Iterator[None]:
    """``os.environ[name]`` set to ``value`` (or removed, for None) inside the block."""
    old = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def stats(port: int) -> dict[str, Any]:
    status, body = http_get(port, "/stats")
    if status != 200:
        raise RuntimeError(f"/stats answered {status}")
    return dict(json.loads(body))


def worker_stats(port: int, workers: int, timeout: float = 20.0) -> dict[int, dict[str, Any]]:
    """``/stats`` of every worker (each request is a new connection; the kernel picks the worker)."""
    seen: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < workers and time.monotonic() < deadline:
        with contextlib.suppress(OSError, RuntimeError):
            s = stats(port)
            seen[s["pid"]] = s
    if len(seen) < workers:
        raise RuntimeError(f"saw {len(seen)} of {workers} workers answer in {timeout}s")
    return seen


# the clients ------------------------------------------------------------------------------------


class Clients(FanoutClients):
    """The fan-out benchmark's client processes, running the scale-out client."""

    def __init__(self, processes: int) -> None:
        self._spawn(processes, scaleout_client.main)

    def connect(self, port: int, total: int, workers: int, timeout: float) -> list[dict[str, Any]]:  # type: ignore[override]
        n = len(self.conns)
        shares = [total // n + (1 if i < total % n else 0) for i in range(n)]
        return self.ask([("connect", port, k, workers) for k in shares], timeout)


# measuring --------------------------------------------------------------------------------------


def percentiles(values: Any) -> dict[str, float | None]:
    import numpy as np

    if len(values) == 0:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None, "samples": 0}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "max_ms": float(np.max(values)),
        "samples": len(values),
    }


def deliver(
    clients: Clients,
    server: WorkersServer,
    redis: RedisServer | None,
    events: int,
    size: int,
    rate: float,
    timeout: float,
) -> dict[str, Any]:
    """Arm the clients, have one worker publish, wait for every subscriber to have every event."""
    import numpy as np

    port = server.port
    clients.all(("arm", events), 10)
    cpu_server0, cpu_clients0 = server.cpu_seconds(), clients.cpu_seconds()
    cpu_redis0 = redis.cpu_seconds() if redis is not None else 0.0
    busy0, _ = machine_cpu_seconds()
    t0 = time.monotonic()
    status, body = http_get(port, f"/publish?n={events}&size={size}&rate={rate}", timeout=120, method="POST")
    publish_s = time.monotonic() - t0
    if status != 200:
        raise RuntimeError(f"publish failed: {status} {body[:200]!r}")
    publisher = int(json.loads(body)["pid"])
    replies = clients.all(("wait", timeout), timeout + 30)
    busy1, _ = machine_cpu_seconds()
    server_cpu = server.cpu_seconds() - cpu_server0
    clients_cpu = clients.cpu_seconds() - cpu_clients0
    redis_cpu = (redis.cpu_seconds() - cpu_redis0) if redis is not None else 0.0
    lasts = [r["last_done"] for r in replies if r["subscribers"]]
    complete = all(r["done"] == r["subscribers"] for r in replies) and bool(lasts)
    seconds = (max(lasts) - t0) if complete else None
    subscribers = sum(r["subscribers"] for r in replies)
    by_pid: dict[int, list[Any]] = {}
    for r in replies:
        for pid, raw in r["latencies_ms"].items():
            by_pid.setdefault(int(pid), []).append(np.frombuffer(raw, dtype=np.float64))
    merged = {pid: np.concatenate(parts) for pid, parts in by_pid.items()}
    everything = np.concatenate(list(merged.values())) if merged else np.empty(0)
    own = merged.get(publisher, np.empty(0))
    others = [v for pid, v in merged.items() if pid != publisher]
    other = np.concatenate(others) if others else np.empty(0)
    busy = busy1 - busy0
    wall = (time.monotonic() - t0) if seconds is None else seconds
    return {
        "complete": complete,
        "seconds": seconds,
        "events": events,
        "rate": rate,
        "publish_request_s": publish_s,
        "publisher_pid": publisher,
        "subscribers": subscribers,
        "done": sum(r["done"] for r in replies),
        "min_count": min(r["min_count"] for r in replies),
        "max_count": max(r["max_count"] for r in replies),
        "events_per_s": (subscribers * events / seconds) if seconds else None,
        "latency": percentiles(everything),
        "latency_publisher_worker": percentiles(own),
        "latency_other_workers": percentiles(other),
        "client_reads": sum(r["reads"] for r in replies),
        "client_cpu_s": sum(r["cpu_s"] for r in replies),
        "server_cpu_s": server_cpu,
        "redis_cpu_s": redis_cpu,
        "client_processes_cpu_s": clients_cpu,
        "machine_busy_s": busy,
        "foreign_cpu_s": other_cpu_seconds(busy, server_cpu, clients_cpu, redis_cpu),
        "wall_s": wall,
    }


def measure(
    cfg: Config,
    clients: Clients,
    redis: RedisServer,
    n_clients: int,
    burst: int,
    paced: int,
    rate: float,
    size: int,
    timeout: float,
) -> dict[str, Any]:
    server = WorkersServer(TARGET, "rsgi", ready_path="/stats", extra_args=GRANIAN_ARGS, workers=cfg.workers)
    with environ(REDIS_ENV, redis.url if cfg.redis else None):
        server.start()
    try:
        port = server.port
        workers = worker_stats(port, cfg.workers)
        server._ps = server._tree()  # every worker, now that all answer
        for pid, s in workers.items():
            want = "RedisBackplane" if cfg.redis else "InProcessBackplane"
            if s["backplane"] != want:
                raise RuntimeError(f"worker {pid} uses {s['backplane']}, not {want}")
        rss_before = server.worker_rss_bytes()
        t0 = time.monotonic()
        replies = clients.connect(port, n_clients, cfg.workers, timeout)
        connect_s = time.monotonic() - t0
        per_worker: dict[int, int] = {}
        for r in replies:
            for pid, k in r["per_worker"].items():
                per_worker[int(pid)] = per_worker.get(int(pid), 0) + k
        connected = sum(r["connected"] for r in replies)
        rss_idle = server.worker_rss_bytes()
        sync = deliver(clients, server, redis if cfg.redis else None, 3, 200, 0, timeout)
        if not sync["complete"]:
            raise RuntimeError(
                f"{cfg.name}: the sync events did not reach every subscriber "
                f"({sync['done']}/{sync['subscribers']}, min {sync['min_count']})"
            )
        burst_r = deliver(clients, server, redis if cfg.redis else None, burst, size, 0, timeout)
        paced_r = deliver(clients, server, redis if cfg.redis else None, paced, size, rate, timeout)
        after = {pid: s.get("backplane_stats") for pid, s in worker_stats(port, cfg.workers).items()}
        clients.all(("close",), 30)
    finally:
        server.stop()
    return {
        "config": cfg.name,
        "workers": cfg.workers,
        "redis": cfg.redis,
        "clients_requested": n_clients,
        "clients_connected": connected,
        "clients_failed": sum(r["failed"] for r in replies),
        "clients_reconnected_to_balance": sum(r["reconnected"] for r in replies),
        "clients_per_worker": sorted(per_worker.values(), reverse=True),
        "connect_s": connect_s,
        "kib_per_client": (rss_idle - rss_before) / 1024 / connected if connected else None,
        "burst": burst_r,
        "paced": paced_r,
        "backplane_stats": list(after.values()),
    }


def _describe(s: dict[str, Any]) -> str:
    b, p = s["burst"], s["paced"]
    out = f"clients {'/'.join(map(str, s['clients_per_worker']))}  "
    if b["seconds"]:
        out += f"burst {b['events_per_s']:9.0f} events/s in {b['seconds']:.2f}s "
        out += f"(server cpu {b['server_cpu_s'] / b['seconds']:.0%}, "
        out += f"redis {b['redis_cpu_s'] / b['seconds']:.0%}, "
        out += f"clients {b['client_processes_cpu_s'] / b['seconds']:.0%})  "
    else:
        out += f"burst INCOMPLETE ({b['done']}/{b['subscribers']} done, min {b['min_count']})  "
    lat = p["latency"]
    if p["complete"] and lat["p50_ms"] is not None:
        out += f"paced p50 {lat['p50_ms']:.2f} ms p99 {lat['p99_ms']:.2f} ms"
    else:
        out += f"paced INCOMPLETE ({p['done']}/{p['subscribers']} done, min {p['min_count']})"
    return out


def run(
    rounds: int,
    n_clients: int,
    burst: int,
    paced: int,
    rate: float,
    size: int = 200,
    processes: int = 2,
    only: list[str] | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    configs = [c for c in CONFIGS if not only or c.name in only]
    samples: dict[str, list[dict[str, Any]]] = {c.name: [] for c in configs}
    started = time.time()
    redis = RedisServer().start()
    clients = Clients(processes)
    try:
        for rnd in range(1, rounds + 1):
            for cfg in configs:
                s = measure(cfg, clients, redis, n_clients, burst, paced, rate, size, timeout)
                s["round"] = rnd
                samples[cfg.name].append(s)
                log(f"  round {rnd}/{rounds} {cfg.name:10s} {_describe(s)}")
    finally:
        clients.close()
        redis.stop()
    summary = {c.name: summarize(samples[c.name]) for c in configs}
    base = summary.get(BASELINE, {}).get("median_events_per_s")
    for entry in summary.values():
        rate_ = entry["median_events_per_s"]
        entry["ratio_to_baseline"] = rate_ / base if rate_ and base else None
    from importlib.metadata import PackageNotFoundError, version

    redis_py = ""
    with contextlib.suppress(PackageNotFoundError):
        redis_py = version("redis")
    machine = machine_info()
    machine["redis_server"] = redis.version
    machine["packages"]["redis"] = redis_py
    return {
        "config": {
            "rounds": rounds,
            "clients": n_clients,
            "burst_events": burst,
            "paced_events": paced,
            "paced_rate": rate,
            "event_size": size,
            "queue": QUEUE,
            "client_processes": processes,
            "granian": f"granian --interface rsgi --workers N {' '.join(GRANIAN_ARGS)}",
            "baseline": BASELINE,
            "scaled": SCALED,
        },
        "configs": [
            {"name": c.name, "label": c.label, "workers": c.workers, "redis": c.redis} for c in configs
        ],
        "samples": samples,
        "summary": summary,
        "machine": machine,
        "started": started,
        "elapsed_s": time.time() - started,
        "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def _med(runs: list[dict[str, Any]], *path: str) -> float | None:
    values = []
    for r in runs:
        v: Any = r
        for key in path:
            v = v.get(key) if isinstance(v, dict) else None
        if v is not None:
            values.append(float(v))
    return median(values) if values else None


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [s for s in runs if s["burst"]["complete"]]
    paced_ok = [s for s in runs if s["paced"]["complete"]]
    rates = [s["burst"]["events_per_s"] for s in ok]

    def pct(key: str) -> float | None:
        values = [s["burst"][key] / s["burst"]["seconds"] for s in ok]
        return 100 * median(values) if values else None

    return {
        "median_events_per_s": median(rates) if rates else None,
        "min_events_per_s": min(rates) if rates else None,
        "max_events_per_s": max(rates) if rates else None,
        "median_burst_seconds": _med(ok, "burst", "seconds"),
        "burst_latency_p50_ms": _med(ok, "burst", "latency", "p50_ms"),
        "burst_latency_p99_ms": _med(ok, "burst", "latency", "p99_ms"),
        "paced_latency_p50_ms": _med(paced_ok, "paced", "latency", "p50_ms"),
        "paced_latency_p90_ms": _med(paced_ok, "paced", "latency", "p90_ms"),
        "paced_latency_p99_ms": _med(paced_ok, "paced", "latency", "p99_ms"),
        "paced_latency_max_ms": _med(paced_ok, "paced", "latency", "max_ms"),
        "paced_latency_publisher_worker_p50_ms": _med(
            paced_ok, "paced", "latency_publisher_worker", "p50_ms"
        ),
        "paced_latency_publisher_worker_p99_ms": _med(
            paced_ok, "paced", "latency_publisher_worker", "p99_ms"
        ),
        "paced_latency_other_workers_p50_ms": _med(paced_ok, "paced", "latency_other_workers", "p50_ms"),
        "paced_latency_other_workers_p99_ms": _med(paced_ok, "paced", "latency_other_workers", "p99_ms"),
        "median_server_cpu_pct": pct("server_cpu_s"),
        "median_redis_cpu_pct": pct("redis_cpu_s"),
        "median_client_cpu_pct": pct("client_processes_cpu_s"),
        "median_foreign_cpu_pct": pct("foreign_cpu_s"),
        "median_kib_per_client": _med(runs, "kib_per_client"),
        "clients_per_worker": runs[-1]["clients_per_worker"] if runs else [],
        "incomplete_runs": len(runs) - len(ok),
        "incomplete_paced_runs": len(runs) - len(paced_ok),
    }


def print_summary(result: dict[str, Any]) -> None:
    cfg = result["config"]
    log(
        f"SSE fan-out, {cfg['clients']} clients: burst of {cfg['burst_events']} events, "
        f"{cfg['paced_events']} paced at {cfg['paced_rate']:g}/s"
    )
    for name, s in result["summary"].items():
        rate = s["median_events_per_s"]
        ratio = s["ratio_to_baseline"]
        p50, p99 = s["paced_latency_p50_ms"], s["paced_latency_p99_ms"]
        log(
            f"  {name:10s} "
            + (f"{rate:9.0f} events/s" if rate else "   no complete run")
            + (f"  x{ratio:.2f} of {BASELINE}" if ratio else "")
            + (
                f"  paced latency p50 {p50:.2f} ms  p99 {p99:.2f} ms"
                if p50 is not None and p99 is not None
                else ""
            )
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 round, a burst of 200 events, 100 paced events")
    p.add_argument("--report-only", action="store_true", help="only rebuild the page from the results")
    p.add_argument("--rounds", type=int)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--burst", type=int, help="events in the burst (default 1000)")
    p.add_argument("--paced", type=int, help="events published at --rate (default 200)")
    p.add_argument("--rate", type=float, default=50.0, help="paced events per second")
    p.add_argument("--size", type=int, default=200, help="approximate bytes per event")
    p.add_argument("--processes", type=int, default=2, help="client processes")
    p.add_argument("--only", nargs="*", choices=[c.name for c in CONFIGS], help="configurations")
    p.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = p.parse_args(argv)

    if not args.report_only:
        try:
            import redis  # noqa: F401
        except ImportError:
            raise SystemExit("the redis package is missing: pip install -r bench/requirements.txt") from None

        def knob(value: Any, defaults: tuple[Any, Any]) -> Any:
            return value if value is not None else defaults[args.quick]

        rounds = knob(args.rounds, ROUNDS)
        if max(knob(args.burst, BURST), knob(args.paced, PACED)) > QUEUE:
            p.error(f"at most {QUEUE} events per burst: the app's queue bound")
        log(
            f"Scale-out: {rounds} round(s) x {len(args.only or CONFIGS)} configurations, {args.clients} SSE "
            f"clients, {args.processes} client processes"
        )
        result = run(
            rounds,
            args.clients,
            knob(args.burst, BURST),
            knob(args.paced, PACED),
            args.rate,
            args.size,
            args.processes,
            args.only,
        )
        result["quick"] = args.quick
        print_summary(result)
        write_json(args.results, result)
        log(f"wrote {args.results}")
    elif not args.results.exists():
        raise SystemExit(f"no results in {args.results}: run without --report-only first")
    return rebuild_report()


def rebuild_report() -> int:
    """Rebuild docs/benchmarks.md (and its charts) with bench/report.py, scale-out section included."""
    import report

    if not LATEST.exists():
        log(f"{LATEST} is missing, so docs/benchmarks.md is not rebuilt: run bench/run.py first")
        return 0
    for path in report.write(json.loads(LATEST.read_text())):
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
