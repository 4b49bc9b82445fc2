"""Plans: the tiers free < starter < pro < growth < scale < enterprise and their capability matrix.

The matrix is data (``plans.json`` shipped in this package, loaded once by `default_catalogue`).
Operators may override it with their own file, read at the edge and handed to `parse_plan_matrix`;
a malformed file fails with an `InvalidPlanMatrix` naming the source, the line and the field.

File shape::

    {"format": 1, "tiers": {"free": {"queue_cap": 100, ...}, "starter": {...}, ...}}

Every tier must be present with every field. A higher tier never has less of anything than the one
below it (a larger or equal cap, an equal or better level, a shorter or equal SLA), so "the lowest
tier allowing X" is always a clean threshold the panel can show as "needs Growth".
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from enum import IntEnum
from importlib import resources
from typing import Any, Literal, TypeAlias, cast

import attrs

from vectobeat_core.errors import InvalidInput, InvalidPlanMatrix
from vectobeat_core.jsonform import dump_method, register
from vectobeat_core.jsontypes import JSONObject

__all__ = [
    "ANALYTICS_LEVELS",
    "AUTOMATION_LEVELS",
    "PLAN_MATRIX_FORMAT",
    "PLAYBACK_QUALITIES",
    "QUEUE_SYNC_MODES",
    "SOURCE_ACCESS_LEVELS",
    "AnalyticsLevel",
    "AutomationLevel",
    "Plan",
    "PlanCatalogue",
    "PlaybackQuality",
    "QueueSyncMode",
    "SourceAccess",
    "Tier",
    "default_catalogue",
    "level_rank",
    "parse_plan_matrix",
]

SourceAccess: TypeAlias = Literal["standard", "extended", "unlimited"]
PlaybackQuality: TypeAlias = Literal["standard", "high", "lossless"]
AnalyticsLevel: TypeAlias = Literal["none", "basic", "advanced", "predictive"]
AutomationLevel: TypeAlias = Literal["off", "smart", "full"]
QueueSyncMode: TypeAlias = Literal["none", "periodic", "realtime"]

SOURCE_ACCESS_LEVELS: tuple[SourceAccess, ...] = ("standard", "extended", "unlimited")
PLAYBACK_QUALITIES: tuple[PlaybackQuality, ...] = ("standard", "high", "lossless")
ANALYTICS_LEVELS: tuple[AnalyticsLevel, ...] = ("none", "basic", "advanced", "predictive")
AUTOMATION_LEVELS: tuple[AutomationLevel, ...] = ("off", "smart", "full")
QUEUE_SYNC_MODES: tuple[QueueSyncMode, ...] = ("none", "periodic", "realtime")
"""Each tuple lists its levels from least to most; `level_rank` compares them."""

PLAN_MATRIX_FORMAT = 1
_MAX_COUNT = 10**9


class Tier(IntEnum):
    """A subscription tier; comparisons follow the tier order (``Tier.PRO < Tier.GROWTH``)."""

    FREE = 0
    STARTER = 1
    PRO = 2
    GROWTH = 3
    SCALE = 4
    ENTERPRISE = 5

    @property
    def label(self) -> str:
        """The name people read: ``"Growth"``."""
        return self.name.capitalize()

    @property
    def key(self) -> str:
        """The name in files and payloads: ``"growth"``."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: object) -> Tier:
        """Read a tier name (any case); a `Tier` passes through."""
        if isinstance(value, Tier):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                pass
        names = ", ".join(t.key for t in cls)
        raise InvalidInput(f"Unknown plan tier {value!r}: choose one of {names}.")


register(Tier, dump=lambda tier: tier.key, load=Tier.parse)


def level_rank(levels: tuple[str, ...], value: str) -> int:
    """The position of ``value`` in ``levels`` (least first); unknown values raise `InvalidInput`."""
    try:
        return levels.index(value)
    except ValueError:
        raise InvalidInput(f"Unknown level {value!r}: choose one of {', '.join(levels)}.") from None


@attrs.frozen(slots=True)
class Plan:
    """What one tier may do. ``None`` limits mean unlimited; ``sla_minutes=None`` means no SLA."""

    tier: Tier
    queue_cap: int
    playlist_limit: int | None
    playlist_track_limit: int | None
    region_pinning: bool
    concierge: bool
    concierge_hours: int
    sla_minutes: int | None
    success_pod: bool
    source_access: SourceAccess
    playback_quality: PlaybackQuality
    analytics: AnalyticsLevel
    automation: AutomationLevel
    automation_window_hours: int
    webhook_exports: bool
    stay_connected: bool
    """24/7 mode: the bot may stay in its voice channel with an empty queue."""
    api_tokens: int
    queue_sync: QueueSyncMode
    snapshot_ttl_seconds: int

    @property
    def label(self) -> str:
        return self.tier.label

    to_json = dump_method()
    """The plan as one tier's entry of the matrix file (plus ``"tier"``)."""


