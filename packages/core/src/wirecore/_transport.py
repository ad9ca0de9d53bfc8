"""The two wire protocols behind one small interface.

:class:`Transport` is what requests and responses talk to; ``AsgiTransport`` and ``RsgiTransport``
translate it to ASGI 3 messages and to granian's RSGI protocol object. Nothing above this module
knows which protocol carries a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from pathlib import Path
from typing import Any

from .exceptions import BodyTooLarge, ClientDisconnected

__all__ = ["AsgiTransport", "RsgiTransport", "Transport"]

_CHUNK = 256 * 1024


async def _aiter(iterator: AsyncIterable[Any] | Iterable[Any]) -> AsyncGenerator[Any, None]:
    """Iterate async iterables directly and plain ones in a worker thread."""
    if isinstance(iterator, AsyncIterable):
        async for item in iterator:
            yield item
        return
    loop = asyncio.get_running_loop()
    it = iter(iterator)
    done = object()
    while True:
        item = await loop.run_in_executor(None, next, it, done)
        if item is done:
            return
        yield item


class Transport:
    """Send a response and read a request body; one per HTTP request."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False

    async def send_whole(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False
    ) -> None:
        """Send a complete response; with ``head`` the headers are sent as given (no body, no
        computed length)."""
        raise NotImplementedError

    async def send_stream(
        self, status: int, headers: list[tuple[str, str]], iterator: AsyncIterable[Any] | Iterable[Any]
    ) -> None:
        raise NotImplementedError

    async def send_file(self, status: int, headers: list[tuple[str, str]], path: Path, size: int) -> None:
        raise NotImplementedError

    async def read_body(self, limit: int | None, declared: int | None) -> bytes:
        raise NotImplementedError

    def wait_disconnect(self) -> Any:
        """An awaitable that finishes when the client goes away."""
        raise NotImplementedError

    async def _pump(self, iterator: AsyncIterable[Any] | Iterable[Any], write: Any) -> None:
        """Write every chunk; stop early (closing the iterator) when the client leaves."""
        task = asyncio.current_task()
        assert task is not None
        gone = False
        watcher = asyncio.ensure_future(self.wait_disconnect())

        def on_gone(_: Any) -> None:
            nonlocal gone
            gone = True
            task.cancel()

        watcher.add_done_callback(on_gone)
        agen = _aiter(iterator)
        try:
            async for chunk in agen:
                if isinstance(chunk, str):
                    chunk = chunk.encode()
                await write(chunk)
        except asyncio.CancelledError:
            if not gone:
                raise
            task.uncancel()
        except (OSError, RuntimeError, ClientDisconnected):
            pass  # the client went away while we wrote
        finally:
            watcher.remove_done_callback(on_gone)
            watcher.cancel()
            await agen.aclose()
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
            else:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()


class RsgiTransport(Transport):
    __slots__ = ("proto",)

    def __init__(self, proto: Any) -> None:  # built per request: kept to two stores
        self.sent = False
        self.proto = proto

    async def send_whole(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False
    ) -> None:
        self.sent = True
        self.proto.response_bytes(status, headers, body)

    async def send_stream(
        self, status: int, headers: list[tuple[str, str]], iterator: AsyncIterable[Any] | Iterable[Any]
    ) -> None:
        self.sent = True
        stream = self.proto.response_stream(status, headers)
        await self._pump(iterator, stream.send_bytes)

    async def send_file(self, status: int, headers: list[tuple[str, str]], path: Path, size: int) -> None:
        self.sent = True
        self.proto.response_file(status, headers, str(path))

    async def read_body(self, limit: int | None, declared: int | None) -> bytes:
        try:
            if limit is None:
                body: bytes = await self.proto()
                return body
            chunks = []
            total = 0
            async for chunk in self.proto:
                total += len(chunk)
                if total > limit:
                    raise BodyTooLarge(limit)
                chunks.append(chunk)
            return b"".join(chunks)
        except (OSError, RuntimeError) as exc:  # granian's "protocol closed" errors
            raise ClientDisconnected() from exc

    def wait_disconnect(self) -> Any:
        return self.proto.client_disconnect()


class AsgiTransport(Transport):
    __slots__ = ("_body_done", "receive", "send")

    def __init__(self, receive: Any, send: Any) -> None:
        super().__init__()
        self.receive = receive
        self.send = send
        self._body_done = False

    async def send_whole(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False
    ) -> None:
        self.sent = True
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if not head and not any(k == b"content-length" for k, _ in raw):
            raw.append((b"content-length", str(len(body)).encode()))
        await self.send({"type": "http.response.start", "status": status, "headers": raw})
        await self.send({"type": "http.response.body", "body": body})

    async def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.sent = True
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await self.send({"type": "http.response.start", "status": status, "headers": raw})

    async def _write(self, chunk: bytes) -> None:
        await self.send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def send_stream(
        self, status: int, headers: list[tuple[str, str]], iterator: AsyncIterable[Any] | Iterable[Any]
    ) -> None:
        await self._start(status, headers)
        try:
            await self._pump(iterator, self._write)
        finally:
            # end the chunked body cleanly, also when the stream is cut short at shutdown
            try:
                await self.send({"type": "http.response.body", "body": b""})
            except (OSError, RuntimeError):
                pass

    async def send_file(self, status: int, headers: list[tuple[str, str]], path: Path, size: int) -> None:
        loop = asyncio.get_running_loop()
        f = await loop.run_in_executor(None, open, path, "rb")  # fails before anything is sent
        try:
            await self._start(status, headers)
            while True:
                chunk = await loop.run_in_executor(None, f.read, _CHUNK)
                if not chunk:
                    break
                await self._write(chunk)
            await self.send({"type": "http.response.body", "body": b""})
        finally:
            f.close()

    async def read_body(self, limit: int | None, declared: int | None) -> bytes:
        chunks = []
        total = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected()
            chunk = message.get("body", b"")
            total += len(chunk)
            if limit is not None and total > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._body_done = True
        return b"".join(chunks)

    async def wait_disconnect(self) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                return
