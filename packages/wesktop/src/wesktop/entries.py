"""Desktop entries: launch a wesktop app from the system's application menu.

- Linux and the BSDs: a ``.desktop`` file (Desktop Entry Specification 1.5) in
  ``$XDG_DATA_HOME/applications`` (default ``~/.local/share/applications``); an icon file is
  installed in the user's ``hicolor`` icon theme.
- macOS: an ``.app`` bundle in ``~/Applications`` with an ``Info.plist`` and a launcher script.
- Windows: a Start Menu shortcut (``.lnk``) in ``%APPDATA%``, made by PowerShell through the
  ``WScript.Shell`` COM object.

``command`` is a command line, split into arguments by the platform's rules (POSIX shell
quoting on Linux and macOS, the Windows command-line rules on Windows) or a list of arguments.
No shell runs it: write ``sh -c '...'`` yourself for pipes or variables. Every value written is
quoted or escaped for its format, and names are checked, so no value can add a line, a key or a
path of its own.
"""

from __future__ import annotations

import contextlib
import logging
import ntpath
import os
import platform
import plistlib
import re
import shlex
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = [
    "create_entry",
    "create_linux_entry",
    "create_macos_entry",
    "create_windows_entry",
    "desktop_entry_text",
    "exec_value",
    "info_plist",
    "launcher_script",
    "linux_applications_dir",
    "macos_applications_dir",
    "png_to_icns",
    "powershell_command",
    "powershell_quote",
    "remove_entry",
    "remove_linux_entry",
    "remove_macos_entry",
    "remove_windows_entry",
    "shortcut_script",
    "split_windows_command",
    "windows_programs_dir",
]

logger = logging.getLogger("wesktop.entries")

Command = str | Sequence[str]
IconPath = str | os.PathLike[str]

