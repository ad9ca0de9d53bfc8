"""The pgwidgets benchmark's chart (docs/img/bench-pgwidgets.png), drawn from its results.

    python bench/pgwidgets_chart.py [bench/results/pgwidgets.json]

``bench/pgwidgets_bench.py`` calls it after each full run. Three panels, medians of the
interleaved rounds: time to create N widgets, time to rebuild them for a reconnecting browser
(lower is better), and callback round trips per second (higher is better), with the two
no-framework floors ("floor") beside the contenders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from report import IMG, _plt

PNG = IMG / "bench-pgwidgets.png"
RESULTS = Path(__file__).resolve().parent / "results" / "pgwidgets.json"
COLORS = ["#1565c0", "#a5d6a7", "#9e9e9e", "#d7ccc8"]  # ours, the original, the two floors


def _short(name: str) -> str:
    """A contender's name in short lines: 'pgwidgets\n(wirecore)', 'floor:\ngranian RSGI'."""
    if name.startswith("floor: no framework, "):
        return "floor:\n" + name.removeprefix("floor: no framework, ").replace(" ", "\n", 1)
    return name.replace(" (", "\n(").replace("-python ", "-python\n")


def chart(results: dict[str, Any], path: Path = PNG) -> Path:
    plt = _plt()
    contenders: dict[str, dict[str, Any]] = results["contenders"]
    names = list(contenders)
    colors = {name: COLORS[i % len(COLORS)] for i, name in enumerate(names)}
    n = results["widgets"]
    panels = [
        ("create", f"create {n:,} widgets (ms, lower is better)", 1000.0),
        ("reconstruct", "rebuild them on reconnect (ms, lower is better)", 1000.0),
        ("roundtrips_per_s", "callback round trips per second (higher is better)", 1.0),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.4), dpi=110)
    for ax, (key, title, scale) in zip(axes, panels, strict=True):
        shown = [name for name in names if contenders[name].get(key) is not None]
        values = [contenders[name][key] * scale for name in shown]
        bars = ax.bar(range(len(shown)), values, color=[colors[name] for name in shown])
        for bar, value in zip(bars, values, strict=True):
            ax.annotate(f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(shown)), [_short(name) for name in shown], fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.margins(y=0.15)
    fig.suptitle(
        f"pgwidgets: ours against pgwidgets-python 0.4.2, medians of {results['rounds']} interleaved rounds",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print(chart(json.loads(source.read_text())))
