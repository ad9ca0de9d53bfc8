"""Desktop entries: Linux and macOS layouts built for real in temporary folders; Windows as far
as Linux allows (the PowerShell script's text and its quoting, the command splitting).

Linux entries are parsed back, checked with ``desktop-file-validate`` (Debian
desktop-file-utils) and launched with ``gio launch`` (GLib's own desktop-entry launcher) to see
that hostile arguments arrive unchanged. macOS bundles are parsed with plistlib and their
launcher script is run with /bin/sh. Nothing here can run a Windows shortcut.
"""

from __future__ import annotations

import configparser
import inspect
import json
import os
import platform
import plistlib
import re
import shutil
import stat
import subprocess
import sys
import time
import types
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wesktop import entries
from wesktop.entries import (
    create_entry,
    create_linux_entry,
    create_macos_entry,
    create_windows_entry,
    remove_entry,
    remove_linux_entry,
    remove_macos_entry,
    remove_windows_entry,
    split_windows_command,
)

HERE = Path(__file__).parent
ARGV_SCRIPT = HERE / "entries_argv.py"

HOSTILE_ARGS = [
    "plain",
    "two words",
    "",
    "it's",
    'say "hi"',
    "$HOME",
    "`id`",
    "$(id)",
    "back\\slash",
    "back\\\\two",
    "100%",
    "%U",
    "a;b|c&d",
    "~",
    "*?#()<>",
    "=x=",
    "caf\u00e9 \u2615",
]

BAD_NAMES = ["", "   ", ".", "..", "a/b", "a\\b", "two\nlines", "nul\x00", "esc\x1b", " lead", "trail "]


def png_bytes(width: int, height: int, rgb: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    row = b"\x00" + bytes(rgb) * width
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"/>\n'


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME (macOS layout) and XDG_DATA_HOME (Linux layout)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    return home


# reading entries back ----------------------------------------------------------------------


def unescape(value: str) -> str:
    """The Desktop Entry Spec's string escapes, implemented independently of entries.py."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(
                {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(value[i + 1], value[i : i + 2])
            )
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def parse_exec(raw: str) -> list[str]:
    """Split an ``Exec=`` value into arguments by the spec: unescape, unquote, then ``%%``."""
    value = unescape(raw)
    args: list[str] = []
    current: list[str] = []
    started = False
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == '"':
            started = True
            i += 1
            while value[i] != '"':
                if value[i] == "\\":
                    assert value[i + 1] in '"`$\\', f"bad escape in {raw!r}"
                    current.append(value[i + 1])
                    i += 2
                else:
                    current.append(value[i])
                    i += 1
            i += 1
        elif ch == " ":
            if started:
                args.append("".join(current))
                current, started = [], False
            i += 1
        else:
            assert ch not in EXEC_RESERVED, f"unquoted reserved character {ch!r} in {raw!r}"
            current.append(ch)
            started = True
            i += 1
    if started:
        args.append("".join(current))
    for arg in args:
        assert re.fullmatch(r"([^%]|%%)*", arg), f"a field code or stray % in {arg!r}"
    return [arg.replace("%%", "%") for arg in args]


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    raw = dict(parser["Desktop Entry"])
    return {key: value for key, value in raw.items()}


def validate(path: Path) -> None:
    """desktop-file-validate, if installed: no complaint but an old validator's unknown 1.5."""
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        if os.environ.get("WESKTOP_REQUIRE_DESKTOP") == "1":
            pytest.fail("desktop-file-validate is not installed (Debian desktop-file-utils)")
        return
    done = subprocess.run([tool, str(path)], capture_output=True, text=True)
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        # desktop-file-utils before 0.27 (Debian 12 has 0.26) does not know version 1.5 yet
        if line.strip() and 'value "1.5" for key "Version"' not in line
    ]
    assert complaints == [], "\n".join(complaints)