FREEDESKTOP_SYSTEMS = frozenset({"Linux", "FreeBSD", "OpenBSD", "NetBSD", "DragonFly"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNESCAPABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but \t \n \r
_CATEGORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


# dispatch ----------------------------------------------------------------------------------


def create_entry(
    name: str,
    command: Command,
    *,
    icon: IconPath | None = None,
    comment: str = "",
    categories: str | Sequence[str] = "Utility;",
) -> Path:
    """Create (or update) this platform's launcher entry ``name`` running ``command``.

    Returns the path of the ``.desktop`` file, ``.app`` bundle or ``.lnk`` shortcut.
    Raises ``ValueError`` for a bad name or command, ``FileNotFoundError`` for a missing icon
    file, ``FileExistsError`` if an entry of that name exists that wesktop did not create
    (Linux, macOS), and ``OSError`` on an unsupported system.
    """
    system = platform.system()
    if system in FREEDESKTOP_SYSTEMS:
        return create_linux_entry(name, command, icon=icon, comment=comment, categories=categories)
    if system == "Darwin":
        return create_macos_entry(name, command, icon=icon, comment=comment, categories=categories)
    if system == "Windows":
        return create_windows_entry(name, command, icon=icon, comment=comment, categories=categories)
    raise OSError(f"desktop entries are not supported on {system or 'this system'}")


def remove_entry(name: str) -> bool:
    """Remove the entry ``name``: True if it existed and was removed, False if there was none.

    On Linux and macOS only entries that wesktop created are removed; any other file of that
    name is left alone (and False returned).
    """
    system = platform.system()
    if system in FREEDESKTOP_SYSTEMS:
        return remove_linux_entry(name)
    if system == "Darwin":
        return remove_macos_entry(name)
    if system == "Windows":
        return remove_windows_entry(name)
    return False


# shared checks ----------------------------------------------------------------------------


def _check_name(name: str) -> str:
    """An entry name usable as one file name: no separators, no control characters."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("an entry name must be a non-empty string")
    if name in (".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"an entry name must not be a path: {name!r}")
    if _CONTROL.search(name):
        raise ValueError(f"an entry name must not contain control characters: {name!r}")
    if name != name.strip():
        raise ValueError(f"an entry name must not start or end with whitespace: {name!r}")
    if len(name.encode()) > 200:
        raise ValueError("an entry name must be at most 200 bytes long")
    return name


_WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)


def _check_windows_name(name: str) -> str:
    _check_name(name)
    bad = sorted(set('<>:"|?*') & set(name))
    if bad:
        raise ValueError(f"a Windows entry name must not contain {''.join(bad)!r}: {name!r}")
    if name.endswith("."):
        raise ValueError(f"a Windows entry name must not end with a dot: {name!r}")
    if _WINDOWS_RESERVED.fullmatch(name):
        raise ValueError(f"{name!r} is a reserved device name on Windows")
    return name


def _check_text(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    return value


def _posix_argv(command: Command) -> list[str]:
    """The arguments of ``command``: a list as given, a string split by POSIX shell rules."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ValueError(f"cannot split the command {command!r}: {exc}") from None
    else:
        argv = [os.fspath(arg) for arg in command]
    if not argv or not argv[0]:
        raise ValueError("the command is empty")
    for arg in argv:
        if _CONTROL.search(arg):
            raise ValueError(f"the command must not contain control characters: {arg!r}")
    return argv


def _categories(categories: str | Sequence[str]) -> list[str]:
    items = categories.split(";") if isinstance(categories, str) else list(categories)
    cleaned = [item.strip(" ") for item in items if item.strip(" ")]
    for item in cleaned:
        if not _CATEGORY.fullmatch(item):
            raise ValueError(f"not a category name: {item!r} (letters, digits, '-' and '_')")
    return cleaned


_ICON_SUFFIXES = {".png", ".svg", ".svgz", ".xpm", ".icns", ".ico", ".jpg", ".jpeg", ".gif", ".bmp"}


def _icon_file(icon: IconPath) -> Path | None:
    """The icon as an existing file, None for a theme icon name; a missing path raises."""
    text = os.fspath(icon)
    path = Path(text).expanduser()
    if path.is_file():
        return path.resolve()
    looks_like_path = "/" in text or "\\" in text or path.suffix.lower() in _ICON_SUFFIXES
    if looks_like_path:
        raise FileNotFoundError(f"icon file not found: {text}")
    return None


def _sniff_image(data: bytes) -> str:
    """The image format by content: png, svg, svgz, xpm, icns or ico; '' if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"icns"):
        return "icns"
    if data.startswith(b"\x00\x00\x01\x00"):
        return "ico"
    if data.startswith(b"\x1f\x8b"):
        return "svgz"
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"/* XPM */"):
        return "xpm"
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!DOCTYPE svg")) and b"<svg" in data[:65536]:
        return "svg"
    return ""


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ValueError("not a valid PNG file (no IHDR header)")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# Linux / freedesktop ------------------------------------------------------------------------

_HICOLOR_SIZES = (16, 22, 24, 32, 36, 48, 64, 72, 96, 128, 192, 256, 512)
_MARKER = "X-Wesktop-Entry"
_ICON_KEY = "X-Wesktop-Icon"
# Characters that force an Exec argument into double quotes (Desktop Entry Spec, "The Exec key").
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


def _data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    # the XDG Base Directory spec: unset, empty or relative values are ignored
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def linux_applications_dir() -> Path:
    """``$XDG_DATA_HOME/applications``, by default ``~/.local/share/applications``."""
    return _data_home() / "applications"


def _escape_string(value: str) -> str:
    """A value of type string/localestring: ``\\\\``, ``\\n``, ``\\t``, ``\\r`` and edge ``\\s``."""
    if _UNESCAPABLE.search(value):
        raise ValueError(f"control characters are not allowed in desktop entry values: {value!r}")
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    if out.startswith(" "):
        out = "\\s" + out[1:]
    if out.endswith(" "):
        out = out[:-1] + "\\s"
    return out


def _unescape_string(value: str) -> str:
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), value)


def _exec_argument(arg: str) -> str:
    if arg == "":
        quoted = '""'
    elif any(ch in _EXEC_RESERVED for ch in arg):
        quoted = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
    else:
        quoted = arg
    return quoted.replace("%", "%%")  # no field codes: a literal percent sign


def exec_value(argv: Sequence[str]) -> str:
    """The ``Exec=`` value running ``argv``: each argument quoted, then the value escaped."""
    return _escape_string(" ".join(_exec_argument(arg) for arg in argv))


def _read_desktop_entry(path: Path) -> dict[str, str]:
    """The keys of the ``[Desktop Entry]`` group, values unescaped (first value of a key wins)."""
    fields: dict[str, str] = {}
    group = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group == "Desktop Entry" and "=" in line:
            key, _, value = line.partition("=")
            fields.setdefault(key.strip(), _unescape_string(value.strip()))
    return fields


def _hicolor_subdir(kind: str, data: bytes) -> str:
    if kind in ("svg", "svgz"):
        return "scalable"
    if kind == "png":
        width, height = _png_size(data)
    else:  # xpm: the first string holds "<width> <height> <colours> <chars per pixel>"
        found = re.search(rb'"\s*(\d+)\s+(\d+)', data)
        width, height = (int(found.group(1)), int(found.group(2))) if found else (48, 48)
    side = max(width, height)
    size = next((s for s in _HICOLOR_SIZES if s >= side), _HICOLOR_SIZES[-1])
    return f"{size}x{size}"


def _install_linux_icon(name: str, source: Path) -> Path:
    data = source.read_bytes()
    kind = _sniff_image(data)
    if kind not in ("png", "svg", "svgz", "xpm"):
        raise ValueError(f"{source}: a Linux icon must be a PNG, SVG or XPM file")
    target_dir = _data_home() / "icons" / "hicolor" / _hicolor_subdir(kind, data) / "apps"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{name}.{kind}"
    _write_atomic(target, data)
    # an icon-theme.cache older than the theme folder is ignored, so a stale cache cannot hide the icon
    with contextlib.suppress(OSError):
        os.utime(target_dir.parent.parent)
    return target


def _owned_icon(value: str | None) -> Path | None:
    """An icon path recorded in an entry, only if it lies in the user's hicolor theme."""
    if not value:
        return None
    path = Path(value)
    icons = (_data_home() / "icons" / "hicolor").resolve()
    try:
        resolved = path.resolve()
    except OSError:
        return None
    return resolved if path.is_absolute() and resolved.is_relative_to(icons) else None


def desktop_entry_text(
    name: str,
    argv: Sequence[str],
    *,
    icon: str = "",
    comment: str = "",
    categories: Sequence[str] = ("Utility",),
    installed_icon: Path | None = None,
) -> str:
    """The text of a ``.desktop`` file (every value escaped per the specification)."""
    lines = [
        "[Desktop Entry]",
        "Version=1.5",
        "Type=Application",
        f"Name={_escape_string(name)}",
    ]
    if comment:
        lines.append(f"Comment={_escape_string(comment)}")
    lines.append(f"Exec={exec_value(argv)}")
    if icon:
        lines.append(f"Icon={_escape_string(icon)}")
    lines.append("Terminal=false")
    if categories:
        lines.append("Categories=" + "".join(f"{c};" for c in categories))
    lines.append(f"{_MARKER}=true")
    if installed_icon is not None:
        lines.append(f"{_ICON_KEY}={_escape_string(str(installed_icon))}")
    return "\n".join(lines) + "\n"


def create_linux_entry(
    name: str,
    command: Command,
    *,
    icon: IconPath | None = None,
    comment: str = "",
    categories: str | Sequence[str] = "Utility;",
) -> Path:
    """Write ``<applications dir>/<name>.desktop``; an icon file goes into the hicolor theme."""
    _check_name(name)
    argv = _posix_argv(command)
    comment = _check_text(comment, "comment")
    _escape_string(comment)  # reject control characters before anything is written
    cats = _categories(categories)
    apps = linux_applications_dir()
    path = apps / f"{name}.desktop"
    previous = _read_desktop_entry(path) if path.is_file() else None
    if previous is not None and previous.get(_MARKER) != "true":
        raise FileExistsError(f"{path} exists and was not created by wesktop")

    icon_value, installed = "", None
    if icon is not None:
        source = _icon_file(icon)
        if source is None:
            icon_value = os.fspath(icon)  # a theme icon name
        else:
            installed = _install_linux_icon(name, source)
            icon_value = name  # looked up in the hicolor theme by name
    text = desktop_entry_text(
        name, argv, icon=icon_value, comment=comment, categories=cats, installed_icon=installed
    )
    apps.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, text.encode("utf-8"))

    old_icon = _owned_icon(previous.get(_ICON_KEY)) if previous else None
    if old_icon is not None and old_icon != installed:
        with contextlib.suppress(FileNotFoundError):
            old_icon.unlink()
    logger.info("desktop entry written: %s", path)
    return path


def remove_linux_entry(name: str) -> bool:
    """Delete ``<name>.desktop`` and the icon it installed, if wesktop created them."""
    _check_name(name)
    path = linux_applications_dir() / f"{name}.desktop"
    if not path.is_file():
        return False
    fields = _read_desktop_entry(path)
    if fields.get(_MARKER) != "true":
        logger.warning("not removing %s: it was not created by wesktop", path)
        return False
    icon = _owned_icon(fields.get(_ICON_KEY))
    if icon is not None:
        with contextlib.suppress(FileNotFoundError):
            icon.unlink()
    path.unlink()
    logger.info("desktop entry removed: %s", path)
    return True


# macOS ------------------------------------------------------------------------------------

_MAC_MARKER = "WesktopEntry"
_MAC_LAUNCHER = "launcher"
# freedesktop category -> LSApplicationCategoryType
_MAC_CATEGORIES = {
    "Utility": "public.app-category.utilities",
    "Development": "public.app-category.developer-tools",
    "Education": "public.app-category.education",
    "Game": "public.app-category.games",
    "Graphics": "public.app-category.graphics-design",
    "Office": "public.app-category.productivity",
    "Finance": "public.app-category.finance",
    "Audio": "public.app-category.music",
    "Video": "public.app-category.video",
}
# PNG-based icns element types by side length (macOS 10.7+)
_ICNS_PNG_TYPES = {
    16: b"icp4",
    32: b"icp5",
    64: b"icp6",
    128: b"ic07",
    256: b"ic08",
    512: b"ic09",
    1024: b"ic10",
}


def macos_applications_dir() -> Path:
    """``~/Applications``: the user's own applications folder (no admin rights needed)."""
    return Path.home() / "Applications"


def _bundle_identifier(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:  # e.g. a name in a non-Latin script
        slug = "app-" + "".join(f"{ord(ch):x}" for ch in name)[:32]
    return f"org.wesktop.{slug}"


def png_to_icns(png: bytes) -> bytes:
    """An ``.icns`` file holding one square PNG of a size macOS knows (16 to 1024 px)."""
    width, height = _png_size(png)
    kind = _ICNS_PNG_TYPES.get(width)
    if width != height or kind is None:
        sizes = ", ".join(str(s) for s in _ICNS_PNG_TYPES)
        raise ValueError(f"a macOS icon from a PNG must be square and {sizes} px wide, not {width}x{height}")
    element = kind + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(element)) + element


def info_plist(name: str, categories: Sequence[str] = (), *, icon_file: str | None = None) -> bytes:
    """The bundle's ``Info.plist`` (XML, written by plistlib so every value is escaped)."""
    info: dict[str, object] = {
        "CFBundleDevelopmentRegion": "en",
        "CFBundleDisplayName": name,
        "CFBundleExecutable": _MAC_LAUNCHER,
        "CFBundleIdentifier": _bundle_identifier(name),
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundleName": name,
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": "1.0",
        "CFBundleVersion": "1.0",
        "NSHighResolutionCapable": True,
        _MAC_MARKER: True,
    }
    category = next((_MAC_CATEGORIES[c] for c in categories if c in _MAC_CATEGORIES), None)
    if category:
        info["LSApplicationCategoryType"] = category
    if icon_file:
        info["CFBundleIconFile"] = icon_file
    return plistlib.dumps(info, fmt=plistlib.FMT_XML, sort_keys=True)


def launcher_script(argv: Sequence[str]) -> str:
    """A ``/bin/sh`` script that replaces itself with ``argv`` (every argument quoted)."""
    return "#!/bin/sh\n# written by wesktop.create_entry\nexec " + shlex.join(argv) + "\n"


def _read_plist(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as f:
            data = plistlib.load(f)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def create_macos_entry(
    name: str,
    command: Command,
    *,
    icon: IconPath | None = None,
    comment: str = "",
    categories: str | Sequence[str] = "Utility;",
) -> Path:
    """Build ``~/Applications/<name>.app``: Info.plist, ``MacOS/launcher`` (0755), icon.

    ``comment`` has no place in a bundle and is not used. A theme icon name is ignored; an icon
    file must be an ``.icns`` or a square PNG (wrapped into an ``.icns``).
    """
    _check_name(name)
    argv = _posix_argv(command)
    _check_text(comment, "comment")
    cats = _categories(categories)
    apps = macos_applications_dir()
    bundle = apps / f"{name}.app"
    if bundle.exists() and _read_plist(bundle / "Contents" / "Info.plist").get(_MAC_MARKER) is not True:
        raise FileExistsError(f"{bundle} exists and was not created by wesktop")

    icns = None
    if icon is not None:
        source = _icon_file(icon)
        if source is None:
            logger.info("macOS bundles need an icon file; ignoring the icon name %r", os.fspath(icon))
        else:
            data = source.read_bytes()
            kind = _sniff_image(data)
            if kind == "icns":
                icns = data
            elif kind == "png":
                icns = png_to_icns(data)
            else:
                raise ValueError(f"{source}: a macOS icon must be an .icns or a PNG file")

    apps.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".app", dir=apps))
    try:
        contents = staging / "Contents"
        (contents / "MacOS").mkdir(parents=True)
        (contents / "Resources").mkdir()
        icon_file = None
        if icns is not None:
            icon_file = "icon.icns"
            (contents / "Resources" / icon_file).write_bytes(icns)
        (contents / "Info.plist").write_bytes(info_plist(name, cats, icon_file=icon_file))
        (contents / "PkgInfo").write_bytes(b"APPL????")
        launcher = contents / "MacOS" / _MAC_LAUNCHER
        launcher.write_text(launcher_script(argv), encoding="utf-8")
        launcher.chmod(0o755)
        staging.chmod(0o755)
        if bundle.exists():
            shutil.rmtree(bundle)
        os.rename(staging, bundle)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("app bundle written: %s", bundle)
    return bundle


