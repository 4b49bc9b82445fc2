"""The automation engine's rules: what a guild's ``automation_level`` lets the bot do by itself.

Pure functions over facts and ``now`` (epoch or monotonic seconds, the caller's choice):

* `take_token` throttles command floods per guild and bucket (a token bucket; at ``smart``/``full``).
* `trim_duplicates` drops tracks already queued, or played within ``automation_window_hours``.
* `leave_is_automation` says whether an idle-channel leave is an announced automation action.
* `should_restart` says when an idle player that still has a queue is restarted (``full``).
* `should_rejoin` says when a dropped voice connection with music queued is re-joined (``full``).

The shell (``apps/bot/vectobeat_bot/automation.py``) applies the decisions and audits them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.plans import AutomationLevel
from vectobeat_core.tracks import Track

__all__ = [
    "NORMAL_VOICE_CLOSE_CODES",
    "BucketState",
    "DuplicateTrim",
    "ThrottleDecision",
    "ThrottleRule",
    "leave_is_automation",
    "should_rejoin",
    "should_restart",
    "take_token",
    "track_key",
    "trim_duplicates",
]

_SMART_OR_FULL: frozenset[str] = frozenset({"smart", "full"})
NORMAL_VOICE_CLOSE_CODES: frozenset[int] = frozenset({1000, 4014})
"""Voice websocket close codes that are no fault: a normal close, or disconnected on purpose
(kicked, moved out, the channel deleted)."""


@attrs.frozen
class ThrottleRule:
    """At most ``limit`` commands per ``per_seconds`` (a burst of ``limit``, then a steady rate)."""

    limit: int = 50
    per_seconds: float = 15.0

    def __attrs_post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise InvalidInput(f"Throttle limit must be a whole number >= 1, got {self.limit!r}.")
        if not math.isfinite(self.per_seconds) or self.per_seconds <= 0:
            raise InvalidInput(
                f"Throttle window must be a positive number of seconds, got {self.per_seconds!r}."
            )

    @property
    def rate(self) -> float:
        """Tokens refilled per second."""
        return self.limit / self.per_seconds


@attrs.frozen
class BucketState:
    """One guild bucket: the tokens left at ``updated``, and until when a refusal was reported."""

    tokens: float
    updated: float
    reported_until: float = -math.inf


@attrs.frozen
class ThrottleDecision:
    """Whether a command may run; if not, ``retry_after`` seconds and whether to audit it
    (``report``: once per bucket window, never once per refused command)."""

    allowed: bool
    state: BucketState
    retry_after: float = 0.0
    report: bool = False

    def message(self) -> str:
        """What the refused user is told."""
        return f"Slow down: try again in {max(1, math.ceil(self.retry_after))} s."


def take_token(rule: ThrottleRule, state: BucketState | None, now: float) -> ThrottleDecision:
    """Take one token from the bucket at ``now`` (a new bucket starts full)."""
    if state is None:
        state = BucketState(float(rule.limit), now)
    elapsed = max(0.0, now - state.updated)  # a clock going back refills nothing
    tokens = min(float(rule.limit), state.tokens + elapsed * rule.rate)
    if tokens >= 1.0:
        return ThrottleDecision(True, BucketState(tokens - 1.0, now, state.reported_until))
    retry_after = (1.0 - tokens) / rule.rate
    report = now >= state.reported_until
    reported_until = now + rule.per_seconds if report else state.reported_until
    return ThrottleDecision(False, BucketState(tokens, now, reported_until), retry_after, report)


def track_key(track: Track) -> str:
    """What makes two tracks "the same" for duplicate trimming: the source and its identifier."""
    return f"{track.source}:{track.identifier}"


@attrs.frozen
class DuplicateTrim:
    """The tracks to add (``kept``, in order) and those skipped as duplicates."""

    kept: tuple[Track, ...]
    skipped: tuple[Track, ...]

    def message(self) -> str:
        """Why nothing was added (every track was a duplicate)."""
        if len(self.skipped) == 1:
            title = self.skipped[0].title[:100]
            return f"Skipped **{title}** as a duplicate: it is already queued or played recently."
        return f"Skipped all {len(self.skipped)} tracks as duplicates (queued or played recently)."


def trim_duplicates(
    level: AutomationLevel,
    candidates: Sequence[Track],
    queued: Iterable[Track],
    played: Mapping[str, float],
    *,
    now: float,
    window_hours: int,
) -> DuplicateTrim:
    """At ``smart``/``full``: drop candidates already queued (or twice in ``candidates``), or
    played (``played``: track key -> when it last started) within ``window_hours``."""
    if level not in _SMART_OR_FULL:
        return DuplicateTrim(tuple(candidates), ())
    seen = {track_key(t) for t in queued}
    oldest = now - window_hours * 3600.0
    kept: list[Track] = []
    skipped: list[Track] = []
    for track in candidates:
        key = track_key(track)
        at = played.get(key)
        recent = window_hours > 0 and at is not None and at >= oldest
        if key in seen or recent:
            skipped.append(track)
        else:
            seen.add(key)
            kept.append(track)
    return DuplicateTrim(tuple(kept), tuple(skipped))


def leave_is_automation(level: AutomationLevel) -> bool:
    """Whether leaving an empty voice channel is an announced, audited automation action
    (``smart``/``full``); at ``off`` the bot's plain idle leave still frees the channel."""
    return level in _SMART_OR_FULL


def should_restart(
    level: AutomationLevel,
    *,
    queued: int,
    playing: bool,
    paused: bool,
    idle_since: float | None,
    now: float,
    after_seconds: float,
) -> bool:
    """At ``full``: a player with ``queued`` tracks (current included) that has played nothing
    (and is not paused) since ``idle_since`` for ``after_seconds`` is restarted."""
    if level != "full" or queued <= 0 or playing or paused or idle_since is None:
        return False
    return now - idle_since >= after_seconds


def should_rejoin(level: AutomationLevel, *, close_code: int | None, queued: int) -> bool:
    """At ``full``: re-join voice after a disconnect that was no normal close while music is
    queued (``close_code``: the voice websocket's; ``None``: the bot's voice state dropped)."""
    if level != "full" or queued <= 0:
        return False
    return close_code not in NORMAL_VOICE_CLOSE_CODES
