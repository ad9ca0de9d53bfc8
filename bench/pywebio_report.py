"""The pywebio benchmark's page (docs/benchmarks-pywebio.md) and chart (docs/benchmarks-pywebio.svg).

    python bench/pywebio_report.py [bench/results/pywebio.json]

Written from the results of :mod:`pywebio_bench` alone: every number and verdict on the page comes
from the data there (nothing is hard-coded but the targets and the issue's reference numbers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from common import BENCH_DIR
from report import DOCS, _num, _plt, _ratio, _rounds, _verdict

PAGE = DOCS / "benchmarks-pywebio.md"
SVG = DOCS / "benchmarks-pywebio.svg"
RESULTS_NAME = "bench/results/pywebio.json"
ORIG = "pywebio-orig"
ORIG_HTTP = "pywebio-orig-flask"
ORIGINALS = (ORIG, ORIG_HTTP)
OURS = ("pywebio-tornado", "pywebio-wirecore")
COLORS = {
    "pywebio-tornado": "#1565c0",
    "pywebio-wirecore": "#6a1b9a",
    "pywebio-aiohttp": "#00838f",
    "pywebio-fastapi": "#5c6bc0",
    ORIG: "#a5d6a7",
    "pywebio-tornado_http": "#ef6c00",
    "pywebio-flask": "#c62828",
    "pywebio-django": "#6d4c41",
    ORIG_HTTP: "#ffcc80",
}
SHORT = {
    "pywebio-tornado": "ours, tornado",
    "pywebio-wirecore": "ours, wirecore",
    "pywebio-aiohttp": "ours, aiohttp",
    "pywebio-fastapi": "ours, fastapi",
    ORIG: "original 1.8.4",
    "pywebio-tornado_http": "ours, tornado_http",
    "pywebio-flask": "ours, flask",
    "pywebio-django": "ours, django",
    ORIG_HTTP: "original 1.8.4, flask",
}
MODE_WORDS = {"thread": "plain function (thread sessions)", "coro": "`async def` (coroutine sessions)"}
FULL = {"sessions": 200, "outputs": 100}


def _labels(results: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["label"] for c in results["contenders"]}


def _peers(results: dict[str, Any]) -> dict[str, str]:
    """Each contender's original on the same transport (results before issue 6 had tornado only)."""
    return {c["name"]: c.get("peer", ORIG) for c in results["contenders"]}


def _transport(c: dict[str, Any]) -> str:
    return "HTTP polling" if c.get("transport") == "http" else "WebSocket"


def _mib(kib: float | None) -> str:
    return "n/a" if kib is None or kib != kib else f"{kib / 1024:,.1f} MiB"


def _pct(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:.0f}%"


def _ms(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:,.0f} ms"


def _us(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:.1f} µs"


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# chart ------------------------------------------------------------------------------------------


