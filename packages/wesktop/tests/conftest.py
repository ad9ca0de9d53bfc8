"""Shared fixtures: real granian servers on 127.0.0.1, port 0, over both interfaces, and a small
SSE client.

Tests that register module-level WebSocket routes (``add_ws_route``) clean them up through the
``shared_ws`` fixture, so no test sees another's routes.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace, TracebackType
from typing import Any

import httpx
import pytest

from wesktop import asgi
from wirecore import Server
from wirecore.server import Interface


@pytest.fixture(params=["rsgi", "asgi"])
def interface(request: pytest.FixtureRequest) -> Interface:
    """Run the test once over RSGI and once over ASGI."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def serve(interface: Interface) -> Iterator[Callable[..., Server]]:
    """``serve(app) -> Server``: ``app`` on a free port over ``interface``; stopped after the test."""
    started: list[Server] = []

    def start(app: Any, **kwargs: Any) -> Server:
        kwargs.setdefault("interface", interface)
        server = Server(app, host="127.0.0.1", port=0, **kwargs).start()
        started.append(server)
        return server

    yield start
    # newest first: stopping the first of several embedded granian servers while later ones
    # run takes about a second (reported to wirecore); the reverse order stops at once
    for server in reversed(started):
        server.stop()


@pytest.fixture
def shared_ws() -> Iterator[list[str]]:
    """A list to note paths registered with ``add_ws_route``; they are removed after the test."""
    paths: list[str] = []
    yield paths
    for path in paths:
        asgi.remove_ws_route(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[Any] | None = None, timeout: float = 15.0) -> httpx.Response:
    """GET ``url`` until it answers (the server in ``proc`` is starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.communicate()
            raise AssertionError(f"the server exited with {proc.returncode}: {out}")
        try:
            return httpx.get(url, timeout=1.0)
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def stop_process(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def eventually(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


async def aeventually(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


class Event(dict[str, Any]):
    """One SSE block: its fields, ``data`` joined with newlines, and ``comments``."""


def parse_block(block: bytes) -> Event:
    event = Event()
    data: list[str] = []
    for line in block.split(b"\n"):
        if line.startswith(b":"):
            event.setdefault("comments", []).append(line[1:].strip().decode())
            continue
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value.decode())
        else:
            event[name.decode()] = value.decode()
    if data:
        event["data"] = "\n".join(data)
    return event


class SSEClient:
    """A streaming httpx client yielding parsed SSE blocks."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=None), headers=headers)
        self.response: httpx.Response | None = None
        self._stream: Any = None
        self._chunks: Any = None
        self._buffer = b""

    async def __aenter__(self) -> SSEClient:
        self._stream = self.client.stream("GET", self.url)
        self.response = await self._stream.__aenter__()
        self._chunks = self.response.aiter_raw()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.__aexit__(None, None, None)
        await self.client.aclose()

    async def next(self, timeout: float = 5.0) -> Event:
        """The next block (comments included); EOFError when the server ends the stream."""
        async with asyncio.timeout(timeout):
            while b"\n\n" not in self._buffer:
                try:
                    chunk = await self._chunks.__anext__()
                except StopAsyncIteration:
                    raise EOFError from None
                self._buffer += chunk
        block, self._buffer = self._buffer.split(b"\n\n", 1)
        return parse_block(block)

    async def events(self, count: int, timeout: float = 5.0) -> list[Event]:
        """The next ``count`` events, skipping comment-only blocks."""
        out: list[Event] = []
        while len(out) < count:
            event = await self.next(timeout)
            if set(event) != {"comments"}:
                out.append(event)
        return out


@pytest.fixture
def sse_client() -> type[SSEClient]:
    return SSEClient


@pytest.fixture
def helpers() -> SimpleNamespace:
    """free_port, wait_http, stop_process, eventually, aeventually, parse_block, python."""
    return SimpleNamespace(
        free_port=free_port,
        wait_http=wait_http,
        stop_process=stop_process,
        eventually=eventually,
        aeventually=aeventually,
        parse_block=parse_block,
        python=sys.executable,
    )
