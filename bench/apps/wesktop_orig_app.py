"""The original wesktop 0.2.1 from PyPI, serving the same code as :mod:`wesktop_app`.

Run it with the Python of the benchmark's own virtual environment (``bench/.venvs/wesktop-0.2.1``,
made on first use, see ``VENVS`` in :mod:`common`), where ``import wesktop`` is the original
package, under ``granian --interface asgi`` (the original is ASGI only).
"""

from wesktop_app import app

import wesktop

if not wesktop.__version__.startswith("0.2."):
    raise ImportError(
        f"expected the original wesktop 0.2.x, found {wesktop.__version__} at {wesktop.__file__}"
    )

__all__ = ["app"]
