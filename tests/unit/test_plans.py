"""Plans: tier order, the shipped matrix, and operator matrix files that fail with line and field."""

from __future__ import annotations

import json
import re
from typing import Any

import attrs
import pytest
from hypothesis import given

from tests.strategies.settings import plan_catalogues, tiers
from vectobeat_core.errors import InvalidInput, InvalidPlanMatrix, VectoBeatError
from vectobeat_core.plans import (
    ANALYTICS_LEVELS,
    Plan,
    PlanCatalogue,
    Tier,
    default_catalogue,
    level_rank,
    parse_plan_matrix,
)


def _matrix() -> dict[str, Any]:
    return default_catalogue().to_json()


def _text(doc: object) -> str:
    return json.dumps(doc, indent=2)


def _line(text: str, needle: str, after: str | None = None) -> int:
    """1-based line of the first ``needle`` (after the first ``after``)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def _fails(text: str, line: int, *fragments: str) -> InvalidPlanMatrix:
    with pytest.raises(InvalidPlanMatrix) as info:
        parse_plan_matrix(text, source="ops.json")
    message = str(info.value)
    assert message.startswith(f"ops.json:{line}: "), message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


# --- tiers -----------------------------------------------------------------------------------


def test_tiers_are_ordered_from_free_to_enterprise() -> None:
    assert list(Tier) == sorted(Tier)
    assert [t.key for t in Tier] == ["free", "starter", "pro", "growth", "scale", "enterprise"]
    assert Tier.FREE < Tier.STARTER < Tier.PRO < Tier.GROWTH < Tier.SCALE < Tier.ENTERPRISE
    assert Tier.GROWTH.label == "Growth"


@pytest.mark.parametrize("text", ["growth", "GROWTH", " Growth ", Tier.GROWTH])
def test_tier_parse_is_case_insensitive(text: object) -> None:
    assert Tier.parse(text) is Tier.GROWTH


@pytest.mark.parametrize("bad", ["gold", "", 3, None, ["pro"]])
def test_tier_parse_rejects_unknown_names_listing_valid_ones(bad: object) -> None:
    with pytest.raises(
        InvalidInput, match="choose one of free, starter, pro, growth, scale, enterprise"
    ):
        Tier.parse(bad)


def test_level_rank_orders_levels_and_rejects_unknown() -> None:
    assert level_rank(ANALYTICS_LEVELS, "none") < level_rank(ANALYTICS_LEVELS, "predictive")
    with pytest.raises(InvalidInput, match="Unknown level 'psychic'"):
        level_rank(ANALYTICS_LEVELS, "psychic")


# --- the shipped matrix ----------------------------------------------------------------------


def test_default_catalogue_matches_the_published_plans() -> None:
    cat = default_catalogue()
    assert cat is default_catalogue()  # parsed once
    assert len(cat) == 6
    assert [p.tier for p in cat] == list(Tier)
    free, starter, pro, growth = (cat.plan(t) for t in ("free", "starter", "pro", "growth"))
    assert free.queue_cap == 100
    assert (free.playlist_limit, starter.playlist_limit, pro.playlist_limit) == (0, 50, None)
    assert [p.region_pinning for p in cat] == [False, False, False, True, True, True]
    assert [p.queue_sync for p in cat][:3] == ["none", "periodic", "realtime"]
    assert free.api_tokens == 0
    assert pro.api_tokens == 10
    assert free.sla_minutes is None
    assert growth.concierge
    assert growth.concierge_hours > 0
    assert cat.plan(Tier.ENTERPRISE).success_pod
    assert cat.plan(Tier.ENTERPRISE).snapshot_ttl_seconds == 30 * 86400
    assert free.snapshot_ttl_seconds == 86400
    assert pro.label == "Pro"


def test_lowest_tier_with_finds_the_threshold_or_none() -> None:
    cat = default_catalogue()
    assert cat.lowest_tier_with(lambda p: p.region_pinning) is Tier.GROWTH
    assert cat.lowest_tier_with(lambda p: p.queue_cap >= 101) is Tier.STARTER
    assert cat.lowest_tier_with(lambda p: p.queue_cap > 10**9) is None
    with pytest.raises(InvalidInput, match="needs a function"):
        cat.lowest_tier_with("region_pinning")  # type: ignore[arg-type]


def test_plan_lookup_rejects_unknown_tiers() -> None:
    with pytest.raises(InvalidInput, match="Unknown plan tier 'platinum'"):
        default_catalogue().plan("platinum")


def test_plan_to_json_names_the_tier_and_every_field() -> None:
    out = default_catalogue().plan(Tier.PRO).to_json()
    assert out["tier"] == "pro"
    assert set(out) == {"tier"} | {f.name for f in attrs.fields(Plan)} - {"tier"}


def test_catalogue_needs_one_plan_per_tier_in_order() -> None:
    plans = default_catalogue().plans
    with pytest.raises(InvalidPlanMatrix, match="exactly one plan per tier"):
        PlanCatalogue(plans=plans[1:] + plans[:1])
    with pytest.raises(InvalidPlanMatrix, match="got none"):
        PlanCatalogue(plans=())


def test_default_matrix_round_trips_through_its_file_format() -> None:
    cat = default_catalogue()
    again = parse_plan_matrix(_text(cat.to_json()))
    assert again.plans == cat.plans


@given(plan_catalogues())
def test_any_valid_matrix_round_trips(cat: PlanCatalogue) -> None:
    assert parse_plan_matrix(json.dumps(cat.to_json())).plans == cat.plans


@given(plan_catalogues(), tiers)
def test_capabilities_never_shrink_with_the_tier(cat: PlanCatalogue, tier: Tier) -> None:
    plan = cat.plan(tier)
    assert cat.lowest_tier_with(lambda p: p.queue_cap >= plan.queue_cap) <= tier  # type: ignore[operator]
    for higher in list(cat)[tier:]:
        assert higher.queue_cap >= plan.queue_cap
        assert level_rank(ANALYTICS_LEVELS, higher.analytics) >= level_rank(
            ANALYTICS_LEVELS, plan.analytics
        )
        assert higher.region_pinning >= plan.region_pinning


# --- operator files: errors name the line and the field ---------------------------------------


def test_rejects_non_text() -> None:
    with pytest.raises(InvalidPlanMatrix, match="must be text"):
        parse_plan_matrix(b"{}")  # type: ignore[arg-type]


def test_syntax_errors_name_the_json_line() -> None:
    text = _text(_matrix()).replace('"queue_cap": 500,', '"queue_cap": 500,,')
    _fails(text, _line(text, '"queue_cap": 500'), "not valid JSON")
    _fails("", 1, "not valid JSON")


def test_duplicate_keys_name_the_second_occurrence() -> None:
    text = _text(_matrix()).replace('"queue_cap": 250,', '"queue_cap": 250,\n      "queue_cap": 9,')
    _fails(text, _line(text, '"queue_cap": 9'), "'queue_cap' appears twice")


def test_top_level_must_be_an_object_with_format_and_tiers() -> None:
    _fails("[1, 2]", 1, "must be a JSON object")
    doc = _matrix()
    doc["extra"] = 1
    text = _text(doc)
    _fails(text, _line(text, '"extra"'), "unknown field 'extra'")


@pytest.mark.parametrize("fmt", [2, True, "1", 1.0])
def test_format_must_be_one(fmt: object) -> None:
    doc = _matrix()
    doc["format"] = fmt
    text = _text(doc)
    _fails(text, _line(text, '"format"'), "field 'format' must be 1")


def test_missing_format_points_at_the_top() -> None:
    doc = _matrix()
    del doc["format"]
    _fails(_text(doc), 1, "field 'format' must be 1, got None")


def test_tiers_must_be_an_object() -> None:
    text = _text({"format": 1, "tiers": [1]})
    _fails(text, _line(text, '"tiers"'), "field 'tiers' must be an object")


def test_unknown_and_missing_tiers() -> None:
    doc = _matrix()
    doc["tiers"]["platinum"] = doc["tiers"]["pro"]
    text = _text(doc)
    _fails(text, _line(text, '"platinum"'), "unknown tier 'platinum'")
    doc = _matrix()
    del doc["tiers"]["scale"]
    text = _text(doc)
    _fails(text, _line(text, '"tiers"'), "tier 'scale' is missing")


def test_tier_entry_must_be_an_object() -> None:
    doc = _matrix()
    doc["tiers"]["pro"] = "lots"
    text = _text(doc)
    _fails(text, _line(text, '"pro"'), "tier 'pro' must be an object")


def test_unknown_and_missing_fields_name_tier_and_field() -> None:
    doc = _matrix()
    doc["tiers"]["growth"]["laser_show"] = True
    text = _text(doc)
    _fails(text, _line(text, '"laser_show"'), "tier 'growth'", "unknown field 'laser_show'")
    doc = _matrix()
    del doc["tiers"]["growth"]["api_tokens"]
    text = _text(doc)
    _fails(text, _line(text, '"growth"'), "tier 'growth'", "field 'api_tokens' is missing")


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        ("queue_cap", 0, "at least 1"),
        ("queue_cap", True, "at least 1"),
        ("queue_cap", 12.5, "at least 1"),
        ("playlist_limit", "many", "null for unlimited"),
        ("playlist_limit", -1, "null for unlimited"),
        ("sla_minutes", 0, "null for no SLA"),
        ("region_pinning", 1, "true or false"),
        ("playback_quality", "ultra", '"standard", "high", "lossless"'),
        ("analytics", None, '"none", "basic"'),
        ("snapshot_ttl_seconds", 10**10, "at least 1"),
    ],
)
def test_wrong_values_name_line_and_field(field: str, value: object, expect: str) -> None:
    doc = _matrix()
    doc["tiers"]["scale"][field] = value
    text = _text(doc)
    _fails(
        text, _line(text, f'"{field}"', after='"scale"'), "tier 'scale'", f"field {field!r}", expect
    )


def test_concierge_hours_need_concierge() -> None:
    doc = _matrix()
    doc["tiers"]["pro"]["concierge_hours"] = 1
    text = _text(doc)
    _fails(text, _line(text, '"concierge_hours"', after='"pro"'), "'concierge_hours' must be 0")


def test_automation_window_needs_automation() -> None:
    doc = _matrix()
    doc["tiers"]["starter"]["automation_window_hours"] = 5
    text = _text(doc)
    _fails(
        text,
        _line(text, '"automation_window_hours"', after='"starter"'),
        "must be 0 when 'automation'",
    )


@pytest.mark.parametrize(
    ("tier", "field", "value"),
    [
        ("pro", "queue_cap", 99),
        ("enterprise", "playlist_limit", 5),
        ("growth", "sla_minutes", 2000),
        ("enterprise", "sla_minutes", None),
        ("scale", "playback_quality", "standard"),
        ("scale", "region_pinning", False),
    ],
)
def test_non_monotonic_matrices_are_rejected(tier: str, field: str, value: object) -> None:
    doc = _matrix()
    doc["tiers"][tier][field] = value
    text = _text(doc)
    error = _fails(
        text, _line(text, f'"{field}"', after=f'"{tier}"'), f"tier {tier!r}", f"field {field!r}"
    )
    assert "must not lose capabilities" in str(error)


def test_errors_are_vectobeat_errors_with_one_line_messages() -> None:
    with pytest.raises(VectoBeatError) as info:
        parse_plan_matrix("{", source="x")
    assert re.fullmatch(r"x:1: not valid JSON: .+", str(info.value))


def test_duplicate_locator_falls_back_to_the_first_line() -> None:
    from vectobeat_core.plans import _Locator

    assert _Locator('{"a": [1, "b"], "c": {"a": 2}}', "x").duplicate_line("a") == 1
    assert _Locator('{"a": 1,\n"a": 2}', "x").duplicate_line("a") == 2
