"""Input round trips over real servers (tornado and wirecore), with the Python client playing the browser."""

from __future__ import annotations

from typing import Any

from browserclient import BrowserClient

from pywebio.input import FLOAT, NUMBER, file_upload, input, input_group, select, textarea
from pywebio.output import put_buttons, put_text
from pywebio.pin import pin, pin_wait_change, put_input


def thread_app() -> None:
    age = input("Age", type=NUMBER, validate=lambda v: "must be positive" if v <= 0 else None)
    data = input_group(
        "More",
        [
            input("Ratio", name="ratio", type=FLOAT),
            select("Pick", [("one", 1), ("two", {"n": 2})], name="pick"),
        ],
        validate=lambda d: ("ratio", "ratio too big") if d["ratio"] > 1 else None,
        cancelable=True,
    )
    put_text(f"age={age} data={data}")
    upload = file_upload("Upload", multiple=True)
    put_text(f"files={[(f['filename'], f['content']) for f in upload]}")
    put_buttons(["again"], onclick=lambda _: put_text("clicked after main returned"))


async def coro_app() -> None:
    name = await input("Name", validate=lambda v: "too short" if len(v) < 2 else None)
    text = await textarea("Text")
    put_input("p", value="start")
    put_text(f"name={name} text={text} pin={await pin.p}")
    change = await pin_wait_change("p")
    put_text(f"changed {change}")


def form_task(b: BrowserClient) -> tuple[str, dict[str, Any]]:
    cmd = b.expect("input_group")
    return str(cmd["task_id"]), cmd["spec"]


def invalid_message(b: BrowserClient, task: str) -> Any:
    update = b.expect("update_input", task_id=task)
    assert update["spec"]["attributes"]["valid_status"] is False
    return update["spec"]["attributes"]["invalid_feedback"]


def test_thread_app_validation_round_trips(serve: Any, backend: str) -> None:
    server = serve(thread_app, backend)
    with BrowserClient(server.url) as b:
        task, spec = form_task(b)
        assert spec["inputs"][0]["name"] == "data" and spec["inputs"][0]["onblur"] is True
        b.input_event(task, "blur", "data", -1)
        assert invalid_message(b, task) == "must be positive"
        b.submit(task, {"data": "abc"})
        assert invalid_message(b, task) == "Please enter an integer."
        b.submit(task, {"data": 30})
        b.expect("destroy_form", task_id=task)

        task, spec = form_task(b)
        assert spec["cancelable"] is True
        b.submit(task, {"ratio": "2", "pick": {"n": 2}})
        assert invalid_message(b, task) == "ratio too big"
        b.submit(task, {"ratio": "0.5", "pick": {"n": 2}})
        b.expect_text("age=30 data={'ratio': 0.5, 'pick': {'n': 2}}")

        task, spec = form_task(b)
        assert spec["inputs"][0]["type"] == "file" and spec["inputs"][0]["multiple"] is True
        b.upload(
            task, {"data": []}, [("data", "C:\\tmp\\a.txt", b"AAA", "text/plain"), ("data", "b", b"", "")]
        )
        b.expect_text("files=[('a.txt', b'AAA'), ('b', b'')]")

        buttons = b.expect_output(lambda s: s.get("type") == "buttons")
        b.click(buttons["spec"]["callback_id"], 0)
        b.expect_text("clicked after main returned")


def test_coroutine_app_round_trips(serve: Any, backend: str) -> None:
    server = serve(coro_app, backend)
    with BrowserClient(server.url) as b:
        task, _ = form_task(b)
        b.submit(task, {"data": "A"})
        assert invalid_message(b, task) == "too short"
        b.submit(task, {"data": "Ada"})
        task, spec = form_task(b)
        assert spec["inputs"][0]["type"] == "textarea"
        b.submit(task, {"data": "hello"})
        pin_widget = b.expect_output(lambda s: s.get("type") == "pin")
        assert pin_widget["spec"]["input"] == {"type": "text", "label": "", "value": "start", "name": "p"}
        read = b.expect("pin_values")
        b.js_yield(read["task_id"], {"p": "start"})
        b.expect_text("name=Ada text=hello pin=start")
        wait = b.expect("pin_wait")
        assert wait["spec"] == {"names": ["p"], "timeout": None}
        b.js_yield(wait["task_id"], {"name": "p", "value": "typed"})
        b.expect_text("changed {'name': 'p', 'value': 'typed'}")
        b.expect_close()
