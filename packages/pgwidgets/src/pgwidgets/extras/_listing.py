"""The file browser's filesystem side: reading a directory, filtering it, and deciding what a
typed name means in each mode. Plain functions (blocking I/O, run in a worker thread by the
dialog), so they are tested on real directories without a browser."""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ._icons import icon_uri, kind_of

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "MODES",
    "Decision",
    "Entry",
    "Listing",
    "decide",
    "describe_error",
    "format_size",
    "join_names",
    "list_directory",
    "matches",
    "nearest_directory",
    "normalize_ext",
    "resolve",
    "rows_for",
    "split_names",
    "visible_entries",
]

MODES = ("file", "files", "directory", "save")
DEFAULT_MAX_ENTRIES = 2000


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry; ``size``/``mtime`` are ``None`` when they could not be read."""

    name: str
    is_dir: bool
    size: int | None = None
    mtime: float | None = None
    broken: bool = False  # a symbolic link whose target is missing (or loops)

    @property
    def hidden(self) -> bool:
        return self.name.startswith(".")


@dataclass(slots=True)
class Listing:
    """What :func:`list_directory` read: entries sorted directories first, then by name."""

    directory: str
    entries: list[Entry] = field(default_factory=list)
    truncated: bool = False  # more entries than ``limit``: the rest are not shown
    skipped: int = 0  # entries that vanished or could not be read while listing
    error: str | None = None  # the directory itself could not be read

    @property
    def names(self) -> dict[str, Entry]:
        return {e.name: e for e in self.entries}


def describe_error(exc: OSError, path: str) -> str:
    """A short message for a failed filesystem call on ``path``."""
    if isinstance(exc, PermissionError):
        return f"Permission denied: {path}"
    if isinstance(exc, FileNotFoundError):
        return f"No such directory: {path}"
    if isinstance(exc, NotADirectoryError):
        return f"Not a directory: {path}"
    if exc.errno == errno.ELOOP:
        return f"Too many levels of symbolic links: {path}"
    reason = exc.strerror or type(exc).__name__
    return f"Cannot read {path}: {reason}"


def _sort_key(entry: Entry) -> tuple[bool, str, str]:
    return (not entry.is_dir, entry.name.casefold(), entry.name)


def list_directory(path: str, *, show_hidden: bool = False, limit: int = DEFAULT_MAX_ENTRIES) -> Listing:
    """Read ``path`` (one level, never recursing): at most ``limit`` entries are kept
    (``truncated`` says when there were more), names starting with ``.`` only with
    ``show_hidden``. Errors never raise: the directory's own error is in ``error``, entries
    that vanish meanwhile are counted in ``skipped``."""
    directory = os.path.abspath(path)
    listing = Listing(directory)
    try:
        with os.scandir(directory) as it:
            for de in it:
                name = de.name
                if not show_hidden and name.startswith("."):
                    continue
                if len(listing.entries) >= limit:
                    listing.truncated = True
                    break
                entry = _read_entry(de)
                if entry is None:
                    listing.skipped += 1
                else:
                    listing.entries.append(entry)
    except OSError as exc:
        listing.error = describe_error(exc, directory)
    listing.entries.sort(key=_sort_key)
    return listing


def _read_entry(de: os.DirEntry[str]) -> Entry | None:
    """An Entry for ``de`` (following symbolic links), or None when it vanished."""
    try:
        st = de.stat()  # follows links
    except FileNotFoundError:
        if _is_link(de):
            return Entry(de.name, False, broken=True)
        return None  # removed while we were listing
    except OSError:  # a link loop, a permission problem on the target...
        return Entry(de.name, False, broken=True) if _is_link(de) else Entry(de.name, False)
    is_dir = stat.S_ISDIR(st.st_mode)
    return Entry(de.name, is_dir, None if is_dir else st.st_size, st.st_mtime)


def _is_link(de: os.DirEntry[str]) -> bool:
    try:
        return de.is_symlink()
    except OSError:
        return False


def nearest_directory(path: str) -> str:
    """``path`` or its nearest ancestor that is a directory."""
    p = os.path.abspath(path)
    while not os.path.isdir(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p


# filters ----------------------------------------------------------------------------------------


def normalize_ext(ext: str) -> str:
    """``"png"``, ``".png"`` and ``"*.PNG"`` all become ``"png"``; ``"tar.gz"`` stays two parts."""
    if not isinstance(ext, str):
        raise TypeError(f"an extension is a string, not {type(ext).__name__}")
    norm = ext.strip().lower().lstrip("*").lstrip(".")
    if not norm or "/" in norm or os.sep in norm or norm.endswith("."):
        raise ValueError(f"not a file extension: {ext!r}")
    return norm


def matches(name: str, exts: Iterable[str] | None) -> bool:
    """Whether ``name`` ends with one of ``exts`` (normalized; ``None`` matches everything)."""
    if exts is None:
        return True
    lower = name.lower()
    return any(lower.endswith("." + ext) for ext in exts)


def visible_entries(listing: Listing, mode: str, exts: Sequence[str] | None) -> list[Entry]:
    """The entries shown in ``mode``: directories always (only them in "directory" mode),
    files when they match the filter."""
    if mode == "directory":
        return [e for e in listing.entries if e.is_dir]
    return [e for e in listing.entries if e.is_dir or matches(e.name, exts)]


def format_size(size: int | None) -> str:
    """``1536`` -> ``"1.5 KiB"``; ``None`` -> ``""``."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    return f"{size} B"  # pragma: no cover - the loop always returns