def chart(results: dict[str, Any], path: Path) -> None:
    plt = _plt()
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "pywebio-bench"  # the same ids on every run: small diffs
    s = results["summary"]
    modes = [m for m in ("thread", "coro") if s.get(m)]
    names = [c["name"] for c in results["contenders"]]
    peers = _peers(results)
    panels = (
        ("sessions_per_s", "sessions opened per second", 1.0),
        ("outputs_per_s", "output commands delivered per second (thousands)", 1000.0),
        ("kib_per_session", "server memory per open session (KiB)", 1.0),
    )
    wide = len(names) > 3
    fig, axes = plt.subplots(1, len(panels), figsize=(16 if wide else 13.5, 5.2 if wide else 4.6), dpi=100,
                             squeeze=False)  # fmt: skip
    width = 0.8 / max(1, len(names))
    for ax, (key, title, unit) in zip(axes[0], panels, strict=True):
        for i, name in enumerate(names):
            for j, mode in enumerate(modes):
                e = s[mode].get(name)
                if e is None or e[key]["median"] is None:
                    continue
                st = e[key]
                x = j + (i - (len(names) - 1) / 2) * width
                med = st["median"] / unit
                err = [[med - st["min"] / unit], [st["max"] / unit - med]]
                ax.bar(x, med, width, yerr=err, capsize=3, color=COLORS.get(name, "#999"),
                       label=SHORT.get(name, name) if j == 0 else None)  # fmt: skip
                base = s[mode].get(peers.get(name, ORIG), {}).get(key, {}).get("median")
                if base and name not in ORIGINALS:
                    ax.annotate(f"{st['median'] / base:.2f}x", (x, st["max"] / unit), xytext=(0, 3),
                                textcoords="offset points", ha="center", fontsize=6 if wide else 7,
                                rotation=90 if wide else 0)  # fmt: skip
        ref_key = {"outputs_per_s": "outputs_per_s", "kib_per_session": "kib_per_session"}.get(key)
        if ref_key:
            for j, mode in enumerate(modes):
                ref = results["reference"][mode][ref_key] / unit
                ax.hlines(ref, j - 0.45, j + 0.45, colors="#616161", linestyles=":", linewidth=1,
                          label="the original (tornado) in issue 5" if j == 0 else None)  # fmt: skip
        ax.set_xticks(range(len(modes)))
        ax.set_xticklabels([{"thread": "plain function", "coro": "async def"}[m] for m in modes])
        ax.set_title(title + ("\n(lower is better)" if key == "kib_per_session" else "\n(higher is better)"),
                     fontsize=9)  # fmt: skip
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    handles: dict[str, Any] = {}
    for ax in axes[0]:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 6), fontsize=8)
    cfg = results["config"]
    fig.suptitle(
        f"pywebio against pywebio 1.8.4: {cfg['sessions']} concurrent sessions x {cfg['outputs']} put_text, "
        f"medians of {_rounds(cfg['rounds'])} (bars: min-max; x = ours / the original on the same transport)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.1 if len(handles) > 6 else 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    svg = path.suffix == ".svg"
    fig.savefig(path, format=path.suffix[1:], metadata={"Date": None} if svg else None)
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
        f"- Python {m.get('python', '?')}; "
        + ", ".join(
            f"{k} {v}"
            for k, v in sorted(pk.items())
            if k in ("pywebio", "tornado", "wirecore", "granian", "aiohttp", "fastapi", "uvicorn", "flask")
            or k in ("werkzeug", "django")
        ),
        *(
            f"- `bench/.venvs/{name}`, a virtual environment of its own: " + ", ".join(reqs)
            for name, reqs in m.get("venvs", {}).items()
        ),
        "- load generator: Python processes of `bench/pywebio_client.py` (raw sockets, one `epoll` loop each)",
        f"- results generated {results.get('generated', '?')}, in {results.get('elapsed_s', 0) / 60:.1f} min; "
        f"raw numbers in `{RESULTS_NAME}` in the repository",
        "",
    ]


def _targets(results: dict[str, Any], misses: list[str]) -> list[str]:
    labels = _labels(results)
    lines = [
        "| mode | ours | outputs/s, ours / original | bar | verdict | KiB per session, ours / original "
        "| bar | verdict | sessions/s, ours / original |",
        "|---|---|---:|---|---|---:|---|---|---:|",
    ]
    by_key = {(v["mode"], v["impl"], v["what"]): v for v in results["verdicts"]}
    for mode in results["summary"]:
        for name in OURS:
            speed = by_key.get((mode, name, "outputs_ratio"))
            mem = by_key.get((mode, name, "memory_ratio"))
            opened = by_key.get((mode, name, "sessions_ratio"))
            if speed is None or mem is None:
                continue
            lines.append(
                f"| {mode} | {SHORT[name]} | {_ratio(speed['value'])} | {speed['bar']} | {_verdict(speed['met'])} "
                f"| {_ratio(mem['value'])} | {mem['bar']} | {_verdict(mem['met'])} "
                f"| {_ratio(opened['value'] if opened else None)} |"
            )
            for v, what in ((speed, "output commands per second"), (mem, "memory per open session")):
                if not v["met"]:
                    misses.append(
                        f"{MODE_WORDS[mode]}, {labels[name]}: {what} {_ratio(v['value'])} the original's "
                        f"(target {v['bar']})."
                    )
    lines.append("")
    for v in results["verdicts"]:
        if v.get("value_by_cpu"):
            lines.append(
                f"- {v['mode']}, {SHORT[v['impl']]}: from the server's CPU per output instead (the "
                f"original's over ours; steadier when other load shares the machine): {v['value_by_cpu']:.2f}x."
            )
    return [*lines, ""]


