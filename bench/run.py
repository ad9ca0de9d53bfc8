"""Run the benchmarks and publish them: bench/results/latest.json, charts, docs/benchmarks.md.

    python bench/run.py                   # everything, full size (about 15 minutes on 2 cores)
    python bench/run.py --quick           # a quick end-to-end check of every contender (about 1 minute)
    python bench/run.py --skip-fanout     # HTTP only (the fan-out part of latest.json is kept)
    python bench/run.py --report-only     # rebuild the charts and the page from latest.json

``nox -s bench`` runs the first form. HTTP needs ``wrk`` (Debian: ``apt-get install -y wrk``).
The original wesktop 0.2.1 runs from its own virtual environment, ``bench/.venvs/wesktop-0.2.1``,
which the first run makes (pip, from PyPI).

``--quick`` checks that every contender starts, answers and is measured, and that the report is
written; its numbers are too short-lived to compare, and the page says so.

webshoes against the original webshoes 1.0.0 is a separate script: ``python bench/webshoes_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
from common import BENCH_DIR, machine_info, write_json

RESULTS = BENCH_DIR / "results" / "latest.json"

# (full, quick) defaults of the knobs --quick changes
HTTP_ROUNDS = (5, 1)
DURATION = (5, 1)
RETRIES = (2, 0)
FANOUT_ROUNDS = (3, 1)
CLIENTS = (1000, 500)
EVENTS = (200, 100)
SETTLE = (1.0, 0.3)


def log(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick",
        action="store_true",
        help="1 HTTP round of 1 s runs, 1 fan-out round of 500 subscribers x 100 events",
    )
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--skip-fanout", action="store_true")
    p.add_argument("--report-only", action="store_true", help="only rebuild charts and docs from latest.json")
    p.add_argument("--http-rounds", type=int)
    p.add_argument("--duration", type=int, help="seconds per measured wrk run (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run")
    p.add_argument("--connections", type=int, default=64, help="wrk connections")
    p.add_argument("--retries", type=int, help="repeats of a wrk run that other load disturbed (default 2)")
    p.add_argument("--fanout-rounds", type=int)
    p.add_argument("--clients", type=int, help="fan-out subscribers (default 1000)")
    p.add_argument("--events", type=int, help="fan-out events (default 200)")
    p.add_argument("--processes", type=int, default=2, help="fan-out client processes")
    p.add_argument(
        "--client",
        choices=["epoll", "asyncio", "websockets"],
        default="epoll",
        help="fan-out client engine (see bench/fanout_client.py)",
    )
    p.add_argument("--only", nargs="*", help="contender names, in either benchmark")
    p.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = p.parse_args(argv)

    def knob(value: Any, defaults: tuple[Any, Any]) -> Any:
        return value if value is not None else defaults[args.quick]

    import fanout_bench
    import http_bench

    names = {c.name for c in http_bench.CONTENDERS + fanout_bench.CONTENDERS}
    if args.only and set(args.only) - names:
        p.error(f"no such contender: {' '.join(sorted(set(args.only) - names))}")

    results: dict[str, Any] = {}
    if args.results.exists():
        results = json.loads(args.results.read_text())

    if not args.report_only:
        results["machine"] = machine_info()
        if not args.skip_http:
            rounds, duration = knob(args.http_rounds, HTTP_ROUNDS), knob(args.duration, DURATION)
            only = [n for n in args.only or [] if n in {c.name for c in http_bench.CONTENDERS}]
            if not args.only or only:
                n = len(only) + (http_bench.BASELINE not in only) if only else len(http_bench.CONTENDERS)
                log(
                    f"HTTP: {rounds} round(s) x {n} contenders x {len(http_bench.ROUTES)} routes"
                    f" x {args.warmup}+{duration}s (wrk -t1 -c{args.connections})"
                )
                results["http"] = http_bench.run(
                    rounds,
                    duration,
                    args.warmup,
                    args.connections,
                    only=only,
                    retries=knob(args.retries, RETRIES),
                    log=log,
                )
                http_bench.print_summary(results["http"], log)
                results["http"]["machine"] = results["machine"]
                results["http"]["quick"] = args.quick
                write_json(args.results, results)
        if not args.skip_fanout:
            rounds = knob(args.fanout_rounds, FANOUT_ROUNDS)
            clients, events = knob(args.clients, CLIENTS), knob(args.events, EVENTS)
            only = [n for n in args.only or [] if n in {c.name for c in fanout_bench.CONTENDERS}]
            if not args.only or only:
                log(
                    f"Fan-out: {rounds} round(s), {clients} subscribers x {events} events, "
                    f"{args.processes} client processes"
                )
                results["fanout"] = fanout_bench.run(
                    rounds,
                    clients,
                    events,
                    processes=args.processes,
                    client=args.client,
                    only=only,
                    settle=knob(None, SETTLE),
                    log=log,
                )
                fanout_bench.print_summary(results["fanout"], log)
                results["fanout"]["machine"] = results["machine"]
                results["fanout"]["quick"] = args.quick
                write_json(args.results, results)
        results["generated"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        write_json(args.results, results)

    if not results:
        raise SystemExit(f"no results in {args.results}: run without --report-only first")
    written = report.write(results)
    for path in written:
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