def remove_macos_entry(name: str) -> bool:
    """Delete ``~/Applications/<name>.app`` if wesktop created it."""
    _check_name(name)
    bundle = macos_applications_dir() / f"{name}.app"
    if not bundle.is_dir():
        return False
    if _read_plist(bundle / "Contents" / "Info.plist").get(_MAC_MARKER) is not True:
        logger.warning("not removing %s: it was not created by wesktop", bundle)
        return False
    shutil.rmtree(bundle)
    logger.info("app bundle removed: %s", bundle)
    return True


# Windows ----------------------------------------------------------------------------------

# PowerShell ends a single-quoted string at any of these; each is escaped by doubling it.
_PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"

Runner = Callable[[list[str]], None]


def windows_programs_dir() -> Path:
    """``%APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs``."""
    appdata = os.environ.get("APPDATA")
    if not appdata:
        raise OSError("APPDATA is not set, so the Start Menu folder cannot be found")
    return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs"


def split_windows_command(
    command: Command, is_file: Callable[[str], bool] = os.path.isfile
) -> tuple[str, str]:
    """Split a Windows command line into the program and its argument string.

    A quoted program ends at its closing quote. An unquoted one is found as ``CreateProcess``
    finds it: the shortest run of words naming an existing file (``C:\\Program Files\\x.exe``
    works unquoted), else the first word. The arguments are kept verbatim. A list is taken as
    arguments and joined with the Windows quoting rules.
    """
    if not isinstance(command, str):
        argv = [os.fspath(arg) for arg in command]
        if not argv or not argv[0]:
            raise ValueError("the command is empty")
        return argv[0], subprocess.list2cmdline(argv[1:])
    line = command.strip()
    if not line:
        raise ValueError("the command is empty")
    if line.startswith('"'):
        end = line.find('"', 1)
        if end <= 1:
            raise ValueError(f"the command's program is not properly quoted: {command!r}")
        rest = line[end + 1 :]
        if rest and not rest[0].isspace():
            raise ValueError(f"expected a space after the quoted program: {command!r}")
        return line[1:end], rest.strip()
    words = re.split(r"(\s+)", line)  # words at even indexes, the whitespace between at odd ones
    for stop in range(0, len(words), 2):
        candidate = "".join(words[: stop + 1])
        if is_file(candidate) or is_file(candidate + ".exe"):
            return candidate, "".join(words[stop + 1 :]).strip()
    return words[0], "".join(words[1:]).strip()


