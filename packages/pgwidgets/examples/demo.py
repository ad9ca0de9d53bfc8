"""A tour of the common widgets: buttons, entries, sliders, combo boxes, a tree view, menus and
dialogs, each wired to a status line. Everything survives a reload (the tree is rebuilt).

Run ``python demo.py`` and open http://127.0.0.1:9501/.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import zlib

from pgwidgets.async_ import Application, Session

FRUIT = ["apple", "banana", "cherry"]
TREE = {
    "fruit": {"apple": {"name": "apple", "colour": "red"}, "banana": {"name": "banana", "colour": "yellow"}},
    "veg": {"leek": {"name": "leek", "colour": "green"}},
}


def gradient_png(width: int = 96, height: int = 48) -> bytes:
    """A small PNG made with the standard library (sent to the browser as raw bytes)."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 160))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def setup(session: Session) -> None:
    W = session.get_widgets()
    top = await W.TopLevel(title="Widget demo", resizable=True)
    await top.resize(640, 520)
    page = await W.VBox()
    await page.set_spacing(8)
    await page.set_padding(8)
    status = await W.Label("Ready")

    async def say(text: str) -> None:
        await status.set_text(text)

    # menus
    bar = await W.MenuBar()
    file_menu = await bar.add_name("File")
    about = await file_menu.add_name("About")
    await file_menu.add_separator()
    quit_item = await file_menu.add_name("Close window")
    await page.add_widget(bar, 0)

    # buttons
    row = await W.HBox()
    await row.set_spacing(6)
    hello = await W.Button("Say hello")
    check = await W.CheckBox("Check me")
    toggle = await W.ToggleButton("Toggle")
    image = await W.Image()  # a picture sent as one binary frame
    await image.set_min_size(96, 32)
    await image.set_max_size(96, 32)
    await image.set_binary_image(gradient_png(96, 32), "png")
    for w in (hello, check, toggle, image):
        await row.add_widget(w, 0)
    await hello.on("activated", lambda: say("Hello from Python"))
    await check.on("activated", lambda state: say(f"check box: {state}"))
    await toggle.on("activated", lambda state: say(f"toggle: {state}"))
    await page.add_widget(row, 0)

    # entries
    form = await W.GridBox(rows=2, columns=2)
    name = await W.TextEntry("")
    await name.on("activated", lambda text: say(f"name entered: {text}"))
    notes = await W.TextArea("Some notes")
    await form.add_widget(await W.Label("Name"), 0, 0)
    await form.add_widget(name, 0, 1)
    await form.add_widget(await W.Label("Notes"), 1, 0)
    await form.add_widget(notes, 1, 1)
    await page.add_widget(form, 0)

    # sliders and a combo box
    row2 = await W.HBox()
    slider = await W.Slider(min=0, max=100, value=25, show_value=True)
    progress = await W.ProgressBar()
    await progress.set_value(0.25)

    async def slid(value: float) -> None:
        await progress.set_value(float(value) / 100)
        await say(f"slider: {value}")

    await slider.on("activated", slid)
    combo = await W.ComboBox()
    for fruit in FRUIT:
        await combo.append_text(fruit)
    await combo.set_index(0)
    await combo.on("activated", lambda idx, text: say(f"combo: {text}"))
    for w in (slider, progress, combo):
        await row2.add_widget(w, 1)
    await page.add_widget(row2, 0)

    # tree view
    tree = await W.TreeView(
        columns=[{"label": "Name", "key": "name"}, {"label": "Colour", "key": "colour"}], sortable=True
    )
    await tree.set_tree(TREE)
    await tree.on("selected", lambda selection: say(f"tree selection: {selection}"))
    await page.add_widget(tree, 1)

    # dialogs
    dialog = await W.Dialog("About this demo", [["OK", 1]], autoclose=True, modal=True)
    await dialog.add_widget(await W.Label("pgwidgets over wirecore"), 0)
    await dialog.on("activated", lambda value: say("dialog closed"))
    await about.on("activated", lambda *args: dialog.show())
    await quit_item.on("activated", lambda *args: top.hide())

    await page.add_widget(status, 0)
    await top.set_widget(page)
    await top.show()


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    app = Application(logger=logging.getLogger("pgwidgets"), max_sessions=None)
    app.on_connect(setup)
    asyncio.run(app.run())


if __name__ == "__main__":
    main()
