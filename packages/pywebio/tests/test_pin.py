"""pywebio.pin against a fake session: widget specs, reads, writes, waits and change callbacks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fakesession import FakeSession, install

from pywebio.pin import (
    get_pin_values,
    pin,
    pin_on_change,
    pin_update,
    pin_wait_change,
    put_actions,
    put_checkbox,
    put_input,
    put_radio,
    put_select,
    put_slider,
    put_textarea,
)


def answer_pins(values: dict[str, Any]) -> Any:
    """A responder that answers pin reads and waits like the front end would."""

    def respond(command: dict[str, Any]) -> list[dict[str, Any]]:
        spec = command["spec"]
        if command["command"] == "pin_values":
            data = {n: values[n] for n in spec["names"] if n in values}
            return [{"event": "js_yield", "task_id": command["task_id"], "data": data}]
        if command["command"] == "pin_wait":
            name = spec["names"][-1]
            return [
                {
                    "event": "js_yield",
                    "task_id": command["task_id"],
                    "data": {"name": name, "value": values[name]},
                }
            ]
        return []

    return respond


@pytest.fixture
def s(monkeypatch: pytest.MonkeyPatch) -> FakeSession:
    return install(monkeypatch, FakeSession(responder=answer_pins({"a": "x", "n": 3, "c": ["p"]})))


def test_pin_widget_specs(s: FakeSession) -> None:
    put_input("a", type="number", label="A", value=1, placeholder="p")
    put_textarea("t", rows=3, value="v")
    put_select("sel", ["x", ("Y", 2)], value=2, multiple=False)
    put_checkbox("c", ["p", "q"], inline=True, value=["q"])
    put_radio("r", ["u", "v"], value="v")
    put_slider("sl", value=0.5, max_value=1.0, step=0.1)
    put_actions("act", buttons=["ok", ("No", 0)], label="Act")
    specs = [o["input"] for o in s.outputs]
    assert all(o["type"] == "pin" for o in s.outputs)
    assert specs[0] == {"type": "number", "label": "A", "value": 1, "placeholder": "p", "name": "a"}
    assert specs[1]["rows"] == 3 and specs[1]["type"] == "textarea"
    assert specs[2]["options"][1] == {"label": "Y", "value": 2, "selected": True}
    assert [o["selected"] for o in specs[3]["options"]] == [False, True]
    assert specs[4]["options"][1]["selected"] is True
    assert specs[5]["float"] is True
    assert specs[6]["buttons"][1] == {"label": "No", "value": 0, "type": "submit"}
    with pytest.raises(ValueError):
        put_input("bad name")


def test_pin_read_and_write(s: FakeSession) -> None:
    assert pin.a == "x"
    assert pin["n"] == 3
    assert pin.missing is None
    pin.a = "new"
    pin["n"] = 4
    assert s.of("pin_values")[:2] == [{"names": ["a"]}, {"names": ["n"]}]
    assert s.of("pin_update") == [
        {"name": "a", "attributes": {"value": "new"}},
        {"name": "n", "attributes": {"value": 4}},
    ]


def test_probing_pin_for_private_attributes_reads_nothing(s: FakeSession) -> None:
    """Test runners and ``inspect`` probe module globals; ``pin`` must not answer with a read.

    Without a session such a read would start a script-mode server and wait for a browser.
    """
    import inspect

    assert getattr(pin, "_mock_name", None) is None
    assert not hasattr(pin, "_pytestfixturefunction")
    assert inspect.unwrap(pin) is pin
    assert s.commands == []
    assert pin["_a"] is None  # a pin named with "_" is still read by subscript
    assert s.of("pin_values") == [{"names": ["_a"]}]


def test_get_pin_values(s: FakeSession) -> None:
    assert get_pin_values(["a", "n", "zzz"]) == {"a": "x", "n": 3}


def test_pin_update_options(s: FakeSession) -> None:
    pin_update("c", options=["p", "q"], value=["p"], help_text="h")
    spec = s.of("pin_update")[0]
    assert spec["attributes"]["options"] == [
        {"label": "p", "value": "p", "selected": True},
        {"label": "q", "value": "q", "selected": False},
    ]


def test_pin_wait_change(s: FakeSession) -> None:
    assert pin_wait_change("a", "n", timeout=2) == {"name": "n", "value": 3}
    assert pin_wait_change(["a"]) == {"name": "a", "value": "x"}
    assert s.of("pin_wait") == [{"names": ["a", "n"], "timeout": 2}, {"names": ["a"], "timeout": None}]
    with pytest.raises(ValueError):
        pin_wait_change()


def test_pin_wait_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeSession(events=[{"event": "js_yield", "task_id": "main-1", "data": None}]))
    assert pin_wait_change("a", timeout=0.1) is None


def test_pin_on_change(s: FakeSession) -> None:
    got: list[Any] = []
    pin_on_change("a", onchange=got.append, init_run=True, serial_mode=True)
    pin_on_change("a", clear=True)
    first, second = s.of("pin_onchange")
    assert first["name"] == "a" and first["clear"] is False and first["init_run"] is True
    assert s.callback_options[first["callback_id"]]["serial_mode"] is True
    assert second == {"name": "a", "callback_id": None, "clear": True}
    s.click(first["callback_id"], {"value": "typed"})
    assert got == ["typed"]


def test_pins_in_a_coroutine_session(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeSession(responder=answer_pins({"a": "x"}), coroutine=True))

    async def app() -> Any:
        return await pin.a, await pin_wait_change("a")

    assert asyncio.run(app()) == ("x", {"name": "a", "value": "x"})
