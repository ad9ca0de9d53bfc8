"""wirecore demo: a JSON route, a live SSE clock and a WebSocket echo, on one page.

    python examples/core_demo.py [--port 8000]

then open http://127.0.0.1:8000/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from wirecore import App, HTMLResponse, Request, WebSocket, serve
from wirecore.fanout import Hub
from wirecore.sse import sse_response

hub = Hub()


@contextlib.asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    async def tick() -> None:
        n = 0
        while True:
            n += 1
            hub.publish("clock", {"n": n, "time": time.strftime("%H:%M:%S")}, event="tick")
            await asyncio.sleep(1)

    task = asyncio.create_task(tick())
    yield
    task.cancel()


app = App(lifespan=lifespan)


@app.get("/api/health")
async def health(request: Request) -> dict[str, object]:
    return {"status": "ok", "subscribers": hub.subscriber_count("clock")}


@app.get("/api/hello/{name}")
async def hello(request: Request) -> dict[str, str]:
    return {"hello": request.path_params["name"]}


@app.get("/events")
async def events(request: Request) -> object:
    return sse_response(hub, "clock", heartbeat=15.0)


@app.websocket("/ws")
async def echo(ws: WebSocket) -> None:
    if not ws.origin_allowed():
        await ws.close()
        return
    await ws.accept()
    async for message in ws:
        await ws.send(f"echo: {message}" if isinstance(message, str) else message)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>wirecore demo</title><link rel="icon" href="data:,">
<style>
 body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
 h1{font-size:1.4rem} section{border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}
 code,#clock{font-family:ui-monospace,monospace} #log{min-height:3rem;white-space:pre-wrap}
 input{font:inherit;padding:.3rem} button{font:inherit;padding:.3rem .8rem}
</style></head>
<body>
<h1>wirecore demo</h1>
<section><h2>JSON</h2><code id="health">loading…</code></section>
<section><h2>Server-sent events</h2>Server clock: <span id="clock">waiting…</span></section>
<section><h2>WebSocket echo</h2>
 <form id="f"><input id="msg" name="msg" value="hello" aria-label="message"> <button>Send</button></form>
 <div id="log"></div></section>
<script>
fetch('/api/health').then(r => r.json()).then(j => health.textContent = JSON.stringify(j));
const es = new EventSource('/events');
es.addEventListener('tick', e => { const d = JSON.parse(e.data); clock.textContent = d.time + ' (#' + d.n + ')'; });
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
ws.onmessage = e => log.textContent = e.data + '\\n' + log.textContent;
f.onsubmit = e => { e.preventDefault(); ws.send(msg.value); };
</script>
</body></html>
"""


@app.get("/")
async def index(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"wirecore demo on http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    serve(app, host=args.host, port=args.port, name="demo")


if __name__ == "__main__":
    main()