@attrs.frozen(slots=True)
class PlanCatalogue:
    """One `Plan` per tier, in tier order; iterating yields the plans from free to enterprise."""

    plans: tuple[Plan, ...]
    source: str = "<plans>"

    def __attrs_post_init__(self) -> None:
        tiers = tuple(p.tier for p in self.plans)
        if tiers != tuple(Tier):
            raise InvalidPlanMatrix(
                f"{self.source}: a catalogue needs exactly one plan per tier in order "
                f"({', '.join(t.key for t in Tier)}), got {', '.join(t.key for t in tiers) or 'none'}."
            )

    def plan(self, tier: Tier | str) -> Plan:
        """The plan of ``tier`` (a `Tier` or a tier name)."""
        return self.plans[Tier.parse(tier)]

    def lowest_tier_with(self, predicate: Callable[[Plan], bool]) -> Tier | None:
        """The lowest tier whose plan satisfies ``predicate``; ``None`` when no plan does."""
        if not callable(predicate):
            raise InvalidInput("lowest_tier_with needs a function taking a Plan.")
        for plan in self.plans:
            if predicate(plan):
                return plan.tier
        return None

    def __iter__(self) -> Iterator[Plan]:
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)

    def to_json(self) -> JSONObject:
        """The catalogue in the matrix file format; `parse_plan_matrix` reads it back.

        Written by hand, not by jsonform: the file keys its plans by tier, and reading it is
        `parse_plan_matrix` (line numbers, the tiers' order)."""
        tiers: JSONObject = {}
        for plan in self.plans:
            entry = plan.to_json()
            del entry["tier"]
            tiers[plan.tier.key] = entry
        return {"format": PLAN_MATRIX_FORMAT, "tiers": tiers}


# --- the matrix file -------------------------------------------------------------------------

_Kind = Literal["count", "limit", "sla", "flag", "level"]


@attrs.frozen(slots=True)
class _Spec:
    kind: _Kind
    minimum: int = 0
    levels: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "count":
            return f"a whole number of at least {self.minimum}"
        if self.kind == "limit":
            return "a whole number of at least 0, or null for unlimited"
        if self.kind == "sla":
            return "a whole number of minutes of at least 1, or null for no SLA"
        if self.kind == "flag":
            return "true or false"
        return "one of " + ", ".join(f'"{level}"' for level in self.levels)

    def valid(self, value: object) -> bool:
        if self.kind == "flag":
            return isinstance(value, bool)
        if self.kind == "level":
            return isinstance(value, str) and value in self.levels
        if value is None:
            return self.kind in ("limit", "sla")
        minimum = 1 if self.kind == "sla" else self.minimum
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and minimum <= value <= _MAX_COUNT
        )

    def rank(self, value: object) -> float:
        """How generous ``value`` is; a higher tier must rank at least as high."""
        if self.kind == "level":
            return float(self.levels.index(cast(str, value)))
        if value is None:
            return -math.inf if self.kind == "sla" else math.inf
        number = float(cast(int, value))
        return -number if self.kind == "sla" else number


_FIELDS: dict[str, _Spec] = {
    "queue_cap": _Spec("count", minimum=1),
    "playlist_limit": _Spec("limit"),
    "playlist_track_limit": _Spec("limit"),
    "region_pinning": _Spec("flag"),
    "concierge": _Spec("flag"),
    "concierge_hours": _Spec("count"),
    "sla_minutes": _Spec("sla"),
    "success_pod": _Spec("flag"),
    "source_access": _Spec("level", levels=SOURCE_ACCESS_LEVELS),
    "playback_quality": _Spec("level", levels=PLAYBACK_QUALITIES),
    "analytics": _Spec("level", levels=ANALYTICS_LEVELS),
    "automation": _Spec("level", levels=AUTOMATION_LEVELS),
    "automation_window_hours": _Spec("count"),
    "webhook_exports": _Spec("flag"),
    "stay_connected": _Spec("flag"),
    "api_tokens": _Spec("count"),
    "queue_sync": _Spec("level", levels=QUEUE_SYNC_MODES),
    "snapshot_ttl_seconds": _Spec("count", minimum=1),
}


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


_TOKENS = re.compile(r'(?P<string>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)?|[{}\[\]]')


class _Locator:
    """Finds the line on which a key of the JSON text appears (the first at or after a line)."""

    def __init__(self, text: str, source: str) -> None:
        self._lines = text.splitlines() or [""]
        self._source = source

    def line_of(self, key: str, start: int = 1) -> int:
        pattern = re.compile('"' + re.escape(key) + r'"\s*:')
        for number in range(start, len(self._lines) + 1):
            if pattern.search(self._lines[number - 1]):
                return number
        return start

    def duplicate_line(self, key: str) -> int:
        """The line where ``key`` repeats within one object (the text up to there is valid JSON)."""
        text = "\n".join(self._lines)
        stack: list[set[str] | None] = []
        for token in _TOKENS.finditer(text):
            lexeme = token.group()
            if lexeme in "{[":
                stack.append(set() if lexeme == "{" else None)
            elif lexeme in "}]":
                stack.pop()
            elif token.group("colon") and stack and stack[-1] is not None:
                name = json.loads(token.group("string"))
                if name == key and name in stack[-1]:
                    return text.count("\n", 0, token.start()) + 1
                stack[-1].add(name)
        return 1

    def error(self, line: int, message: str) -> InvalidPlanMatrix:
        return InvalidPlanMatrix(f"{self._source}:{line}: {message}")


