"""pgwidgets.extras: the FileBrowser dialog. Its filesystem side on real temporary directories,
then the dialog itself driven through the Python client that plays the browser (async and sync)."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pgwidgets.extras
from pgwidgets import sync
from pgwidgets.async_ import Application, Session
from pgwidgets.extras import _icons, _listing
from pgwidgets.extras._listing import decide, list_directory, split_names
from pgwidgets.extras.file_browser import AsyncFileBrowser, FileBrowser

from .conftest import FakeBrowser

pytestmark = pytest.mark.timeout(30)

PUBLIC = ("set_directory", "set_filename", "set_mode", "add_ext_filter", "clear_filters", "popup", "on")


# the surface ------------------------------------------------------------------------------------


def test_the_package_is_documented_and_imports_without_a_session() -> None:
    assert "FileBrowser" in (pgwidgets.extras.__doc__ or "")
    code = "import pgwidgets.extras, pgwidgets.extras.file_browser as fb; print(fb.FileBrowser.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "FileBrowser", "")
    assert pgwidgets.extras.file_browser.FileBrowser is FileBrowser


def test_both_classes_have_the_documented_methods() -> None:
    for name in PUBLIC:
        assert callable(getattr(FileBrowser, name)), name
        assert asyncio.iscoroutinefunction(getattr(AsyncFileBrowser, name)), name
    doc = sys.modules[FileBrowser.__module__].__doc__ or ""
    assert "await FileBrowser.create(session" in doc and "FileBrowser(session" in doc


# icons ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", _icons.KINDS)
def test_icons_are_svg_data_uris_that_decode(kind: str) -> None:
    uri = _icons.icon_uri(kind)
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    svg = base64.b64decode(uri[len(prefix) :], validate=True)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and len(root) >= 1


def test_icon_kinds_follow_the_name() -> None:
    assert _icons.kind_of("photo.JPG") == "image"
    assert _icons.kind_of("notes.txt") == "text"
    assert _icons.kind_of("backup.tar.gz") == "archive"
    assert _icons.kind_of("Makefile") == "file"
    assert _icons.kind_of("src", is_dir=True) == "folder"
    assert _icons.kind_of("..", is_dir=True) == "parent"
    assert _icons.icon_uri("folder") != _icons.icon_uri("image")


# listing ----------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A directory with subdirectories, files of several kinds, a hidden file and bad links."""
    (tmp_path / "b_dir").mkdir()
    (tmp_path / "A_dir").mkdir()
    (tmp_path / "A_dir" / "inner.txt").write_text("inner")
    (tmp_path / "zeta.txt").write_text("z" * 1500)
    (tmp_path / "Alpha.PNG").write_bytes(b"\x89PNG")
    (tmp_path / "beta.jpg").write_bytes(b"")
    (tmp_path / ".secret").write_text("hidden")
    (tmp_path / "loop").symlink_to("loop")  # a link to itself
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "to_dir").symlink_to(tmp_path / "A_dir")
    return tmp_path


def test_listing_sorts_directories_first_then_names_ignoring_case(tree: Path) -> None:
    listing = list_directory(str(tree))
    assert listing.error is None and not listing.truncated
    names = [e.name for e in listing.entries]
    assert names == ["A_dir", "b_dir", "to_dir", "Alpha.PNG", "beta.jpg", "dangling", "loop", "zeta.txt"]
    by_name = listing.names
    assert by_name["to_dir"].is_dir  # a link to a directory is a directory
    assert by_name["loop"].broken and by_name["dangling"].broken and not by_name["loop"].is_dir
    assert by_name["zeta.txt"].size == 1500 and by_name["A_dir"].size is None
    rows = _listing.rows_for(listing.entries, parent=True)
    assert rows[0]["name"] == ".." and rows[0]["icon"] == _icons.icon_uri("parent")
    zeta = next(r for r in rows if r["name"] == "zeta.txt")
    assert zeta["size"] == "1.5 KiB" and zeta["icon"] == _icons.icon_uri("text") and zeta["modified"]
    assert next(r for r in rows if r["name"] == "loop")["icon"] == _icons.icon_uri("broken")


