"""A Python client that plays the browser for one PyWebIO session, over WebSocket.

Use it in tests to drive a real server without a browser::

    from browserclient import BrowserClient, fetch_page

    with BrowserClient(server.url, app="index") as b:     # opens ?app=index&session=NEW
        out = b.expect("output")                          # next "output" command (others are kept)
        form = b.expect("input_group")
        b.submit(form["task_id"], {"name": "Ada"})         # from_submit event
        b.expect("destroy_form", task_id=form["task_id"])
        btn = b.expect("output", lambda c: c["spec"]["type"] == "buttons")
        b.click(btn["spec"]["callback_id"], 0)              # callback event
        b.expect_close()                                   # close_session, then the socket ends

Every wait has a timeout (``timeout=`` of the client, 5 s by default): a missing command fails
the test with the list of commands seen instead of hanging. ``b.commands`` holds every command
received so far, in order. Binary (file upload) events: :meth:`BrowserClient.upload`.

Import it from a test module directly (``conftest.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import json
import struct
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import websockets.exceptions
import websockets.sync.client as ws_client
from websockets.typing import Origin

__all__ = ["BrowserClient", "ServerClosed", "encode_binary_event", "fetch_page", "ws_url"]

Command = dict[str, Any]


class ServerClosed(AssertionError):
    """The server closed the socket while the client was waiting for a command."""


def ws_url(page_url: str, app: str = "index", session: str = "NEW") -> str:
    """The WebSocket URL the front end uses for ``page_url``: ws(s) scheme, query replaced by
    ``?app=<app>&session=<session>``."""
    parts = urlsplit(page_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit(
        (scheme, parts.netloc, parts.path or "/", urlencode({"app": app, "session": session}), "")
    )


def fetch_page(url: str, timeout: float = 5.0, headers: Mapping[str, str] | None = None) -> tuple[int, str]:
    """GET ``url``: ``(status, body text)`` (HTTP errors are returned, not raised)."""
    req = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def encode_binary_event(event: Mapping[str, Any], files: Iterable[tuple[str, str, bytes, str]] = ()) -> bytes:
    """A binary event frame (spec §1.7) from ``event`` and ``(input_name, filename, content,
    mime_type)`` tuples; put ``None`` (one file) or ``[]`` (several) at the file fields of
    ``event["data"]``."""

    def seg(b: bytes) -> bytes:
        return struct.pack(">Q", len(b)) + b

    out = [seg(json.dumps(event).encode())]
    for input_name, filename, content, mime in files:
        header = {
            "filename": filename,
            "size": len(content),
            "mime_type": mime,
            "last_modified": time.time(),
            "input_name": input_name,
        }
        out += [seg(json.dumps(header).encode()), seg(content)]
    return b"".join(out)


class BrowserClient:
    """One browser tab: connects to the app at ``page_url`` and speaks the wire protocol.

    :param page_url: the page URL (``http://127.0.0.1:port/`` or a path_deploy file URL).
    :param app: the ``?app=`` name.
    :param session: ``"NEW"`` or a session id to reconnect to.
    :param origin: the ``Origin`` header to send (``None``: none, like a non-browser client).
    :param timeout: default seconds for every wait.
    """

    def __init__(
        self,
        page_url: str,
        app: str = "index",
        session: str = "NEW",
        origin: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.page_url = page_url
        self.app = app
        self.origin = origin
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.commands: list[Command] = []
        self._unread: list[Command] = []
        self.session_id: str | None = None if session == "NEW" else session
        self.server_closed_session = False
        self.socket_closed = False
        self.conn = ws_client.connect(
            ws_url(page_url, app, session),
            origin=Origin(origin) if origin is not None else None,
            additional_headers=self.headers or None,
            open_timeout=timeout,
            max_size=None,
            compression=None,
            proxy=None,
            legacy=True,  # a plain connection object, closed by close()
        )

    # receiving ------------------------------------------------------------------------------

    def _read(self, timeout: float) -> Command:
        try:
            raw = self.conn.recv(timeout=timeout)
        except websockets.exceptions.ConnectionClosed as exc:
            self.socket_closed = True
            raise ServerClosed(
                f"the server closed the socket ({exc}); commands seen: {self._brief()}"
            ) from None
        cmd = json.loads(raw)
        self.commands.append(cmd)
        if cmd.get("command") == "set_session_id":
            self.session_id = cmd["spec"]
        elif cmd.get("command") == "close_session":
            self.server_closed_session = True
        return cmd  # type: ignore[no-any-return]

    def recv(self, timeout: float | None = None) -> Command:
        """The next command not yet returned by :meth:`recv`/:meth:`expect`."""
        if self._unread:
            return self._unread.pop(0)
        return self._read(self.timeout if timeout is None else timeout)

    def expect(
        self,
        command: str | None = None,
        predicate: Callable[[Command], bool] | None = None,
        *,
        task_id: str | None = None,
        timeout: float | None = None,
    ) -> Command:
        """The first unread command named ``command`` (any if None) for which ``predicate`` holds
        (and whose task id is ``task_id``, if given); commands skipped stay unread for later."""

        def ok(c: Command) -> bool:
            return (
                (command is None or c.get("command") == command)
                and (task_id is None or c.get("task_id") == task_id)
                and (predicate is None or bool(predicate(c)))
            )

        for i, c in enumerate(self._unread):
            if ok(c):
                return self._unread.pop(i)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {command or 'command'} matched within the timeout; seen: {self._brief()}"
                )
            try:
                c = self._read(left)
            except TimeoutError:
                raise AssertionError(
                    f"no {command or 'command'} matched within the timeout; seen: {self._brief()}"
                ) from None
            if ok(c):
                return c
            self._unread.append(c)

    def expect_output(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float | None = None
    ) -> Command:
        """The next ``output`` command whose ``spec`` satisfies ``predicate``."""
        return self.expect("output", lambda c: bool(predicate(c.get("spec") or {})), timeout=timeout)

    def expect_text(self, content: str, timeout: float | None = None) -> Command:
        """The next ``output`` command whose spec ``content`` contains ``content``."""
        return self.expect_output(lambda s: content in str(s.get("content", "")), timeout)

    def expect_close(self, timeout: float | None = None) -> list[Command]:
        """Wait for ``close_session`` and for the server to close the socket; returns every
        unread command that came before."""
        if not self.server_closed_session:
            self.expect("close_session", timeout=timeout)
        rest = list(self._unread)
        self._unread.clear()
        self.wait_socket_closed(timeout)
        return rest

    def wait_socket_closed(self, timeout: float | None = None) -> None:
        """Read (and keep) commands until the server closes the socket."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.socket_closed:
            if self.close_received():
                self.socket_closed = True
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the server did not close the socket")
            try:
                self._unread.append(self._read(min(left, 0.05)))
            except ServerClosed:
                return
            except TimeoutError:
                continue

    def close_received(self) -> bool:
        """Whether the server sent its WebSocket close frame."""
        return getattr(self.conn.protocol, "close_rcvd", None) is not None

    def _brief(self) -> str:
        return (
            ", ".join(
                f"{c.get('command')}"
                + (
                    f"({c['spec'].get('type')})"
                    if isinstance(c.get("spec"), dict) and "type" in c["spec"]
                    else ""
                )
                for c in self.commands
            )
            or "nothing"
        )

    # sending ---------------------------------------------------------------------------------

    def send_event(self, event: str, task_id: str | None, data: Any = None) -> None:
        """Send ``{"event": event, "task_id": task_id, "data": data}``."""
        self.send_raw(json.dumps({"event": event, "task_id": task_id, "data": data}))

    def send_raw(self, message: str | bytes) -> None:
        """Send a frame as is (text for ``str``, binary for ``bytes``)."""
        self.conn.send(message)

    def submit(self, task_id: str, data: Mapping[str, Any]) -> None:
        """Submit the form of ``task_id`` (``from_submit``)."""
        self.send_event("from_submit", task_id, dict(data))

    def cancel(self, task_id: str) -> None:
        """Cancel the form of ``task_id`` (``from_cancel``)."""
        self.send_event("from_cancel", task_id, None)

    def click(self, callback_id: str, data: Any = None) -> None:
        """Fire a callback (button index, toast click, pin change...)."""
        self.send_event("callback", callback_id, data)

    def js_yield(self, task_id: str, data: Any) -> None:
        """Answer an ``eval_js``/pin read of ``task_id``."""
        self.send_event("js_yield", task_id, data)

    def input_event(self, task_id: str, event_name: str, name: str, value: Any) -> None:
        """A ``blur``/``change`` event of form field ``name``."""
        self.send_event("input_event", task_id, {"event_name": event_name, "name": name, "value": value})

    def upload(
        self,
        task_id: str,
        data: Mapping[str, Any],
        files: Iterable[tuple[str, str, bytes, str]],
        event: str = "from_submit",
    ) -> None:
        """Submit a form with files as a binary frame; ``files`` are ``(input_name, filename,
        content, mime_type)``, ``data`` holds the other fields plus ``None``/``[]`` placeholders."""
        self.send_raw(encode_binary_event({"event": event, "task_id": task_id, "data": dict(data)}, files))

    # lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the socket (like closing the tab)."""
        try:
            self.conn.close()
        finally:
            self.socket_closed = True

    def drop(self) -> None:
        """Drop the connection abruptly (like a network failure): no close handshake."""
        try:
            self.conn.socket.close()
        finally:
            self.socket_closed = True
            self.conn.close()

    def reconnect(self) -> BrowserClient:
        """A new client for the same session (``?session=<id>``), as the front end does after a
        drop; requires ``reconnect_timeout`` on the server."""
        if self.session_id is None:
            raise AssertionError("no set_session_id received: the server does not allow reconnects")
        return BrowserClient(
            self.page_url,
            self.app,
            self.session_id,
            origin=self.origin,
            headers=self.headers,
            timeout=self.timeout,
        )

    def __enter__(self) -> BrowserClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
