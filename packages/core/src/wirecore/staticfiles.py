"""Static files: a directory served under a mount prefix, safely and with cache validators.

:class:`StaticFiles` is a :class:`~wirecore.Mount`; ``app.mount("/assets", StaticFiles("build"))``
lets it answer every unrouted GET/HEAD path under ``/assets``. :func:`spa_fallback_handler` makes
an ``app.fallback`` that answers every other unmatched GET/HEAD with one page (a single-page app's
``index.html``). :func:`guess_type` maps file names to media types from a fixed table.

Safety rules, in the order they are applied (every refusal is a plain 404, so nothing tells a
client whether a file it may not see exists):

1. The request path is checked as text. A segment that is empty (``a//b``, an absolute path,
   an encoded ``%2F``), that starts with a dot (``.``, ``..``, ``.env``, ``.git/``), or that
   holds a backslash, a NUL byte or a colon (Windows drive letters and NTFS streams) is refused.
   The server has already percent-decoded the path once; it is never decoded again, so a
   double-encoded ``%252e%252e`` arrives as the literal name ``%2e%2e`` and is only ever looked
   up as that name.
2. With ``follow_symlinks=False`` (the default) the joined path is resolved with
   :func:`os.path.realpath` (what :meth:`pathlib.Path.resolve` does) and must lie inside the
   resolved root, compared component-wise (the root plus a separator, so ``/srv/static-evil``
   is never inside ``/srv/static``). A symbolic link is therefore followed only while its
   target stays inside the root, and the target must not be hidden (a dot segment) either.
   With ``follow_symlinks=True`` links placed under the root are trusted and followed wherever
   they point; rule 1 still guarantees that the request itself cannot step outside the root.
3. Only regular files are served (and directories through their ``index`` file); sockets,
   FIFOs and devices are refused.

Validators: the ETag is weak, ``W/"<mtime_ns hex>-<size hex>"``. It is derived from file
metadata, not from the bytes, so it does not promise byte-for-byte identity (the meaning of a
strong tag); it changes whenever a file is rewritten. ``If-None-Match`` (weak comparison, ``*``
allowed) takes precedence over ``If-Modified-Since``, as HTTP requires; either answers 304 with
no body. Every file also carries ``X-Content-Type-Options: nosniff``: the media type comes from
the fixed table, so browsers are told not to second-guess it.

The file system calls on the request path (``realpath``, ``stat``) run inline: they are a few
system calls on local metadata. The file's bytes are streamed by :class:`~wirecore.FileResponse`
(natively by granian under RSGI, in chunks from a worker thread under ASGI).
"""

from __future__ import annotations

import logging
import os
import re
import stat as statmod
from collections.abc import Awaitable, Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .app import Mount
from .exceptions import HTTPError
from .requests import Request
from .responses import FileResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["MEDIA_TYPES", "StaticFiles", "guess_type", "spa_fallback_handler"]

logger = logging.getLogger("wirecore")

DEFAULT_MEDIA_TYPE = "application/octet-stream"

_UTF8 = "; charset=utf-8"

MEDIA_TYPES: dict[str, str] = {
    # documents and text (``text/*`` types get ``charset=utf-8`` from Response)
    "html": "text/html",
    "htm": "text/html",
    "xhtml": "application/xhtml+xml",
    "css": "text/css",
    "txt": "text/plain",
    "text": "text/plain",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ics": "text/calendar",
    "vtt": "text/vtt",
    # scripts and data
    "js": "text/javascript" + _UTF8,
    "mjs": "text/javascript" + _UTF8,
    "cjs": "text/javascript" + _UTF8,
    # JSON is UTF-8 by definition (RFC 8259 defines no charset parameter), so none is added.
    "json": "application/json",
    "map": "application/json",
    "jsonld": "application/ld+json",
    "webmanifest": "application/manifest+json",
    # XML carries its encoding in its own declaration; SVG in practice is always UTF-8.
    "xml": "application/xml",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "yaml": "application/yaml",
    "yml": "application/yaml",
    "toml": "application/toml",
    "wasm": "application/wasm",
    "pdf": "application/pdf",
    "epub": "application/epub+zip",
    # images
    "svg": "image/svg+xml" + _UTF8,
    "png": "image/png",
    "apng": "image/apng",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "ico": "image/vnd.microsoft.icon",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "jxl": "image/jxl",
    # fonts
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    # audio and video
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "mov": "video/quicktime",
    # 3D models
    "glb": "model/gltf-binary",
    "gltf": "model/gltf+json",
    # archives
    "zip": "application/zip",
    "gz": "application/gzip",
    "tgz": "application/gzip",
    "tar": "application/x-tar",
    "bz2": "application/x-bzip2",
    "xz": "application/x-xz",
    "7z": "application/x-7z-compressed",
}
"""File extension (lower case, no dot) to media type. Edit it to add types for your app."""