def launch(path: Path, output: Path) -> list[str]:
    """Start the entry with GLib's launcher (``gio launch``) and read the arguments it got."""
    gio = shutil.which("gio")
    if gio is None:
        pytest.skip("gio (Debian libglib2.0-bin) is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([gio, "launch", str(path)], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 20
    while not output.exists():
        assert time.monotonic() < deadline, "the launched command never ran"
        time.sleep(0.05)
    return list(json.loads(output.read_text()))


# Linux ---------------------------------------------------------------------------------------


def test_linux_entry_layout_and_keys(home: Path) -> None:
    path = create_linux_entry("My App", "python3 -m myapp --title 'My App'", comment="Does things")
    assert path == home / "data" / "applications" / "My App.desktop"
    fields = read_entry(path)
    assert fields == {
        "Version": "1.5",
        "Type": "Application",
        "Name": "My App",
        "Comment": "Does things",
        "Exec": 'python3 -m myapp --title "My App"',
        "Terminal": "false",
        "Categories": "Utility;",
        "X-Wesktop-Entry": "true",
    }
    assert parse_exec(fields["Exec"]) == ["python3", "-m", "myapp", "--title", "My App"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    validate(path)


def test_linux_exec_quoting_round_trips_hostile_arguments(home: Path, tmp_path: Path) -> None:
    output = tmp_path / "argv.json"
    argv = [sys.executable, str(ARGV_SCRIPT), str(output), *HOSTILE_ARGS]
    path = create_linux_entry("hostile", argv)
    fields = read_entry(path)
    assert parse_exec(fields["Exec"]) == argv
    validate(path)
    assert launch(path, output) == HOSTILE_ARGS


def test_linux_command_string_is_split_like_a_shell(home: Path, tmp_path: Path) -> None:
    output = tmp_path / "out dir" / "argv.json"
    output.parent.mkdir()
    command = f"{sys.executable} '{ARGV_SCRIPT}' '{output}' \"two words\" 'it'\\''s' \\$HOME 50%"
    path = create_linux_entry("string", command)
    assert launch(path, output) == ["two words", "it's", "$HOME", "50%"]


def test_linux_values_cannot_inject_lines_or_keys(home: Path) -> None:
    comment = "first line\nExec=rm -rf ~\n[Desktop Action evil]\r\tback\\slash "
    path = create_linux_entry("safe", ["true"], comment=comment)
    text = path.read_text()
    assert text.count("\n") == len(text.splitlines())  # one line per key, nothing more
    fields = read_entry(path)  # strict: a duplicated Exec key or a new group would raise
    assert parse_exec(fields["Exec"]) == ["true"]
    assert unescape(fields["Comment"]) == comment
    assert (
        unescape(read_entry(create_linux_entry("safe", ["true"], comment=" padded "))["Comment"])
        == " padded "
    )
    validate(path)
    with pytest.raises(ValueError, match="control"):
        create_linux_entry("safe", ["true"], comment="bell\x07")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_linux_rejects_bad_names(home: Path, name: str) -> None:
    with pytest.raises(ValueError):
        create_linux_entry(name, ["true"])
    with pytest.raises(ValueError):
        remove_linux_entry(name)
    assert not (home / "data").exists() or not any((home / "data").rglob("*.desktop"))


@pytest.mark.parametrize(
    "command", ["", "   ", [], [""], "unbalanced 'quote", ["ok", "new\nline"], "'tab\tquoted'"]
)
def test_linux_rejects_bad_commands(home: Path, command: Any) -> None:
    with pytest.raises(ValueError):
        create_linux_entry("app", command)
    assert not (home / "data" / "applications" / "app.desktop").exists()


def test_linux_unicode_name(home: Path) -> None:
    path = create_linux_entry("Caf\u00e9 \u2615", ["true"])
    assert read_entry(path)["Name"] == "Caf\u00e9 \u2615"
    validate(path)
    assert remove_linux_entry("Caf\u00e9 \u2615") is True


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        ("Utility;", "Utility;"),
        ("Development;Utility", "Development;Utility;"),
        (["Office", "X-Custom"], "Office;X-Custom;"),
        ("", None),
    ],
)
def test_linux_categories(home: Path, categories: Any, expected: str | None) -> None:
    fields = read_entry(create_linux_entry("app", ["true"], categories=categories))
    assert fields.get("Categories") == expected


@pytest.mark.parametrize("categories", ["Util ity;", "A=B;", "x\n;", ["ok", "no;pe"]])
def test_linux_rejects_bad_categories(home: Path, categories: Any) -> None:
    with pytest.raises(ValueError):
        create_linux_entry("app", ["true"], categories=categories)


