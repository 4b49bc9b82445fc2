"""Regions: where a guild's audio plays, and what its plan lets it ask for.

Plans with ``region_pinning`` (Growth and above in the shipped matrix) may pin ``us``, ``eu`` or
``apac``; every other plan plays on ``auto``. `clamp_region` returns the decision with a reason code
(for the audit log and the routing panel) and a sentence fit to show the guild.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, TypeAlias

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.jsonform import dump_method
from vectobeat_core.messages import message_id
from vectobeat_core.plans import Plan, PlanCatalogue, default_catalogue

__all__ = [
    "PINNED_REGIONS",
    "PlacementChange",
    "Region",
    "RegionDecision",
    "RegionReason",
    "clamp_region",
    "placement_change",
    "placement_text",
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
    """Where a guild plays: what it asked for, what it gets, and why."""

    requested: Region
    effective: Region
    clamped: bool
    reason_code: RegionReason
    reason: str

    to_json = dump_method()


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
        return RegionDecision(
            requested=region,
            effective=Region.AUTO,
            clamped=False,
            reason_code="auto",
            reason="Playing on auto: the healthiest region is chosen for each session.",
        )
    if plan.region_pinning:
        return RegionDecision(
            requested=region,
            effective=region,
            clamped=False,
            reason_code="as_requested",
            reason=f"Your plan ({plan.label}) may pin a region; playing on {region.value} as requested.",
        )
    lowest = (catalogue or default_catalogue()).lowest_tier_with(lambda p: p.region_pinning)
    needs = (
        f"needs {lowest.label} or higher" if lowest is not None else "is not offered on any plan"
    )
    return RegionDecision(
        requested=region,
        effective=Region.AUTO,
        clamped=True,
        reason_code="plan_disallows_pinning",
        reason=f"Your plan ({plan.label}) plays on auto; pinning a region ({_PINNED_NAMES}) {needs}.",
    )


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


def placement_text(change: PlacementChange, wanted: Region, actual: Region) -> str:
    """The message for a guild (see `placement_change`)."""
    if change == "left_region":
        return (
            f"Region {wanted.value} has no healthy Lavalink node right now, so the music moved to "
            f"{actual.value} to keep playing. It moves back to {wanted.value} at a track change "
            f"once {wanted.value} is healthy again."
        )
    return f"Region {wanted.value} is healthy again: the music plays in {wanted.value} once more."