def test_hidden_files_only_on_request(tree: Path) -> None:
    assert ".secret" not in list_directory(str(tree)).names
    assert ".secret" in list_directory(str(tree), show_hidden=True).names


def test_a_huge_directory_is_capped_and_says_so(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i:02}.dat").write_bytes(b"")
    listing = list_directory(str(tmp_path), limit=10)
    assert listing.truncated and len(listing.entries) == 10
    exact = list_directory(str(tmp_path), limit=30)
    assert not exact.truncated and len(exact.entries) == 30


def test_unreadable_and_missing_directories_give_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = list_directory(str(tmp_path / "gone"))
    assert missing.entries == [] and missing.error == f"No such directory: {tmp_path / 'gone'}"
    (tmp_path / "plain").write_text("x")
    assert list_directory(str(tmp_path / "plain")).error == f"Not a directory: {tmp_path / 'plain'}"
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:  # this runs as root here: chmod alone would not lock it
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(_listing.os, "scandir", scandir)
    assert list_directory(str(locked)).error == f"Permission denied: {locked}"


def test_filters_normalize_and_match(tree: Path) -> None:
    assert [_listing.normalize_ext(e) for e in ("png", ".PNG", "*.png", " tar.gz ")] == ["png"] * 3 + [
        "tar.gz"
    ]
    for bad in ("", "*", ".", "a/b"):
        with pytest.raises(ValueError):
            _listing.normalize_ext(bad)
    listing = list_directory(str(tree))
    shown = _listing.visible_entries(listing, "file", ["png", "jpg"])
    assert [e.name for e in shown] == ["A_dir", "b_dir", "to_dir", "Alpha.PNG", "beta.jpg"]
    assert [e.name for e in _listing.visible_entries(listing, "directory", None)] == [
        "A_dir",
        "b_dir",
        "to_dir",
    ]
    assert len(_listing.visible_entries(listing, "save", None)) == len(listing.entries)


def test_names_typed_for_several_files() -> None:
    assert split_names('"a b.txt" "c.txt"') == ["a b.txt", "c.txt"]
    assert split_names("one name.txt") == ["one name.txt"]
    assert split_names('"unclosed') == ["unclosed"]
    assert split_names("   ") == []
    names = ["x y", "z"]
    assert split_names(_listing.join_names(names)) == names


def test_what_a_typed_name_means_in_each_mode(tree: Path) -> None:
    d = str(tree)
    assert decide(d, "zeta.txt", "file").paths == (str(tree / "zeta.txt"),)
    assert decide(d, "A_dir", "file") == _listing.Decision("navigate", (str(tree / "A_dir"),))
    assert decide(d, str(tree / "A_dir" / "inner.txt"), "file").action == "accept"  # an absolute path
    assert decide(d, "A_dir/inner.txt", "file").paths == (str(tree / "A_dir" / "inner.txt"),)
    assert decide(d, "nope.txt", "file").message == "No such file: nope.txt."
    assert decide(d, "", "file").message == "Choose a file."
    assert decide(d, "dangling", "file", list_directory(d).names).message == "dangling is a broken link."

    files = decide(d, '"zeta.txt" "beta.jpg"', "files")
    assert files.action == "accept" and files.paths == (str(tree / "zeta.txt"), str(tree / "beta.jpg"))
    assert decide(d, '"zeta.txt" "A_dir"', "files").message == "A_dir is a directory."

    assert decide(d, "", "directory").paths == (d,)
    assert decide(d, "b_dir", "directory") == _listing.Decision("accept", (str(tree / "b_dir"),))
    assert decide(d, "zeta.txt", "directory").message == "Not a directory: zeta.txt"

    assert decide(d, "new.txt", "save") == _listing.Decision("accept", (str(tree / "new.txt"),))
    assert decide(d, "zeta.txt", "save") == _listing.Decision("confirm", (str(tree / "zeta.txt"),))
    assert decide(d, "no/such/new.txt", "save").message == f"No such directory: {tree / 'no' / 'such'}"
    assert decide(d, "", "save").message == "Type a file name."