def guess_type(name: str) -> str:
    """The media type for a file ``name`` from :data:`MEDIA_TYPES`, by its last extension.

    The operating system's MIME database is never consulted, so answers are the same on every
    machine. Unknown or missing extensions give ``application/octet-stream``.
    """
    _, dot, ext = name.rpartition(".")
    if not dot:
        return DEFAULT_MEDIA_TYPE
    return MEDIA_TYPES.get(ext.lower(), DEFAULT_MEDIA_TYPE)


# Rule 1 of the module docstring as one scan: a segment that is empty (``//``, or a leading
# ``/``) or starts with a dot, and a backslash, NUL or colon anywhere.
_UNSAFE = re.compile(r"(?:^|/)[./]|[\\\x00:]")

_ALLOW = {"allow": "GET, HEAD"}

# Characters left as they are when a decoded path is put back into a Location header.
_PATH_SAFE = "/!$&'()*+,;=@-._~"


def _unsafe_path(path: str) -> bool:
    return _UNSAFE.search(path) is not None


def _not_found(reason: str, path: str) -> HTTPError:
    logger.debug("static: 404 for %r (%s)", path, reason)
    return HTTPError(404)


def _etag(st: os.stat_result) -> str:
    return f'W/"{st.st_mtime_ns:x}-{st.st_size:x}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _not_modified(request: Request, etag: str, st: os.stat_result) -> bool:
    """Whether the client's validators say its cached copy is current."""
    headers = request.headers
    inm = headers.get("if-none-match")
    if inm is not None:
        # Weak comparison: W/"x" and "x" match (RFC 9110 13.1.2).
        mine = _opaque(etag)
        return any(t.strip() == "*" or _opaque(t) == mine for t in inm.split(","))
    ims = headers.get("if-modified-since")
    if ims is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False  # an unreadable date is ignored
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return int(st.st_mtime) <= since.timestamp()
    return False


class _NotModified(Response):
    """A 304: no body, and a Content-Length (if any) equal to the full file's size.

    HTTP forbids a 304 whose Content-Length differs from the 200's, so the real size is sent
    (the server strips it for GET, keeps it for HEAD) and ``send`` adds no length of its own.
    """

    __slots__ = ()

    async def send(self, transport: Transport, head: bool = False) -> None:
        await transport.send_whole(self.status, self.headers, b"")


def _file_response(
    request: Request,
    path: str,
    st: os.stat_result,
    media_type: str,
    cache_control: str | None,
) -> Response:
    """A 200 streaming ``path`` (or a 304), with ETag, Last-Modified and Cache-Control."""
    etag = _etag(st)
    headers = [("etag", etag), ("x-content-type-options", "nosniff")]
    if cache_control is not None:
        headers.append(("cache-control", cache_control))
    if _not_modified(request, etag, st):
        response = _NotModified(b"", 304, headers)
        response.headers.append(("content-length", str(st.st_size)))
        return response
    return FileResponse(path, headers=headers, media_type=media_type, stat=st)


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


