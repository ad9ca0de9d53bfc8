"""Charts (docs/img/bench-*.png) and docs/benchmarks.md from the benchmark results.

python bench/report.py [bench/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from common import BENCH_DIR, REPO_ROOT

DOCS = REPO_ROOT / "docs"
IMG = DOCS / "img"
PAGE = DOCS / "benchmarks.md"
HTTP_PNG = IMG / "bench-http.png"
FANOUT_PNG = IMG / "bench-fanout.png"
SCALEOUT_PNG = IMG / "bench-scaleout.png"
SCALEOUT_JSON = BENCH_DIR / "results" / "scaleout.json"

COLORS = {
    "bare-asgi": "#9e9e9e",
    "bare-rsgi": "#616161",
    "wirecore-rsgi": "#1565c0",
    "wirecore-asgi": "#64b5f6",
    "starlette": "#ef6c00",
    "litestar": "#8e24aa",
    "starlette-recipe": "#ef6c00",
    "wesktop": "#2e7d32",
    "wesktop-orig": "#a5d6a7",
    "wesktop-broadcaster": "#2e7d32",
    "wesktop-orig-broadcaster": "#a5d6a7",
}
FANOUT_COLORS = {**COLORS, "bare-rsgi": "#9e9e9e"}
# contenders reported in the wesktop section (and left out of the wirecore targets)
WESKTOP_HTTP = ("wesktop", "wesktop-orig")
WESKTOP_FANOUT = ("wesktop-broadcaster", "wesktop-orig-broadcaster")
WESKTOP_PEERS = ("starlette", "bare-asgi")  # shown next to wesktop in its section


# formatting -------------------------------------------------------------------------------------


def _num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def _ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f}%"


def _us(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:.1f} µs"


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _labels(part: dict[str, Any]) -> dict[str, str]:
    """Contender name -> label, as the results file has them."""
    return {c["name"]: c["label"] for c in part["contenders"]}


def _short(label: str) -> str:
    """A label without its parenthesis: "bare ASGI callable (baseline)" -> "bare ASGI callable"."""
    return label.split(" (")[0]


def _rounds(n: int) -> str:
    return f"{n} interleaved round{'s' * (n != 1)}"


def _vs_bar(value: float | None, bar: float) -> str:
    """A ratio against its bar, with a third decimal where two would make it look equal to the bar."""
    if value is None:
        return "n/a"
    return f"{value:.3f}x" if f"{value:.2f}" == f"{bar:.2f}" else f"{value:.2f}x"


def _is_point(v: dict[str, Any]) -> bool:
    """A reference that is one value rather than a range."""
    return v["low"] == v["high"]


# charts -----------------------------------------------------------------------------------------


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def http_chart(http: dict[str, Any], path: Path) -> None:
    plt = _plt()
    contenders = [c["name"] for c in http["contenders"]]
    labels = _labels(http)
    routes = http["routes"]
    fig, ax = plt.subplots(figsize=(max(9.0, 1.4 * len(contenders)), 4.6), dpi=110)
    width = 0.8 / len(routes)
    hatches = ["", "//"]
    for j, route in enumerate(routes):
        s = http["summary"][route["name"]]
        xs = [i + (j - (len(routes) - 1) / 2) * width for i in range(len(contenders))]
        med = [s[c]["median_rps"] for c in contenders]
        lo = [m - s[c]["min_rps"] for m, c in zip(med, contenders, strict=True)]
        hi = [s[c]["max_rps"] - m for m, c in zip(med, contenders, strict=True)]
        bars = ax.bar(
            xs,
            med,
            width,
            yerr=[lo, hi],
            capsize=3,
            label=f"GET {route['path']}",
            color=[COLORS.get(c, "#999") for c in contenders],
            hatch=hatches[j % 2],
            edgecolor="white",
            linewidth=0.5,
        )
        for bar, c in zip(bars, contenders, strict=True):
            r = s[c]["ratio_to_baseline"]
            ax.annotate(
                f"{r:.2f}x",
                (bar.get_x() + bar.get_width() / 2, s[c]["max_rps"]),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xticks(range(len(contenders)))
    ax.set_xticklabels([labels[c].replace(" (", "\n(").replace(", ", ",\n") for c in contenders], fontsize=8)
    ax.set_ylabel("requests/s (median; bars: min-max)")
    cfg = http["config"]
    ax.set_title(
        f"HTTP on granian, 1 worker: medians of {_rounds(cfg['rounds'])}"
        f" (x = ratio to the bare ASGI callable)",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def fanout_chart(fanout: dict[str, Any], path: Path) -> None:
    plt = _plt()
    transports = fanout["transports"]
    all_contenders = [c["name"] for c in fanout["contenders"]]
    cfg = fanout["config"]
    memory_targets = {v["high"] for v in fanout["verdicts"] if v["what"] == "kib_per_idle_client"}
    fig, axes = plt.subplots(1, len(transports) + 1, figsize=(4.5 * (len(transports) + 1), 4.4), dpi=110)
    for ax, transport in zip(axes, transports, strict=False):
        summary = fanout["summary"][transport]
        contenders = [c for c in all_contenders if c in summary]
        rates = [(summary[c]["median_events_per_s"] or 0) / 1000 for c in contenders]
        colors = [FANOUT_COLORS.get(c, "#999") for c in contenders]
        bars = ax.bar(range(len(contenders)), rates, 0.7, color=colors)
        for bar, c in zip(bars, contenders, strict=True):
            r = summary[c]["ratio_to_peer"]
            if r is not None:
                ax.annotate(
                    f"{r:.1f}x",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
        ax.set_xticks(range(len(contenders)))
        ax.set_xticklabels(contenders, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel("delivered events/s, thousands")
        ax.set_title(f"{transport.upper()}: events/s (x = ratio to the recipe)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    ax = axes[-1]
    width = 0.8 / len(all_contenders)
    for i, c in enumerate(all_contenders):
        ts = [t for t, transport in enumerate(transports) if c in fanout["summary"][transport]]
        xs = [t + (i - (len(all_contenders) - 1) / 2) * width for t in ts]
        kib = [fanout["summary"][transports[t]][c]["median_kib_per_client"] or 0 for t in ts]
        bars = ax.bar(xs, kib, width, label=c, color=FANOUT_COLORS.get(c, "#999"))
        for bar, k in zip(bars, kib, strict=True):
            ax.annotate(
                f"{k:.0f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
    for kib in sorted(memory_targets):
        ax.axhline(kib, color="#c62828", linestyle="--", linewidth=1, label=f"target: {kib:.0f} KiB")
    ax.set_xticks(range(len(transports)))
    ax.set_xticklabels([t.upper() for t in transports])
    ax.set_ylabel("KiB per connected idle subscriber")
    ax.set_title("server memory per subscriber (RSS delta / N)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.suptitle(
        f"Fan-out on granian, 1 worker: {cfg['clients']} subscribers x {cfg['events']} events, "
        f"medians of {_rounds(cfg['rounds'])}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# the page ---------------------------------------------------------------------------------------


def _machine(results: dict[str, Any]) -> list[str]:
    m = results.get("machine") or {}
    pk = m.get("packages", {})
    return [
        "## Machine",
        "",
        f"- CPU: {m.get('nproc', '?')} cores (`nproc`), {m.get('cpu_model', '?')}; "
        f"{m.get('memory_gib', '?')} GiB memory; {m.get('os', '')}",
        f"- Python {m.get('python', '?')}; " + ", ".join(f"{k} {v}" for k, v in sorted(pk.items())),
        *(
            f"- `bench/.venvs/{name}`, a virtual environment of its own: " + ", ".join(reqs)
            for name, reqs in m.get("venvs", {}).items()
        ),
        f"- load generator for HTTP: {m.get('wrk', 'wrk').split(' Copyright')[0]}",
        f"- results generated {results.get('generated', '?')}; raw numbers in "
        "`bench/results/latest.json` in the repository",
        "",
    ]


def _http_table(http: dict[str, Any], route: dict[str, str], names: list[str]) -> list[str]:
    s = http["summary"][route["name"]]
    labels = _labels(http)
    lines = [
        "| contender | median req/s | min - max | ratio to bare ASGI | wrk CPU | server CPU | other CPU "
        "| CPU per request: event loop thread | CPU per request: whole server |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        e = s[name]
        lines.append(
            f"| {labels[name]} | {_num(e['median_rps'])} | "
            f"{_num(e['min_rps'])} - {_num(e['max_rps'])} | {_ratio(e['ratio_to_baseline'])} | "
            f"{_pct(e['wrk_cpu_pct'])} | {_pct(e['server_cpu_pct'])} | {_pct(e.get('foreign_cpu_pct'))} | "
            f"{_us(e.get('loop_thread_us_per_request'))} | {_us(e.get('server_us_per_request'))} |"
        )
    return [*lines, ""]


def _http_targets(http: dict[str, Any], verdicts: list[dict[str, Any]], misses: list[str]) -> list[str]:
    labels = _labels(http)
    lines = [
        "| target | route | this run (req/s) | verdict | same ratio from CPU per request: whole server "
        "| same ratio from CPU per request: event loop thread |",
        "|---|---|---:|---|---:|---:|",
    ]
    for v in verdicts:
        name = f"{labels[v['contender']]} >= {v['low']}x {_short(labels[v['over']])}"
        value = _vs_bar(v["value"], v["low"])
        lines.append(
            f"| {name} | {v['route']} | {value} | {_verdict(v['met'])} | "
            f"{_ratio(v.get('value_by_cpu'))} | {_ratio(v.get('value_by_loop_cpu'))} |"
        )
        if not v["met"]:
            misses.append(
                f"HTTP `{v['route']}`: {labels[v['contender']]} reached {value} "
                f"{_short(labels[v['over']])}, short of the {v['low']}x target."
            )
    return [*lines, ""]


def _http_references(http: dict[str, Any], verdicts: list[dict[str, Any]]) -> list[str]:
    labels = _labels(http)
    lines = ["| ratio | route | reference | this run | |", "|---|---|---:|---:|---|"]
    for v in verdicts:
        name = f"{_short(labels[v['contender']])} / {_short(labels[v['over']])}"
        if _is_point(v):
            ref, word = f"{v['low']:.2f}", f"{v['value'] / v['low'] - 1:+.0%}"
        else:
            ref, word = f"{v['low']:.2f} - {v['high']:.2f}", "within" if v["met"] else "outside"
        lines.append(f"| {name} | {v['route']} | {ref} | {v['value']:.2f} | {word} |")
    return [*lines, ""]


def _http(http: dict[str, Any], lines: list[str], misses: list[str]) -> None:
    cfg = http["config"]
    lines += [
        "## HTTP",
        "",
        f"`GET /api/health` (a small JSON object) and `GET /api/users/{{id}}`, each app having 50 more "
        "param routes `/api/r{i}/{id}` registered *before* them, so a router that tries its routes in "
        "order pays for them. Every contender runs on `granian --interface asgi|rsgi --workers 1` "
        f"(nothing else set) and is loaded by `wrk -t{cfg['wrk_threads']} -c{cfg['connections']} "
        f"-d{cfg['duration_s']}s` after a {cfg['warmup_s']} s warm-up; contenders run in "
        f"{_rounds(cfg['rounds'])} (A B C ... A B C ...), each started fresh per round. Numbers are "
        "medians over the rounds; ratios are to the bare ASGI callable of the same run. wesktop and the "
        "original wesktop 0.2.1 are in the same rounds; their targets are in [wesktop](#wesktop).",
        "",
        f"![HTTP requests per second]({HTTP_PNG.relative_to(DOCS).as_posix()})",
        "",
    ]
    names = [c["name"] for c in http["contenders"]]
    for route in http["routes"]:
        lines += [f"### `GET {route['path']}`", "", *_http_table(http, route, names)]
    lines += [
        "CPU columns are percent of one core over the measured run: wrk's own, granian's (main process "
        "and worker, all threads), and what the rest of the machine used meanwhile (other processes, "
        "kernel work not charged to either). A run whose *other* CPU passed "
        f"{cfg.get('max_foreign_cpu_pct', 20):.0f}% was repeated (up to {cfg.get('retries', 2)} times) "
        "and the quietest attempt kept.",
        "",
        "CPU per request is the CPU used during the run divided by the requests served: by the granian "
        "worker's event-loop thread, which runs all of the app's Python code, and by the whole server "
        "(granian's Rust threads parse HTTP and write responses). Unlike requests/s it hardly moves when "
        "something else loads the machine, so it is the steadier measure of what a framework adds.",
        "",
        "### Targets",
        "",
    ]
    ours = [v for v in http["verdicts"] if v["contender"] not in WESKTOP_HTTP]
    lines += _http_targets(http, [v for v in ours if v["kind"] == "target"], misses)
    lines += [
        "Verdicts are on requests/s, as the targets are stated. The last columns give the ratio of CPU "
        "per request (the other contender's over this one's), of the whole server and of the event-loop "
        "thread: what the requests/s ratio would be if the server were CPU-bound and alone on the machine.",
        "",
        "### This run against the reference ratios",
        "",
        "Reference ratios, measured interleaved on another 2-core machine. Where this run falls "
        "outside them, the machine (or its load) differs, and every ratio here should be read with that.",
        "",
        *_http_references(http, [v for v in ours if v["kind"] == "reference"]),
    ]


def _fanout_table(
    fanout: dict[str, Any], transport: str, names: list[str], peer: str, peer_name: str
) -> list[str]:
    s = fanout["summary"][transport]
    labels = _labels(fanout)
    rate_peer = s[peer]["median_events_per_s"] if peer in s else None
    lines = [
        f"| contender | delivered events/s | ratio to {peer_name} | time "
        "| KiB per idle subscriber | client CPU | server CPU | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        e = s[name]
        t, rate = e["median_seconds"], e["median_events_per_s"]
        lines.append(
            f"| {labels[name]} | {_num(rate)} | "
            f"{_ratio(rate / rate_peer if rate and rate_peer else None)} | "
            f"{'n/a' if t is None else f'{t:.2f} s'} | "
            f"{_num(e['median_kib_per_client'], 1)} | {_pct(e['median_client_cpu_pct'])} | "
            f"{_pct(e['median_server_cpu_pct'])} | {_pct(e.get('median_foreign_cpu_pct'))} |"
        )
    return [*lines, ""]


def _fanout_targets(fanout: dict[str, Any], verdicts: list[dict[str, Any]], misses: list[str]) -> list[str]:
    labels = _labels(fanout)
    lines = ["| target | transport | this run | verdict |", "|---|---|---:|---|"]
    for v in verdicts:
        who = _short(labels[v["contender"]])
        if v["what"] == "events_per_s_ratio":
            over = _short(labels[v["over"]])
            name = f"{who} >= {v['low']}x the delivered events/s of {over}"
            value = _vs_bar(v["value"], v["low"])
            miss = f"delivered events/s: {who} reached {value} {over}, target at least {v['low']}x"
        else:
            name = f"{who} < {v['high']:.0f} KiB per idle subscriber"
            value = "n/a" if v["value"] is None else f"{v['value']:.1f} KiB"
            miss = f"memory per idle subscriber of {who}: {value}, target under {v['high']:.0f} KiB"
        lines.append(f"| {name} | {v['transport'].upper()} | {value} | {_verdict(v['met'])} |")
        if not v["met"]:
            misses.append(f"{v['transport'].upper()} fan-out {miss}.")
    return [*lines, ""]


def _fanout(fanout: dict[str, Any], lines: list[str], misses: list[str]) -> None:
    cfg = fanout["config"]
    labels = _labels(fanout)
    lines += [
        "## Fan-out: SSE and WebSocket",
        "",
        f"{cfg['clients']} subscribers on loopback, held by {cfg['client_processes']} client processes "
        + {
            "epoll": "(raw non-blocking sockets in one `epoll` loop each, counting events in the bytes "
            "they receive; for WebSocket they do the handshake by hand and count text frames",
            "asyncio": "(raw asyncio protocols counting events in the bytes they receive",
            "websockets": "(raw asyncio protocols for SSE, the `websockets` library for WebSocket",
        }.get(cfg.get("client", "epoll"), "(" + str(cfg.get("client")))
        + f"). The server publishes {cfg['events']} events of about {cfg['event_size']} bytes in a loop "
        "(`POST /publish`); the time runs from sending that request until the last subscriber has "
        "its last event, and delivered events/s = subscribers x events / time. Memory per subscriber "
        "is the granian worker's resident memory with all subscribers connected and idle, minus "
        "before they connected (after a short warm-up), divided by their number. Each contender and "
        f"transport gets a fresh server; {_rounds(cfg['rounds'])}, medians. The wesktop "
        "Broadcasters (SSE only) are in the same rounds; their target is in [wesktop](#wesktop).",
        "",
        f"![fan-out events per second and memory]({FANOUT_PNG.relative_to(DOCS).as_posix()})",
        "",
    ]
    for transport in fanout["transports"]:
        s = fanout["summary"][transport]
        names = [c["name"] for c in fanout["contenders"] if c["name"] in s]
        lines += [
            f"### {'SSE' if transport == 'sse' else 'WebSocket'}",
            "",
            *_fanout_table(fanout, transport, names, cfg["peer"], "the recipe"),
        ]
        for name in names:
            if s[name]["incomplete_runs"]:
                misses.append(
                    f"{transport.upper()}: {name} had {s[name]['incomplete_runs']} run(s) where not every "
                    "subscriber got every event in time."
                )
    nproc = fanout.get("machine", {}).get("nproc", 2)
    lines += [
        "Client CPU is the client processes' CPU during delivery, summed, and server CPU granian's, "
        f"each as percent of one core (the machine has {nproc}); other CPU is what the rest of the "
        f"machine used meanwhile. {cfg['client_processes']} client processes could use "
        f"{100 * cfg['client_processes']}%.",
        "",
    ]
    for transport in fanout["transports"]:
        main = fanout["summary"][transport].get("wirecore-rsgi") or {}
        used = sum(main.get(k) or 0 for k in ("median_client_cpu_pct", "median_server_cpu_pct"))
        if used >= 0.85 * 100 * nproc:
            lines += [
                f"During {transport.upper()} delivery to wirecore the clients and the server together "
                f"used {used:.0f}% of the {100 * nproc}% the machine has: every event goes out in its "
                "own write and comes in through its own read, and both sides share the cores. The "
                "delivery rate is a floor; a second machine for the clients would raise it for "
                "every contender.",
                "",
            ]
    memory_target = min((v["high"] for v in fanout["verdicts"] if "high" in v), default=None)
    floor = {
        t: (fanout["summary"][t].get("bare-rsgi") or {}).get("median_kib_per_client")
        for t in fanout["transports"]
    }
    if memory_target is not None and any(v is not None and v >= memory_target for v in floor.values()):
        parts = ", ".join(f"{v:.1f} KiB for {t.upper()}" for t, v in floor.items() if v is not None)
        lines += [
            "Memory: the bare RSGI app, which keeps only a queue and a task or two per subscriber in "
            f"Python, already costs {parts} per idle subscriber. Most of that is granian's own memory "
            "for one open HTTP/1.1 stream or WebSocket in its default configuration, and it is above "
            f"the {memory_target:.0f} KiB target before any framework adds to it.",
            "",
        ]
    ours = [v for v in fanout["verdicts"] if v["contender"] not in WESKTOP_FANOUT]
    lines += ["### Targets", "", *_fanout_targets(fanout, ours, misses)]
    for name, ref in fanout.get("reference", {}).items():
        if name in labels and name not in WESKTOP_FANOUT:
            lines += [
                f"Reference (SSE, measured on another 2-core machine): {_short(labels[name])} delivered "
                f"{ref['events_per_s']:,} events/s with {ref['kib_per_client']} KiB per client.",
                "",
            ]


def _wesktop(results: dict[str, Any], lines: list[str], misses: list[str]) -> None:
    http, fanout = results.get("http"), results.get("fanout")
    http_names = [c["name"] for c in http["contenders"] if c["name"] in WESKTOP_HTTP] if http else []
    sse = (fanout or {}).get("summary", {}).get("sse", {})
    fanout_names = [n for n in WESKTOP_FANOUT if n in sse]
    if not http_names and not fanout_names:
        return
    lines += [
        "## wesktop",
        "",
        "wesktop (`packages/wesktop`: the documented desktop-app API on top of wirecore) against the "
        "original `wesktop==0.2.1` from PyPI. Both serve the very same app source, written with the "
        "documented API (`bench/apps/wesktop_app.py`, `bench/apps/fanout_wesktop.py`): this "
        "repository's wesktop over RSGI, as `wesktop.serve` runs it; the original over ASGI (it has "
        "no RSGI), from a virtual environment of its own (`bench/.venvs/wesktop-0.2.1`, made by the "
        "first run) with the same granian as every other contender. They run interleaved with the "
        "other contenders, in the same rounds, under the same conditions.",
        "",
    ]
    if http_names:
        _wesktop_http(http, lines, misses)
    if fanout_names:
        _wesktop_sse(fanout, lines, misses)


def _wesktop_http(http: dict[str, Any], lines: list[str], misses: list[str]) -> None:
    labels = _labels(http)
    names = [n for n in (*WESKTOP_HTTP, *WESKTOP_PEERS) if n in labels]
    lines += [
        "### HTTP",
        "",
        "The HTTP benchmark above (50 param routes registered before the measured ones) with a wesktop "
        "app written with the documented API, against the same app on the original wesktop 0.2.1, "
        "Starlette and the bare ASGI callable, interleaved. **Targets:** at least 1.0x the bare ASGI "
        "callable's requests/s on both routes, and at least 2x Starlette's. **Reference** (another "
        "2-core machine): the original reached 1.05x the bare ASGI callable on `/api/health` and "
        "0.70x on `/api/users/{id}`.",
        "",
    ]
    for route in http["routes"]:
        lines += [f"#### `GET {route['path']}`", "", *_http_table(http, route, names)]
    ours = [v for v in http["verdicts"] if v["contender"] in WESKTOP_HTTP]
    targets = [v for v in ours if v["kind"] == "target"]
    lines += ["#### Targets", "", *_http_targets(http, targets, misses)]
    refs = [v for v in ours if v["kind"] == "reference"]
    if refs:
        lines += ["#### The original against its reference", "", *_http_references(http, refs)]
    vs = []
    for route in http["routes"]:
        s = http["summary"][route["name"]]
        if "wesktop" in s and "wesktop-orig" in s and s["wesktop-orig"]["median_rps"]:
            vs.append(f"{s['wesktop']['median_rps'] / s['wesktop-orig']['median_rps']:.2f}x on `{route['name']}`")
    if vs:
        lines += [f"wesktop against the original, requests/s: {', '.join(vs)}.", ""]
    lines += _wesktop_cpu(http, targets)


def _wesktop_cpu(http: dict[str, Any], targets: list[dict[str, Any]]) -> list[str]:
    """What the per-request CPU measure says about wesktop's targets."""
    who = {
        "wesktop": "wesktop",
        "wesktop-orig": "the original",
        "starlette": "Starlette",
        "bare-asgi": "the bare ASGI callable",
    }
    routes = [r["name"] for r in http["routes"]]
    per_route = " and ".join(f"`{r}`" for r in routes)
    spent = []
    for name, words in who.items():
        us = [http["summary"][r].get(name, {}).get("loop_thread_us_per_request") for r in routes]
        if all(u is not None and u == u for u in us):
            spent.append(f"{words} {' and '.join(_us(u) for u in us)}")
    overs: dict[str, list[str]] = {}
    differ = []
    for v in targets:
        by_cpu = v.get("value_by_cpu")
        if by_cpu is None:
            continue
        met = "met" if by_cpu >= v["low"] else "not met"
        over = who.get(v["over"], v["over"])
        done = overs.setdefault(over, [])
        done.append(
            f"{_vs_bar(by_cpu, v['low'])} on `{v['route']}` ({met})"
            if done
            else f"{_vs_bar(by_cpu, v['low'])} {over} on `{v['route']}` (target {v['low']}x: {met})"
        )
        if (by_cpu >= v["low"]) != v["met"]:
            differ.append(f"`{v['route']}` against {over}")
    lines = [
        "**CPU per request.** Besides requests/s the benchmark measures the CPU each request costs: "
        "the granian worker's event-loop thread's, which runs all of the app's Python code, and the "
        "whole server's (the last two columns of the tables above; the target table's last two columns "
        "give the ratios from it). Other load on the machine hardly moves it, so it isolates what the "
        "framework adds. "
        + (f"In this run the event-loop thread spent per request, on {per_route}: " + "; ".join(spent) + ". " if spent else "")
        + (
            "By the whole server's CPU per request, wesktop comes to "
            + "; ".join(" and ".join(vals) for vals in overs.values())
            + ". "
            if overs
            else ""
        )
        + (
            "On requests/s the verdict is the other way round for " + " and ".join(differ) + "."
            if differ
            else "Those are the same verdicts as on requests/s."
        ),
        "",
    ]
    return lines