def test_a_file_that_vanished_after_listing_is_reported_as_such(tree: Path) -> None:
    listing = list_directory(str(tree))
    (tree / "zeta.txt").unlink()
    d = decide(str(tree), "zeta.txt", "file", listing.names)
    assert d.action == "error" and d.stale and d.message == "zeta.txt no longer exists."


# the dialog, async, through the Python client that plays the browser ---------------------------------


class Harness:
    """An app whose on_connect builds a FileBrowser; a fake browser attached to it."""

    def __init__(self, app: Application, browser: FakeBrowser, fb: AsyncFileBrowser) -> None:
        self.app, self.b, self.fb = app, browser, fb
        self.chosen: list[Any] = []
        self.cancelled = 0

    def rows(self) -> list[str]:
        call = self.b.last_call(self.fb._table.wid, "set_data")  # type: ignore[arg-type]
        return [] if call is None else [r["name"] for r in call[0]]

    def text(self, widget: Any, method: str = "set_text") -> Any:
        call = self.b.last_call(widget.wid, method)
        return None if call is None else call[0]

    def visible(self, widget: Any) -> bool:
        for m, _args in reversed(self.b.widgets[widget.wid].calls):
            if m in ("show", "hide"):
                return m == "show"
        return False

    async def until(self, cond: Any, what: str) -> None:
        """Poll: some conditions (a Python callback ran) come with no message to the browser."""
        for _ in range(500):
            if cond():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    async def fire(self, widget: Any, action: str, *args: Any) -> None:
        await self.b.fire(widget.wid, action, *args)


@pytest.fixture
async def harness(make_app: Any, browser_factory: Any, tree: Path) -> Harness:
    made: dict[str, Any] = {}
    ready = asyncio.Event()

    async def setup(session: Session) -> None:
        fb = await FileBrowser.create(session, title="Pick", mode="file")
        await fb.set_directory(tree)
        made["fb"] = fb
        ready.set()

    app = await make_app()
    app.on_connect(setup)
    b = await browser_factory(app)
    await asyncio.wait_for(ready.wait(), 10)
    h = Harness(app, b, made["fb"])
    await h.fb.on("activated", h.chosen.append)

    def cancelled() -> None:
        h.cancelled += 1

    await h.fb.on("cancelled", cancelled)
    await h.until(lambda: bool(h.rows()), "the first listing")
    return h


async def test_the_dialog_lists_navigates_and_chooses_a_file(harness: Harness, tree: Path) -> None:
    h, fb = harness, harness.fb
    assert h.rows() == [
        "..",
        "A_dir",
        "b_dir",
        "to_dir",
        "Alpha.PNG",
        "beta.jpg",
        "dangling",
        "loop",
        "zeta.txt",
    ]
    assert h.text(fb._where) == str(tree)
    await fb.popup()
    assert h.visible(fb._dialog) and fb.dialog.is_visible()

    await h.fire(fb._table, "activated", {"name": "A_dir"}, ["row1"], "name")  # double-click a folder
    await h.until(lambda: h.rows() == ["..", "inner.txt"], "the subdirectory listed")
    assert fb.get_directory() == str(tree / "A_dir") and h.text(fb._where) == str(tree / "A_dir")

    await h.fire(fb._table, "selected", [{"path": ["row1"], "values": {"name": "inner.txt"}}])
    await h.until(lambda: h.text(fb._entry) == "inner.txt", "the name in the entry")
    await h.fire(fb._dialog, "activated", "ok")
    await h.until(lambda: bool(h.chosen), "the callback")
    assert h.chosen == [str(tree / "A_dir" / "inner.txt")]
    assert not h.visible(fb._dialog)  # autoclose

    await fb.popup()
    await h.fire(fb._table, "activated", {"name": ".."}, ["row0"], None)
    await h.until(lambda: "zeta.txt" in h.rows(), "back up")
    await h.fire(fb._up, "activated")  # and the Up button
    await h.until(lambda: fb.get_directory() == str(tree.parent), "the parent")