def test_linux_png_icon_goes_into_hicolor_by_its_size(home: Path, tmp_path: Path) -> None:
    icon = tmp_path / "logo.png"
    icon.write_bytes(png_bytes(64, 64))
    path = create_linux_entry("Iconic", ["true"], icon=icon)
    installed = home / "data" / "icons" / "hicolor" / "64x64" / "apps" / "Iconic.png"
    assert installed.read_bytes() == icon.read_bytes()
    fields = read_entry(path)
    assert fields["Icon"] == "Iconic"
    assert unescape(fields["X-Wesktop-Icon"]) == str(installed)
    validate(path)

    assert remove_linux_entry("Iconic") is True
    assert not path.exists() and not installed.exists()
    assert remove_linux_entry("Iconic") is False


def test_linux_icon_format_comes_from_the_content(home: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "really-a-png.svg"
    disguised.write_bytes(png_bytes(300, 200))
    create_linux_entry("app", ["true"], icon=disguised)
    assert (home / "data" / "icons" / "hicolor" / "512x512" / "apps" / "app.png").exists()

    svg = tmp_path / "logo.svg"
    svg.write_bytes(SVG)
    path = create_linux_entry("app", ["true"], icon=svg)  # an update: the old icon goes
    assert (home / "data" / "icons" / "hicolor" / "scalable" / "apps" / "app.svg").read_bytes() == SVG
    assert not (home / "data" / "icons" / "hicolor" / "512x512" / "apps" / "app.png").exists()
    validate(path)

    jpeg = tmp_path / "photo.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    with pytest.raises(ValueError, match="PNG, SVG or XPM"):
        create_linux_entry("app", ["true"], icon=jpeg)


def test_linux_icon_theme_name_and_missing_file(home: Path) -> None:
    fields = read_entry(create_linux_entry("app", ["true"], icon="utilities-terminal"))
    assert fields["Icon"] == "utilities-terminal"
    assert "X-Wesktop-Icon" not in fields
    assert not (home / "data" / "icons").exists()
    with pytest.raises(FileNotFoundError):
        create_linux_entry("app", ["true"], icon=home / "missing" / "icon.png")
    with pytest.raises(FileNotFoundError):
        create_linux_entry("app", ["true"], icon="missing.png")


def test_linux_leaves_foreign_entries_alone(home: Path) -> None:
    apps = home / "data" / "applications"
    apps.mkdir(parents=True)
    foreign = apps / "firefox.desktop"
    foreign.write_text("[Desktop Entry]\nType=Application\nName=Firefox\nExec=firefox\n")
    with pytest.raises(FileExistsError):
        create_linux_entry("firefox", ["true"])
    assert remove_linux_entry("firefox") is False
    assert foreign.read_text().endswith("Exec=firefox\n")


def test_linux_removal_never_deletes_outside_the_icon_theme(home: Path, tmp_path: Path) -> None:
    precious = tmp_path / "precious.png"
    precious.write_bytes(b"keep")
    path = create_linux_entry("app", ["true"])
    path.write_text(path.read_text() + f"X-Wesktop-Icon={precious}\n")  # edited by someone
    assert remove_linux_entry("app") is True
    assert precious.exists()


def test_xdg_data_home_must_be_absolute(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    assert entries.linux_applications_dir() == home / ".local" / "share" / "applications"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert entries.linux_applications_dir() == home / ".local" / "share" / "applications"


# macOS ---------------------------------------------------------------------------------------


def read_plist(bundle: Path) -> dict[str, Any]:
    with (bundle / "Contents" / "Info.plist").open("rb") as f:
        return dict(plistlib.load(f))


def test_macos_bundle_layout(home: Path, tmp_path: Path) -> None:
    output = tmp_path / "argv.json"
    argv = [sys.executable, str(ARGV_SCRIPT), str(output), *HOSTILE_ARGS]
    bundle = create_macos_entry("My App", argv, categories="Development;Utility;")
    assert bundle == home / "Applications" / "My App.app"
    info = read_plist(bundle)
    assert info["CFBundleName"] == info["CFBundleDisplayName"] == "My App"
    assert info["CFBundleExecutable"] == "launcher"
    assert info["CFBundleIdentifier"] == "org.wesktop.my-app"
    assert info["CFBundlePackageType"] == "APPL"
    assert info["LSApplicationCategoryType"] == "public.app-category.developer-tools"
    assert "CFBundleIconFile" not in info
    assert (bundle / "Contents" / "PkgInfo").read_bytes() == b"APPL????"
    assert (bundle / "Contents" / "Resources").is_dir()

    launcher = bundle / "Contents" / "MacOS" / "launcher"
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o755
    assert launcher.read_text().startswith("#!/bin/sh\n")
    subprocess.run([str(launcher)], check=True, timeout=30)  # the script itself, via its shebang
    assert json.loads(output.read_text()) == HOSTILE_ARGS


def test_macos_command_string_and_plist_escaping(home: Path, tmp_path: Path) -> None:
    output = tmp_path / "argv.json"
    name = 'R&D <Tools> "v2" \u00e9'
    bundle = create_macos_entry(name, f"'{sys.executable}' '{ARGV_SCRIPT}' '{output}' 'a b' '$(id)'")
    raw = (bundle / "Contents" / "Info.plist").read_bytes()
    assert b"R&amp;D &lt;Tools&gt;" in raw
    assert read_plist(bundle)["CFBundleName"] == name
    assert read_plist(bundle)["CFBundleIdentifier"] == "org.wesktop.r-d-tools-v2"
    subprocess.run(["/bin/sh", str(bundle / "Contents" / "MacOS" / "launcher")], check=True, timeout=30)
    assert json.loads(output.read_text()) == ["a b", "$(id)"]


def test_macos_icons(home: Path, tmp_path: Path) -> None:
    png = tmp_path / "logo.png"
    png.write_bytes(png_bytes(128, 128))
    bundle = create_macos_entry("app", ["true"], icon=png)
    assert read_plist(bundle)["CFBundleIconFile"] == "icon.icns"
    icns = (bundle / "Contents" / "Resources" / "icon.icns").read_bytes()
    assert icns[:4] == b"icns" and int.from_bytes(icns[4:8], "big") == len(icns)
    assert icns[8:12] == b"ic07" and int.from_bytes(icns[12:16], "big") == len(icns) - 8
    assert icns[16:] == png.read_bytes()

    given = tmp_path / "given.icns"
    given.write_bytes(b"icns\x00\x00\x00\x08")
    bundle = create_macos_entry("app", ["true"], icon=given)  # replaces the bundle
    assert (bundle / "Contents" / "Resources" / "icon.icns").read_bytes() == given.read_bytes()

    odd = tmp_path / "odd.png"
    odd.write_bytes(png_bytes(100, 100))
    with pytest.raises(ValueError, match="square"):
        create_macos_entry("app", ["true"], icon=odd)
    assert "CFBundleIconFile" not in read_plist(create_macos_entry("app", ["true"], icon="theme-name"))
    with pytest.raises(FileNotFoundError):
        create_macos_entry("app", ["true"], icon=tmp_path / "missing.icns")


def test_macos_remove(home: Path) -> None:
    bundle = create_macos_entry("app", ["true"])
    assert remove_macos_entry("app") is True
    assert not bundle.exists()
    assert remove_macos_entry("app") is False
    assert list((home / "Applications").iterdir()) == []  # no staging leftovers


def test_macos_leaves_foreign_bundles_alone(home: Path) -> None:
    foreign = home / "Applications" / "Safari.app" / "Contents"
    foreign.mkdir(parents=True)
    (foreign / "Info.plist").write_bytes(plistlib.dumps({"CFBundleName": "Safari"}))
    with pytest.raises(FileExistsError):
        create_macos_entry("Safari", ["true"])
    assert remove_macos_entry("Safari") is False
    assert (foreign / "Info.plist").exists()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_macos_rejects_bad_names(home: Path, name: str) -> None:
    with pytest.raises(ValueError):
        create_macos_entry(name, ["true"])
    with pytest.raises(ValueError):
        remove_macos_entry(name)


def test_macos_identifier_for_non_latin_names(home: Path) -> None:
    info = read_plist(create_macos_entry("\u65e5\u672c", ["true"]))
    assert re.fullmatch(r"org\.wesktop\.app-[0-9a-f]+", info["CFBundleIdentifier"])


# Windows (what can be checked on Linux) -----------------------------------------------------


def ps_strings(line: str) -> list[str]:
    """The single-quoted PowerShell literals in ``line``, decoded (a doubled quote is one)."""
    quotes = "'\u2018\u2019\u201a\u201b"
    found, i = [], 0
    while i < len(line):
        if line[i] in quotes:
            i += 1
            value = []
            while True:
                assert i < len(line), f"unterminated string in {line!r}"
                if line[i] in quotes:
                    if i + 1 < len(line) and line[i + 1] in quotes:
                        value.append(line[i])
                        i += 2
                        continue
                    i += 1
                    break
                value.append(line[i])
                i += 1
            found.append("".join(value))
        else:
            i += 1
    return found


class Recorder:
    """Stands in for PowerShell: keeps the arguments and the script file's bytes."""

    def __init__(self) -> None:
        self.argv: list[str] = []
        self.script = b""

    def __call__(self, argv: list[str]) -> None:
        self.argv = argv
        self.script = Path(argv[-1]).read_bytes()


def script_assignments(script: bytes) -> dict[str, str]:
    assert script.startswith(b"\xef\xbb\xbf"), "the script needs a BOM for Windows PowerShell 5.1"
    values = {}
    for line in script[3:].decode("utf-8").split("\r\n"):
        match = re.fullmatch(r"\$shortcut\.(\w+) = (.*)", line)
        if match:
            (values[match.group(1)],) = ps_strings(match.group(2))
    return values


HOSTILE_PS = "it's \u2018curly\u2019 \u201aand\u201b $(Remove-Item C:\\) `n; & calc"


def test_windows_shortcut_script(home: Path, tmp_path: Path) -> None:
    icon = tmp_path / "app.ico"
    icon.write_bytes(b"\x00\x00\x01\x00")
    recorder = Recorder()
    command = '"C:\\Program Files\\My App\\app.exe" --name "x y" ' + HOSTILE_PS
    path = create_windows_entry("My App", command, icon=icon, comment=HOSTILE_PS, runner=recorder)
    programs = home / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs"
    assert path == programs / "My App.lnk"
    assert programs.is_dir()
    assert recorder.argv[:-1] == [
        "powershell.exe",
        "-NoLogo",
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-File",
    ]
    assert not Path(recorder.argv[-1]).exists(), "the script file was left behind"
    text = recorder.script[3:].decode("utf-8")
    assert text.startswith("$ErrorActionPreference = 'Stop'\r\n")
    assert "New-Object -ComObject WScript.Shell" in text
    assert text.rstrip().endswith("$shortcut.Save()")
    assert ps_strings(text.split("\r\n")[2]) == [str(path)]  # CreateShortcut('<path>')
    assert script_assignments(recorder.script) == {
        "TargetPath": "C:\\Program Files\\My App\\app.exe",
        "Arguments": '--name "x y" ' + HOSTILE_PS,
        "Description": HOSTILE_PS,
        "IconLocation": f"{icon.resolve()},0",
    }


def test_windows_argument_list_is_quoted_by_windows_rules(home: Path) -> None:
    recorder = Recorder()
    create_windows_entry(
        "app", ["C:\\Python\\python.exe", "-m", "my app", 'say "hi"', "a\\"], runner=recorder
    )
    assigned = script_assignments(recorder.script)
    assert assigned["TargetPath"] == "C:\\Python\\python.exe"
    assert assigned["Arguments"] == subprocess.list2cmdline(["-m", "my app", 'say "hi"', "a\\"])
    assert "IconLocation" not in assigned


@pytest.mark.parametrize(
    ("command", "files", "expected"),
    [
        ('"C:\\Program Files\\A\\a.exe" -x "y z"', set(), ("C:\\Program Files\\A\\a.exe", '-x "y z"')),
        ('"C:\\a.exe"', set(), ("C:\\a.exe", "")),
        (
            "C:\\Program Files\\A\\a.exe --flag",
            {"C:\\Program Files\\A\\a.exe"},
            ("C:\\Program Files\\A\\a.exe", "--flag"),
        ),
        (
            "C:\\Program Files\\A\\a --flag",
            {"C:\\Program Files\\A\\a.exe"},
            ("C:\\Program Files\\A\\a", "--flag"),
        ),
        ("C:\\Program Files\\A\\a.exe --flag", {"C:\\Program"}, ("C:\\Program", "Files\\A\\a.exe --flag")),
        ("python -m  my_app  ", set(), ("python", "-m  my_app")),
        ("  app.exe", set(), ("app.exe", "")),
    ],
)
def test_split_windows_command(command: str, files: set[str], expected: tuple[str, str]) -> None:
    assert split_windows_command(command, is_file=files.__contains__) == expected


@pytest.mark.parametrize("command", ["", "   ", '"unterminated', '""', '"C:\\a.exe"x', []])
def test_split_windows_command_rejects(command: Any) -> None:
    with pytest.raises(ValueError):
        split_windows_command(command, is_file=lambda _: False)


@pytest.mark.parametrize(
    "name", [*BAD_NAMES, "CON", "nul.txt", "COM1", "a:b", "what?", "star*", "pipe|", "dot."]
)
def test_windows_rejects_bad_names(home: Path, name: str) -> None:
    with pytest.raises(ValueError):
        create_windows_entry(name, "app.exe", runner=Recorder())
    with pytest.raises(ValueError):
        remove_windows_entry(name)


def test_windows_rejects_control_characters_and_missing_icons(home: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="control"):
        create_windows_entry("app", "app.exe", comment="two\nlines", runner=Recorder())
    with pytest.raises(FileNotFoundError):
        create_windows_entry("app", "app.exe", icon=tmp_path / "none.ico", runner=Recorder())


def test_windows_failures_raise_and_clean_up(home: Path) -> None:
    scripts: list[str] = []

    def failing(argv: list[str]) -> None:
        scripts.append(argv[-1])
        entries._run_powershell(
            [sys.executable, "-c", "import sys; sys.stderr.write('COM says no'); sys.exit(1)"]
        )

    with pytest.raises(OSError, match="COM says no"):
        create_windows_entry("app", "app.exe", runner=failing)
    assert scripts and not Path(scripts[0]).exists()


def test_windows_remove(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    programs = entries.windows_programs_dir()
    programs.mkdir(parents=True)
    (programs / "app.lnk").write_bytes(b"L\x00\x00\x00")
    assert remove_windows_entry("app") is True
    assert remove_windows_entry("app") is False
    monkeypatch.delenv("APPDATA")
    with pytest.raises(OSError, match="APPDATA"):
        remove_windows_entry("app")


# dispatch ------------------------------------------------------------------------------------


@pytest.fixture
def system(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(name: str) -> None:
        monkeypatch.setattr("wesktop.entries.platform", types.SimpleNamespace(system=lambda: name))

    yield use


def test_dispatch_by_platform(home: Path, system: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    system("Linux")
    assert create_entry("app", "true").suffix == ".desktop"
    assert remove_entry("app") is True

    system("Darwin")
    assert create_entry("app", "true").suffix == ".app"
    assert remove_entry("app") is True
    assert remove_entry("app") is False

    system("Windows")
    recorder = Recorder()
    monkeypatch.setattr(entries, "_run_powershell", recorder)
    assert create_entry("app", "app.exe", comment="hi").suffix == ".lnk"
    assert script_assignments(recorder.script)["Description"] == "hi"
    assert remove_entry("app") is False  # PowerShell never ran, so there is no .lnk

    system("Plan9")
    with pytest.raises(OSError, match="not supported"):
        create_entry("app", "true")
    assert remove_entry("app") is False


def test_real_platform_dispatch_uses_the_linux_layout(home: Path) -> None:
    if platform.system() != "Linux":
        pytest.skip("checks the layout on Linux")
    path = create_entry("app", "true", comment="x")
    assert path.parent == home / "data" / "applications"
    assert remove_entry("app") is True
    assert remove_entry("app") is False


def test_entry_signatures_are_the_documented_ones() -> None:
    create = inspect.signature(create_entry).parameters
    assert list(create) == ["name", "command", "icon", "comment", "categories"]
    assert [create[n].default for n in ("icon", "comment", "categories")] == [None, "", "Utility;"]
    assert all(create[n].kind is inspect.Parameter.KEYWORD_ONLY for n in ("icon", "comment", "categories"))
    assert list(inspect.signature(remove_entry).parameters) == ["name"]