def _wesktop_sse(fanout: dict[str, Any], lines: list[str], misses: list[str]) -> None:
    cfg = fanout["config"]
    sse = fanout["summary"]["sse"]
    orig = "wesktop-orig-broadcaster"
    names = [n for n in (*WESKTOP_FANOUT, cfg["peer"]) if n in sse]
    lines += [
        "### SSE fan-out",
        "",
        "The SSE fan-out benchmark above through wesktop's `Broadcaster` against the original's "
        "`Broadcaster` (SSE only: the Broadcaster has no WebSocket delivery). **Target:** at least "
        "1.7x the original's delivered events per second. **Reference** (another 2-core machine): "
        "the original delivered 141k events/s with 32 KiB per client.",
        "",
        *(
            _fanout_table(fanout, "sse", names, orig, "the original")
            if orig in sse
            else _fanout_table(fanout, "sse", names, cfg["peer"], "the recipe")
        ),
    ]
    ours = [v for v in fanout["verdicts"] if v["contender"] in WESKTOP_FANOUT]
    if ours:
        lines += ["#### Target", "", *_fanout_targets(fanout, ours, misses)]
    ref = fanout.get("reference", {}).get(orig)
    if ref and orig in sse:
        e = sse[orig]
        lines += [
            "#### The original against its reference",
            "",
            "| the original's | reference | this run |",
            "|---|---:|---:|",
            f"| delivered events/s | {_num(ref['events_per_s'])} | {_num(e['median_events_per_s'])} |",
            f"| KiB per idle subscriber | {ref['kib_per_client']:.1f} | {_num(e['median_kib_per_client'], 1)} |",
            "",
        ]
    stale = [s.get("stale_subscribers", 0) for s in fanout["samples"].get(orig, {}).get("sse", [])]
    if any(stale):
        n = max(stale)
        lines += [
            f"The original never notices an SSE subscriber that leaves (it drops a client only when the "
            f"client's queue is full), so the {n} subscribers of each server's warm-up stay on its list "
            f"and every event is queued and sent for them too: {n} more than the {cfg['clients']} "
            f"measured ({n / cfg['clients']:.0%}). The benchmark reads the server's subscriber count on "
            "top of them.",
            "",
        ]