async def test_typing_a_path_goes_there_or_chooses_it(harness: Harness, tree: Path) -> None:
    h, fb = harness, harness.fb
    await fb.popup()
    await h.fire(fb._entry, "activated", str(tree / "b_dir"))  # Enter in the entry
    await h.until(lambda: fb.get_directory() == str(tree / "b_dir"), "the typed directory")
    assert h.rows() == [".."] and h.text(fb._entry) == ""
    await h.fire(fb._entry, "activated", "../zeta.txt")
    await h.until(lambda: bool(h.chosen), "the typed file chosen")
    assert h.chosen == [str(tree / "zeta.txt")]


async def test_the_ok_button_reads_the_text_the_browser_has_now(harness: Harness, tree: Path) -> None:
    """Typing reaches Python after a pause; the OK button must not use stale text."""
    h, fb = harness, harness.fb
    entry_wid = fb._entry.wid
    h.b.answer = lambda b, w, msg: (
        "beta.jpg" if msg["wid"] == entry_wid and msg["method"] == "get_text" else None
    )
    assert fb._entry.get_text() == ""
    await fb.popup()
    await h.fire(fb._dialog, "activated", "ok")
    await h.until(lambda: bool(h.chosen), "the callback")
    assert h.chosen == [str(tree / "beta.jpg")]


async def test_problems_are_shown_in_the_dialog(harness: Harness, tree: Path) -> None:
    h, fb = harness, harness.fb
    await fb.popup()
    await h.fire(fb._entry, "activated", "missing.txt")
    await h.until(lambda: h.text(fb._message) == "No such file: missing.txt.", "the message")
    assert h.b.last_call(fb._message.wid, "set_color") == [None, "#b3261e"]

    (tree / "b_dir").rmdir()  # vanishes while listed
    await h.fire(fb._table, "activated", {"name": "b_dir"}, ["row2"], None)
    await h.until(lambda: h.text(fb._message) == f"No such directory: {tree / 'b_dir'}", "the message")
    assert fb.get_directory() == str(tree) and "zeta.txt" in h.rows()  # still where we were
    assert "b_dir" not in h.rows()  # and the listing read again

    (tree / "zeta.txt").unlink()
    await h.fire(fb._entry, "activated", "zeta.txt")
    await h.until(lambda: h.text(fb._message) == "zeta.txt no longer exists.", "the message")
    assert "zeta.txt" not in h.rows()  # read again
    await h.fire(fb._table, "activated", {"name": "loop"}, ["row6"], None)
    await h.until(lambda: h.text(fb._message) == "loop is a broken link.", "the message")
    await fb.set_directory(tree / "not" / "there")
    assert h.text(fb._message) == f"No such directory: {tree / 'not' / 'there'}"
    assert not h.chosen


async def test_an_unreadable_directory_keeps_the_listing(
    harness: Harness, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h, fb = harness, harness.fb
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path) == str(tree / "b_dir"):
            raise PermissionError(13, "Permission denied", str(tree / "b_dir"))
        return real_scandir(path)

    monkeypatch.setattr(_listing.os, "scandir", scandir)
    await fb.popup()
    await h.fire(fb._table, "activated", {"name": "b_dir"}, ["row2"], None)
    await h.until(lambda: h.text(fb._message) == f"Permission denied: {tree / 'b_dir'}", "the message")
    assert fb.get_directory() == str(tree) and "zeta.txt" in h.rows()


