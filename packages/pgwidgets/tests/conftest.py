"""Fixtures: a running Application on free ports and a Python client that plays the browser."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets

from pgwidgets import defs
from pgwidgets.async_ import Application


@dataclass
class FakeWidget:
    cls: str
    args: list[Any]
    calls: list[tuple[str, list[Any]]] = field(default_factory=list)
    listens: set[str] = field(default_factory=set)


class FakeBrowser:
    """Speaks the pgwidgets-js RemoteInterface protocol like the real page does (verified shapes)."""

    def __init__(self, url: str, session_id: Any = None, token: str | None = None, origin: str | None = None):
        self.url = url
        self.session_id = session_id
        self.token = token
        self.origin = origin
        self.widgets: dict[int, FakeWidget] = {}
        self.log: list[dict[str, Any]] = []
        self.next_id = 1
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.changed = asyncio.Condition()
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.reconstructing = False
        self.batched_frames = 0
        self.batches = 0
        self.pending_binary: list[dict[str, Any]] = []
        self.transfers: dict[int, dict[str, Any]] = {}  # open chunked transfers, by transfer_id
        self.chunked: list[dict[str, Any]] = []  # finished ones: announcement and chunk sizes
        self.misplaced: list[Any] = []  # binary announcements inside a JSON array (the page drops them)
        self.throwing: set[str] = set()  # constructor arguments that make the "JS" constructor throw
        # answers to calls: answer(browser, widget, msg) -> the value of the result (None: no value)
        self.answer: Callable[[FakeBrowser, FakeWidget, dict[str, Any]], Any] | None = None

    async def connect(self, wait_session: bool = True) -> FakeBrowser:
        headers = {"Origin": self.origin} if self.origin else None
        self.ws = await websockets.connect(self.url, additional_headers=headers, max_size=None)
        self.reader = asyncio.ensure_future(self._read())
        if wait_session:
            await self.wait_for(lambda: any(m["type"] == "session-info" for m in self.log), "session-info")
        return self

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait({self.reader}, timeout=5)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if isinstance(frame, bytes):  # pairs with the oldest binary-call or binary-chunk header
                    header = self.pending_binary.pop(0)
                    if header["type"] == "binary-chunk":
                        self._chunk(header, frame)
                        continue
                    w = self.widgets.get(header["wid"])
                    if w is not None:
                        w.calls.append((header["method"], [frame, *header["args"]]))
                    continue
                msg = json.loads(frame)
                if isinstance(msg, dict) and msg.get("type") in ("binary-call", "binary-chunk"):
                    self.log.append(msg)
                    self.pending_binary.append(msg)
                    continue
                if isinstance(msg, dict) and msg.get("type") == "binary-call-chunked":
                    self.log.append(msg)
                    self.transfers[msg["transfer_id"]] = {**msg, "chunks": {}}
                    continue
                if isinstance(msg, list):
                    self.misplaced += [m for m in msg if m.get("type", "").startswith("binary")]
                if isinstance(msg, list):
                    self.batched_frames += 1
                    replies = [self._handle(m) for m in msg]
                    await self.ws.send(json.dumps(replies))
                else:
                    reply = self._handle(msg)
                    if reply is not None:
                        await self.ws.send(json.dumps(reply))
                async with self.changed:
                    self.changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code = self.ws.close_code
                self.close_reason = self.ws.close_reason
            async with self.changed:
                self.changed.notify_all()

    def _chunk(self, header: dict[str, Any], data: bytes) -> None:
        """One chunk of a chunked transfer; the last one calls the method, as the page does."""
        transfer = self.transfers[header["transfer_id"]]
        transfer["chunks"][header["chunk_index"]] = data
        if len(transfer["chunks"]) < transfer["num_chunks"]:
            return
        del self.transfers[header["transfer_id"]]
        parts = [transfer["chunks"][i] for i in range(transfer["num_chunks"])]
        self.chunked.append({**transfer, "chunks": [len(p) for p in parts]})
        w = self.widgets.get(transfer["wid"])
        if w is not None:
            w.calls.append((transfer["method"], [b"".join(parts), *transfer["args"]]))

    def _handle(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        self.log.append(msg)
        kind, mid = msg.get("type"), msg.get("id")
        if kind == "init":
            self.widgets.clear()
            self.next_id = 1
            reply: dict[str, Any] = {"type": "result", "id": mid}
            if self.session_id is not None and self.token is not None:
                reply.update(session_id=self.session_id, token=self.token)
            return reply
        if kind == "session-info":  # the page stores the credentials, then reports its viewport
            self.session_id, self.token = msg["session_id"], msg["token"]
            return {"type": "viewport", "width": 1280, "height": 720}
        if kind == "reconstruct-start":
            self.widgets.clear()
            self.next_id = msg["next_wid"]
            self.reconstructing = True
            return {"type": "result", "id": mid}
        if kind == "reconstruct-end":
            self.reconstructing = False
            return {"type": "result", "id": mid}
        if kind == "create":
            if msg["class"] not in defs.WIDGETS or msg["class"] == "MDISubWindow":
                return {"type": "error", "id": mid, "error": f"Unknown widget class: {msg['class']}"}
            err = self._check_refs(msg["args"], mid)
            if err:
                return err
            if msg["args"] and isinstance(msg["args"][0], str) and msg["args"][0] in self.throwing:
                return {"type": "error", "id": mid, "error": f"bad argument: {msg['args'][0]}"}
            wid = msg["wid"]
            self.widgets[wid] = FakeWidget(msg["class"], msg["args"])
            self.next_id = max(self.next_id, wid + 1) + 1  # the constructor's internal Callback
            return {"type": "result", "id": mid, "wid": wid, "next_wid": self.next_id}
        if kind in ("call", "listen", "unlisten"):
            w = self.widgets.get(msg["wid"])
            if w is None:
                return {"type": "error", "id": mid, "error": f"Unknown widget id: {msg['wid']}"}
            if kind == "listen":
                w.listens.add(msg["action"])
                return {"type": "result", "id": mid}
            if kind == "unlisten":
                w.listens.discard(msg["action"])
                return {"type": "result", "id": mid}
            err = self._check_refs(msg["args"], mid)
            if err:
                return err
            w.calls.append((msg["method"], msg["args"]))
            if msg["method"] == "destroy":
                del self.widgets[msg["wid"]]
            value = self.answer(self, w, msg) if self.answer is not None else None
            return {"type": "result", "id": mid, **({"value": value} if value is not None else {})}
        if kind in ("register-font", "set-default-font", "open-url"):
            return {"type": "result", "id": mid}
        if kind == "batch":
            self.batches += 1
            errors = []
            for call in msg["calls"]:
                r = self._handle({"type": "call", "id": -1, **call})
                if r and r["type"] == "error":
                    errors.append(r["error"])
            return {"type": "result", "id": mid, **({"value": {"errors": errors}} if errors else {})}
        return {"type": "error", "id": mid, "error": f"Unknown message type: {kind}"}

    def _check_refs(self, value: Any, mid: Any) -> dict[str, Any] | None:
        if isinstance(value, dict):
            if "__wid__" in value:
                if value["__wid__"] not in self.widgets:
                    return {"type": "error", "id": mid, "error": f"Unknown widget id: {value['__wid__']}"}
                return None
            value = list(value.values())
        if isinstance(value, list):
            for v in value:
                err = self._check_refs(v, mid)
                if err:
                    return err
        return None

    async def wait_for(self, cond: Callable[[], bool], what: str = "condition", timeout: float = 5.0) -> None:
        async def waiter() -> None:
            async with self.changed:
                await self.changed.wait_for(
                    lambda: cond() or (self.reader is not None and self.reader.done())
                )
            if not cond():
                raise AssertionError(f"browser closed ({self.close_code} {self.close_reason}) before {what}")

        try:
            await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None

    async def fire(self, wid: int, action: str, *args: Any) -> None:
        await self.ws.send(json.dumps({"type": "callback", "wid": wid, "action": action, "args": list(args)}))

    def find(self, cls: str) -> list[int]:
        return [wid for wid, w in self.widgets.items() if w.cls == cls]

    def last_call(self, wid: int, method: str) -> list[Any] | None:
        for m, args in reversed(self.widgets[wid].calls):
            if m == method:
                return list(args)
        return None


@pytest.fixture
async def make_app() -> AsyncIterator[Callable[..., Any]]:
    apps: list[Application] = []

    async def factory(**kwargs: Any) -> Application:
        kwargs.setdefault("ws_port", 0)
        kwargs.setdefault("http_port", 0)
        app = Application(**kwargs)
        await app.start()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        await app.close()


@pytest.fixture
async def browser_factory() -> AsyncIterator[Any]:
    made: list[FakeBrowser] = []

    async def factory(app: Application, **kwargs: Any) -> FakeBrowser:
        wait = kwargs.pop("wait_session", True)
        b = FakeBrowser(app.ws_url, **kwargs)
        made.append(b)
        return await b.connect(wait_session=wait)

    yield factory
    for b in made:
        await b.close()
