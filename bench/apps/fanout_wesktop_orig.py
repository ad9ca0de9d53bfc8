"""The original wesktop 0.2.1 Broadcaster serving the same code as :mod:`fanout_wesktop`.

Run with the Python of ``bench/.venvs/wesktop-0.2.1`` under ``granian --interface asgi``. The
original never notices SSE clients that leave (its count only drops for full queues): the fan-out
bench counts the warm-up's subscribers it keeps as stale and reads its count on top of them.
"""

from fanout_wesktop import app

import wesktop

if not wesktop.__version__.startswith("0.2."):
    raise ImportError(
        f"expected the original wesktop 0.2.x, found {wesktop.__version__} at {wesktop.__file__}"
    )

__all__ = ["app"]