def powershell_quote(value: str) -> str:
    """``value`` as a PowerShell single-quoted literal (no expansion of ``$`` or backticks)."""
    if _CONTROL.search(value):
        raise ValueError(f"control characters are not allowed in a shortcut: {value!r}")
    return "'" + "".join(ch * 2 if ch in _PS_SINGLE_QUOTES else ch for ch in value) + "'"


def shortcut_script(
    shortcut: str, target: str, arguments: str = "", *, description: str = "", icon: str | None = None
) -> str:
    """A PowerShell script that writes the ``.lnk`` through ``WScript.Shell``."""
    lines = [
        "$ErrorActionPreference = 'Stop'",
        "$shell = New-Object -ComObject WScript.Shell",
        f"$shortcut = $shell.CreateShortcut({powershell_quote(shortcut)})",
        f"$shortcut.TargetPath = {powershell_quote(target)}",
        f"$shortcut.Arguments = {powershell_quote(arguments)}",
        f"$shortcut.Description = {powershell_quote(description)}",
    ]
    if icon:
        lines.append(f"$shortcut.IconLocation = {powershell_quote(icon + ',0')}")
    lines.append("$shortcut.Save()")
    return "\r\n".join(lines) + "\r\n"


def powershell_command(script_path: str) -> list[str]:
    """The arguments that run a script file with Windows PowerShell, without profile or prompts."""
    return [
        "powershell.exe",
        "-NoLogo",
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-File",
        script_path,
    ]