async def test_filters_group_extensions_and_filter_the_listing(harness: Harness) -> None:
    h, fb = harness, harness.fb
    await fb.add_ext_filter("Images", "png")
    await fb.add_ext_filter("Images", "*.JPG")
    await fb.add_ext_filter("Text", ".txt")
    calls = h.b.widgets[fb._combo.wid].calls
    last_clear = max(i for i, (m, _) in enumerate(calls) if m == "clear")
    items = [args[0] for m, args in calls[last_clear:] if m == "append_text"]
    assert items == ["Images (*.png, *.jpg)", "Text (*.txt)", "All files"]
    assert fb._combo.get_index() == 0  # the first category until the user picks one
    assert h.rows() == ["..", "A_dir", "b_dir", "to_dir", "Alpha.PNG", "beta.jpg"]

    await h.fire(fb._combo, "activated", 1, "Text (*.txt)")
    await h.until(lambda: h.rows()[-1] == "zeta.txt" and "beta.jpg" not in h.rows(), "the text filter")
    await h.fire(fb._combo, "activated", 2, "All files")
    await h.until(lambda: "loop" in h.rows() and "beta.jpg" in h.rows(), "every file")
    await fb.add_ext_filter("Data", "csv")
    assert fb._combo.get_index() == 3  # "All files" stays chosen
    await fb.clear_filters()
    assert fb._combo.get_state()["items"] == ["All files"]
    with pytest.raises(ValueError, match="not a file extension"):
        await fb.add_ext_filter("Nothing", "")


async def test_files_mode_returns_a_list(harness: Harness, tree: Path) -> None:
    h, fb = harness, harness.fb
    table = fb._table
    await fb.set_mode("files")
    assert fb._table is not table and not table.alive  # rebuilt for multiple selection
    assert fb._table._ctor_args[0]["selection_mode"] == "multiple"
    await fb.popup()
    picked = [
        {"path": ["row5"], "values": {"name": "beta.jpg"}},
        {"path": ["row8"], "values": {"name": "zeta.txt"}},
    ]
    await h.fire(fb._table, "selected", picked)
    await h.until(lambda: h.text(fb._entry) == '"beta.jpg" "zeta.txt"', "both names in the entry")
    await h.fire(fb._dialog, "activated", "ok")
    await h.until(lambda: bool(h.chosen), "the callback")
    assert h.chosen == [[str(tree / "beta.jpg"), str(tree / "zeta.txt")]]
    await fb.popup()
    await h.fire(fb._table, "activated", {"name": "zeta.txt"}, ["row8"], None)  # a double-click: that one
    await h.until(lambda: len(h.chosen) == 2, "the second choice")
    assert h.chosen[1] == [str(tree / "zeta.txt")]


async def test_directory_mode_lists_and_returns_directories(harness: Harness, tree: Path) -> None:
    h, fb = harness, harness.fb
    await fb.set_mode("directory")
    assert h.text(fb._ok_button) == "Choose" and h.rows() == ["..", "A_dir", "b_dir", "to_dir"]
    assert not h.visible(fb._combo)
    await fb.popup()
    await h.fire(fb._table, "selected", [{"path": ["row2"], "values": {"name": "b_dir"}}])
    await h.until(lambda: h.text(fb._entry) == "b_dir", "the name in the entry")
    await h.fire(fb._dialog, "activated", "ok")
    await h.until(lambda: bool(h.chosen), "the callback")
    assert h.chosen == [str(tree / "b_dir")]
    await fb.popup()
    await h.fire(fb._table, "activated", {"name": "A_dir"}, ["row1"], None)  # enters it
    await h.until(lambda: fb.get_directory() == str(tree / "A_dir"), "inside")
    await h.fire(fb._dialog, "activated", "ok")  # nothing typed: the directory shown
    await h.until(lambda: len(h.chosen) == 2, "the second choice")
    assert h.chosen[1] == str(tree / "A_dir")


async def test_save_mode_asks_before_replacing(harness: Harness, tree: Path) -> None:
    h, fb = harness, harness.fb
    await fb.set_mode("save")
    await fb.set_filename("report.txt")
    assert h.text(fb._ok_button) == "Save" and h.text(fb._entry) == "report.txt"
    await fb.popup()
    await h.fire(fb._dialog, "activated", "ok")
    await h.until(lambda: bool(h.chosen), "a new name is taken at once")
    assert h.chosen == [str(tree / "report.txt")] and not (tree / "report.txt").exists()

    await fb.popup()
    await fb.set_filename("zeta.txt")
    await h.fire(fb._dialog, "activated", "ok")
    await h.until(lambda: h.visible(fb._confirm), "the question")
    assert h.text(fb._confirm_label) == f"zeta.txt already exists in {tree}. Replace it?"
    assert len(h.chosen) == 1 and h.visible(fb._dialog)
    await h.fire(fb._confirm, "activated", "no")
    await h.fire(fb._dialog, "activated", "ok")
    await h.until(lambda: h.b.widgets[fb._confirm.wid].calls.count(("show", [])) == 2, "asked again")
    await h.fire(fb._confirm, "activated", "yes")
    await h.until(lambda: len(h.chosen) == 2, "the answer")
    assert h.chosen[1] == str(tree / "zeta.txt") and not h.visible(fb._dialog)


