"""webshoes: one registered handler answers both HTTP and WebSocket, with server-push events.

    import webshoes as ws

    def cmdAdd(ctx, q):
        return {"result": int(q.a) + int(q.b)}

    wsa = ws.WebShoesApp("127.0.0.1", 15801, {"verbose": True})
    wsa.register("cmd", "cmd", "q", "evt", "r", {"add": cmdAdd})
    wsa.start()

``GET /cmd/add?a=3&b=4`` and the WebSocket message ``{"cmd": "cmd/add", "q": {"a": 3, "b": 4}}``
both reach ``cmdAdd``. Served by granian through wirecore.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, metadata

from .app import UploadedFile, WebShoesApp
from .bag import Bag, Missing

try:
    _meta = metadata("webshoes")
    __version__ = _meta["Version"]
    __description__ = _meta["Summary"] or ""
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"
    __description__ = ""

__company__ = ""
__author__ = "the webshoes authors"
__email__ = ""
__url__ = "https://pypi.org/project/webshoes/"
__repo__ = ""
__bugs__ = ""
__license__ = "MIT"
__info__ = {
    "name": "webshoes",
    "version": __version__,
    "description": __description__,
    "company": __company__,
    "author": __author__,
    "email": __email__,
    "url": __url__,
    "repo": __repo__,
    "bugs": __bugs__,
    "license": __license__,
}

_HERE = os.path.dirname(os.path.abspath(__file__))


def libPath(p: str = "") -> str:
    """The absolute path of ``p`` inside the installed package: ``libPath("web")`` is the folder
    holding the JavaScript client (serve it as a static folder)."""
    return os.path.join(_HERE, p) if p else _HERE


__all__ = ["Bag", "Missing", "UploadedFile", "WebShoesApp", "__info__", "__version__", "libPath"]
