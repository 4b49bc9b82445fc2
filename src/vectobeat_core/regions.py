"""Regions: where a guild's audio plays, and what its plan lets it ask for.

Plans with ``region_pinning`` (Growth and above in the shipped matrix) may pin ``us``, ``eu`` or
``apac``; every other plan plays on ``auto``. `clamp_region` returns the decision with a reason code
(for the audit log and the routing panel) and a sentence fit to show the guild (as a `Phrase`
too, which the shells translate).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, TypeAlias

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.jsonform import dump_method, json_key
from vectobeat_core.messages import Phrase, message_id
from vectobeat_core.plans import Plan, PlanCatalogue, default_catalogue

__all__ = [
    "PINNED_REGIONS",
    "PlacementChange",
    "Region",
    "RegionDecision",
    "RegionReason",
    "clamp_region",
    "placement_change",
    "placement_message",
]

RegionReason: TypeAlias = Literal["auto", "as_requested", "plan_disallows_pinning"]


class Region(StrEnum):
    """A Lavalink region; ``AUTO`` lets routing pick the healthiest one."""

    AUTO = "auto"
    US = "us"
    EU = "eu"
    APAC = "apac"

    @property
    def pinned(self) -> bool:
        """True for a concrete region (us, eu, apac)."""
        return self is not Region.AUTO

    @classmethod
    def parse(cls, value: object) -> Region:
        """Read a region name (any case, surrounding spaces ignored); a `Region` passes through."""
        if isinstance(value, Region):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        names = ", ".join(r.value for r in cls)
        raise InvalidInput(
            message_id("Unknown region {value}: choose one of {names}."),
            value=repr(value),
            names=names,
        )


PINNED_REGIONS: tuple[Region, ...] = (Region.US, Region.EU, Region.APAC)
_PINNED_NAMES = "/".join(r.value for r in PINNED_REGIONS)


@attrs.frozen(slots=True)
class RegionDecision:
    """Where a guild plays: what it asked for, what it gets, and why (``reason`` in English;
    ``reason_phrase`` the same as a `Phrase`, left out of equality: it says nothing more)."""

    requested: Region
    effective: Region
    clamped: bool
    reason_code: RegionReason
    reason: str
    reason_phrase: Phrase | None = attrs.field(default=None, eq=False, metadata=json_key(omit=True))

    to_json = dump_method()

    @property
    def why(self) -> Phrase:
        """The reason to show: `reason_phrase`, else `reason` as it is (JSON without a phrase)."""
        return self.reason_phrase or Phrase(self.reason)


def _decision(
    requested: Region, effective: Region, code: RegionReason, reason: Phrase
) -> RegionDecision:
    clamped = code == "plan_disallows_pinning"
    return RegionDecision(requested, effective, clamped, code, str(reason), reason)


def clamp_region(
    plan: Plan, requested: Region | str, catalogue: PlanCatalogue | None = None
) -> RegionDecision:
    """Clamp ``requested`` to what ``plan`` allows.

    ``catalogue`` (default: the shipped one) only names the lowest tier that may pin in the reason.
    """
    if not isinstance(plan, Plan):
        raise InvalidInput(f"clamp_region needs a Plan, got {type(plan).__name__}.")
    region = Region.parse(requested)
    if not region.pinned:
        why = message_id("Playing on auto: the healthiest region is chosen for each session.")
        return _decision(region, Region.AUTO, "auto", Phrase(why))
    if plan.region_pinning:
        why = message_id("Your plan ({plan}) may pin a region; playing on {region} as requested.")
        return _decision(
            region,
            region,
            "as_requested",
            Phrase(why, {"plan": plan.label, "region": region.value}),
        )
    lowest = (catalogue or default_catalogue()).lowest_tier_with(lambda p: p.region_pinning)
    facts: dict[str, object] = {"plan": plan.label, "regions": _PINNED_NAMES}
    if lowest is not None:
        why = message_id(
            "Your plan ({plan}) plays on auto; pinning a region ({regions}) needs {tier} or higher."
        )
        facts["tier"] = lowest.label
    else:
        why = message_id(
            "Your plan ({plan}) plays on auto; pinning a region ({regions}) is not offered on "
            "any plan."
        )
    return _decision(region, Region.AUTO, "plan_disallows_pinning", Phrase(why, facts))


PlacementChange: TypeAlias = Literal["left_region", "back_in_region"]


def placement_change(wanted: Region, before: Region, after: Region) -> PlacementChange | None:
    """What a pinned guild must be told when its player moved from a node in ``before`` to one
    in ``after``: it left its region (a failover found no healthy node there), or it is back."""
    if not wanted.pinned or before is after:
        return None
    if before is wanted:
        return "left_region"
    if after is wanted:
        return "back_in_region"
    return None


def placement_message(change: PlacementChange, wanted: Region, actual: Region) -> Phrase:
    """The message for a guild (see `placement_change`)."""
    regions = {"wanted": wanted.value, "actual": actual.value}
    if change == "left_region":
        return Phrase(
            message_id(
                "Region {wanted} has no healthy Lavalink node right now, so the music moved to "
                "{actual} to keep playing. It moves back to {wanted} at a track change once "
                "{wanted} is healthy again."
            ),
            regions,
        )
    return Phrase(
        message_id("Region {wanted} is healthy again: the music plays in {wanted} once more."),
        {"wanted": wanted.value},
    )