class StaticFiles(Mount):
    """Serve the files under ``directory``.

    :param directory: the root; it must exist when the object is made. It is resolved once, so
        a symlinked root is fine.
    :param index: the file served for a directory (``None``: directories are 404). A directory
        asked for without its trailing slash is redirected (308) to the slash form, so relative
        links in the page resolve inside the directory.
    :param cache_control: the ``Cache-Control`` value for files and 304s (``None``: no header).
        The default ``no-cache`` lets browsers keep copies but revalidate them every time
        (cheap, thanks to the ETag); use ``"public, max-age=31536000, immutable"`` for
        content-hashed build output.
    :param follow_symlinks: see rule 2 of the module docs: ``False`` follows a link only while
        it stays inside the root; ``True`` trusts every link under the root.
    :param spa_fallback: a file (relative paths are taken from ``directory``) served for any
        GET/HEAD under the mount that names no file, so a single-page app's client-side routes
        load its shell. Only this exact file is ever served this way; refused paths (rule 1 and
        2) stay 404.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        index: str | None = "index.html",
        cache_control: str | None = "no-cache",
        follow_symlinks: bool = False,
        spa_fallback: str | os.PathLike[str] | None = None,
    ) -> None:
        root = os.path.realpath(directory)
        if not os.path.isdir(root):
            raise NotADirectoryError(f"static directory {os.fspath(directory)!r} is not a directory")
        if index is not None and (not index or _unsafe_path(index) or "/" in index):
            raise ValueError(f"index must be a plain, visible file name, not {index!r}")
        self.directory = Path(root)
        self.index = index
        self.cache_control = cache_control
        self.follow_symlinks = follow_symlinks
        self.spa_fallback: Path | None = None
        if spa_fallback is not None:
            self.spa_fallback = Path(os.path.abspath(os.path.join(root, spa_fallback)))
        self._root = root
        self._root_prefix = root if root.endswith(os.sep) else root + os.sep

    def __repr__(self) -> str:
        return f"StaticFiles({os.fspath(self.directory)!r})"

    async def handle(self, request: Request, subpath: str) -> Response:
        """Answer ``request`` for ``subpath`` (relative to the mount prefix)."""
        if request.method not in ("GET", "HEAD"):
            raise HTTPError(405, headers=_ALLOW)
        # The mount strips the slashes after its prefix, so a doubled one shows only in the path.
        if _unsafe_path(subpath) or "//" in request.path:
            raise _not_found("refused path", request.path)
        found = self._lookup(os.path.join(self._root, subpath))
        if found is not None:
            real, st = found
            if statmod.S_ISDIR(st.st_mode):
                response = self._directory(request, real)
                if response is not None:
                    return response
            elif statmod.S_ISREG(st.st_mode) and not subpath.endswith("/"):
                name = subpath.rpartition("/")[2]
                return _file_response(request, real, st, guess_type(name), self.cache_control)
        if self.spa_fallback is not None:
            spa = os.fspath(self.spa_fallback)
            spa_st = _stat(spa)
            if spa_st is not None and statmod.S_ISREG(spa_st.st_mode):
                media_type = guess_type(self.spa_fallback.name)
                return _file_response(request, spa, spa_st, media_type, self.cache_control)
        raise _not_found("no such file", request.path)

    def _lookup(self, joined: str) -> tuple[str, os.stat_result] | None:
        """The path to open and its stat, or ``None`` when it is missing or outside the root."""
        if self.follow_symlinks:
            st = _stat(joined)
            return None if st is None else (joined, st)
        try:
            real = os.path.realpath(joined)
        except (OSError, ValueError):
            return None
        if real != self._root:
            if not real.startswith(self._root_prefix):
                return None  # a link led outside the root
            rel = real[len(self._root_prefix) :]
            if any(part.startswith(".") for part in rel.split(os.sep)):
                return None  # a link led to a hidden file inside the root
        st = _stat(real)
        return None if st is None else (real, st)

    def _directory(self, request: Request, directory: str) -> Response | None:
        """The index of ``directory`` (or a redirect to its slash form), ``None`` if none."""
        if self.index is None:
            return None
        found = self._lookup(os.path.join(directory, self.index))
        if found is None or not statmod.S_ISREG(found[1].st_mode):
            return None
        if not request.path.endswith("/"):
            location = quote(request.path + "/", safe=_PATH_SAFE)
            if request.query_string:
                location += "?" + request.query_string
            return RedirectResponse(location, 308)
        real, st = found
        return _file_response(request, real, st, guess_type(self.index), self.cache_control)


def spa_fallback_handler(
    index_path: str | os.PathLike[str], *, cache_control: str | None = "no-cache"
) -> Callable[[Request], Awaitable[Response]]:
    """A handler for ``app.fallback`` that answers every unmatched GET/HEAD with one file.

    ``app.fallback = spa_fallback_handler("build/index.html")`` lets a single-page app's
    client-side routes (``/settings/profile``) load its shell. Only ``index_path`` is ever
    served, whatever the request path; paths that look like probes (a dot segment such as
    ``/.env`` or ``/../x``, a backslash, NUL, colon or empty segment) get 404 instead, and
    other methods 405. A missing file is a 404.
    """
    path = os.path.abspath(index_path)
    media_type = guess_type(os.path.basename(path))

    async def spa_fallback(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise HTTPError(405, headers=_ALLOW)
        if _unsafe_path(request.path[1:]):
            raise _not_found("refused path", request.path)
        st = _stat(path)
        if st is None or not statmod.S_ISREG(st.st_mode):
            raise _not_found("fallback file missing", request.path)
        return _file_response(request, path, st, media_type, cache_control)

    return spa_fallback
