"""A small real app: a to-do list. Add items, tick them off, clear the done ones.

The list lives in the session, so a reload (or a second browser opened on the session's
link) shows the same items. Run ``python todo.py`` and open http://127.0.0.1:9501/.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pgwidgets.async_ import Application, Session


class TodoApp:
    """One to-do list per session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.W = session.get_widgets()
        self.items: list[tuple[Any, Any]] = []  # (row box, check box)

    async def build(self) -> None:
        W = self.W
        self.top = await W.TopLevel(title="To do", resizable=True)
        await self.top.resize(420, 360)
        page = await W.VBox()
        await page.set_spacing(6)
        await page.set_padding(8)
        entry_row = await W.HBox()
        self.entry = await W.TextEntry("")
        add = await W.Button("Add")
        await entry_row.add_widget(self.entry, 1)
        await entry_row.add_widget(add, 0)
        self.list = await W.VBox()
        self.summary = await W.Label("Nothing to do")
        clear = await W.Button("Clear done")
        await add.on("activated", self.add_from_entry)
        await self.entry.on("activated", lambda text: self.add_from_entry())
        await clear.on("activated", self.clear_done)
        await page.add_widget(entry_row, 0)
        await page.add_widget(self.list, 1)
        await page.add_widget(self.summary, 0)
        await page.add_widget(clear, 0)
        await self.top.set_widget(page)
        await self.top.show()

    async def add_from_entry(self) -> None:
        text = (self.entry.get_text() or "").strip()
        if text:
            await self.add(text)
            await self.entry.set_text("")

    async def add(self, text: str) -> None:
        check = await self.W.CheckBox(text)
        await check.on("activated", lambda state: self.update_summary())
        await self.list.add_widget(check, 0)
        self.items.append((check, check))
        await self.update_summary()

    async def clear_done(self) -> None:
        for item, check in list(self.items):
            if check.get_state():
                await self.list.remove(item, True)
                self.items.remove((item, check))
        await self.update_summary()

    async def update_summary(self) -> None:
        left = sum(1 for _item, check in self.items if not check.get_state())
        await self.summary.set_text(f"{left} of {len(self.items)} left" if self.items else "Nothing to do")


async def setup(session: Session) -> None:
    todo = TodoApp(session)
    await todo.build()
    for text in ("Write the report", "Run the tests"):
        await todo.add(text)


def main() -> None:
    app = Application(max_sessions=None)
    app.on_connect(setup)
    asyncio.run(app.run())


if __name__ == "__main__":
    main()
