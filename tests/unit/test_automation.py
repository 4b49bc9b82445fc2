"""The automation policy: the command throttle, duplicate trimming, idle leave and idle restart."""

from __future__ import annotations

import itertools
import math

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.tracks import tracks
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.automation import (
    NORMAL_VOICE_CLOSE_CODES,
    ThrottleRule,
    leave_is_automation,
    should_rejoin,
    should_restart,
    take_token,
    track_key,
    trim_duplicates,
)
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import AUTOMATION_LEVELS, AutomationLevel
from vectobeat_core.tracks import Track

levels = st.sampled_from(AUTOMATION_LEVELS)
rules = st.builds(
    ThrottleRule,
    limit=st.integers(1, 100),
    per_seconds=st.floats(0.5, 120, allow_nan=False, allow_infinity=False),
)
gaps = st.lists(st.floats(0, 30, allow_nan=False, allow_infinity=False), max_size=300)


def run_calls(rule: ThrottleRule, gaps_between: list[float]) -> list[tuple[float, bool, bool]]:
    """(time, allowed, report) for calls spaced by ``gaps_between``."""
    state = None
    now = 1000.0
    out = []
    for gap in gaps_between:
        now += gap
        decision = take_token(rule, state, now)
        state = decision.state
        out.append((now, decision.allowed, decision.report))
    return out


@given(rules, gaps)
def test_no_window_admits_more_than_the_burst_plus_the_refill(
    rule: ThrottleRule, spacing: list[float]
) -> None:
    calls = run_calls(rule, spacing)
    allowed = [t for t, ok, _ in calls if ok]
    for i, start in enumerate(allowed):
        inside = [t for t in allowed[i:] if t - start <= rule.per_seconds]
        assert len(inside) <= rule.limit + math.ceil(rule.per_seconds * rule.rate) + 1


@given(rules, gaps)
def test_refusals_are_reported_at_most_once_per_window(
    rule: ThrottleRule, spacing: list[float]
) -> None:
    reports = [t for t, ok, report in run_calls(rule, spacing) if report]
    assert all(not ok for _, ok, report in run_calls(rule, spacing) if report)
    for earlier, later in itertools.pairwise(reports):
        assert later - earlier >= rule.per_seconds


@given(rules)
def test_a_burst_is_admitted_then_the_flood_is_refused_with_a_wait(rule: ThrottleRule) -> None:
    calls = run_calls(rule, [0.0] * (rule.limit + 5))
    assert [ok for _, ok, _ in calls] == [True] * rule.limit + [False] * 5
    assert [report for _, _, report in calls].count(True) == 1
    refused = take_token(rule, None, 0.0)
    for _ in range(rule.limit):
        refused = take_token(rule, refused.state, 0.0)
    assert not refused.allowed and 0 < refused.retry_after <= 1 / rule.rate + 1e-9
    assert refused.message().startswith("Slow down: try again in ")


def test_fifty_in_fifteen_seconds_is_the_default_and_waiting_refills() -> None:
    rule = ThrottleRule()
    assert (rule.limit, rule.per_seconds) == (50, 15.0)
    calls = run_calls(rule, [0.0] * 51)
    assert calls[-1][1] is False
    state = take_token(rule, None, 0.0).state
    for _ in range(50):
        state = take_token(rule, state, 0.0).state
    assert take_token(rule, state, 15.0).allowed
    assert take_token(rule, state, -5.0).allowed is False  # a clock going back refills nothing


@pytest.mark.parametrize(("limit", "per"), [(0, 15.0), (True, 15.0), (5, 0.0), (5, math.nan)])
def test_a_bad_rule_is_refused_clearly(limit: int, per: float) -> None:
    with pytest.raises(InvalidInput, match="Throttle"):
        ThrottleRule(limit, per)


@st.composite
def picks(draw: st.DrawFn) -> tuple[list[Track], list[Track]]:
    """Candidates and a queue drawn from a small pool, so that duplicates occur."""
    pool = draw(st.lists(tracks(short=True), min_size=1, max_size=4))
    index = st.integers(0, len(pool) - 1)
    candidates = [pool[i] for i in draw(st.lists(index, max_size=6))]
    return candidates, [pool[i] for i in draw(st.lists(index, max_size=6))]


