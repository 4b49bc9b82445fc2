"""The generic JSON converter's own rules (`vectobeat_core.jsonform`), on classes made for it."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.tracks import json_values
from vectobeat_core import jsonform
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import EntryId, GuildId
from vectobeat_core.jsonform import dump_method, json_form, json_key, load_method
from vectobeat_core.jsontypes import MAX_SNOWFLAKE, JSONObject


class SampleError(InvalidInput):
    """The error `Sample` reads fail with."""


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Celsius:
    """Not an attrs class: written its own way, after `jsonform.register`."""

    def __init__(self, degrees: int) -> None:
        self.degrees = degrees

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Celsius) and other.degrees == self.degrees

    def __hash__(self) -> int:
        return hash(self.degrees)

    @classmethod
    def parse(cls, raw: object) -> Celsius:
        if not isinstance(raw, str) or not raw.endswith("C") or not raw[:-1].isdigit():
            raise InvalidInput(f"A temperature is like '21C', got {raw!r}.")
        return cls(int(raw[:-1]))


jsonform.register(Celsius, dump=lambda c: f"{c.degrees}C", load=Celsius.parse)


FIRST = EntryId(1)


@attrs.frozen
class Inner:
    name: str
    colour: Colour = Colour.RED


def _doubled(raw: object) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise InvalidInput(f"'even' is written halved, as a whole number, got {raw!r}.")
    return 2 * raw


@json_form(what="Sample", error=SampleError)
@attrs.frozen
class Sample:
    text: str = attrs.field(metadata=json_key("t"))
    count: int
    ratio: float
    flag: bool = attrs.field(default=False, metadata=json_key("f", omit=True))
    note: str | None = attrs.field(default=None, metadata=json_key("n", omit=True))
    colour: Colour = Colour.RED
    kind: Literal["a", "b"] = "a"
    guild: GuildId | None = None
    entry: EntryId = FIRST
    inner: Inner | None = None
    inners: tuple[Inner, ...] = ()
    tags: frozenset[str] = frozenset()
    by_name: dict[str, Inner] = attrs.field(factory=dict)
    extra: JSONObject = attrs.field(factory=dict, metadata=json_key(omit=True))
    even: int = attrs.field(default=0, metadata=json_key(dump=lambda n: n // 2, load=_doubled))
    heat: Celsius | None = None

    to_json = dump_method()
    from_json = load_method()


@json_form(what="Strict sample", strict=True)
@attrs.frozen
class Strict:
    name: str
    size: int = attrs.field()

    @size.default
    def _size(self) -> int:
        return len(self.name)


def _sample(**changes: Any) -> Sample:
    return attrs.evolve(Sample("hi", 3, 0.5), **changes)


def test_keys_are_renamed_and_written_in_field_order_with_left_out_keys_last() -> None:
    sample = _sample(flag=True, note="n", extra={"x": [1]})
    assert list(sample.to_json()) == [
        "t", "count", "ratio", "colour", "kind", "guild", "entry", "inner", "inners", "tags",
        "by_name", "even", "heat", "f", "n", "extra",
    ]  # fmt: skip


def test_defaults_marked_omit_are_left_out_and_read_back() -> None:
    data = _sample().to_json()
    assert {"f", "n", "extra"}.isdisjoint(data)
    assert Sample.from_json(data) == _sample()
    assert _sample(flag=True).to_json()["f"] is True


def test_values_are_written_by_their_type() -> None:
    sample = _sample(
        colour=Colour.BLUE, kind="b", guild=GuildId(MAX_SNOWFLAKE), entry=EntryId(7),
        inner=Inner("x"), inners=(Inner("y", Colour.BLUE),), tags=frozenset({"b", "c", "a"}),
        by_name={"k": Inner("z")}, even=8, heat=Celsius(21),
    )  # fmt: skip
    data = sample.to_json()
    assert data["colour"] == "blue" and data["kind"] == "b"
    assert data["guild"] == str(MAX_SNOWFLAKE)  # snowflakes as text, other ids as numbers
    assert data["entry"] == 7
    assert data["inner"] == {"name": "x", "colour": "red"}
    assert data["inners"] == [{"name": "y", "colour": "blue"}]
    assert data["tags"] == ["a", "b", "c"]  # sorted: the same set is the same text
    assert data["by_name"] == {"k": {"name": "z", "colour": "red"}}
    assert (data["even"], data["heat"]) == (4, "21C")
    assert Sample.from_json(json.loads(json.dumps(data))) == sample


def test_a_number_reads_as_a_float_and_text_ids_as_snowflakes() -> None:
    data = {"t": "x", "count": 1, "ratio": 2, "guild": 5}
    sample = Sample.from_json(data)
    assert sample.ratio == 2.0 and type(sample.ratio) is float
    assert sample.guild == 5
    assert Sample.from_json({**data, "guild": "5"}).guild == 5


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"t": 5}, "Sample field 'text' must be a string, got 5."),
        ({"count": True}, "Sample field 'count' must be an integer, got True."),
        ({"count": 1.5}, "Sample field 'count' must be an integer, got 1.5."),
        ({"ratio": "1"}, "Sample field 'ratio' must be a number, got '1'."),
        ({"f": 1}, "Sample field 'flag' must be true or false, got 1."),
        ({"n": 3}, "Sample field 'note' must be a string or null, got 3."),
        ({"colour": "green"}, "Sample field 'colour' must be one of red, blue, got 'green'."),
        ({"colour": ["red"]}, "Sample field 'colour' must be one of red, blue, got list."),
        ({"kind": "c"}, "Sample field 'kind' must be one of a, b, got 'c'."),
        ({"guild": 0}, "Sample field 'guild' must be a Discord id"),
        ({"guild": "12x"}, "Sample field 'guild' must be a Discord id"),
        ({"entry": "1"}, "Sample field 'entry' must be an integer, got '1'."),
        ({"inner": []}, "Inner must be a JSON object, got list."),
        ({"inner": {}}, "Inner is missing field(s): name."),
        ({"inners": {}}, "Sample field 'inners' must be a list, got dict."),
        ({"inners": [1]}, "Inner must be a JSON object, got 1."),
        ({"tags": [1]}, "Sample field 'tags' (an item) must be a string, got 1."),
        ({"by_name": []}, "Sample field 'by_name' must be a JSON object, got list."),
        ({"by_name": {"k": 1}}, "Inner must be a JSON object, got 1."),
        ({"extra": "x"}, "Sample field 'extra' must be a JSON object, got 'x'."),
        ({"even": "3"}, "'even' is written halved, as a whole number, got '3'."),
        ({"heat": "hot"}, "A temperature is like '21C', got 'hot'."),
    ],
)
def test_wrong_types_raise_the_class_error_naming_the_field(
    patch: dict[str, object], message: str
) -> None:
    with pytest.raises(SampleError) as caught:
        Sample.from_json({**_sample().to_json(), **patch})
    assert caught.value.message.startswith(message)


def test_missing_fields_are_named_by_key_and_the_input_must_be_an_object() -> None:
    with pytest.raises(SampleError, match=r"^Sample is missing field\(s\): t, ratio\.$"):
        Sample.from_json({"count": 1})
    with pytest.raises(SampleError, match=r"^Sample must be a JSON object, got list\.$"):
        Sample.from_json([])


@given(st.dictionaries(st.sampled_from([*_sample().to_json(), "x"]), json_values))
def test_any_json_reads_as_a_sample_or_raises_the_class_error(patch: dict[str, object]) -> None:
    try:
        sample = Sample.from_json({**_sample().to_json(), **patch})
    except SampleError:
        return  # any other exception (TypeError, KeyError, ValueError) fails the test
    assert Sample.from_json(sample.to_json()) == sample


_samples = st.builds(
    Sample,
    text=st.text(max_size=10),
    count=st.integers(),
    ratio=st.floats(allow_nan=False, allow_infinity=False),
    flag=st.booleans(),
    note=st.none() | st.text(max_size=5),
    colour=st.sampled_from(Colour),
    kind=st.sampled_from(["a", "b"]),
    guild=st.none() | st.integers(1, MAX_SNOWFLAKE).map(GuildId),
    entry=st.integers(0, 2**32).map(EntryId),
    inner=st.none() | st.builds(Inner, st.text(max_size=5), st.sampled_from(Colour)),
    inners=st.lists(st.builds(Inner, st.text(max_size=5)), max_size=3).map(tuple),
    tags=st.frozensets(st.text(max_size=4), max_size=4),
    by_name=st.dictionaries(st.text(max_size=4), st.builds(Inner, st.text(max_size=4)), max_size=2),
    extra=st.dictionaries(st.text(max_size=4), json_values, max_size=3),
    even=st.integers(-100, 100).map(lambda n: 2 * n),
    heat=st.none() | st.integers(0, 99).map(Celsius),
)


@given(_samples)
def test_any_sample_round_trips_through_json_text(sample: Sample) -> None:
    assert Sample.from_json(json.loads(json.dumps(sample.to_json()))) == sample


def test_a_strict_form_refuses_unknown_keys_and_a_default_from_self_is_the_class_s() -> None:
    assert jsonform.load(Strict, {"name": "abc"}) == Strict("abc", 3)
    assert jsonform.load(Strict, {"name": "abc", "size": 9}).size == 9
    with pytest.raises(InvalidInput, match=r"^Strict sample has unknown field\(s\): a, b\.$"):
        jsonform.load(Strict, {"name": "abc", "b": 1, "a": 2})
    assert jsonform.dump(Strict("ab")) == {"name": "ab", "size": 2}


def test_an_error_from_a_nested_class_or_the_constructor_becomes_the_class_error() -> None:
    with pytest.raises(SampleError, match="Inner field 'colour' must be one of red, blue"):
        Sample.from_json({"t": "x", "count": 1, "ratio": 1, "inner": {"name": "a", "colour": 1}})


def test_methods_are_the_generated_functions_after_first_use() -> None:
    sample = _sample()
    assert sample.to_json() == jsonform.dump(sample)
    assert Sample.__dict__["to_json"] is jsonform.form(Sample).dump
    assert Sample.from_json(sample.to_json()) == sample
    assert jsonform.form(Sample).source.startswith("def dump(o):")


def test_one_field_is_written_as_the_form_writes_it() -> None:
    form = jsonform.form(Sample)
    assert form.dump_field("colour", Colour.BLUE) == "blue"
    assert form.dump_field("guild", GuildId(9)) == "9"
    assert form.dump_field("guild", None) is None
    assert form.dump_field("inners", (Inner("a"),)) == [{"name": "a", "colour": "red"}]


def test_a_type_without_a_rule_fails_when_its_form_is_built() -> None:
    @attrs.frozen
    class Pair:
        pair: tuple[int, str]

    @attrs.frozen
    class NoDefault:
        value: int = attrs.field(metadata=json_key(omit=True))

    with pytest.raises(TypeError, match="no JSON rule for tuple"):
        jsonform.form(Pair)
    with pytest.raises(TypeError, match="omit needs a default"):
        jsonform.form(NoDefault)