def _mode_table(results: dict[str, Any], mode: str, misses: list[str]) -> list[str]:
    s = results["summary"][mode]
    labels = _labels(results)
    peers = _peers(results)

    def base(name: str, key: str) -> float | None:
        orig = s.get(peers.get(name, ORIG))
        return orig.get(key, {}).get("median") if orig else None

    lines = [
        "| implementation | sessions/s | ratio | outputs/s (min - max) | ratio | KiB per session (min - max) "
        "| ratio | idle RSS | server CPU | server CPU per output | clients CPU (busiest process) | other CPU "
        "| median time to first output | complete runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in [c["name"] for c in results["contenders"] if c["name"] in s]:
        e = s[name]
        so, o, k = e["sessions_per_s"], e["outputs_per_s"], e["kib_per_session"]
        rng = f" ({_num(o['min'])} - {_num(o['max'])})" if o["median"] is not None else ""
        krng = f" ({_num(k['min'], 1)} - {_num(k['max'], 1)})" if k["median"] is not None else ""
        lines.append(
            f"| {labels[name]} | {_num(so['median'])} "
            f"| {_ratio(_div(so['median'], base(name, 'sessions_per_s')))} "
            f"| {_num(o['median'])}{rng} | {_ratio(_div(o['median'], base(name, 'outputs_per_s')))} "
            f"| {_num(k['median'], 1)}{krng} | {_ratio(_div(k['median'], base(name, 'kib_per_session')))} "
            f"| {_mib(e['idle_rss_kib'])} | {_pct(e['server_cpu_pct'])} | {_us(e['server_us_per_output'])} "
            f"| {_pct(e['client_cpu_pct'])} ({_pct(e['client_cpu_pct_max'])}) | {_pct(e['foreign_cpu_pct'])} "
            f"| {_ms(e['first_output_median_ms'])} | {e['complete_runs']}/{e['runs']} |"
        )
        for why in e.get("failed", []):
            lines.append(f"| ↳ a measurement failed | {why.splitlines()[0][:200]} |" + " |" * 12)
            misses.append(
                f"{MODE_WORDS[mode]}, {labels[name]}: a measurement failed: {why.splitlines()[0][:200]}"
            )
        if e["bad_sessions"]:
            lines.append(
                f"| ↳ sessions that did not receive what the app sent | {e['bad_sessions']} |" + " |" * 12
            )
            misses.append(
                f"{MODE_WORDS[mode]}, {labels[name]}: {e['bad_sessions']} session(s) did not receive every output "
                f"and `close_session`, e.g. {'; '.join(e['bad_examples'][:2])}."
            )
    return [*lines, ""]


def _side_by_side(results: dict[str, Any]) -> list[str]:
    """Issue 6: one table, every backend, both modes; ratios to the original on the same transport."""
    summ = results["summary"]
    modes = [m for m in ("thread", "coro") if m in summ]
    contenders = [c for c in results["contenders"] if any(c["name"] in summ[m] for m in modes)]
    if not modes or len(contenders) < 2:
        return []
    peers = _peers(results)
    head = "| backend | transport | implementation | compared with |"
    rule = "|---|---|---|---|"
    for mode in modes:
        word = {"thread": "plain function", "coro": "async def"}[mode]
        head += f" {word}: outputs/s | ratio | {word}: KiB per session | ratio |"
        rule += "---:|---:|---:|---:|"
    lines = [head, rule]
    for c in contenders:
        name = c["name"]
        peer = peers.get(name, ORIG)
        row = (
            f"| {c.get('backend', 'tornado')} | {_transport(c)} | {SHORT.get(name, name)} "
            f"| {'—' if name in ORIGINALS else SHORT.get(peer, peer)} |"
        )
        for mode in modes:
            e, p = summ[mode].get(name), summ[mode].get(peer)
            if e is None:
                row += " n/a | | n/a | |"
                continue
            o, k = e["outputs_per_s"]["median"], e["kib_per_session"]["median"]
            po = p["outputs_per_s"]["median"] if p else None
            pk = p["kib_per_session"]["median"] if p else None
            mark = " ⚠" if e["bad_sessions"] or e["complete_runs"] < e["runs"] else ""
            own = name in ORIGINALS
            row += (
                f" {_num(o)}{mark} | {'' if own else _ratio(_div(o, po))} "
                f"| {_num(k, 1)} | {'' if own else _ratio(_div(k, pk))} |"
            )
        lines.append(row)
    return [
        "## Every backend side by side (issue 6)",
        "",
        "The issue asks for output commands per second and memory per open session of one app on every "
        "backend, side by side in one run, with the original `pywebio==1.8.4` on tornado and on flask as "
        "the peers; it sets no target for them, so there is no verdict here. Each ratio is ours over the "
        "original on the same transport family: WebSocket backends against the original on tornado, HTTP "
        "(short polling) backends against the original on flask. Outputs/s: higher is better; KiB per "
        "session: lower is better. ⚠: some session did not receive everything (see the tables below).",
        "",
        *lines,
        "",
        "Over HTTP the client polls again as soon as each response arrives (no `pull_interval` wait), so "
        "HTTP outputs/s is the most the polling protocol gives, not what a browser polling every second "
        "sees; the protocol makes a new session's first response wait 100 ms.",
        "",
    ]


def _reference(results: dict[str, Any]) -> list[str]:
    rows = []
    for mode, s in results["summary"].items():
        e = s.get(ORIG)
        ref = results["reference"].get(mode)
        if e and ref:
            rows.append(
                f"| {MODE_WORDS[mode]} | {_num(ref['outputs_per_s'])} | {_num(e['outputs_per_s']['median'])} "
                f"| {ref['kib_per_session']} | {_num(e['kib_per_session']['median'], 1)} |"
            )
    if not rows:
        return []
    return [
        "## The original against the issue's numbers",
        "",
        "The issue measured the original on another 2-core machine (200 sessions x 100 put_text). The "
        "verdicts above are ratios to the original measured in this run, not to these numbers.",
        "",
        "| mode | outputs/s in the issue | this run | KiB per session in the issue | this run |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
    ]


def _small_run(cfg: dict[str, Any]) -> list[str]:
    if cfg["sessions"] == FULL["sessions"] and cfg["outputs"] == FULL["outputs"] and cfg["rounds"] >= 3:
        return []
    return [
        f"> **Not a full run** ({cfg['sessions']} sessions x {cfg['outputs']} put_text, "
        f"{_rounds(cfg['rounds'])}): a check that the harness works end to end. Its numbers are too small "
        "and short-lived to compare; `python bench/pywebio_bench.py` measures.",
        "",
    ]


def _backends_words(results: dict[str, Any]) -> str:
    words = {
        "tornado": "tornado (the default backend)",
        "wirecore": "`pywebio.platform.wirecore` (granian)",
        "aiohttp": "aiohttp",
        "fastapi": "fastapi (uvicorn)",
        "tornado_http": "tornado_http",
        "flask": "flask",
        "django": "django",
    }
    ours = [c.get("backend", "tornado") for c in results["contenders"] if "venv" not in c]
    ws = [words[b] for b in ours if b in ("tornado", "wirecore", "aiohttp", "fastapi")]
    http = [words[b] for b in ours if b not in ("tornado", "wirecore", "aiohttp", "fastapi")]
    parts = []
    if ws:
        parts.append(", ".join(ws) + " (WebSocket)")
    if http:
        parts.append(", ".join(http) + " (HTTP short polling)")
    return " and ".join(parts) or "?"


def write(results: dict[str, Any]) -> list[Path]:
    cfg = results["config"]
    chart(results, SVG)
    lines = [
        "# pywebio benchmarks",
        "",
        "This repository's pywebio (`packages/pywebio`) on "
        + _backends_words(results)
        + ", against the original `pywebio==1.8.4` from PyPI ("
        + ("tornado and flask" if any(c["name"] == ORIG_HTTP for c in results["contenders"]) else "tornado")
        + "), on the same machine, in the same run. The page, the chart and `"
        + RESULTS_NAME
        + "` are written by the benchmark itself; do not edit them by hand.",
        "",
        "Reproduce from the repository root:",
        "",
        "```",
        "nox -s bench_pywebio",
        "```",
        "",
        "(`nox -s bench_pywebio` installs this repository's packages and `bench/requirements.txt` and runs "
        "`python bench/pywebio_bench.py`. The original runs from a virtual environment of its own, "
        f"`bench/.venvs/pywebio-1.8.4`, which the first run makes with pip. This run was `{cfg['command'].strip()}`; "
        "`--help` lists the knobs.)",
        "",
        *_small_run(cfg),
        *_machine(results),
    ]
    misses: list[str] = []
    body: list[str] = [
        *_side_by_side(results),
        "## Targets on tornado and wirecore (issue 5)",
        "",
        f"From the issue: with {FULL['sessions']} concurrent sessions x {FULL['outputs']} put_text, ours at "
        f"least {cfg['speed_target']:.0f}x the original's output commands per second and at most "
        f"{cfg['memory_target']}x its server memory per open session, for the plain-function app and for "
        "the `async def` app. Sessions opened per second are measured too; the issue sets no target for "
        "them. Verdicts on medians over the rounds; a contender with a session that did not receive "
        "everything meets no target.",
        "",
        *_targets(results, misses),
        "![pywebio against the original, every backend](benchmarks-pywebio.svg)",
        "",
    ]
    for mode in results["summary"]:
        body += [
            f"## {MODE_WORDS[mode][0].upper()}{MODE_WORDS[mode][1:]}",
            "",
            *_mode_table(results, mode, misses),
        ]
    body += [
        "## How it is measured",
        "",
        "Every contender serves the same script, `bench/apps/pywebio_app.py`, with "
        "`start_server(apps, port=N, host='127.0.0.1', cdn=False)` in a process of its own (ours on wirecore: "
        "the same call imported from `pywebio.platform.wirecore`). The apps: `thread` (a plain function "
        f"doing {cfg['outputs']} `put_text(f'line {{i}}')` and returning), `coro` (the same as an "
        "`async def`) and their `_hold` variants, which call `hold()` after their outputs so that the session "
        "stays open until the browser leaves. Every other backend of ours runs the same call imported from "
        "`pywebio.platform.<backend>`, and so does the original on flask (`pywebio.platform.flask`).",
        "",
        f"The browsers are {cfg['client_processes']} processes of `bench/pywebio_client.py`: raw sockets "
        "in one `epoll` loop each, the upgrade to `/?app=NAME&session=NEW` written by hand with the "
        '`Origin` a page would send; every text frame is searched for `"output"` or `"close_session"`, '
        "and the first and the last output of every session are decoded and checked (`line 0`, "
        f"`line {cfg['outputs'] - 1}`). At most {cfg['gate']} sessions are in their handshake at once (a "
        "browser crowd arriving, not a SYN flood into a 128-connection backlog).",
        "",
        "On the HTTP backends (short polling, `tornado_http`, `flask`, `django` and the original on flask) "
        "each browser is one keep-alive connection: `GET /?app=NAME&ack=-1` with header "
        "`webio-session-id: NEW-<24 random chars>` creates the session, then `GET /?app=NAME&ack=<last batch "
        "id>` with the id (without `NEW-`) again as soon as each response has arrived; the commands of "
        'every `{"commands": [[...], ...], "seq": N}` batch not seen before are counted and checked '
        "as over WebSocket, and the first successful response plays the handshake. A held session is one "
        "that has all its outputs and stopped polling; since an HTTP session outlives its browser (until it "
        "expires), the throughput runs of an HTTP backend get a fresh server after the memory measurement "
        "(with the same 2-session warm-up first).",
        "",
        f"For each mode, over {_rounds(cfg['rounds'])}, the contenders alternate (their order reversed every "
        "other round), each with a fresh server:",
        "",
        "1. warm-up: 2 sessions of the app and 2 of its `_hold` variant, closed again (imports and lazy "
        "set-up; a larger warm-up would leave freed memory that the held sessions reuse);",
        f"2. memory: the RSS of the server process once its CPU is quiet, then with {cfg['sessions']} "
        f"sessions of the `_hold` variant open, each having received its {cfg['outputs']} outputs (and the "
        "server quiet again); per session = the difference / the sessions;",
        f"3. throughput: {cfg['warmup_sessions']} sessions of warm-up, then {cfg['sessions']} sessions of the "
        "app opened at once; **sessions opened per second** "
        "= sessions / the time from the start until the last of them has its first output; **outputs per "
        "second** = every output received / the time until the last session has `close_session`. A run "
        f"whose other CPU passed {cfg['max_foreign_cpu_pct']:.0f}% of a core is repeated (up to "
        f"{cfg['retries']} time(s)) and the quietest attempt kept.",
        "",
        "CPU columns are percent of one core over the measured run: the server's (its process, all "
        "threads), the clients' (all processes; in brackets the busiest one, which should stay well under "
        "100% for the clients not to be what is measured), and what the rest of the machine used meanwhile. "
        "CPU per output is the server's CPU over the run divided by the outputs: it hardly moves when "
        "something else loads the machine (but psutil reads CPU in 10 ms steps, so it is coarse on short runs).",
        "",
    ]
    body += _reference(results)
    lines += ["## Where targets are not met", ""]
    lines += [f"- {m}" for m in misses] if misses else ["Every target is met in this run."]
    lines += ["", *body]
    lines += [
        "## How to read these numbers",
        "",
        "- Everything runs on one machine: the load generator shares the cores with the server, and its "
        "CPU is in the tables, so a result limited by the load generator shows itself.",
        "- The original and ours on tornado run the whole server in one Python event loop (threads for "
        "plain-function sessions); ours on wirecore has granian's Rust threads do the network I/O next to "
        "the Python loop.",
        "- Memory is RSS, as the operating system sees it, so on wirecore it includes what granian itself "
        "keeps per WebSocket connection in Rust (its buffers, about 150 KiB per socket with a bare granian "
        "RSGI app that holds its connections; granian has no setting for them), which no Python code can "
        "shrink. That alone is more than the original's whole session, so the memory target is out of reach "
        "on wirecore; on tornado, the default backend, it is met.",
        "- RSS also keeps the high-water mark of memory that was allocated and freed. Commands are therefore "
        "queued as their JSON text (about 100 bytes each) from the moment the app produces them, not as "
        "dicts (about 1.5 KiB) until the writer gets to them.",
        "- Python's allocator keeps freed memory for reuse, so the idle figure is taken after a small "
        "warm-up, on a server that has held no full load yet.",
        "- The benchmark never takes part in pass/fail: `nox -s bench_pywebio` runs it on demand.",
        "",
    ]
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text("\n".join(lines))
    return [SVG, PAGE]


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH_DIR / "results" / "pywebio.json"
    for p in write(json.loads(path.read_text())):
        print(f"wrote {p}")
