"""Response types. Each knows how to send itself over ASGI and over RSGI.

Plain responses carry their whole body as bytes; :class:`StreamResponse` pulls chunks from an
async iterator and stops as soon as the client goes away; :class:`FileResponse` streams a file
from disk (granian sends it natively under RSGI).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterable, Iterable, Mapping
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import codec

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "BytesResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "RedirectResponse",
    "Response",
    "StreamResponse",
    "TextResponse",
    "to_response",
]

logger = logging.getLogger("wirecore")

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]] | None

FILE_CHUNK = 256 * 1024


def _header_list(headers: HeadersLike) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(k.lower(), str(v)) for k, v in items]


def _with_charset(media_type: str) -> str:
    if media_type.startswith("text/") and "charset" not in media_type:
        return media_type + "; charset=utf-8"
    return media_type


class Response:
    """A complete response: ``body`` bytes, ``status`` and ``headers``.

    ``headers`` may be a dict or a list of pairs; names are kept lower-case. ``media_type``
    sets ``content-type`` (``text/*`` types get ``charset=utf-8``).
    """

    __slots__ = ("body", "headers", "status")
    media_type: str | None = None
    streaming = False

    def __init__(
        self,
        body: bytes | str = b"",
        status: int = 200,
        headers: HeadersLike = None,
        media_type: str | None = None,
    ) -> None:
        self.body = body.encode() if isinstance(body, str) else body
        self.status = status
        mt = media_type or self.media_type
        if headers is None:  # the usual case, kept short
            self.headers = [("content-type", _with_charset(mt))] if mt is not None else []
            return
        self.headers = _header_list(headers)
        if mt is not None and not self.has_header("content-type"):
            self.headers.append(("content-type", _with_charset(mt)))

    def has_header(self, name: str) -> bool:
        name = name.lower()
        return any(k == name for k, _ in self.headers)

    def set_header(self, name: str, value: str) -> None:
        """Set ``name`` to ``value``, replacing any earlier value."""
        name = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k != name]
        self.headers.append((name, value))

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        path: str = "/",
        secure: bool = False,
        httponly: bool = True,
        samesite: str | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header (HttpOnly and SameSite=Lax by default)."""
        parts = [f"{key}={quote(value, safe='')}", f"Path={path}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if secure:
            parts.append("Secure")
        if httponly:
            parts.append("HttpOnly")
        if samesite:
            parts.append(f"SameSite={samesite}")
        self.headers.append(("set-cookie", "; ".join(parts)))

    async def send(self, transport: Transport, head: bool = False) -> None:
        """Send through ``transport``; for HEAD only the headers (with the real length)."""
        if head:
            headers = self.headers
            if not self.has_header("content-length"):
                headers = [*headers, ("content-length", str(len(self.body)))]
            await transport.send_whole(self.status, headers, b"", head=True)
        else:
            await transport.send_whole(self.status, self.headers, self.body)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status}>"


class JSONResponse(Response):
    """``data`` encoded by msgspec (dicts, lists, dataclasses, Structs, datetimes, UUIDs...)."""

    __slots__ = ()
    media_type = "application/json"

    def __init__(self, data: Any, status: int = 200, headers: HeadersLike = None) -> None:
        super().__init__(codec.encode(data), status, headers)


class TextResponse(Response):
    """A text body; ``content_type`` defaults to ``text/plain`` (with UTF-8 charset)."""

    __slots__ = ()
    media_type = "text/plain"

    def __init__(
        self,
        text: str,
        content_type: str = "text/plain",
        status: int = 200,
        headers: HeadersLike = None,
    ) -> None:
        super().__init__(text.encode(), status, headers, content_type)


class HTMLResponse(Response):
    """An HTML page (``text/html; charset=utf-8``)."""

    __slots__ = ()
    media_type = "text/html"

    def __init__(self, html: str, status: int = 200, headers: HeadersLike = None) -> None:
        super().__init__(html.encode(), status, headers)


class BytesResponse(Response):
    """Raw bytes with an explicit content type."""

    __slots__ = ()

    def __init__(
        self,
        data: bytes,
        content_type: str = "application/octet-stream",
        status: int = 200,
        headers: HeadersLike = None,
    ) -> None:
        super().__init__(bytes(data), status, headers, content_type)


class RedirectResponse(Response):
    """A redirect to ``url`` (307 by default, so the method is kept)."""

    __slots__ = ()

    def __init__(self, url: str, status: int = 307, headers: HeadersLike = None) -> None:
        super().__init__(b"", status, headers)
        self.headers.append(("location", url))


class StreamResponse(Response):
    """Chunks from an async (or plain) iterator of ``bytes`` or ``str``, sent as produced.

    The iterator is closed when the client disconnects, so ``finally`` blocks in an async
    generator run promptly.
    """

    __slots__ = ("iterator",)
    streaming = True

    def __init__(
        self,
        iterator: AsyncIterable[bytes | str] | Iterable[bytes | str],
        content_type: str = "application/octet-stream",
        status: int = 200,
        headers: HeadersLike = None,
    ) -> None:
        super().__init__(b"", status, headers, content_type)
        self.iterator = iterator

    async def send(self, transport: Transport, head: bool = False) -> None:
        if head:
            await transport.send_whole(self.status, self.headers, b"", head=True)
            await _aclose(self.iterator)
            return
        await transport.send_stream(self.status, self.headers, self.iterator)


async def _aclose(iterator: Any) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
    else:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class FileResponse(Response):
    """A file from disk, streamed; ``filename`` adds a download ``Content-Disposition``.

    ``stat`` may be passed when the caller already has it. ``content-length`` and
    ``last-modified`` are set from it.
    """

    __slots__ = ("path", "size")
    streaming = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        status: int = 200,
        headers: HeadersLike = None,
        media_type: str | None = None,
        filename: str | None = None,
        stat: os.stat_result | None = None,
    ) -> None:
        self.path = Path(path)
        if media_type is None:
            from .staticfiles import guess_type

            media_type = guess_type(self.path.name)
        super().__init__(b"", status, headers, media_type)
        st = stat if stat is not None else self.path.stat()
        self.size = st.st_size
        if not self.has_header("last-modified"):
            self.headers.append(("last-modified", formatdate(st.st_mtime, usegmt=True)))
        if filename is not None:
            self.headers.append(("content-disposition", f"attachment; filename*=UTF-8''{quote(filename)}"))

    async def send(self, transport: Transport, head: bool = False) -> None:
        headers = [*self.headers, ("content-length", str(self.size))]
        if head:
            await transport.send_whole(self.status, headers, b"", head=True)
        else:
            await transport.send_file(self.status, headers, self.path, self.size)


def to_response(value: Any) -> Response:
    """Convert a handler's return value: a Response as is, ``None`` to 204, ``str`` to
    text/plain, ``bytes`` to octet-stream, anything else to JSON."""
    if isinstance(value, Response):
        return value
    if value is None:
        return Response(b"", 204)
    if isinstance(value, str):
        return TextResponse(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BytesResponse(bytes(value))
    return JSONResponse(value)


async def _cancel_and_wait(task: asyncio.Task[Any]) -> None:
    task.cancel()
    try:
        await task
    except BaseException:
        pass
