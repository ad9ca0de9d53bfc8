"""``python serve.py BACKEND PORT``: serve the matrix apps with BACKEND's documented start_server."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from apps import APPS

BACKENDS = ["tornado", "tornado_http", "wirecore", "flask", "django", "aiohttp", "fastapi"]


def main() -> None:
    backend, port = sys.argv[1], int(sys.argv[2])
    if backend not in BACKENDS:
        raise SystemExit(f"unknown backend {backend!r}; one of {', '.join(BACKENDS)}")
    module = importlib.import_module(f"pywebio.platform.{backend}")
    module.start_server(APPS, port=port, host="127.0.0.1", cdn=False)


if __name__ == "__main__":
    main()
