"""pywebio.input against a fake session: form specs, validation round trips, coroutine mode."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fakesession import FakeSession, install

from pywebio.input import (
    FLOAT,
    NUMBER,
    PASSWORD,
    actions,
    checkbox,
    file_upload,
    input,
    input_group,
    input_update,
    parse_size,
    radio,
    select,
    slider,
    textarea,
)


def submit(data: Any) -> dict[str, Any]:
    return {"event": "from_submit", "task_id": "main-1", "data": data}


def change(name: str, value: Any, kind: str = "change") -> dict[str, Any]:
    return {
        "event": "input_event",
        "task_id": "main-1",
        "data": {"event_name": kind, "name": name, "value": value},
    }


def session(monkeypatch: pytest.MonkeyPatch, *events: dict[str, Any], **kw: Any) -> FakeSession:
    return install(monkeypatch, FakeSession(events=list(events), **kw))


def test_single_input_spec_and_value(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"data": "Ada"}))
    assert input("Name", placeholder="you", maxlength=10, datalist=["Ada", "Bob"]) == "Ada"
    form = s.of("input_group")[0]
    assert form == {
        "label": "Name",
        "inputs": [
            {
                "type": "text",
                "label": "",
                "placeholder": "you",
                "datalist": ["Ada", "Bob"],
                "maxlength": 10,
                "name": "data",
                "auto_focus": True,
            }
        ],
        "cancelable": False,
    }
    assert s.commands[-1]["command"] == "destroy_form"


def test_number_is_converted_and_bad_numbers_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"data": "x1"}), submit({"data": 42}))
    assert input("Age", type=NUMBER) == 42
    update = s.of("update_input")[0]
    assert update == {
        "target_name": "data",
        "attributes": {"valid_status": False, "invalid_feedback": "Please enter an integer."},
    }


def test_float_and_chinese_message(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"data": "abc"}), submit({"data": "2.5"}), language="zh-CN")
    assert input("x", type=FLOAT) == 2.5
    assert s.of("update_input")[0]["attributes"]["invalid_feedback"] == "请输入数字。"


def test_validate_on_submit_and_blur(monkeypatch: pytest.MonkeyPatch) -> None:
    def check(v: str) -> str | None:
        return "too short" if len(v) < 3 else None

    s = session(
        monkeypatch,
        change("data", "ab", "blur"),
        change("data", "abcd", "blur"),
        submit({"data": "ab"}),
        submit({"data": "abc"}),
    )
    assert input("pw", type=PASSWORD, validate=check) == "abc"
    assert s.of("input_group")[0]["inputs"][0]["onblur"] is True
    attrs = [u["attributes"] for u in s.of("update_input")]
    assert attrs == [
        {"valid_status": False, "invalid_feedback": "too short"},
        {"valid_status": 0},
        {"valid_status": False, "invalid_feedback": "too short"},
    ]


def test_validator_exception_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"data": "x"}), submit({"data": "ok"}))

    def check(v: str) -> None:
        if v == "x":
            raise KeyError("boom")

    assert input("q", validate=check) == "ok"
    assert "KeyError" in s.of("update_input")[0]["attributes"]["invalid_feedback"]


def test_group_with_form_validate_and_cancel(monkeypatch: pytest.MonkeyPatch) -> None:
    def form_check(d: dict[str, Any]) -> tuple[str, str] | None:
        return ("b", "b must exceed a") if d["b"] <= d["a"] else None

    s = session(monkeypatch, submit({"a": 2, "b": 1}), submit({"a": 1, "b": 2}))
    items = [input("A", name="a", type=NUMBER), input("B", name="b", type=NUMBER)]
    assert input_group("Pair", items, validate=form_check, cancelable=True) == {"a": 1, "b": 2}
    spec = s.of("input_group")[0]
    assert spec["cancelable"] is True and [i["name"] for i in spec["inputs"]] == ["a", "b"]
    assert spec["inputs"][0]["auto_focus"] is True
    assert s.of("update_input")[0] == {
        "target_name": "b",
        "attributes": {"valid_status": False, "invalid_feedback": "b must exceed a"},
    }

    session(monkeypatch, {"event": "from_cancel", "task_id": "main-1", "data": None})
    assert input_group("x", [input("A", name="a")], cancelable=True) is None


def test_group_rejects_unnamed_and_duplicate_items(monkeypatch: pytest.MonkeyPatch) -> None:
    session(monkeypatch)
    with pytest.raises(ValueError):
        input_group("x", [input("A", name="a"), textarea("B", name="a")])


def test_onchange_with_input_update(monkeypatch: pytest.MonkeyPatch) -> None:
    def on_country(value: str) -> None:
        input_update("city", options=[f"{value}-1", f"{value}-2"])
        input_update(help_text=f"picked {value}")

    s = session(monkeypatch, change("country", "fr"), submit({"country": "fr", "city": "fr-1"}))
    data = input_group(
        "Where",
        [
            select("Country", ["de", "fr"], name="country", onchange=on_country),
            select("City", [], name="city"),
        ],
    )
    assert data == {"country": "fr", "city": "fr-1"}
    u1, u2 = s.of("update_input")
    assert u1["target_name"] == "city"
    assert u1["attributes"]["options"] == [
        {"label": "fr-1", "value": "fr-1"},
        {"label": "fr-2", "value": "fr-2"},
    ]
    assert u2 == {"target_name": "country", "attributes": {"help_text": "picked fr"}}
    with pytest.raises(ValueError):
        input_update("x", type="number")


def test_select_checkbox_radio_options(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"s": [1, 2], "c": ["b"], "r": None}))
    data = input_group(
        "Opts",
        [
            select(
                "S",
                [("one", 1), ("two", 2, True), {"label": "three", "value": 3, "disabled": True}],
                name="s",
                multiple=True,
                value=[1],
            ),
            checkbox("C", ["a", "b"], name="c", inline=True, value=["a"]),
            radio("R", ["x", "y"], name="r", required=True),
        ],
    )
    assert data == {"s": [1, 2], "c": ["b"], "r": None}
    sel, chk, rad = s.of("input_group")[0]["inputs"]
    assert sel["options"] == [
        {"label": "one", "value": 1, "selected": True},
        {"label": "two", "value": 2, "selected": False},
        {"label": "three", "value": 3, "disabled": True, "selected": False},
    ]
    assert sel["multiple"] is True
    assert chk["options"][0]["selected"] is True and chk["inline"] is True
    assert rad["required"] is True


def test_actions_alone_and_cancel_button(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"data": {"go": 1}}))
    assert actions("Pick", ["Save", ("Go", {"go": 1}), {"label": "Quit", "type": "cancel"}]) == {"go": 1}
    buttons = s.of("input_group")[0]["inputs"][0]["buttons"]
    assert buttons == [
        {"label": "Save", "value": "Save", "type": "submit"},
        {"label": "Go", "value": {"go": 1}, "type": "submit"},
        {"label": "Quit", "value": "Quit", "type": "cancel"},
    ]
    with pytest.raises(ValueError):
        actions("x", [("a", 1, "explode")])


def test_file_upload(monkeypatch: pytest.MonkeyPatch) -> None:
    f = {
        "filename": "dir/a.txt",
        "size": 2,
        "mime_type": "text/plain",
        "last_modified": 1.0,
        "content": b"hi",
    }
    s = session(monkeypatch, submit({"data": f}), submit({"data": [f, f]}))
    got = file_upload("File", accept=[".txt", ".md"], max_size="2M", max_total_size="1.5k")
    assert got["filename"] == "a.txt" and got["content"] == b"hi"
    spec = s.of("input_group")[0]["inputs"][0]
    assert (spec["accept"], spec["max_size"], spec["max_total_size"]) == (".txt,.md", 2 * 1024**2, 1536)
    assert spec["placeholder"] == "Choose file"
    many = file_upload("Files", multiple=True)
    assert [x["filename"] for x in many] == ["a.txt", "a.txt"]


def test_the_servers_max_payload_size_bounds_file_upload(monkeypatch: pytest.MonkeyPatch) -> None:
    """Started with max_payload_size='1M', an upload larger than 1 MiB is refused in the browser
    (the default limit), and asking file_upload for more than the server takes is an error."""
    import pywebio.platform.utils as platform_utils

    monkeypatch.setattr(platform_utils, "_max_payload_size", 1024**2)
    s = session(monkeypatch, submit({"data": None}))
    file_upload("File")
    spec = s.of("input_group")[0]["inputs"][0]
    assert (spec["max_size"], spec["max_total_size"]) == (1024**2, 1024**2)
    with pytest.raises(ValueError, match="max_payload_size"):
        file_upload("Big", max_size="2M")


def test_parse_size() -> None:
    assert parse_size("200M") == 200 * 1024**2
    assert parse_size("3 GB") == 3 * 1024**3
    assert parse_size(10) == 10
    with pytest.raises(ValueError):
        parse_size("lots")


def test_slider_and_textarea(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"data": "30"}), submit({"data": 0.25}), submit({"data": "text"}))
    assert slider("S", value=10, max_value=50) == 30
    assert slider("F", value=0.5, max_value=1.0, step=0.05) == 0.25
    assert textarea("T", rows=3, code={"mode": "python"}, value="x") == "text"
    s1, s2, t = (f["inputs"][0] for f in s.of("input_group"))
    assert s1["float"] is False and s2["float"] is True and s1["max_value"] == 50
    assert t["rows"] == 3 and t["code"] == {"mode": "python"}


def test_input_action_button(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch)

    def pick(set_value: Any) -> None:
        set_value("2024-01-01", label="New year")

    item = input("Date", name="d", action=("Pick", pick))
    cid = item["action"]["callback_id"]
    s.click(cid)
    assert s.of("update_input")[0] == {"target_name": "d", "attributes": {"value": "New year"}}
    assert item.preprocess("New year") == "2024-01-01"
    assert item.preprocess("typed") == "typed"


def test_coroutine_session(monkeypatch: pytest.MonkeyPatch) -> None:
    s = session(monkeypatch, submit({"data": "x"}), submit({"data": "7"}), coroutine=True)

    async def app() -> tuple[Any, Any]:
        a = await input("a")
        b = await input("b", type=NUMBER)
        return a, b

    assert asyncio.run(app()) == ("x", 7)
    assert len(s.of("destroy_form")) == 2


def test_closed_session_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from pywebio.exceptions import SessionClosedException

    s = session(monkeypatch)
    with pytest.raises(SessionClosedException):
        input("never answered")
    assert s.of("destroy_form") == []
