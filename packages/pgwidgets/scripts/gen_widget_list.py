"""Regenerate the widget list in docs/pgwidgets.md from pgwidgets-js's definitions.

    python packages/pgwidgets/scripts/gen_widget_list.py          # rewrite the section
    python packages/pgwidgets/scripts/gen_widget_list.py --check  # exit 1 if it is stale

The list sits between the ``<!-- widget-list:start -->`` and ``<!-- widget-list:end -->``
markers; each class shows its constructor, callbacks and its own methods grouped by our
classification (setters, local getters, browser queries, child methods, actions).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pgwidgets_js

from pgwidgets import defs
from pgwidgets.async_ import WIDGET_CLASSES
from pgwidgets.classify import Kind

DOC = Path(__file__).resolve().parents[3] / "docs" / "pgwidgets.md"
START, END = "<!-- widget-list:start -->", "<!-- widget-list:end -->"
GROUPS = [
    ("setters", {Kind.SETTER, Kind.SHOW, Kind.HIDE, Kind.RESIZE}),
    ("getters (local, not awaited)", {Kind.GETTER}),
    ("browser queries", {Kind.QUERY}),
    (
        "children and layout",
        {Kind.ATTACH, Kind.REPLACE, Kind.DETACH, Kind.DETACH_ALL, Kind.FACTORY, Kind.LAYOUT},
    ),
    ("content (replayed)", {Kind.CONTENT, Kind.RESET}),
    ("actions", {Kind.ACTION}),
]


def render() -> str:
    lines = [
        START,
        "",
        f"Generated from pgwidgets-js {pgwidgets_js.__version__} by "
        "`packages/pgwidgets/scripts/gen_widget_list.py`: {n} classes. Every visual widget also has "
        "the common widget methods (`show`, `hide`, `resize`, `set_enabled`, `set_tooltip`, `set_font`, "
        "`add_cursor`, `set_cursor`, ...), containers add `remove`, `remove_all`, `get_children`.".format(
            n=len(defs.WIDGETS)
        ),
        "",
    ]
    for name in sorted(defs.WIDGETS):
        defn = defs.WIDGETS[name]
        cls = WIDGET_CLASSES[name]
        ctor = ", ".join([*defn.get("args", []), *(f"{o}=" for o in defn.get("options", []))])
        lines.append(f"### {name}")
        lines.append("")
        lines.append(f"`await W.{name}({ctor})` · base: {defn.get('base', 'widget')}")
        if defn.get("callbacks"):
            lines.append(f"· callbacks: {', '.join(f'`{c}`' for c in defn['callbacks'])}")
        lines.append("")
        own = defn.get("methods", {})
        for title, kinds in GROUPS:
            names = [m for m in own if cls._specs[m].kind in kinds]
            if names:
                lines.append(f"- {title}: " + ", ".join(f"`{m}({', '.join(own[m])})`" for m in names))
        if name == "Timer":
            lines.append("- runs on the server (asyncio) in pgwidgets: not created in the browser")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the document is out of date")
    args = parser.parse_args()
    text = DOC.read_text()
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0:
        print(f"{DOC}: markers {START} / {END} not found", file=sys.stderr)
        return 2
    new = text[:start] + render() + text[end + len(END) :]
    if args.check:
        if new != text:
            print(f"{DOC}: the widget list is stale; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    print(f"wrote the widget list for {len(defs.WIDGETS)} classes into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
