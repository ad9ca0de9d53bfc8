"""The event every fan-out contender publishes: about ``size`` bytes once framed."""

_PAD_OVERHEAD = 30  # event line, data prefix, the JSON around the pad, the blank line


def event_data(seq: int, size: int = 200) -> dict[str, object]:
    return {"seq": seq, "pad": "x" * max(0, size - _PAD_OVERHEAD)}
