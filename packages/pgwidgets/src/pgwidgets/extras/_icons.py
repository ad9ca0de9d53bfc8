"""Small file-type icons for the file browser, drawn here as SVG and sent as ``data:`` URIs.

Each icon is a 16x16 SVG: a folder, or a page whose band colour tells the kind of file.
"""

from __future__ import annotations

import base64
import functools

__all__ = ["KINDS", "icon_uri", "kind_of"]

_PAGE = (
    '<path d="M3 1.5h6.5l3.5 3.5v9.5H3z" fill="#fdfdfd" stroke="#6b7280"/>'
    '<path d="M9.5 1.5V5H13" fill="none" stroke="#6b7280"/>'
)
_FOLDER = '<path d="M1 3.5h5l1.5 1.5h7.5v8.5H1z" fill="#f2c14e" stroke="#a87b12"/>'

# kind -> the SVG body drawn over the page (or the folder)
_BODIES: dict[str, str] = {
    "folder": _FOLDER,
    "parent": _FOLDER
    + '<path d="M8 12V7.5M5.8 9.6 8 7.4l2.2 2.2" fill="none" stroke="#5c4307" stroke-width="1.4"/>',
    "file": _PAGE + '<path d="M5 8h6M5 10h6M5 12h4" stroke="#9ca3af"/>',
    "text": _PAGE + '<path d="M5 8h6M5 10h6M5 12h6" stroke="#2563eb"/>',
    "code": _PAGE + '<path d="M6.5 8 5 10l1.5 2M9.5 8 11 10l-1.5 2" fill="none" stroke="#7c3aed"/>',
    "image": _PAGE + '<rect x="4.5" y="7.5" width="7" height="5.5" fill="#bfdbfe"/>'
    '<path d="M4.5 13l2.5-3 1.5 1.5 1-1 2 2.5z" fill="#16a34a"/>',
    "audio": _PAGE + '<path d="M7 12.5V8l3.5-1v4.5" fill="none" stroke="#db2777"/>'
    '<circle cx="6.2" cy="12.5" r="1" fill="#db2777"/><circle cx="9.7" cy="11.5" r="1" fill="#db2777"/>',
    "video": _PAGE
    + '<rect x="4.5" y="7.5" width="7" height="5.5" fill="#1f2937"/><path d="M7 8.8v3l2.5-1.5z" fill="#fff"/>',
    "archive": _PAGE
    + '<path d="M8 2v11" stroke="#b45309" stroke-dasharray="1 1"/><rect x="7" y="11" width="2" height="2" fill="#b45309"/>',
    "pdf": _PAGE + '<rect x="4" y="8" width="8" height="4" fill="#dc2626"/>',
    "broken": _PAGE + '<path d="M5.5 8.5l5 4M10.5 8.5l-5 4" stroke="#dc2626" stroke-width="1.3"/>',
}
KINDS = tuple(_BODIES)

_EXTENSIONS: dict[str, str] = {
    "image": "png jpg jpeg gif bmp svg webp tif tiff ico fits fit fts",
    "text": "txt md rst log csv tsv json yaml yml toml ini cfg xml",
    "code": "py pyi js mjs ts c h cc cpp hpp rs go java sh html css",
    "audio": "mp3 wav ogg oga flac m4a aac",
    "video": "mp4 m4v mkv webm avi mov",
    "archive": "zip tar gz tgz bz2 xz zst 7z rar whl",
    "pdf": "pdf",
}
_KIND_OF_EXT = {ext: kind for kind, exts in _EXTENSIONS.items() for ext in exts.split()}


def kind_of(name: str, is_dir: bool = False) -> str:
    """The icon kind of a directory entry named ``name``."""
    if is_dir:
        return "parent" if name == ".." else "folder"
    _, dot, ext = name.rpartition(".")
    return _KIND_OF_EXT.get(ext.lower(), "file") if dot else "file"


@functools.cache
def icon_uri(kind: str) -> str:
    """``data:image/svg+xml;base64,...`` for an icon kind (unknown kinds get the plain page)."""
    body = _BODIES.get(kind, _BODIES["file"])
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">{body}</svg>'
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