def parse_plan_matrix(text: str, source: str = "<plans>") -> PlanCatalogue:
    """Parse a plan matrix file's text into a validated `PlanCatalogue`.

    Raises `InvalidPlanMatrix` whose message reads ``"<source>:<line>: <what is wrong>"``.
    """
    if not isinstance(text, str):
        raise InvalidPlanMatrix(
            f"{source}: the plan matrix must be text, got {type(text).__name__}."
        )
    where = _Locator(text, source)
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicates)
    except _DuplicateKeyError as exc:
        line = where.duplicate_line(exc.key)
        raise where.error(line, f"field {exc.key!r} appears twice.") from None
    except json.JSONDecodeError as exc:
        raise where.error(exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno}).") from None
    if not isinstance(document, dict):
        raise where.error(1, "the plan matrix must be a JSON object with 'format' and 'tiers'.")
    for key in document:
        if key not in ("format", "tiers"):
            raise where.error(
                where.line_of(key), f"unknown field {key!r}; expected 'format' and 'tiers'."
            )
    fmt = document.get("format")
    if type(fmt) is not int or fmt != PLAN_MATRIX_FORMAT:
        raise where.error(
            where.line_of("format"), f"field 'format' must be {PLAN_MATRIX_FORMAT}, got {fmt!r}."
        )
    tiers_line = where.line_of("tiers")
    tiers = document.get("tiers")
    if not isinstance(tiers, dict):
        raise where.error(
            tiers_line, "field 'tiers' must be an object mapping tier names to plans."
        )
    for name in tiers:
        if name not in {t.key for t in Tier}:
            raise where.error(
                where.line_of(name, tiers_line),
                f"unknown tier {name!r}; tiers are {', '.join(t.key for t in Tier)}.",
            )
    plans: list[Plan] = []
    for tier in Tier:
        if tier.key not in tiers:
            raise where.error(tiers_line, f"tier {tier.key!r} is missing.")
        plans.append(_parse_tier(tier, tiers[tier.key], where, tiers_line))
    _check_monotonic(plans, where, tiers_line)
    return PlanCatalogue(plans=tuple(plans), source=source)


def _parse_tier(tier: Tier, entry: object, where: _Locator, tiers_line: int) -> Plan:
    tier_line = where.line_of(tier.key, tiers_line)
    if not isinstance(entry, dict):
        raise where.error(tier_line, f"tier {tier.key!r} must be an object of capabilities.")
    for name in entry:
        if name not in _FIELDS:
            raise where.error(
                where.line_of(name, tier_line),
                f"tier {tier.key!r}: unknown field {name!r}; fields are {', '.join(_FIELDS)}.",
            )
    for name, spec in _FIELDS.items():
        if name not in entry:
            raise where.error(tier_line, f"tier {tier.key!r}: field {name!r} is missing.")
        value = entry[name]
        if not spec.valid(value):
            raise where.error(
                where.line_of(name, tier_line),
                f"tier {tier.key!r}: field {name!r} must be {spec.describe()}, got {json.dumps(value)}.",
            )
    if entry["concierge_hours"] and not entry["concierge"]:
        raise where.error(
            where.line_of("concierge_hours", tier_line),
            f"tier {tier.key!r}: field 'concierge_hours' must be 0 when 'concierge' is false.",
        )
    if entry["automation_window_hours"] and entry["automation"] == "off":
        raise where.error(
            where.line_of("automation_window_hours", tier_line),
            f"tier {tier.key!r}: field 'automation_window_hours' must be 0 when 'automation' is \"off\".",
        )
    return Plan(tier=tier, **cast(dict[str, Any], entry))


def _check_monotonic(plans: list[Plan], where: _Locator, tiers_line: int) -> None:
    for lower, higher in itertools.pairwise(plans):
        for name, spec in _FIELDS.items():
            low, high = getattr(lower, name), getattr(higher, name)
            if spec.rank(high) < spec.rank(low):
                tier_line = where.line_of(higher.tier.key, tiers_line)
                raise where.error(
                    where.line_of(name, tier_line),
                    f"tier {higher.tier.key!r}: field {name!r} is {json.dumps(high)}, less than "
                    f"{lower.tier.key}'s {json.dumps(low)}; a higher tier must not lose capabilities.",
                )


@functools.cache
def default_catalogue() -> PlanCatalogue:
    """The matrix shipped with VectoBeat (``vectobeat_core/plans.json``), parsed once."""
    text = resources.files("vectobeat_core").joinpath("plans.json").read_text(encoding="utf-8")
    return parse_plan_matrix(text, source="vectobeat_core/plans.json")
