"""Chat room

Everybody on this page talks to everybody else: a coroutine app with run_async.
"""

import asyncio

from pywebio import start_server
from pywebio.input import actions, input, input_group
from pywebio.output import put_markdown, put_scope, put_scrollable, put_text, toast, use_scope
from pywebio.session import defer_call, run_async

MAX_MESSAGES = 1000

messages = []  # (author, text); author None for notices
online = set()


def post(author, text):
    messages.append((author, text))
    if len(messages) > MAX_MESSAGES:
        del messages[: len(messages) - MAX_MESSAGES]


def show(author, text):
    with use_scope("messages"):
        if author is None:
            put_text(f"-- {text} --").style("color: gray; font-style: italic")
        else:
            put_text(f"{author}: {text}")


async def follow(me, start):
    """Show the messages the others post, as they arrive."""
    seen = start
    while True:
        await asyncio.sleep(0.2)
        new = messages[seen:]
        seen = len(messages)
        for author, text in new:
            if author != me:
                show(author, text)


async def main():
    """Chat room

    Everybody on this page talks to everybody else.
    """
    put_markdown("## Chat room\nWelcome! Messages from everybody on this page appear below.")
    put_scrollable(put_scope("messages"), height=300, keep_bottom=True)

    name = await input(
        "Your nickname",
        required=True,
        placeholder="Nickname",
        validate=lambda n: "That nickname is taken" if n in online or n == "" else None,
    )
    online.add(name)
    post(None, f"{name} joined. {len(online)} online.")
    show(None, f"You joined as {name}. {len(online)} online.")
    start = len(messages)

    @defer_call
    def leave():
        online.discard(name)
        post(None, f"{name} left. {len(online)} online.")

    task = run_async(follow(name, start))
    while True:
        data = await input_group(
            "Send a message",
            [
                input(name="msg", placeholder="Message", help_text="Press Enter to send"),
                actions(name="cmd", buttons=["Send", {"label": "Leave", "type": "cancel"}]),
            ],
            validate=lambda d: (
                ("msg", "Please type a message") if d["cmd"] == "Send" and not d["msg"] else None
            ),
        )
        if data is None:
            break
        show(name, data["msg"])
        post(name, data["msg"])

    task.close()
    toast("You left the chat room")
    put_text("You left. Reload the page to join again.")


if __name__ == "__main__":
    start_server(main, port=8080)
