"""SSE and WebSocket fan-out: N subscribers on loopback, E events, time until all have all.

For each contender and transport it serves, in interleaved rounds, a fresh granian server (one
worker) is started and:

1. warmed up: a few subscribers connect, receive a few events and leave;
2. its resident memory is read (``before``);
3. N subscribers connect from several client processes (:mod:`fanout_client`); once the server
   reports all N subscribed and a second has passed, its memory is read again (``idle``):
   (idle - before) / N is the memory per connected idle subscriber. (A server that never notices
   subscribers leaving, like the original wesktop's Broadcaster, still counts the warm-up's; they
   are counted as ``stale_subscribers`` and the server's count is read on top of them.)
4. ``POST /publish?n=E`` publishes E events of about 200 bytes; the time from sending that
   request until the last subscriber has its E-th event gives the delivered events per second
   (N * E / time). The CPU used by the client processes and the server meanwhile is recorded.

    python bench/fanout_bench.py --rounds 1 --clients 200     # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import sys
import time
from typing import Any

import fanout_client
import psutil
from common import (
    Contender,
    http_get,
    machine_cpu_seconds,
    median,
    median_pct,
    other_cpu_seconds,
    select,
    write_json,
)

CONTENDERS = [
    Contender("wirecore-rsgi", "wirecore Hub over RSGI", "rsgi", "fanout_wirecore:app"),
    Contender("wirecore-asgi", "wirecore Hub over ASGI", "asgi", "fanout_wirecore:app"),
    Contender(
        "starlette-recipe",
        "Starlette recipe (asyncio.Queue per client + StreamingResponse / send loop)",
        "asgi",
        "fanout_starlette:app",
    ),
    Contender("bare-rsgi", "bare RSGI app (the floor: what granian itself costs)", "rsgi", "fanout_bare_rsgi:app"),
    # the same app source (the documented wesktop API; the Broadcaster is SSE only) on this
    # repository's wesktop over RSGI and on the original from PyPI, which is ASGI only
    Contender(
        "wesktop-broadcaster", "wesktop Broadcaster over RSGI", "rsgi", "fanout_wesktop:app", transports=("sse",)
    ),
    Contender(
        "wesktop-orig-broadcaster",
        "wesktop 0.2.1 Broadcaster, the original (ASGI)",
        "asgi",
        "fanout_wesktop_orig:app",
        venv="wesktop-0.2.1",
        transports=("sse",),
    ),
]
PEER = "starlette-recipe"
TRANSPORTS = ("sse", "ws")

# (contender, over, at least this many times its delivered events/s), on every transport both serve
SPEED_TARGETS = [
    ("wirecore-rsgi", "starlette-recipe", 2.0),
    ("wesktop-broadcaster", "wesktop-orig-broadcaster", 1.7),
]
# (contender, less than this many KiB of server memory per connected idle subscriber)
MEMORY_TARGETS = [("wirecore-rsgi", 16.0)]
# measured on another 2-core machine, SSE
REFERENCE = {
    "starlette-recipe": {"events_per_s": 121_000, "kib_per_client": 46.6},
    "wesktop-orig-broadcaster": {"events_per_s": 141_000, "kib_per_client": 32.0},
}


class Clients:
    """The client processes and the commands sent to all of them at once."""

    def __init__(self, processes: int, engine: str) -> None:
        self._spawn(processes, fanout_client.main, engine)

    def _spawn(self, processes: int, target: Any, *args: Any) -> None:
        """``processes`` client processes running ``target(pipe, *args)``."""
        ctx = multiprocessing.get_context("spawn")
        self.conns = []
        self.procs = []
        for _ in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=target, args=(child, *args), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    def ask(self, cmds: list[tuple[Any, ...]], timeout: float) -> list[dict[str, Any]]:
        for conn, cmd in zip(self.conns, cmds, strict=True):
            conn.send(cmd)
        replies = []
        deadline = time.monotonic() + timeout
        for conn in self.conns:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"a client process did not answer {cmds[0][0]!r} in {timeout}s")
            replies.append(conn.recv())
        return replies

    def all(self, cmd: tuple[Any, ...], timeout: float) -> list[dict[str, Any]]:
        return self.ask([cmd] * len(self.conns), timeout)

    def connect(self, port: int, kind: str, total: int, timeout: float) -> list[dict[str, Any]]:
        n = len(self.conns)
        shares = [total // n + (1 if i < total % n else 0) for i in range(n)]
        return self.ask([("connect", port, kind, k) for k in shares], timeout)

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(p.pid).cpu_times()
                total += t.user + t.system
        return total

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.all(("exit",), 10)
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


def subscribers(port: int) -> int:
    status, body = http_get(port, "/stats")
    return int(json.loads(body)["subscribers"]) if status == 200 else -1


def wait_subscribers(port: int, want: int, timeout: float, still: float | None = None) -> int:
    """Poll the server's count until it is ``want``, ``timeout`` passes or, given ``still``, the
    count has not moved for that many seconds; the last count."""
    deadline = time.monotonic() + timeout
    n = subscribers(port)
    moved = time.monotonic()
    while n != want and time.monotonic() < deadline:
        if still is not None and time.monotonic() - moved >= still:
            break
        time.sleep(0.05)
        last, n = n, subscribers(port)
        if n != last:
            moved = time.monotonic()
    return n


def publish(port: int, n: int, size: int) -> float:
    t0 = time.monotonic()
    status, body = http_get(port, f"/publish?n={n}&size={size}", timeout=120, method="POST")
    if status != 200:
        raise RuntimeError(f"publish failed: {status} {body[:200]!r}")
    return time.monotonic() - t0


def deliver(clients: Clients, port: int, events: int, size: int, timeout: float) -> dict[str, Any]:
    """Arm the clients, publish, wait for every subscriber to have every event."""
    clients.all(("arm", events), 10)
    t0 = time.monotonic()
    publish_s = publish(port, events, size)
    replies = clients.all(("wait", timeout), timeout + 10)
    lasts = [r["last_done"] for r in replies if r["subscribers"]]
    complete = all(r["done"] == r["subscribers"] for r in replies) and bool(lasts)
    elapsed = (max(lasts) - t0) if complete else None
    return {
        "complete": complete,
        "seconds": elapsed,
        "publish_request_s": publish_s,
        "subscribers": sum(r["subscribers"] for r in replies),
        "done": sum(r["done"] for r in replies),
        "min_count": min(r["min_count"] for r in replies),
        "max_count": max(r["max_count"] for r in replies),
        "client_cpu_s": sum(r["cpu_s"] for r in replies),
        "client_cpu_s_per_process": [r["cpu_s"] for r in replies],
        "client_reads": sum(r.get("reads", 0) for r in replies),
    }


def measure(
    contender: Contender,
    transport: str,
    clients: Clients,
    n_clients: int,
    events: int,
    size: int,
    settle: float,
    timeout: float,
    granian_args: tuple[str, ...] = (),
) -> dict[str, Any]:
    with contender.server(ready_path="/stats", extra_args=("--backlog", "4096", *granian_args)) as server:
        port = server.port
        # 1. warm-up: a few subscribers, a few events, then gone
        warm = min(20, n_clients)
        clients.connect(port, transport, warm, timeout)
        wait_subscribers(port, warm, timeout)
        deliver(clients, port, 5, size, timeout)
        clients.all(("close",), 30)
        stale = wait_subscribers(port, 0, 10, still=1.0)
        time.sleep(settle)
        rss_before = server.worker_rss_bytes()
        # 2. connect everyone and let them sit idle
        t0 = time.monotonic()
        replies = clients.connect(port, transport, n_clients, timeout)
        connected = sum(r["connected"] for r in replies)
        failed = sum(r["failed"] for r in replies)
        seen = wait_subscribers(port, stale + connected, timeout) - stale
        connect_s = time.monotonic() - t0
        time.sleep(settle)
        rss_idle = server.worker_rss_bytes()
        # 3. deliver
        cpu_server0 = server.cpu_seconds()
        cpu_clients0 = clients.cpu_seconds()
        busy0, total0 = machine_cpu_seconds()
        result = deliver(clients, port, events, size, timeout)
        busy1, total1 = machine_cpu_seconds()
        server_cpu = server.cpu_seconds() - cpu_server0
        clients_cpu_total = clients.cpu_seconds() - cpu_clients0
        rss_after = server.worker_rss_bytes()
        clients.all(("close",), 30)
    busy = busy1 - busy0
    seconds = result["seconds"]
    result.update(
        {
            "contender": contender.name,
            "transport": transport,
            "clients_requested": n_clients,
            "clients_connected": connected,
            "clients_failed": failed,
            "server_saw": seen,
            "stale_subscribers": stale,
            "connect_s": connect_s,
            "events": events,
            "event_size": size,
            "events_per_s": (result["subscribers"] * events / seconds) if seconds else None,
            "rss_before": rss_before,
            "rss_idle": rss_idle,
            "rss_after_delivery": rss_after,
            "kib_per_client": (rss_idle - rss_before) / 1024 / connected if connected else None,
            "server_cpu_s": server_cpu,
            "client_processes_cpu_s": clients_cpu_total,
            "machine_busy_s": busy,
            "foreign_cpu_s": other_cpu_seconds(busy, server_cpu, clients_cpu_total),
            "machine_wall_cpu_s": total1 - total0,
        }
    )
    return result


def run(
    rounds: int = 3,
    n_clients: int = 1000,
    events: int = 200,
    size: int = 200,
    processes: int = 2,
    client: str = "epoll",
    transports: tuple[str, ...] = TRANSPORTS,
    only: list[str] | None = None,
    settle: float = 1.0,
    timeout: float = 60.0,
    granian_args: tuple[str, ...] = (),
    log: Any = print,
) -> dict[str, Any]:
    contenders = select(CONTENDERS, only)
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {
        c.name: {t: [] for t in transports if t in c.transports} for c in contenders
    }
    started = time.time()
    clients = Clients(processes, client)
    try:
        for rnd in range(1, rounds + 1):
            for transport in transports:
                for c in contenders:
                    if transport not in c.transports:
                        continue
                    s = measure(c, transport, clients, n_clients, events, size, settle, timeout, granian_args)
                    s["round"] = rnd
                    samples[c.name][transport].append(s)
                    secs = s["seconds"]
                    log(
                        f"  round {rnd}/{rounds} {transport:3s} {c.name:24s} "
                        + (
                            f"{s['events_per_s']:9.0f} events/s in {secs:.2f}s"
                            if secs
                            else f"INCOMPLETE ({s['done']}/{s['subscribers']} done, min {s['min_count']})"
                        )
                        + f"  {s['kib_per_client']:.1f} KiB/client"
                        + f"  clients cpu {s['client_cpu_s'] / secs:.0%}" * bool(secs)
                        + f"  server cpu {s['server_cpu_s'] / secs:.0%}" * bool(secs)
                        + f"  other cpu {s['foreign_cpu_s'] / secs:.0%}" * bool(secs)
                        + (
                            f"  {s['subscribers'] * events / s['client_reads']:.1f} events/read"
                            if s["client_reads"]
                            else ""
                        )
                        + (
                            f"  connected {s['clients_connected']}/{n_clients}"
                            if s["clients_connected"] != n_clients
                            else ""
                        )
                        + (f"  ({s['stale_subscribers']} stale)" if s["stale_subscribers"] else "")
                    )
    finally:
        clients.close()
    summary: dict[str, dict[str, Any]] = {}
    for transport in transports:
        summary[transport] = {}
        for c in contenders:
            if transport not in c.transports:
                continue
            runs = samples[c.name][transport]
            ok = [s for s in runs if s["complete"]]
            rates = [s["events_per_s"] for s in ok]
            summary[transport][c.name] = {
                "median_events_per_s": median(rates) if rates else None,
                "min_events_per_s": min(rates) if rates else None,
                "max_events_per_s": max(rates) if rates else None,
                "median_seconds": median([s["seconds"] for s in ok]) if ok else None,
                "median_kib_per_client": median([s["kib_per_client"] for s in runs]),
                "median_client_cpu_pct": median_pct(ok, "client_cpu_s", "seconds"),
                "median_server_cpu_pct": median_pct(ok, "server_cpu_s", "seconds"),
                "median_machine_busy_pct": median_pct(ok, "machine_busy_s", "seconds"),
                "median_foreign_cpu_pct": median_pct(ok, "foreign_cpu_s", "seconds"),
                "incomplete_runs": len(runs) - len(ok),
            }
        peer = summary[transport].get(PEER, {}).get("median_events_per_s")
        for entry in summary[transport].values():
            rate = entry["median_events_per_s"]
            entry["ratio_to_peer"] = rate / peer if rate and peer else None
    return {
        "config": {
            "rounds": rounds,
            "clients": n_clients,
            "events": events,
            "event_size": size,
            "client_processes": processes,
            "client": client,
            "settle_s": settle,
            "granian": " ".join(["--workers 1 --backlog 4096", *granian_args])
            + " (other options at granian's defaults)",
            "peer": PEER,
        },
        "contenders": [{**c.info(), "transports": [t for t in transports if t in c.transports]} for c in contenders],
        "transports": list(transports),
        "samples": samples,
        "summary": summary,
        "verdicts": verdicts(summary),
        "reference": REFERENCE,
        "started": started,
        "elapsed_s": time.time() - started,
    }


def verdicts(summary: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets, on every transport where the contenders they name were measured."""
    out = []
    for transport, entries in summary.items():
        for contender, over, low in SPEED_TARGETS:
            if contender in entries and over in entries:
                a = entries[contender]["median_events_per_s"]
                b = entries[over]["median_events_per_s"]
                value = a / b if a and b else None
                out.append(
                    {
                        "kind": "target",
                        "transport": transport,
                        "what": "events_per_s_ratio",
                        "contender": contender,
                        "over": over,
                        "value": value,
                        "low": low,
                        "met": value is not None and value >= low,
                    }
                )
        for contender, high in MEMORY_TARGETS:
            if contender in entries:
                kib = entries[contender]["median_kib_per_client"]
                out.append(
                    {
                        "kind": "target",
                        "transport": transport,
                        "what": "kib_per_idle_client",
                        "contender": contender,
                        "value": kib,
                        "high": high,
                        "met": kib < high,
                    }
                )
    return out


