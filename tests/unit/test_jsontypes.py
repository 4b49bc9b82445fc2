"""The readers of foreign text in `vectobeat_core.jsontypes`: JSON whose nesting is checked before it
is parsed, and numbers sent as text (ASCII digits only, bounded)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.errors import InvalidInput
from vectobeat_core.jsontypes import MAX_JSON_DEPTH, json_depth, parse_json, whole_number

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=20,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(json_values)
def test_json_depth_matches_the_parsed_value(value: object) -> None:
    assert json_depth(json.dumps(value)) == _depth(value)


@given(json_values)
def test_parse_json_round_trips_what_fits(value: object) -> None:
    text = json.dumps(value)
    if _depth(value) <= MAX_JSON_DEPTH:
        assert parse_json(text, "body") == value
    else:
        with pytest.raises(InvalidInput, match="nests deeper"):
            parse_json(text, "body")


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deep_nesting_is_refused_before_parsing(opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    text = opening * 5000 + "1" + closing * 5000
    with pytest.raises(InvalidInput, match="nests deeper than 16 levels"):
        parse_json(text.encode(), "The request body")
    assert parse_json(opening * 3 + "1" + closing * 3, "body", max_depth=3) is not None


def test_brackets_inside_strings_do_not_count() -> None:
    assert json_depth(json.dumps(["[[[[", {"k": '{{\\"}'}])) == 2
    assert parse_json(json.dumps({"a": "[" * 100}), "body") == {"a": "[" * 100}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "UTF-8"),
        (b"{nope", "must be JSON"),
        (b"[NaN]", "must be JSON"),
        (b"[Infinity]", "must be JSON"),
        (b"1" * 5000, "must be JSON"),  # beyond int's digit limit: refused, not crashed on
    ],
)
def test_parse_json_refuses_what_is_not_json(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_json(raw, "The request body")


@given(st.integers(min_value=1, max_value=10_000))
def test_whole_number_reads_ascii_digits_in_range(number: int) -> None:
    assert whole_number(str(number), "'page'", low=1, high=10_000) == number


@given(st.text(max_size=30))
def test_whole_number_accepts_only_ascii_digits_in_range(text: str) -> None:
    fits = text.isascii() and text.isdigit() and 1 <= int(text) <= 500
    if fits:
        assert whole_number(text, "'page'", low=1, high=500) == int(text)
    else:
        with pytest.raises(InvalidInput, match="'page' must be a whole number from 1 to 500"):
            whole_number(text, "'page'", low=1, high=500)


@pytest.mark.parametrize("raw", ["²", "٣", "1²", "", "0", "-1", "+1", " 1", "1.0", "9" * 5000])
def test_whole_number_refuses_unicode_digits_signs_and_giants(raw: str) -> None:
    with pytest.raises(InvalidInput):
        whole_number(raw, "'page'", low=1, high=10_000)
