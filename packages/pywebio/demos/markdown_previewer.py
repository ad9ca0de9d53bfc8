"""Markdown previewer

Type Markdown on the left, see it rendered live: pins and pin_wait_change.
"""

from pywebio import start_server
from pywebio.output import put_buttons, put_markdown, put_row, put_scope, use_scope
from pywebio.pin import pin, pin_wait_change, put_textarea
from pywebio.session import download

EXAMPLE = """# Hello, Markdown

Write **bold**, *italic* and `code`.

- lists
- [links](https://example.com)

| table | works |
|-------|-------|
| yes   | too   |
"""


def main():
    """Markdown previewer

    Type Markdown, see it rendered live.
    """
    put_markdown("## Markdown previewer")
    put_row(
        [
            put_textarea("md_text", label="Markdown", rows=16, code=True, value=EXAMPLE),
            None,
            put_scope("preview", [put_markdown(EXAMPLE)]),
        ],
        size="1fr 20px 1fr",
    )
    put_buttons(["Download"], onclick=lambda _: download("document.md", pin.md_text.encode("utf-8")))
    while True:
        change = pin_wait_change("md_text")
        with use_scope("preview", clear=True):
            put_markdown(change["value"])


if __name__ == "__main__":
    start_server(main, port=8080)
