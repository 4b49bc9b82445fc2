"""Regions: Growth and above may pin us/eu/apac; below that a guild plays on auto, and is told why."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.settings import plan_catalogues, plans, regions, tiers
from vectobeat_core.errors import InvalidInput
from vectobeat_core.plans import Plan, PlanCatalogue, Tier, default_catalogue
from vectobeat_core.regions import (
    PINNED_REGIONS,
    Region,
    RegionDecision,
    clamp_region,
    placement_change,
    placement_message,
)


@pytest.mark.parametrize("text", ["eu", "EU", " Eu ", Region.EU])
def test_parse_is_case_insensitive(text: object) -> None:
    assert Region.parse(text) is Region.EU


@pytest.mark.parametrize("bad", ["mars", "", None, 1])
def test_parse_rejects_unknown_regions_listing_valid_ones(bad: object) -> None:
    with pytest.raises(InvalidInput, match="choose one of auto, us, eu, apac"):
        Region.parse(bad)


def test_pinned_regions_are_the_concrete_ones() -> None:
    assert PINNED_REGIONS == (Region.US, Region.EU, Region.APAC)
    assert not Region.AUTO.pinned


def test_growth_pins_the_requested_region() -> None:
    decision = clamp_region(default_catalogue().plan(Tier.GROWTH), "eu")
    assert decision == RegionDecision(
        requested=Region.EU,
        effective=Region.EU,
        clamped=False,
        reason_code="as_requested",
        reason="Your plan (Growth) may pin a region; playing on eu as requested.",
    )


def test_pro_asking_for_eu_plays_on_auto_and_is_told_why() -> None:
    decision = clamp_region(default_catalogue().plan(Tier.PRO), Region.EU)
    assert decision.effective is Region.AUTO
    assert decision.clamped
    assert decision.reason_code == "plan_disallows_pinning"
    assert decision.reason == (
        "Your plan (Pro) plays on auto; pinning a region (us/eu/apac) needs Growth or higher."
    )
    assert decision.to_json() == {
        "requested": "eu",
        "effective": "auto",
        "clamped": True,
        "reason_code": "plan_disallows_pinning",
        "reason": decision.reason,
        "reason_phrase": {  # for the shells to show it in the reader's language
            "id": "Your plan ({plan}) plays on auto; pinning a region ({regions}) needs {tier} "
            "or higher.",
            "params": {"plan": "Pro", "regions": "us/eu/apac", "tier": "Growth"},
        },
    }


def test_auto_is_never_clamped() -> None:
    decision = clamp_region(default_catalogue().plan(Tier.FREE), "auto")
    assert (decision.effective, decision.clamped, decision.reason_code) == (
        Region.AUTO,
        False,
        "auto",
    )


def test_reason_says_so_when_no_plan_may_pin() -> None:
    cat = default_catalogue()
    no_pinning = PlanCatalogue(plans=tuple(attrs.evolve(p, region_pinning=False) for p in cat))
    decision = clamp_region(no_pinning.plan(Tier.ENTERPRISE), "us", no_pinning)
    assert decision.reason.endswith("is not offered on any plan.")


def test_custom_catalogue_names_its_own_threshold() -> None:
    cat = default_catalogue()
    from_scale = PlanCatalogue(
        plans=tuple(attrs.evolve(p, region_pinning=p.tier >= Tier.SCALE) for p in cat)
    )
    decision = clamp_region(from_scale.plan(Tier.GROWTH), "apac", from_scale)
    assert decision.reason.endswith("needs Scale or higher.")


@pytest.mark.parametrize("bad", [None, "growth", Tier.GROWTH])
def test_rejects_a_non_plan(bad: object) -> None:
    with pytest.raises(InvalidInput, match="needs a Plan"):
        clamp_region(bad, "eu")  # type: ignore[arg-type]


def test_rejects_unknown_regions() -> None:
    with pytest.raises(InvalidInput, match="Unknown region 'moon'"):
        clamp_region(default_catalogue().plan(Tier.GROWTH), "moon")


@given(plans, regions)
def test_clamping_is_idempotent(plan: Plan, region: Region) -> None:
    first = clamp_region(plan, region)
    second = clamp_region(plan, first.effective)
    assert second.effective is first.effective
    assert not second.clamped


@given(plan_catalogues(), tiers, regions)
def test_never_grants_pinning_without_the_plan_feature(
    cat: PlanCatalogue, tier: Tier, region: Region
) -> None:
    plan = cat.plan(tier)
    decision = clamp_region(plan, region, cat)
    assert decision.requested is region
    if decision.effective.pinned:
        assert plan.region_pinning
        assert decision.effective is region
    assert decision.clamped == (region.pinned and not plan.region_pinning)


@given(tiers, regions)
def test_shipped_matrix_pins_from_growth(tier: Tier, region: Region) -> None:
    decision = clamp_region(default_catalogue().plan(tier), region)
    expected = region if tier >= Tier.GROWTH else Region.AUTO
    assert decision.effective is expected


# -- telling a pinned guild where its music plays -------------------------------------------


@given(
    st.sampled_from(list(Region)), st.sampled_from(PINNED_REGIONS), st.sampled_from(PINNED_REGIONS)
)
def test_only_a_pinned_guild_crossing_its_own_region_is_told(
    wanted: Region, before: Region, after: Region
) -> None:
    change = placement_change(wanted, before, after)
    if not wanted.pinned or before is after or wanted not in (before, after):
        assert change is None
    elif before is wanted:
        assert change == "left_region"
        assert f"moved to {after.value}" in str(placement_message(change, wanted, after))
    else:
        assert change == "back_in_region"
        assert f"plays in {wanted.value} once more" in str(placement_message(change, wanted, after))