@given(picks(), st.integers(0, 720))
def test_off_trims_nothing_and_smart_never_adds_a_queued_track(
    drawn: tuple[list[Track], list[Track]], window: int
) -> None:
    candidates, queued = drawn
    off = trim_duplicates("off", candidates, queued, {}, now=0.0, window_hours=window)
    assert off.kept == tuple(candidates) and off.skipped == ()
    for level in ("smart", "full"):
        trim = trim_duplicates(level, candidates, queued, {}, now=0.0, window_hours=window)
        kept_keys = [track_key(t) for t in trim.kept]
        assert len(kept_keys) == len(set(kept_keys))
        assert not set(kept_keys) & {track_key(t) for t in queued}
        assert len(trim.kept) + len(trim.skipped) == len(candidates)
        assert {track_key(t) for t in candidates} <= {*kept_keys, *(track_key(t) for t in queued)}


@given(tracks(), st.integers(1, 720), st.floats(0, 1e6, allow_nan=False))
def test_a_track_played_within_the_window_is_skipped_and_outside_it_is_added(
    track: Track, window: int, ago: float
) -> None:
    now = 2e9
    played = {track_key(track): now - ago}
    trim = trim_duplicates("smart", [track], [], played, now=now, window_hours=window)
    assert bool(trim.skipped) == (ago <= window * 3600)
    unwindowed = trim_duplicates("smart", [track], [], played, now=now, window_hours=0)
    assert unwindowed.kept == (track,)


@given(tracks())
def test_the_skip_message_names_the_duplicate(track: Track) -> None:
    trim = trim_duplicates("full", [track, track], [track], {}, now=0.0, window_hours=0)
    assert trim.kept == () and len(trim.skipped) == 2
    assert "duplicates" in trim.message()
    single = attrs.evolve(trim, skipped=trim.skipped[:1])
    assert "as a duplicate" in single.message()


@given(levels)
def test_leaving_an_empty_channel_is_automation_only_at_smart_and_full(
    level: AutomationLevel,
) -> None:
    assert leave_is_automation(level) == (level != "off")


@given(
    level=levels,
    queued=st.integers(0, 5),
    playing=st.booleans(),
    paused=st.booleans(),
    idle_since=st.none() | st.floats(0, 100, allow_nan=False),
    now=st.floats(0, 200, allow_nan=False),
)
def test_only_full_restarts_a_queued_unpaused_player_idle_long_enough(
    *,
    level: AutomationLevel,
    queued: int,
    playing: bool,
    paused: bool,
    idle_since: float | None,
    now: float,
) -> None:
    decided = should_restart(
        level, queued=queued, playing=playing, paused=paused, idle_since=idle_since,
        now=now, after_seconds=10.0,
    )  # fmt: skip
    expected = (
        level == "full" and queued > 0 and not playing and not paused
        and idle_since is not None and now - idle_since >= 10.0
    )  # fmt: skip
    assert decided == expected


@given(levels, st.none() | st.integers(1000, 4999), st.integers(0, 5))
def test_only_full_rejoins_an_abnormal_voice_disconnect_with_music_queued(
    level: AutomationLevel, code: int | None, queued: int
) -> None:
    expected = level == "full" and queued > 0 and code not in NORMAL_VOICE_CLOSE_CODES
    assert should_rejoin(level, close_code=code, queued=queued) == expected
    assert not should_rejoin(level, close_code=4014, queued=queued)  # kicked or moved: stay out
    assert should_rejoin("full", close_code=4006, queued=1)


def test_the_automation_audit_event_says_what_and_why() -> None:
    event = AuditEvent.automation_action(GuildId(42), "restarted the player", "idle 10 s", 5.0)
    assert event.kind is AuditKind.AUTOMATION_ACTION and event.actor == "automation"
    assert event.summary == "Automation: restarted the player (idle 10 s)."
    assert event.data == {"action": "restarted the player", "reason": "idle 10 s"}
    assert AuditEvent.from_json(event.to_json()) == event
