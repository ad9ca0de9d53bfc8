"""The documented example: one window, built when a browser connects.

Run ``python seed_example.py`` and open http://127.0.0.1:9501/.
"""

from __future__ import annotations

import asyncio

from pgwidgets.async_ import Application


async def setup(session):
    Widgets = session.get_widgets()
    top = await Widgets.TopLevel(title="Hello")
    await top.show()


def main() -> None:
    app = Application()
    app.on_connect(setup)
    asyncio.run(app.run())


if __name__ == "__main__":
    main()