def _run_powershell(argv: list[str]) -> None:
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, creationflags=flags)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise OSError(f"PowerShell could not create the shortcut: {detail}")


def create_windows_entry(
    name: str,
    command: Command,
    *,
    icon: IconPath | None = None,
    comment: str = "",
    categories: str | Sequence[str] = "Utility;",
    runner: Runner | None = None,
) -> Path:
    """Create ``<Start Menu>\\Programs\\<name>.lnk`` running ``command``.

    ``categories`` has no Start Menu equivalent and is only checked. ``icon`` must be a file
    (``.ico``, or an ``.exe``/``.dll`` holding icons); the shortcut refers to it where it is.
    ``runner`` runs the PowerShell command (tests pass their own).
    """
    _check_windows_name(name)
    _check_text(comment, "comment")
    _categories(categories)
    target, arguments = split_windows_command(command)
    if os.name == "nt" and not ntpath.isabs(target):
        target = shutil.which(target) or target
    icon_location = None
    if icon is not None:
        source = Path(os.fspath(icon)).expanduser()
        if not source.is_file():
            raise FileNotFoundError(f"icon file not found: {os.fspath(icon)}")
        icon_location = str(source.resolve())
    folder = windows_programs_dir()
    shortcut = folder / f"{name}.lnk"
    script = shortcut_script(str(shortcut), target, arguments, description=comment, icon=icon_location)
    folder.mkdir(parents=True, exist_ok=True)
    fd, script_path = tempfile.mkstemp(prefix="wesktop-shortcut-", suffix=".ps1")
    try:
        # UTF-8 with a byte-order mark: Windows PowerShell 5.1 reads BOM-less scripts as ANSI
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
            f.write(script)
        (runner or _run_powershell)(powershell_command(script_path))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(script_path)
    logger.info("Start Menu shortcut written: %s", shortcut)
    return shortcut


def remove_windows_entry(name: str) -> bool:
    """Delete the Start Menu shortcut ``<name>.lnk``."""
    _check_windows_name(name)
    shortcut = windows_programs_dir() / f"{name}.lnk"
    try:
        shortcut.unlink()
    except FileNotFoundError:
        return False
    logger.info("Start Menu shortcut removed: %s", shortcut)
    return True
