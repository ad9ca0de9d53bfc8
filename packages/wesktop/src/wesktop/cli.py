"""The ``wesktop`` command (also ``python -m wesktop``).

::

    wesktop --version
    wesktop serve myapp:app [--host 127.0.0.1] [--port 8000] [--pid-path app.pid] [--name NAME]
    wesktop run myapp:app [--title T] [--width 1280] [--height 800] [--icon PATH]
                          [--host 127.0.0.1] [--port 8000] [--pid-path app.pid]
    wesktop diagnose

``serve`` and ``run`` import the target from the current directory first, as ``python -m``
would. While they import it, a ``wesktop.serve()`` call at the module's bottom (as in the
documentation's examples) is skipped: the command serves the app itself, with its own options
(``wesktop.server.command_loading()`` tells ``run()`` the same). Failures to start (address in use, already running, a failing lifespan, a target that
does not import) print one line to stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wesktop",
        description="Web-based desktop apps: routes in Python, served by granian, shown in a native window.",
    )
    parser.add_argument("--version", action="version", version=f"wesktop {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve an app headless (blocks until Ctrl+C or SIGTERM)")
    serve.add_argument("target", help='the app as an import string, "module:attribute"')
    _server_options(serve)
    serve.add_argument(
        "--name", default="wesktop", help="the server's name in log lines (default: %(default)s)"
    )
    serve.add_argument(
        "--interface", choices=["rsgi", "asgi"], help="default: RSGI unless the app has ASGI middleware"
    )

    run = commands.add_parser(
        "run", help="serve an app and show it in a native window (needs wesktop[desktop])"
    )
    run.add_argument("target", help='the app as an import string, "module:attribute"')
    run.add_argument("--title", default="wesktop", help="window title (default: %(default)s)")
    run.add_argument("--width", type=int, default=1280, help="window width (default: %(default)s)")
    run.add_argument("--height", type=int, default=800, help="window height (default: %(default)s)")
    run.add_argument("--icon", help="window icon file")
    _server_options(run)

    commands.add_parser("diagnose", help="print versions and platform details for bug reports")
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port, 0 for a free one (default: %(default)s)"
    )
    parser.add_argument("--pid-path", type=Path, help="write the PID here while running")


def _importable_cwd() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def diagnose() -> list[tuple[str, str]]:
    """What a bug report needs: versions of Python and of each dependency, and the platform."""
    return [
        ("python", platform.python_version()),
        ("wesktop", __version__),
        ("wirecore", _dist_version("wirecore")),
        ("granian", _dist_version("granian")),
        ("msgspec", _dist_version("msgspec")),
        ("pywebview", _dist_version("pywebview")),
        ("platform", f"{platform.system()} {platform.release()} {platform.machine()}"),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "diagnose":
        rows = diagnose()
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value}")
        return 0

    from wirecore import ServerError  # the base of every "could not start" error
    from wirecore.server import load_app

    from . import server

    _importable_cwd()
    server._command_loading = args.command  # a serve() at the module's bottom is skipped
    try:
        app = load_app(args.target)  # a target that does not import is a usage error
    except (ImportError, ValueError) as exc:
        print(f"wesktop {args.command}: cannot load {args.target!r}: {exc}", file=sys.stderr)
        return 1
    finally:
        server._command_loading = None
    try:
        if args.command == "serve":
            server.serve(
                app,
                host=args.host,
                port=args.port,
                pid_path=args.pid_path,
                name=args.name,
                interface=args.interface,
            )
        else:
            from .desktop import run

            run(
                args.target,  # already imported: run() finds it in sys.modules
                title=args.title,
                width=args.width,
                height=args.height,
                icon=args.icon,
                host=args.host,
                port=args.port,
                pid_path=args.pid_path,
            )
    except ServerError as exc:
        print(f"wesktop {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
