"""A file browser dialog over the server's filesystem, built from pgwidgets widgets.

The dialog is a ``Dialog`` holding a ``TableView`` (the directory listing: an icon, the name,
the size and the modification time; directories first), a ``TextEntry`` (the file name, or a
path) and a ``ComboBox`` (the extension filter). Every filesystem call runs in Python on the
server, in a worker thread, so a slow disk does not stall other sessions.

One class for both APIs:

- **sync** (``pgwidgets.sync``): ``FileBrowser(session, ...)`` builds the dialog and returns
  when it is built; every method blocks like a sync widget's, and callbacks run on the
  session's callback thread::

      fb = FileBrowser(session, title="Open File", mode="file")
      fb.add_ext_filter("Images", "png")
      fb.on("activated", lambda path: print(path))
      fb.popup()

- **async** (``pgwidgets.async_``): ``fb = await FileBrowser.create(session, ...)`` returns an
  :class:`AsyncFileBrowser` with the same methods as coroutines (``await fb.popup()``); plain
  and coroutine callbacks both work.

A wrong combination fails at once with a ``TypeError`` that names the right form:
``FileBrowser(async_session)``, ``FileBrowser.create(sync_session)``. A method of an
``AsyncFileBrowser`` that was not awaited into existence raises ``RuntimeError``.

Modes: ``"file"`` (one existing file), ``"files"`` (several: the callback gets a list),
``"directory"`` (a directory; only directories are listed) and ``"save"`` (a name to save to;
choosing an existing file asks before overwriting it). ``on("activated", fn)`` calls ``fn``
with the absolute path (a list in ``"files"`` mode); ``on("cancelled", fn)`` calls ``fn()``
when the dialog is closed without a choice.

Navigation: activate (double-click, or Enter) a directory row to enter it, the ``..`` row or
the Up button to go up; type a name or a path (absolute, ``~/...`` or relative) and press Enter
to go there (a directory) or choose it (a file). Problems (a directory that cannot be read, a
file that vanished, a path that does not exist) are shown in the dialog. A directory is read
one level only and at most ``max_entries`` entries are listed (the dialog says when there were
more); names starting with ``.`` are hidden unless ``set_show_hidden(True)``.

The dialog lives in the session like any widget: a reloaded page gets it back as it was
(listing, typed name, filter, position, open or closed).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any

from .. import async_ as _aio
from .. import protocol as _proto
from .. import sync as _sync
from ._listing import (
    DEFAULT_MAX_ENTRIES,
    MODES,
    Entry,
    Listing,
    decide,
    join_names,
    list_directory,
    nearest_directory,
    normalize_ext,
    resolve,
    rows_for,
    visible_entries,
)

__all__ = ["MODES", "AsyncFileBrowser", "FileBrowser"]

logger = logging.getLogger("pgwidgets")

OK_LABELS = {"file": "Open", "files": "Open", "directory": "Choose", "save": "Save"}
ALL_FILES = "All files"
ERROR_COLOR = "#b3261e"
COLUMNS = [
    {"label": "", "key": "icon", "type": "icon", "colwidth": 28},
    {"label": "Name", "key": "name"},
    {"label": "Size", "key": "size", "halign": "right", "colwidth": 90},
    {"label": "Modified", "key": "modified", "colwidth": 140},
]
ACTIONS = ("activated", "cancelled")


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(repr(m) for m in MODES)}, not {mode!r}")
    return mode


def _start_directory() -> str:
    try:
        return os.getcwd()
    except OSError:  # the working directory was removed
        return os.path.expanduser("~")


class AsyncFileBrowser:
    """The file browser for :mod:`pgwidgets.async_` sessions: ``await FileBrowser.create(session,
    ...)`` (or ``await AsyncFileBrowser(session, ...)``) builds it; its methods are coroutines."""

    def __init__(
        self,
        session: _aio.Session,
        title: str = "Browse",
        modal: bool = True,
        autoclose: bool = True,
        mode: str = "file",
        *,
        show_hidden: bool = False,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if not isinstance(session, _aio.Session):
            raise TypeError(
                f"AsyncFileBrowser needs a pgwidgets.async_ Session, not {type(session).__name__}"
            )
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive int, not {max_entries!r}")
        self._session = session
        self._title = str(title)
        self._modal = bool(modal)
        self._autoclose = bool(autoclose)
        self._mode = _check_mode(mode)
        self._show_hidden = bool(show_hidden)
        self._max_entries = max_entries
        self._dir = _start_directory()
        self._listing: Listing | None = None
        self._shown: dict[str, Entry] = {}  # name -> entry of the rows shown now
        self._filters: dict[str, list[str]] = {}  # category -> extensions, in the order added
        self._filter: str | None = None  # the chosen category (None: all files)
        self._filter_chosen = False  # the user picked one (adding filters then keeps it)
        self._handlers: dict[str, list[Callable[..., Any]]] = {a: [] for a in ACTIONS}
        self._pending: str | None = None  # the path waiting for "replace it?"
        self._generation = 0  # the latest directory read wins
        self._built = False
        self._building: asyncio.Future[AsyncFileBrowser] | None = None

    def __repr__(self) -> str:
        return f"<AsyncFileBrowser mode={self._mode!r} directory={self._dir!r}>"

    def __await__(self) -> Generator[Any, None, AsyncFileBrowser]:
        return self._build().__await__()

    # construction ----------------------------------------------------------------------------

    async def _build(self) -> AsyncFileBrowser:
        if self._built:
            return self
        if self._building is not None:  # awaited twice at once: one build
            return await self._building
        self._building = asyncio.get_running_loop().create_future()
        try:
            await self._make_widgets()
        except BaseException as exc:
            self._building.set_exception(exc)
            self._building.exception()  # retrieved: no "never retrieved" warning
            self._building = None
            raise
        self._built = True
        self._building.set_result(self)
        return self

    async def _make_widgets(self) -> None:
        W = self._session.get_widgets()
        self._dialog = dialog = await W.Dialog(
            self._title, [], modal=self._modal, autoclose=False, resizable=True
        )
        await dialog.resize(640, 460)
        top = await W.HBox()
        self._up = await W.Button("Up")
        self._where = await W.Label(self._dir)
        self._holder = await W.VBox()
        self._table = await self._make_table()
        self._message = await W.Label("")
        bottom = await W.HBox()
        self._name_label = await W.Label("Name:")
        self._entry = await W.TextEntry("")
        self._combo = await W.ComboBox()
        self._cancel_button = await W.Button("Cancel")
        self._ok_button = await W.Button(OK_LABELS[self._mode])
        # buttons added from Python, not in the constructor: a Dialog then always makes the same
        # number of objects of its own, which lets later Dialogs be created without a round trip
        self._confirm = confirm = await W.Dialog(
            "Replace file?", [], modal=True, autoclose=True, resizable=False
        )
        self._confirm_label = await W.Label("")
        keep, replace = await W.Button("Cancel"), await W.Button("Replace")
        async with self._session.batch():
            await self._up.set_tooltip("Parent directory")
            for box in (top, bottom):
                await box.set_padding(4)
            await self._where.set_valign("center")
            await self._name_label.set_valign("center")
            await self._confirm_label.set_padding(8)
            await top.set_spacing(6)
            await top.add_widget(self._up, 0)
            await top.add_widget(self._where, 1)
            await self._holder.add_widget(self._table, 1)
            await bottom.set_spacing(6)
            await bottom.add_widget(self._name_label, 0)
            await bottom.add_widget(self._entry, 1)
            await bottom.add_widget(self._combo, 0)
            await dialog.set_spacing(6)
            await dialog.add_widget(top, 0)
            await dialog.add_widget(self._holder, 1)
            await dialog.add_widget(self._message, 0)
            await dialog.add_widget(bottom, 0)
            await dialog.add_button(self._cancel_button, "cancel")
            await dialog.add_button(self._ok_button, "ok")
            await confirm.add_widget(self._confirm_label, 0)
            await confirm.add_button(keep, "no")
            await confirm.add_button(replace, "yes")
        await self._fill_combo()
        if self._mode == "directory":
            await self._combo.hide()
        await dialog.on("activated", self._on_dialog_button)
        await dialog.on("close", self._on_close)
        await confirm.on("activated", self._on_confirm)
        await confirm.on("close", self._on_confirm_close)
        await self._up.on("activated", self._on_up)
        await self._entry.on("activated", self._on_entry)
        await self._combo.on("activated", self._on_filter)

    async def _make_table(self) -> Any:
        table = await self._session.get_widgets().TableView(
            columns=COLUMNS,
            selection_mode="multiple" if self._mode == "files" else "single",
            cell_cursor=False,  # arrows select rows, Enter activates them
            alternate_row_colors=True,
            show_grid=False,
        )
        await table.on("activated", self._on_row_activated)
        await table.on("selected", self._on_rows_selected)
        return table

    def _require(self) -> None:
        if not self._built:
            raise RuntimeError(
                "the FileBrowser is not built yet: use `fb = await FileBrowser.create(session, ...)`"
            )

    # public API ------------------------------------------------------------------------------

    @property
    def session(self) -> _aio.Session:
        return self._session

    @property
    def dialog(self) -> Any:
        """The ``Dialog`` widget (to resize or move it)."""
        self._require()
        return self._dialog

    def get_directory(self) -> str:
        """The directory shown (an absolute path)."""
        return self._dir

    def get_mode(self) -> str:
        return self._mode

    async def on(self, action: str, callback: Callable[..., Any]) -> None:
        """Call ``callback(path)`` when the user chooses (``"activated"``; a list of paths in
        ``"files"`` mode) or ``callback()`` when the dialog is closed without a choice
        (``"cancelled"``). Plain functions and coroutine functions both work."""
        if action not in ACTIONS:
            raise ValueError(
                f"FileBrowser callbacks are {', '.join(repr(a) for a in ACTIONS)}, not {action!r}"
            )
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {callback!r}")
        self._handlers[action].append(callback)

    async def set_directory(self, path: str | os.PathLike[str]) -> None:
        """Show ``path`` (relative paths are taken from the directory shown). A path that is
        not a readable directory leaves the listing as it is, with a message in the dialog."""
        self._require()
        await self._go(resolve(self._dir, os.fspath(path)))

    async def set_filename(self, name: str | os.PathLike[str]) -> None:
        """Put ``name`` in the name entry; a name with a directory part also shows that directory."""
        self._require()
        head, tail = os.path.split(os.fspath(name))
        if head:
            await self._go(resolve(self._dir, head))
        await self._entry.set_text(tail)

    async def set_mode(self, mode: str) -> None:
        """Switch to ``"file"``, ``"files"``, ``"directory"`` or ``"save"``."""
        self._require()
        _check_mode(mode)
        if mode == self._mode:
            return
        multiple_before = self._mode == "files"
        self._mode = mode
        await self._ok_button.set_text(OK_LABELS[mode])
        if (mode == "files") != multiple_before:  # the selection mode is a constructor option
            old, self._table = self._table, await self._make_table()
            await self._holder.remove(old, True)
            await self._holder.add_widget(self._table, 1)
        await (self._combo.hide() if mode == "directory" else self._combo.show())
        await self._entry.set_text("")
        if self._listing is not None:
            await self._render()

    async def set_show_hidden(self, show: bool) -> None:
        """List names starting with ``.`` too (or not)."""
        self._require()
        self._show_hidden = bool(show)
        if self._listing is not None:
            await self._go(self._dir)

    async def add_ext_filter(self, category: str, ext: str) -> None:
        """Add ``ext`` (``"png"``, ``".png"`` or ``"*.png"``) to the filter ``category``; call it
        again to group more extensions under one category. "All files" is always offered; the
        first category is the one used until the user picks another."""
        self._require()
        category = str(category).strip()
        if not category:
            raise ValueError("a filter category needs a name")
        norm = normalize_ext(ext)
        exts = self._filters.setdefault(category, [])
        if norm not in exts:
            exts.append(norm)
        if self._filter is None and not self._filter_chosen:
            self._filter = next(iter(self._filters))
        await self._fill_combo()
        if self._listing is not None:
            await self._render()

    async def clear_filters(self) -> None:
        """Remove every filter category (all files are listed)."""
        self._require()
        self._filters.clear()
        self._filter, self._filter_chosen = None, False
        await self._fill_combo()
        if self._listing is not None:
            await self._render()

    async def popup(self, x: float | None = None, y: float | None = None) -> None:
        """Read the directory again and show the dialog (centred, or at ``x``, ``y``)."""
        self._require()
        self._pending = None
        await self._go(self._dir, keep=False)
        if x is not None and y is not None:
            await self._dialog.set_position(x, y)
        if not self._dialog.is_visible():  # a modal Dialog shown twice would leave an overlay behind
            await self._dialog.show()
        await self._entry.set_focus()

    async def hide(self) -> None:
        """Close the dialog (without calling any callback)."""
        self._require()
        await self._confirm.hide()
        await self._dialog.hide()

    async def destroy(self) -> None:
        """Remove the dialog from the session for good."""
        if not self._built:
            return
        await self._confirm.destroy()
        await self._dialog.destroy()

    # reading and showing directories ---------------------------------------------------------------

    async def _go(self, path: str, keep: bool = True) -> bool:
        """Read ``path`` and show it. If it cannot be read, the listing shown stays (``keep``,
        when there is one) with the reason below it; otherwise the nearest directory that
        exists is shown, or the unreadable one, empty, with the reason."""
        self._generation += 1
        generation = self._generation
        hidden, limit = self._show_hidden, self._max_entries
        listing = await asyncio.to_thread(list_directory, path, show_hidden=hidden, limit=limit)
        if generation != self._generation:  # the user went elsewhere meanwhile
            return False
        problem = listing.error
        if problem is not None:
            current = self._listing
            if keep and current is not None and current.directory != listing.directory:
                if not await asyncio.to_thread(os.path.lexists, listing.directory):
                    await self._go(current.directory, keep=False)  # it was listed: read again
                await self._show_message(problem, error=True)
                return False
            existing = await asyncio.to_thread(nearest_directory, listing.directory)
            if existing != listing.directory:
                listing = await asyncio.to_thread(list_directory, existing, show_hidden=hidden, limit=limit)
                if generation != self._generation:
                    return False
                if listing.error is not None:
                    problem = f"{problem}; {listing.error}"
        self._listing = listing
        self._dir = listing.directory
        await self._render(problem)
        return listing.error is None and problem is None

    async def _render(self, problem: str | None = None) -> None:
        listing = self._listing
        assert listing is not None
        exts = self._filters.get(self._filter) if self._filter is not None else None
        entries = visible_entries(listing, self._mode, exts)
        has_parent = os.path.dirname(listing.directory) != listing.directory
        self._shown = {e.name: e for e in entries}
        notes = [problem] if problem else []
        if listing.truncated:
            notes.append(
                f"Showing the first {self._max_entries} entries: this directory has more "
                "(type a name to open one that is not listed)."
            )
        if listing.skipped:
            notes.append(f"{listing.skipped} entries could not be read.")
        if not entries and listing.entries and not problem:
            notes.append("Nothing here matches the filter.")
        async with self._session.batch():
            await self._table.set_data(rows_for(entries, has_parent))
            await self._where.set_text(listing.directory)
            await self._up.set_enabled(has_parent)
            await self._show_message(" ".join(notes), error=problem is not None)

    async def _show_message(self, text: str, error: bool) -> None:
        await self._message.set_text(text)
        await self._message.set_color(None, ERROR_COLOR if error else "")

    async def _fill_combo(self) -> None:
        labels = [f"{cat} ({', '.join('*.' + e for e in exts)})" for cat, exts in self._filters.items()]
        labels.append(ALL_FILES)
        cats = list(self._filters)
        index = cats.index(self._filter) if self._filter in cats else len(cats)
        async with self._session.batch():
            await self._combo.clear()
            for label in labels:
                await self._combo.append_text(label)
            await self._combo.set_index(index)

    # choosing ----------------------------------------------------------------------------------

    async def _entry_text(self) -> str:
        """The name entry's text as the browser has it now (typing reaches Python only after a
        pause, so a click on the OK button could beat it)."""
        entry = self._entry
        wid = entry.wid
        try:
            value = await self._session._request(lambda mid: _proto.call(mid, wid, "get_text", []))
        except (_aio.BrowserError, _aio.BrowserDisconnected, _aio.RequestTimeout):
            value = None
        return value if isinstance(value, str) else str(entry.get_text() or "")

    async def _submit(self, text: str, names: Sequence[str] | None = None) -> None:
        known = self._listing.names if self._listing is not None else None
        d = await asyncio.to_thread(decide, self._dir, text, self._mode, known, names)
        if d.action == "navigate":
            if await self._go(d.paths[0]):
                await self._entry.set_text("")
        elif d.action == "error":
            if d.stale:
                await self._go(self._dir, keep=False)
            await self._show_message(d.message, error=True)
        elif d.action == "confirm":
            self._pending = d.paths[0]
            folder, name = os.path.split(d.paths[0])
            await self._confirm_label.set_text(f"{name} already exists in {folder}. Replace it?")
            if not self._confirm.is_visible():
                await self._confirm.show()
        else:
            await self._finish(list(d.paths))

    async def _finish(self, paths: list[str]) -> None:
        self._pending = None
        if self._autoclose:
            await self._dialog.hide()
        await self._show_message("", error=False)
        await self._fire("activated", paths if self._mode == "files" else paths[0])

    async def _fire(self, action: str, *args: Any) -> None:
        log = getattr(self._session.app, "_logger", logger)
        for callback in list(self._handlers[action]):
            try:
                result = callback(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.error("Exception in FileBrowser %r callback", action, exc_info=True)

    # events ------------------------------------------------------------------------------------

    async def _on_dialog_button(self, value: Any) -> None:
        if value == "ok":
            await self._submit(await self._entry_text())
        elif value == "cancel":
            await self._on_close()

    async def _on_close(self, *_args: Any) -> None:
        self._pending = None
        await self._confirm.hide()
        await self._dialog.hide()
        await self._fire("cancelled")

    async def _on_confirm(self, value: Any) -> None:
        path, self._pending = self._pending, None
        if value == "yes" and path is not None:
            await self._finish([path])

    async def _on_confirm_close(self, *_args: Any) -> None:
        self._pending = None
        await self._confirm.hide()

    async def _on_up(self, *_args: Any) -> None:
        parent = os.path.dirname(self._dir)
        if parent != self._dir:
            await self._go(parent)

    async def _on_entry(self, text: Any, *_args: Any) -> None:
        await self._submit(text if isinstance(text, str) else "")

    async def _on_filter(self, index: Any, *_args: Any) -> None:
        cats = list(self._filters)
        if not isinstance(index, int) or not 0 <= index <= len(cats):
            return
        self._filter = cats[index] if index < len(cats) else None
        self._filter_chosen = True
        if self._listing is not None:
            await self._render()

    async def _on_row_activated(self, values: Any, *_args: Any) -> None:
        name = values.get("name") if isinstance(values, dict) else None
        if not isinstance(name, str):
            return
        if name == "..":
            await self._on_up()
            return
        entry = self._shown.get(name)
        if entry is None:  # a row of an older listing
            return
        if entry.is_dir:
            if await self._go(os.path.join(self._dir, name)) and self._mode != "save":
                await self._entry.set_text("")
        elif self._mode != "directory":
            await self._entry.set_text(name)
            await self._submit(name, [name])

    async def _on_rows_selected(self, items: Any, *_args: Any) -> None:
        if not isinstance(items, list):
            return
        picked = [self._shown[n] for n in _row_names(items) if n in self._shown]
        files = [e.name for e in picked if not e.is_dir]
        dirs = [e.name for e in picked if e.is_dir]
        mode = self._mode
        if mode == "files":
            text = join_names(files) if files else (dirs[0] if len(dirs) == 1 else None)
        elif mode == "save":
            text = files[0] if files else None
        elif mode == "directory":
            text = dirs[0] if dirs else None
        else:
            text = picked[0].name if len(picked) == 1 else None
        if text is not None:
            await self._entry.set_text(text)


def _row_names(items: list[Any]) -> list[str]:
    names = []
    for item in items:
        values = item.get("values") if isinstance(item, dict) else None
        name = values.get("name") if isinstance(values, dict) else None
        if isinstance(name, str) and name != "..":
            names.append(name)
    return names


class FileBrowser:
    """The file browser. With a :mod:`pgwidgets.sync` session, ``FileBrowser(session, ...)``
    builds it and every method blocks; with a :mod:`pgwidgets.async_` session use ``fb = await
    FileBrowser.create(session, ...)`` (an :class:`AsyncFileBrowser`, whose methods are awaited).
    """

    def __init__(
        self,
        session: _sync.Session,
        title: str = "Browse",
        modal: bool = True,
        autoclose: bool = True,
        mode: str = "file",
        *,
        show_hidden: bool = False,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if isinstance(session, _aio.Session):
            raise TypeError(
                "this is a pgwidgets.async_ session: use `fb = await FileBrowser.create(session, ...)`"
            )
        if not isinstance(session, _sync.Session):
            raise TypeError(f"FileBrowser needs a pgwidgets session, not {type(session).__name__}")
        self._session = session
        self._app = session.app
        runner = getattr(self._app, "_runner", None)
        if runner is not None and threading.current_thread() is runner.thread:
            raise RuntimeError(
                "FileBrowser(sync session) blocks and cannot be made on the event loop (in a coroutine "
                "handler): there use `fb = await FileBrowser.create(session.async_session, ...)`"
            )
        self._fb = AsyncFileBrowser(
            session.async_session,
            title,
            modal,
            autoclose,
            mode,
            show_hidden=show_hidden,
            max_entries=max_entries,
        )
        self._run(self._fb._build())

    @classmethod
    def create(
        cls,
        session: _aio.Session,
        title: str = "Browse",
        modal: bool = True,
        autoclose: bool = True,
        mode: str = "file",
        *,
        show_hidden: bool = False,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> Awaitable[AsyncFileBrowser]:
        """``await FileBrowser.create(session, ...)``: the file browser of an async session."""
        if isinstance(session, _sync.Session):
            raise TypeError(
                "this is a pgwidgets.sync session: use `fb = FileBrowser(session, ...)` (it blocks)"
            )
        return AsyncFileBrowser(
            session, title, modal, autoclose, mode, show_hidden=show_hidden, max_entries=max_entries
        )

    def __repr__(self) -> str:
        return f"<FileBrowser mode={self._fb.get_mode()!r} directory={self._fb.get_directory()!r}>"

    def _run(self, coro: Any) -> Any:
        return self._app._run(coro)

    @property
    def session(self) -> _sync.Session:
        return self._session

    @property
    def async_browser(self) -> AsyncFileBrowser:
        """The :class:`AsyncFileBrowser` underneath (its methods run on the event loop)."""
        return self._fb

    @property
    def dialog(self) -> _sync.Widget:
        """The ``Dialog`` widget (to resize or move it)."""
        return self._app._widget(self._fb.dialog)

    def get_directory(self) -> str:
        """The directory shown (an absolute path)."""
        return self._fb.get_directory()

    def get_mode(self) -> str:
        return self._fb.get_mode()

    def on(self, action: str, callback: Callable[..., Any]) -> None:
        """Call ``callback(path)`` on the session's callback thread when the user chooses
        (``"activated"``; a list in ``"files"`` mode), ``callback()`` on ``"cancelled"``."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {callback!r}")
        handler = self._app._threaded(callback, self._session.async_session)
        self._run(self._fb.on(action, handler))

    def set_directory(self, path: str | os.PathLike[str]) -> None:
        """See :meth:`AsyncFileBrowser.set_directory`."""
        self._run(self._fb.set_directory(path))

    def set_filename(self, name: str | os.PathLike[str]) -> None:
        """See :meth:`AsyncFileBrowser.set_filename`."""
        self._run(self._fb.set_filename(name))

    def set_mode(self, mode: str) -> None:
        """See :meth:`AsyncFileBrowser.set_mode`."""
        _check_mode(mode)
        self._run(self._fb.set_mode(mode))

    def set_show_hidden(self, show: bool) -> None:
        self._run(self._fb.set_show_hidden(show))

    def add_ext_filter(self, category: str, ext: str) -> None:
        """See :meth:`AsyncFileBrowser.add_ext_filter`."""
        normalize_ext(ext)  # a bad extension raises here, in the caller's thread
        self._run(self._fb.add_ext_filter(category, ext))

    def clear_filters(self) -> None:
        self._run(self._fb.clear_filters())

    def popup(self, x: float | None = None, y: float | None = None) -> None:
        """See :meth:`AsyncFileBrowser.popup`."""
        self._run(self._fb.popup(x, y))

    def hide(self) -> None:
        self._run(self._fb.hide())

    def destroy(self) -> None:
        self._run(self._fb.destroy())