async def test_popping_up_an_open_dialog_shows_it_once(harness: Harness) -> None:
    """pgwidgets-js adds a modal overlay at each show(): a second one would stay behind."""
    h, fb = harness, harness.fb
    await fb.popup()
    await fb.popup(30, 40)
    calls = h.b.widgets[fb._dialog.wid].calls
    assert calls.count(("show", [])) == 1 and ("set_position", [30, 40]) in calls
    await fb.hide()
    await fb.popup()
    assert calls.count(("show", [])) == 2 and not h.cancelled


async def test_cancel_and_close_choose_nothing(harness: Harness) -> None:
    h, fb = harness, harness.fb
    await fb.popup()
    await h.fire(fb._dialog, "activated", "cancel")
    await h.until(lambda: h.cancelled == 1, "cancelled")
    await fb.popup()
    await h.fire(fb._dialog, "close")  # the title bar's close button
    await h.until(lambda: h.cancelled == 2, "cancelled again")
    assert not h.visible(fb._dialog) and h.chosen == []


async def test_autoclose_off_keeps_the_dialog_open(make_app: Any, tree: Path) -> None:
    app = await make_app()
    session = app.create_session()
    fb = await FileBrowser.create(session, autoclose=False, modal=False)
    got: list[str] = []
    await fb.on("activated", got.append)
    await fb.set_directory(tree)
    await fb.popup(10, 20)
    assert fb.dialog.get_state()["position"] == (10, 20)
    await fb._on_entry("zeta.txt")  # what Enter in the entry does
    assert got == [str(tree / "zeta.txt")] and fb.dialog.is_visible()


async def test_a_huge_directory_is_capped_in_the_dialog(make_app: Any, tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"f{i:02}.dat").write_bytes(b"")
    app = await make_app()
    fb = await FileBrowser.create(app.create_session(), max_entries=5)
    await fb.set_directory(tmp_path)
    assert len(fb._table.get_state()["data"]) == 6  # ".." and five entries
    assert fb._message.get_text().startswith("Showing the first 5 entries: this directory has more")


async def test_a_reloaded_page_gets_the_dialog_back(
    harness: Harness, browser_factory: Any, tree: Path
) -> None:
    h, fb = harness, harness.fb
    await fb.add_ext_filter("Text", "txt")
    await fb.popup()
    await h.fire(fb._table, "activated", {"name": "A_dir"}, ["row1"], None)
    await h.until(lambda: h.rows() == ["..", "inner.txt"], "inside A_dir")
    await fb.set_filename("inner.txt")
    again = await browser_factory(h.app, session_id=h.b.session_id, token=h.b.token)
    await again.wait_for(lambda: not again.reconstructing and bool(again.find("TableView")), "the rebuild")
    table = again.widgets[fb._table.wid]
    assert [r["name"] for r in again.last_call(fb._table.wid, "set_data")[0]] == ["..", "inner.txt"]  # type: ignore[index]
    assert {"activated", "selected"} <= table.listens
    assert again.last_call(fb._entry.wid, "set_text") == ["inner.txt"]
    assert again.last_call(fb._where.wid, "set_text") == [str(tree / "A_dir")]
    assert ("show", []) in again.widgets[fb._dialog.wid].calls
    assert "activated" in again.widgets[fb._dialog.wid].listens
    await again.fire(fb._dialog.wid, "activated", "ok")  # the rebuilt dialog works
    await h.until(lambda: bool(h.chosen), "the callback")
    assert h.chosen == [str(tree / "A_dir" / "inner.txt")]


