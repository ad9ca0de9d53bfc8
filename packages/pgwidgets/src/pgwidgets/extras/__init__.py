"""pgwidgets.extras: ready-made dialogs built from pgwidgets widgets, for both APIs.

- :mod:`pgwidgets.extras.file_browser`: ``FileBrowser``, a dialog that browses the server's
  filesystem (open one file, several files, a directory, or a name to save to).

Importing this package needs no session and no running application; each extra is a module of
its own (``from pgwidgets.extras.file_browser import FileBrowser``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["file_browser"]


def __getattr__(name: str) -> Any:  # ``pgwidgets.extras.file_browser`` without importing it first
    if name == "file_browser":
        import importlib

        return importlib.import_module(f"{__name__}.file_browser")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
