"""pgwidgets: Python bindings for the pgwidgets JavaScript widget library, served by wirecore.

``pgwidgets.async_`` is the asynchronous API, ``pgwidgets.sync`` a blocking facade over it.
The browser side is the ``pgwidgets-js`` package; widget classes are generated from its defs.
"""

from importlib.metadata import PackageNotFoundError, version

from .protocol import Buffer

try:
    __version__ = version("pgwidgets")
except PackageNotFoundError:  # pragma: no cover - a source tree
    __version__ = "0.0.0"

__all__ = ["Buffer", "__version__"]