async def test_wrong_uses_fail_clearly(make_app: Any) -> None:
    app = await make_app()
    session = app.create_session()
    with pytest.raises(TypeError, match=r"await FileBrowser\.create"):
        FileBrowser(session)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode must be one of"):
        FileBrowser.create(session, mode="folders")
    unbuilt = AsyncFileBrowser(session)
    with pytest.raises(RuntimeError, match="not built"):
        await unbuilt.popup()
    fb = await unbuilt
    assert fb is unbuilt and await fb is fb  # awaiting again builds nothing new
    with pytest.raises(ValueError, match="'activated', 'cancelled'"):
        await fb.on("chosen", print)
    with pytest.raises(ValueError, match="mode must be one of"):
        await fb.set_mode("dir")
    await fb.destroy()
    assert not fb._dialog.alive and not fb._table.alive


# the dialog, sync ----------------------------------------------------------------------------------


class BrowserThread:
    """A FakeBrowser on its own event loop thread (the sync test itself blocks)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def sync_app() -> Iterator[sync.Application]:
    app = sync.Application(ws_port=0, http_port=0)
    yield app
    app.close()


def test_sync_file_browser_blocks_and_calls_back_on_the_session_thread(
    sync_app: sync.Application, tree: Path
) -> None:
    made: dict[str, Any] = {}
    chosen = threading.Event()

    @sync_app.on_connect
    def setup(session: sync.Session) -> None:
        fb = FileBrowser(session, title="Open File", mode="file")
        fb.set_directory(str(tree))
        fb.add_ext_filter("Images", "png")
        fb.add_ext_filter("Images", "jpg")

        def activated(path: str) -> None:
            made.update(path=path, thread=threading.current_thread(), own=session.get_session_thread())
            chosen.set()

        fb.on("activated", activated)
        fb.popup()
        made["fb"] = fb
        with pytest.raises(TypeError, match="sync session"):
            FileBrowser.create(session)  # type: ignore[arg-type]

    sync_app.start()
    bt = BrowserThread()
    b = bt.run(FakeBrowser(sync_app.ws_url).connect())
    try:
        for _ in range(500):
            if "fb" in made:
                break
            threading.Event().wait(0.01)
        fb = made["fb"]
        assert isinstance(fb, FileBrowser) and fb.get_directory() == str(tree)
        assert fb.dialog.is_visible()
        rows = b.last_call(fb.async_browser._table.wid, "set_data")[0]
        assert [r["name"] for r in rows] == ["..", "A_dir", "b_dir", "to_dir", "Alpha.PNG", "beta.jpg"]
        bt.run(b.fire(fb.async_browser._table.wid, "activated", {"name": "Alpha.PNG"}, ["row4"], None))
        assert chosen.wait(10)
        assert made["path"] == str(tree / "Alpha.PNG")
        assert made["thread"] is made["own"]  # the session's callback thread, like every sync handler
        assert not fb.dialog.is_visible()
        with pytest.raises(ValueError, match="not a file extension"):
            fb.add_ext_filter("Bad", ".")
    finally:
        bt.run(b.close())
        bt.stop()


def test_the_blocking_form_refuses_the_event_loop_thread(sync_app: sync.Application) -> None:
    errors: list[str] = []
    done = threading.Event()

    async def setup(session: Session) -> None:  # a coroutine handler runs on the loop
        blocking_view = sync_app.sessions[session.id]
        try:
            FileBrowser(blocking_view)
        except RuntimeError as exc:
            errors.append(str(exc))
        fb = await FileBrowser.create(session)  # the form that belongs there
        errors.append(repr(fb))
        done.set()

    sync_app.on_connect(setup)
    sync_app.start()
    bt = BrowserThread()
    b = bt.run(FakeBrowser(sync_app.ws_url).connect())
    try:
        assert done.wait(10)
        assert "await FileBrowser.create(session.async_session" in errors[0]
        assert errors[1].startswith("<AsyncFileBrowser mode='file'")
    finally:
        bt.run(b.close())
        bt.stop()