# scale-out (bench/scaleout_bench.py, bench/results/scaleout.json) --------------------------------

SCALEOUT_COLORS = {"1w-inproc": "#1565c0", "2w-redis": "#c62828", "1w-redis": "#ef9a9a"}


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f} ms" if x >= 10 else f"{x:.2f} ms"


def scaleout_chart(data: dict[str, Any], path: Path) -> None:
    plt = _plt()
    cfg = data["config"]
    names = [c["name"] for c in data["configs"]]
    labels = {c["name"]: c["label"] for c in data["configs"]}
    s = data["summary"]
    colors = [SCALEOUT_COLORS.get(n, "#999") for n in names]
    ticks = [labels[n].replace(", ", ",\n") for n in names]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4), dpi=110)
    ax = axes[0]
    med = [(s[n]["median_events_per_s"] or 0) / 1000 for n in names]
    lo = [m - (s[n]["min_events_per_s"] or m * 1000) / 1000 for m, n in zip(med, names, strict=True)]
    hi = [(s[n]["max_events_per_s"] or m * 1000) / 1000 - m for m, n in zip(med, names, strict=True)]
    bars = ax.bar(range(len(names)), med, 0.6, yerr=[lo, hi], capsize=3, color=colors)
    for bar, n in zip(bars, names, strict=True):
        r = s[n].get("ratio_to_baseline")
        if r is not None:
            ax.annotate(
                f"{r:.2f}x",
                (bar.get_x() + bar.get_width() / 2, (s[n]["max_events_per_s"] or 0) / 1000),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(ticks, fontsize=8)
    ax.set_ylabel("delivered events/s, thousands (bars: min-max)")
    ax.set_title(f"burst of {cfg['burst_events']:,} events (x = ratio to 1 worker in-process)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax = axes[1]
    width = 0.38
    p50 = [s[n]["paced_latency_p50_ms"] or 0 for n in names]
    p99 = [s[n]["paced_latency_p99_ms"] or 0 for n in names]
    for j, (values, what) in enumerate(((p50, "p50"), (p99, "p99"))):
        xs = [i + (j - 0.5) * width for i in range(len(names))]
        bars = ax.bar(xs, values, width, color=colors, alpha=1.0 if j == 0 else 0.55, label=what)
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(
                f"{what}\n{v:.1f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(ticks, fontsize=8)
    ax.set_ylabel("publish-to-receive latency, ms")
    ax.set_title(f"{cfg['paced_events']} events at {cfg['paced_rate']:g}/s: p50 and p99", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.margins(y=0.15)
    fig.suptitle(
        f"SSE fan-out to {cfg['clients']:,} clients on granian: medians of {_rounds(cfg['rounds'])}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _scaleout(data: dict[str, Any]) -> list[str]:
    """The "Scale-out: 2 workers over Redis" section, from bench/results/scaleout.json."""
    cfg = data["config"]
    s = data["summary"]
    names = [c["name"] for c in data["configs"]]
    labels = {c["name"]: c["label"] for c in data["configs"]}
    redis = {c["name"]: c["redis"] for c in data["configs"]}
    m = data.get("machine") or {}
    pk = m.get("packages", {})
    lines = [
        "## Scale-out: 2 workers over Redis",
        "",
        f"SSE fan-out to {cfg['clients']:,} clients: 2 granian workers whose hubs share messages through "
        "the Redis backplane (`WIRECORE_REDIS_URL`), against 1 worker with the default in-process hub, "
        "and 1 worker with the Redis backplane (the cost of the Redis hop alone). Every configuration "
        f"serves the same app (`bench/apps/scaleout_app.py`) on `{cfg['granian']}`, what "
        "`wirecore.serve(\"scaleout_app:app\", workers=N)` runs; they alternate in "
        f"{_rounds(cfg['rounds'])}, each on a fresh server, against one `redis-server` started by the "
        f"benchmark. {cfg['client_processes']} client processes (raw sockets in an `epoll` loop, "
        "`bench/scaleout_client.py`) hold the subscribers; each stream starts with the pid of its "
        "worker, and the clients spread themselves evenly over the workers.",
        "",
        f"- **Burst**: one worker publishes {cfg['burst_events']:,} events of about {cfg['event_size']} "
        "bytes in a loop; delivered events/s = clients x events / the time from the publish request "
        "until the last client has the last event. (The app's hub keeps up to "
        f"{cfg.get('queue', 4096):,} messages per subscriber instead of the default 256, so that "
        "the burst is not trimmed by the `drop_oldest` policy.)",
        f"- **Paced**: one worker publishes {cfg['paced_events']} events at {cfg['paced_rate']:g} per "
        "second. Each event carries the publisher's `time.time()`, which the client subtracts from its "
        "own after the read that brought the event: publish-to-receive latency over every (client, "
        "event) pair. With 2 workers the other worker's clients get each event only through Redis "
        "(and with the Redis backplane the publisher's own clients do too: a hub delivers its own "
        "messages through the backplane, so that every process sees one order per topic).",
        "",
    ]
    if data.get("quick"):
        lines += [
            "> **Quick run** (`python bench/scaleout_bench.py --quick`): one short round, a check that "
            "everything starts and is measured. Its numbers vary too much to compare.",
            "",
        ]
    lines += [
        f"![scale-out: events per second and latency]({SCALEOUT_PNG.relative_to(DOCS).as_posix()})",
        "",
        "| configuration | clients per worker | delivered events/s (burst) | min - max | ratio to 1 worker "
        "in-process | burst latency p50 / p99 | paced latency p50 | paced latency p99 | server CPU "
        "| Redis CPU | client CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        e = s[n]
        lines.append(
            f"| {labels[n]} | {' / '.join(f'{k:,}' for k in e['clients_per_worker'])} | "
            f"{_num(e['median_events_per_s'])} | "
            f"{_num(e['min_events_per_s'])} - {_num(e['max_events_per_s'])} | "
            f"{_ratio(e.get('ratio_to_baseline'))} | "
            f"{_ms(e['burst_latency_p50_ms'])} / {_ms(e['burst_latency_p99_ms'])} | "
            f"{_ms(e['paced_latency_p50_ms'])} | {_ms(e['paced_latency_p99_ms'])} | "
            f"{_pct(e['median_server_cpu_pct'])} | "
            f"{_pct(e['median_redis_cpu_pct']) if redis[n] else '-'} | "
            f"{_pct(e['median_client_cpu_pct'])} |"
        )
    lines.append("")
    scaled, base = s.get(cfg["scaled"]), s.get(cfg["baseline"])
    if scaled and scaled.get("paced_latency_other_workers_p50_ms") is not None:
        lines += [
            f"Paced latency with 2 workers, by where the client is: on the publishing worker p50 "
            f"{_ms(scaled['paced_latency_publisher_worker_p50_ms'])}, p99 "
            f"{_ms(scaled['paced_latency_publisher_worker_p99_ms'])}; on the other worker p50 "
            f"{_ms(scaled['paced_latency_other_workers_p50_ms'])}, p99 "
            f"{_ms(scaled['paced_latency_other_workers_p99_ms'])}.",
            "",
        ]
    nproc = m.get("nproc", "?")
    lines += [
        "CPU columns are percent of one core during the burst: granian (every worker), `redis-server`, "
        f"and the client processes; the machine has {nproc} cores, shared by all of them. The burst's "
        "latencies say how long a burst's backlog takes to drain, the paced ones what one event's path "
        "costs. Incomplete runs (a client short of an event at the timeout) are left out of the medians"
        + (
            ": " + ", ".join(f"{n} {s[n]['incomplete_runs']}" for n in names if s[n]["incomplete_runs"]) + "."
            if any(s[n]["incomplete_runs"] for n in names)
            else "; there were none."
        ),
        "",
    ]
    if scaled and base and scaled.get("ratio_to_baseline") is not None and nproc != "?" and nproc <= 2:
        lines += [
            f"On {nproc} cores a second worker has no core of its own: the workers, Redis and the client "
            "processes all share them, so this measures what the Redis path costs rather than what a "
            "second core gains. On a machine with a core per worker (and the clients elsewhere) the "
            "workers' share of the delivery runs in parallel.",
            "",
        ]
    lines += [
        "Reproduce from the repository root (needs `redis-server`: `apt-get install -y redis-server`):",
        "",
        "```",
        "nox -s bench_scaleout",
        "```",
        "",
        "(`nox -s bench_scaleout` installs `redis-server`, this repository's packages and "
        "`bench/requirements.txt`, and runs `python bench/scaleout_bench.py`; `--quick` is a shorter run, "
        "`--help` lists the knobs.)",
        "",
        "### Machine of the scale-out run",
        "",
        f"- CPU: {m.get('nproc', '?')} cores (`nproc`), {m.get('cpu_model', '?')}; "
        f"{m.get('memory_gib', '?')} GiB memory; {m.get('os', '')}",
        f"- Python {m.get('python', '?')}; "
        + ", ".join(f"{k} {pk[k]}" for k in ("wirecore", "granian", "msgspec", "redis") if pk.get(k))
        + f"; redis-server {m.get('redis_server', '?')}",
        f"- results generated {data.get('generated', '?')}; raw numbers in `bench/results/scaleout.json` "
        "in the repository",
        "",
    ]
    return lines


QUICK = (
    "> **Quick run** (`python bench/run.py --quick`): one short round of everything, a check that every "
    "contender starts, answers and is measured. Its numbers vary too much to compare; "
    "`python bench/run.py` measures."
)


NOTES = """\
## How to read these numbers

- Everything runs on one machine: the load generator shares the cores with the server. HTTP uses
  `wrk` (C, one thread), fan-out uses several client processes; their CPU is in the tables, so a
  result limited by the load generator shows itself.
- Interleaving (A B C ... A B C ...) spreads slow drifts of the machine over every contender alike;
  ratios to a baseline from the same run are more portable than absolute numbers.
- The bare ASGI callable and bare RSGI app route with two dict lookups and encode with msgspec, as a
  hand-written app would: they are what granian costs with next to nothing on top.
- Starlette's recipe formats each client's SSE frame in that client's generator (`json.dumps` per
  client), as the recipe is usually written; the wirecore Hub encodes once per publish.
- The original wesktop 0.2.1 runs over ASGI because it has no RSGI interface; this repository's
  wesktop runs over RSGI because that is how `wesktop.serve` runs an app.
- The benchmarks never take part in pass/fail: `nox -s bench` runs them on demand.
"""


def write(results: dict[str, Any]) -> list[Path]:
    if "http" not in results and "fanout" not in results:
        raise ValueError("not a results file of bench/run.py (no 'http' or 'fanout' part)")
    written: list[Path] = []
    lines = [
        "# Benchmarks",
        "",
        "wirecore and wesktop against the bare protocols and against peers, on the same machine, in the "
        "same run. "
        "The page, the charts and `bench/results/latest.json` in the repository are "
        "written by the benchmark itself; do not edit them by hand.",
        "",
        "Reproduce from the repository root:",
        "",
        "```",
        "nox -s bench",
        "```",
        "",
        "(`nox -s bench` installs this repository's packages and `bench/requirements.txt` and runs "
        "`python bench/run.py`; the HTTP part needs `wrk`, on Debian `apt-get install -y wrk`. "
        "`python bench/run.py --quick` is a shorter run; `--help` lists the knobs.)",
        "",
    ]
    if any(results.get(part, {}).get("quick") for part in ("http", "fanout")):
        lines += [QUICK, ""]
    lines += _machine(results)
    misses: list[str] = []
    body: list[str] = []
    if "http" in results:
        http_chart(results["http"], HTTP_PNG)
        written.append(HTTP_PNG)
        _http(results["http"], body, misses)
    if "fanout" in results:
        fanout_chart(results["fanout"], FANOUT_PNG)
        written.append(FANOUT_PNG)
        _fanout(results["fanout"], body, misses)
    _wesktop(results, body, misses)
    lines += ["## Where targets are not met", ""]
    if misses:
        lines += [f"- {m}" for m in misses]
    else:
        lines.append("Every target is met in this run.")
    lines.append("")
    lines += body
    lines.append(NOTES)
    if SCALEOUT_JSON.exists():  # bench/scaleout_bench.py's results: a section of their own, last
        scaleout = json.loads(SCALEOUT_JSON.read_text())
        scaleout_chart(scaleout, SCALEOUT_PNG)
        written.append(SCALEOUT_PNG)
        lines += _scaleout(scaleout)
    PAGE.write_text("\n".join(lines))
    written.append(PAGE)
    return written


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH_DIR / "results" / "latest.json"
    for p in write(json.loads(path.read_text())):
        print(f"wrote {p}")