def _format_time(mtime: float | None) -> str:
    if mtime is None:
        return ""
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))
    except (OverflowError, OSError, ValueError):
        return ""


def rows_for(entries: Iterable[Entry], parent: bool) -> list[dict[str, str]]:
    """TableView rows (icon, name, size, modified); a ``..`` row first when ``parent``."""
    rows: list[dict[str, str]] = []
    if parent:
        rows.append({"icon": icon_uri("parent"), "name": "..", "size": "", "modified": ""})
    for e in entries:
        kind = "broken" if e.broken else kind_of(e.name, e.is_dir)
        rows.append(
            {
                "icon": icon_uri(kind),
                "name": e.name,
                "size": "" if e.is_dir else format_size(e.size),
                "modified": _format_time(e.mtime),
            }
        )
    return rows


# what a typed name means -------------------------------------------------------------------------


def split_names(text: str) -> list[str]:
    """The names typed in "files" mode: ``"a.txt" "b c.txt"`` is two names; text without
    quotes is one name."""
    text = text.strip()
    if '"' not in text:
        return [text] if text else []
    names: list[str] = []
    rest = text
    while rest:
        rest = rest.lstrip()
        if not rest:
            break
        if rest[0] != '"':
            word, _, rest = rest.partition(" ")
            names.append(word)
            continue
        end = rest.find('"', 1)
        if end < 0:  # an unclosed quote: the rest is one name
            names.append(rest[1:])
            break
        if end > 1:
            names.append(rest[1:end])
        rest = rest[end + 1 :]
    return names


def join_names(names: Sequence[str]) -> str:
    """The inverse of :func:`split_names` (one name stays unquoted)."""
    if len(names) == 1:
        return names[0]
    return " ".join(f'"{n}"' for n in names)


def resolve(directory: str, name: str) -> str:
    """``name`` (absolute, ``~``-relative or relative to ``directory``) as a normalized path."""
    return os.path.normpath(os.path.join(directory, os.path.expanduser(name)))


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with the typed text: ``navigate`` to ``paths[0]``, ``accept`` ``paths``,
    ``confirm`` overwriting ``paths[0]`` (save), or show ``message`` (``error``)."""

    action: str
    paths: tuple[str, ...] = ()
    message: str = ""
    stale: bool = False  # a listed file is gone: the listing should be read again


def decide(
    directory: str,
    text: str,
    mode: str,
    known: Mapping[str, Entry] | None = None,
    names: Sequence[str] | None = None,
) -> Decision:
    """What ``text`` typed in the name entry means in ``mode`` (``names``: the names already
    split, for a row picked in the listing); ``known`` are the entries listed, to say "no
    longer exists" for a file that vanished since."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if names is None:
        names = split_names(text) if mode == "files" else ([text.strip()] if text.strip() else [])
    names = [n for n in names if n]
    text = text or join_names(names)
    if not names:
        if mode == "directory":
            return Decision("accept", (directory,))
        return Decision("error", message="Type a file name." if mode == "save" else "Choose a file.")
    targets = [resolve(directory, n) for n in names]
    try:
        if len(targets) == 1 and os.path.isdir(targets[0]):
            return Decision("accept" if mode == "directory" else "navigate", (targets[0],))
        if mode == "directory":
            what = "Not a directory" if os.path.lexists(targets[0]) else "No such directory"
            return Decision("error", message=f"{what}: {names[0]}")
        if mode == "save":
            target = targets[0]
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                return Decision("error", message=f"No such directory: {parent}")
            if os.path.lexists(target):
                return Decision("confirm", (target,))
            return Decision("accept", (target,))
        problems = []
        stale = False
        for name, target in zip(names, targets, strict=True):
            if os.path.isfile(target):
                continue
            if os.path.isdir(target):
                problems.append(f"{name} is a directory")
            elif os.path.islink(target) and not os.path.exists(target):
                problems.append(f"{name} is a broken link")
            elif known is not None and name in known:
                problems.append(f"{name} no longer exists")
                stale = True
            else:
                problems.append(f"No such file: {name}")
        if problems:
            return Decision("error", message="; ".join(problems) + ".", stale=stale)
        return Decision("accept", tuple(targets))
    except (OSError, ValueError) as exc:  # a path too long, an embedded NUL...
        return Decision("error", message=f"Cannot use {text.strip()!r}: {exc}")