def print_summary(result: dict[str, Any], log: Any = print) -> None:
    for transport in result["transports"]:
        log(
            f"{transport.upper()} fan-out, {result['config']['clients']} clients x {result['config']['events']} events"
        )
        for name, s in result["summary"][transport].items():
            rate = s["median_events_per_s"]
            log(
                f"  {name:24s} "
                + (
                    f"{rate:9.0f} events/s"
                    + (f"  x{s['ratio_to_peer']:.2f} of the recipe" if s["ratio_to_peer"] else "")
                    if rate
                    else "   no complete run"
                )
                + f"  {s['median_kib_per_client']:.1f} KiB/client"
                + (
                    f"  clients cpu {s['median_client_cpu_pct']:.0f}%  server cpu {s['median_server_cpu_pct']:.0f}%"
                    if rate
                    else ""
                )
            )
    for v in result["verdicts"]:
        if v["what"] == "events_per_s_ratio":
            what, bar = f"{v['contender']} / {v['over']} events/s", f">= {v['low']}"
        else:
            what, bar = f"{v['contender']} KiB per idle subscriber", f"< {v['high']}"
        value = "n/a" if v["value"] is None else f"{v['value']:.2f}"
        log(f"  target {v['transport']:3s} {what} = {value} ({bar}): {'met' if v['met'] else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--events", type=int, default=200)
    p.add_argument("--size", type=int, default=200, help="approximate bytes per event")
    p.add_argument("--processes", type=int, default=2, help="client processes")
    p.add_argument(
        "--client",
        choices=["epoll", "asyncio", "websockets"],
        default="epoll",
        help="client engine (see fanout_client.py)",
    )
    p.add_argument("--transports", nargs="*", default=list(TRANSPORTS), choices=list(TRANSPORTS))
    p.add_argument("--only", nargs="*", help="contender names")
    p.add_argument(
        "--granian-args", default="", help='more granian options for every server, e.g. "--http 1"'
    )
    p.add_argument("--json", help="write the result to this file")
    args = p.parse_args(argv)
    result = run(
        rounds=args.rounds,
        n_clients=args.clients,
        events=args.events,
        size=args.size,
        processes=args.processes,
        client=args.client,
        transports=tuple(args.transports),
        only=args.only,
        granian_args=tuple(args.granian_args.split()),
    )
    print_summary(result)
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
