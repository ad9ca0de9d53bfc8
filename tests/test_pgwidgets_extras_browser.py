"""pgwidgets.extras end to end: the FileBrowser dialog with the real pgwidgets-js in headless
Chromium. The application runs through ``pgwidgets.sync`` (its loop in a background thread);
a coroutine ``on_connect`` handler there gets the async objects, which covers the async API.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pgwidgets")
from pgw_support import wait_until

from pgwidgets.async_ import Session as AsyncSession
from pgwidgets.extras.file_browser import FileBrowser
from pgwidgets.sync import Application, Session

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "packages" / "pgwidgets" / "examples"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.png").write_bytes(b"\x89PNG")
    (tmp_path / "photos" / "dog.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("notes")
    (tmp_path / "report.txt").write_text("an old report")
    return tmp_path


def row(page: Any, name: str) -> Any:
    """The listing's row showing ``name``."""
    return page.locator(".treeview-row", has=page.get_by_text(name, exact=True))


def test_async_browser_navigates_into_a_folder_and_picks_a_file(
    make_app: Callable[..., Application], page: Any, tree: Path
) -> None:
    chosen: list[Any] = []

    async def setup(session: AsyncSession) -> None:  # a coroutine: the async objects, on the loop
        fb = await FileBrowser.create(session, title="Open File")
        await fb.set_directory(tree)
        await fb.on("activated", chosen.append)
        await fb.popup()

    app = make_app()
    app.on_connect(setup)
    app.start()
    page.goto(app.url)
    page.get_by_text("Open File", exact=True).wait_for()
    row(page, "photos").dblclick()  # activating a folder's row enters it
    page.get_by_text("cat.png", exact=True).wait_for()
    assert page.get_by_text(str(tree / "photos"), exact=True).is_visible()  # the folder shown
    assert row(page, "notes.txt").count() == 0
    row(page, "dog.jpg").click()
    entry = page.locator("input.textentry-widget")
    wait_until(lambda: entry.input_value() == "dog.jpg", "the name in the entry")
    page.get_by_text("Open", exact=True).click()
    wait_until(lambda: bool(chosen), "the callback")
    assert chosen == [str(tree / "photos" / "dog.jpg")]
    page.locator(".dialog-widget").first.wait_for(state="hidden")  # closed after the choice


def test_save_mode_asks_before_overwriting(
    make_app: Callable[..., Application], page: Any, tree: Path
) -> None:
    chosen: list[Any] = []

    async def setup(session: AsyncSession) -> None:
        fb = await FileBrowser.create(session, title="Save Report", mode="save")
        await fb.set_directory(tree)
        await fb.on("activated", chosen.append)
        await fb.popup()

    app = make_app()
    app.on_connect(setup)
    app.start()
    page.goto(app.url)
    page.get_by_text("report.txt", exact=True).wait_for()
    page.locator("input.textentry-widget").fill("report.txt")  # typed, then the button at once
    page.get_by_text("Save", exact=True).click()
    question = page.get_by_text(f"report.txt already exists in {tree}. Replace it?")
    question.wait_for()
    page.locator(".dialog-widget", has=question).get_by_text("Cancel", exact=True).click()
    question.wait_for(state="hidden")
    assert chosen == [] and page.get_by_text("Save Report", exact=True).is_visible()

    page.get_by_text("Save", exact=True).click()
    question.wait_for()
    page.get_by_text("Replace", exact=True).click()
    wait_until(lambda: bool(chosen), "the callback")
    assert chosen == [str(tree / "report.txt")]
    assert (tree / "report.txt").read_text() == "an old report"  # the dialog only chooses a name


def test_sync_browser_filters_survives_a_reload_and_takes_a_typed_path(
    make_app: Callable[..., Application], page: Any, tree: Path
) -> None:
    chosen: list[Any] = []
    done = threading.Event()

    def setup(session: Session) -> None:  # the documented example, blocking calls
        fb = FileBrowser(session, title="Open File", mode="file")
        fb.set_directory(str(tree / "photos"))
        fb.add_ext_filter("Images", "png")
        fb.add_ext_filter("Text", "txt")

        def activated(path: str) -> None:
            chosen.append(path)
            done.set()

        fb.on("activated", activated)
        fb.popup()

    app = make_app()
    app.on_connect(setup)
    app.start()
    page.goto(app.url)
    page.get_by_text("cat.png", exact=True).wait_for()
    assert row(page, "dog.jpg").count() == 0  # the Images filter: *.png only
    assert page.locator(".combobox-input").input_value() == "Images (*.png)"

    page.reload()  # the dialog comes back as it was
    page.get_by_text("cat.png", exact=True).wait_for()
    assert page.get_by_text("Open File", exact=True).is_visible()
    row(page, "..").dblclick()
    page.get_by_text("photos", exact=True).wait_for()

    entry = page.locator("input.textentry-widget")
    entry.fill(str(tree / "nowhere.txt"))
    entry.press("Enter")
    page.get_by_text("No such file: " + str(tree / "nowhere.txt") + ".", exact=True).wait_for()
    entry.fill("photos/dog.jpg")  # a relative path: chosen even if the filter hides it
    entry.press("Enter")
    assert done.wait(10), "the callback never ran"
    assert chosen == [str(tree / "photos" / "dog.jpg")]
    assert len(app.sessions) == 1


def test_the_example_builds_and_pops_the_dialog(
    make_app: Callable[..., Application], page: Any, tree: Path
) -> None:
    spec = importlib.util.spec_from_file_location(
        "pgwidgets_example_file_browser", EXAMPLES / "file_browser.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = make_app()
    app.on_connect(lambda session: module.setup(session, str(tree)))
    app.start()
    page.goto(app.url)
    page.get_by_text("Choose a folder...", exact=True).click()
    page.get_by_text("Choose Folder", exact=True).wait_for()
    assert row(page, "photos").count() == 1 and row(page, "notes.txt").count() == 0  # folders only
    row(page, "photos").click()
    page.get_by_text("Choose", exact=True).click()
    page.get_by_text(f"Chosen: {tree / 'photos'}", exact=True).wait_for()
