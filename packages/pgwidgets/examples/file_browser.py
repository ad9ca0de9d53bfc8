"""The file browser from pgwidgets.extras, with the blocking API: open a file, several files or a
folder, or pick a name to save to, all on the server's filesystem. The dialog survives a reload.

Run ``python file_browser.py [DIRECTORY]`` and open http://127.0.0.1:9501/.
"""

from __future__ import annotations

import os
import sys

from pgwidgets.extras.file_browser import FileBrowser
from pgwidgets.sync import Application, Session

CHOICES = [
    ("Open a file...", "file", "Open File"),
    ("Open files...", "files", "Open Files"),
    ("Choose a folder...", "directory", "Choose Folder"),
    ("Save as...", "save", "Save As"),
]


def setup(session: Session, directory: str | None = None) -> None:
    W = session.get_widgets()
    top = W.TopLevel(title="File browser demo", resizable=True)
    top.resize(460, 220)
    page = W.VBox()
    page.set_spacing(8)
    page.set_padding(8)
    result = W.Label("Nothing chosen yet")

    fb = FileBrowser(session, title="Browse")
    fb.set_directory(directory or os.getcwd())
    fb.add_ext_filter("Images", "png")
    fb.add_ext_filter("Images", "jpg")
    fb.add_ext_filter("Python", "py")

    def chosen(path: str | list[str]) -> None:
        paths = path if isinstance(path, list) else [path]
        result.set_text("Chosen: " + ", ".join(paths))

    fb.on("activated", chosen)
    fb.on("cancelled", lambda: result.set_text("Cancelled"))

    for text, mode, title in CHOICES:
        button = W.Button(text)

        def pop(mode: str = mode, title: str = title) -> None:
            fb.set_mode(mode)
            fb.dialog.set_title(title)
            fb.popup()

        button.on("activated", pop)
        page.add_widget(button, 0)
    page.add_widget(result, 1)
    top.set_widget(page)
    top.show()


def main() -> None:
    start = sys.argv[1] if len(sys.argv) > 1 else None
    app = Application()
    app.on_connect(lambda session: setup(session, start))
    app.run()


if __name__ == "__main__":
    main()
