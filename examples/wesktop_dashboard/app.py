"""wesktop dashboard: live server stats and background jobs, pushed to the page over SSE.

    python examples/wesktop_dashboard/app.py              # headless: open http://127.0.0.1:8000/
    python examples/wesktop_dashboard/app.py --window     # in a native window (wesktop[desktop])

The page (``static/``) is plain HTML, CSS and JavaScript, no CDN. It reads the current state from
``GET /api/state`` and then follows ``GET /events``: a ``stats`` event every second (sent by a task
on the server's event loop) and ``job`` events with each job's progress (sent from the job's own
worker thread: ``Broadcaster.broadcast`` is safe from any thread).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import wesktop

HERE = Path(__file__).resolve().parent
STARTED = time.monotonic()

router = wesktop.Router()
events = wesktop.Broadcaster()
events.register_event("stats")
events.register_event("job")
router.add_route("GET", "/events", wesktop.sse_route(events))

jobs: dict[int, dict[str, Any]] = {}
_job_ids = itertools.count(1)
_jobs_lock = threading.Lock()


def stats() -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with _jobs_lock:
        running = sum(1 for j in jobs.values() if j["state"] == "running")
    return {
        "uptime": round(time.monotonic() - STARTED),
        "load": load,
        "clients": events.client_count,
        "running_jobs": running,
        "time": time.strftime("%H:%M:%S"),
    }


def run_job(job: dict[str, Any]) -> None:
    """A pretend job in a worker thread, reporting progress as it goes."""
    for step in range(1, job["steps"] + 1):
        time.sleep(job["step_seconds"])
        with _jobs_lock:
            job["done"] = step
            if step == job["steps"]:
                job["state"] = "finished"
            snapshot = dict(job)
        events.broadcast("job", snapshot)


@router.get("/api/state")
async def state(req: wesktop.Request) -> dict[str, Any]:
    with _jobs_lock:
        listed = [dict(j) for j in jobs.values()]
    return {"stats": stats(), "jobs": listed}


@router.post("/api/jobs")
async def start_job(req: wesktop.Request) -> wesktop.JSONResponse:
    body = req.json or {}
    name = str(body.get("name") or "job").strip()[:40] or "job"
    steps = int(body.get("steps", 10))
    if not 1 <= steps <= 100:
        raise wesktop.HTTPError(422, "steps must be between 1 and 100")
    with _jobs_lock:
        job: dict[str, Any] = {
            "id": next(_job_ids),
            "name": name,
            "steps": steps,
            "done": 0,
            "state": "running",
            "step_seconds": 0.3,
        }
        jobs[job["id"]] = job
        snapshot = dict(job)
    events.broadcast("job", snapshot)
    threading.Thread(target=run_job, args=(job,), daemon=True).start()
    return wesktop.JSONResponse(snapshot, 201)


@router.delete("/api/jobs/{job_id}")
async def forget_job(req: wesktop.Request) -> dict[str, bool]:
    with _jobs_lock:
        job = jobs.get(int(req.path_params["job_id"]))
        if job is None:
            raise wesktop.HTTPError(404, "no such job")
        if job["state"] == "running":
            raise wesktop.HTTPError(409, "the job is still running")
        del jobs[job["id"]]
    events.broadcast("job", {"id": job["id"], "state": "removed"})
    return {"removed": True}


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    async def tick() -> None:
        while True:
            events.broadcast("stats", stats())
            await asyncio.sleep(1)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()


app = wesktop.create_app(
    router,
    static_dir=HERE / "static",
    static_path="/static",
    spa_fallback=HERE / "static" / "index.html",
    lifespan=lifespan,
    name="dashboard",
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--window", action="store_true", help="open a native window (needs wesktop[desktop])")
    args = parser.parse_args()
    if args.window:
        wesktop.run(app, title="wesktop dashboard", width=1000, height=720, host=args.host, port=args.port)
    else:
        wesktop.serve(app, host=args.host, port=args.port, name="dashboard")


if __name__ == "__main__":
    main()
