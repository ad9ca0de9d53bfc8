"""Query strings and headers as handlers see them."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from wirecore.datastructures import Headers, QueryParams


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab=&%+;2x0 é", max_size=20))
def test_query_parsing_matches_the_standard_library(query: str) -> None:
    assert QueryParams(query).multi_items() == parse_qsl(query, keep_blank_values=True)


def test_repeated_and_blank_parameters() -> None:
    q = QueryParams("a=1&a=2&b=&c")
    assert q.getlist("a") == ["1", "2"] and q["a"] == "2"
    assert q["b"] == "" and q["c"] == ""
    assert QueryParams("x=a%20b+c")["x"] == "a b c"


def test_headers_are_case_insensitive() -> None:
    h = Headers([("Content-Type", "text/plain"), ("X-A", "1"), ("x-a", "2")])
    assert h["content-type"] == "text/plain" and h.get("CONTENT-TYPE") == "text/plain"
    assert h.getlist("x-a") == ["1", "2"]
