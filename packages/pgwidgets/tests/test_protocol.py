"""The sans-I/O protocol object: frames in, events out, no network."""

from __future__ import annotations

import json
import math

import pytest

from pgwidgets import protocol as P
from pgwidgets.protocol import Ack, BrowserProtocol, CallbackEvent, ProtocolViolation, Reply, Viewport


def opened(session_id: int = 1) -> BrowserProtocol:
    proto = BrowserProtocol()
    proto.start()
    proto.receive('{"type":"result","id":0}')
    proto.accept(session_id, "tok")
    return proto


def test_handshake_in_order() -> None:
    proto = BrowserProtocol()
    assert json.loads(proto.start()) == {"type": "init", "id": 0}
    [ack] = proto.receive('{"type":"result","id":0}')
    assert ack == Ack(None, None)
    info = json.loads(proto.accept(7, "secret"))
    assert info == {"type": "session-info", "session_id": 7, "token": "secret"}
    assert proto.state == "open"


def test_ack_carries_credentials() -> None:
    proto = BrowserProtocol()
    proto.start()
    [ack] = proto.receive('{"type":"result","id":0,"session_id":3,"token":"t"}')
    assert ack == Ack(3, "t")


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"callback","wid":1,"action":"x","args":[]}',  # before the ack
        '{"type":"result","id":5}',  # not the init's
        '{"type":"result","id":0,"session_id":[1]}',
        '{"type":"result","id":0,"session_id":1,"token":5}',
    ],
)
def test_bad_handshakes_are_violations(frame: str) -> None:
    proto = BrowserProtocol()
    proto.start()
    with pytest.raises(ProtocolViolation):
        proto.receive(frame)


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("not json", "not JSON"),
        ("42", "not a JSON object"),
        ('["x"]', "not a JSON object"),
        ('{"type":"frob"}', "unknown message type"),
        ('{"type":"result","id":"1"}', "id must be an int"),
        ('{"type":"callback","wid":"1","action":"a","args":[]}', "int wid"),
        ('{"type":"callback","wid":1,"action":"a","args":{}}', "list args"),
        ('{"type":"viewport","width":"wide","height":1}', "numbers"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(frame: str | bytes, why: str) -> None:
    proto = opened()
    with pytest.raises(ProtocolViolation, match=why):
        proto.receive(frame)


def test_replies_are_matched_to_expected_ids() -> None:
    proto = opened()
    proto.expect(4)
    events = proto.receive('[{"type":"result","id":4,"value":9,"next_wid":12},{"type":"result","id":99}]')
    assert events == [
        Reply(4, True, 9, next_wid=12, expected=True),
        Reply(99, True, None, expected=False),
    ]
    [err] = proto.receive('{"type":"error","id":4,"error":"Unknown widget id: 9"}')
    assert err == Reply(4, False, error="Unknown widget id: 9", expected=False)  # already answered


def test_callbacks_viewport_and_batch_nulls() -> None:
    proto = opened()
    events = proto.receive(
        '[null,{"type":"callback","wid":5,"action":"activated","args":["hi"]},'
        '{"type":"viewport","width":800,"height":600}]'
    )
    assert events == [CallbackEvent(5, "activated", ["hi"]), Viewport(800, 600)]
    assert proto.viewport == Viewport(800, 600)


def test_close_returns_the_ids_that_will_never_be_answered() -> None:
    proto = opened()
    proto.expect(1)
    proto.expect(2)
    assert proto.close() == {1, 2}
    assert proto.receive('{"type":"result","id":1}') == []


def test_encoding_rules() -> None:
    class W:
        def __wire_ref__(self) -> dict[str, int]:
            return {"__wid__": 3}

    text = P.encode(P.call(1, 2, "f", [W(), (1, 2), math.nan, math.inf, {"a": [W()]}]))
    assert json.loads(text)["args"] == [{"__wid__": 3}, [1, 2], None, None, {"a": [{"__wid__": 3}]}]
    with pytest.raises(TypeError, match="cannot send"):
        P.encode([object()])


def test_decode_ref() -> None:
    assert P.decode_ref({"__wid__": 4, "__class__": "Menu"}) == (4, "Menu")
    assert P.decode_ref({"__wid__": "4"}) is None
    assert P.decode_ref([1]) is None


def test_file_chunks_pair_with_their_headers() -> None:
    from pgwidgets.protocol import Chunk, Ignored

    proto = opened()
    [event] = proto.receive(b"\x00\x01")  # no header: tolerated, reported
    assert isinstance(event, Ignored) and "binary frame" in event.reason
    header = {"type": "binary-chunk", "wid": 3, "transfer_id": 1, "file_index": 0, "file_count": 1}
    assert (
        proto.receive(json.dumps({**header, "chunk_index": 0, "num_chunks": 2, "encoding": "binary"})) == []
    )
    [chunk] = proto.receive(b"abc")
    assert chunk == Chunk(3, 1, 0, 1, 0, 2, b"abc")
    inline = {**header, "chunk_index": 1, "num_chunks": 2, "encoding": "base64", "data": "ZGVm"}
    assert proto.receive(json.dumps(inline)) == [Chunk(3, 1, 0, 1, 1, 2, b"def")]
    with pytest.raises(ProtocolViolation, match="binary-chunk"):
        proto.receive(json.dumps({**header, "chunk_index": -1, "num_chunks": 2}))
    fresh = BrowserProtocol()
    fresh.start()
    with pytest.raises(ProtocolViolation, match="binary frame before"):
        fresh.receive(b"x")
