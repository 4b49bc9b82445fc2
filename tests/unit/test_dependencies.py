"""Dependency states, the reconnect backoff, readiness with dependencies and the heartbeat verdict."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.dependencies import (
    DependencyState,
    DependencyStatus,
    dependency_problems,
    describe_age,
    is_alive,
    reconnect_delay,
)
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import NodeName
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeView
from vectobeat_core.status import SyncState, build_status, overall_status, readiness

states = st.sampled_from(list(DependencyState))
times = st.floats(0, 2e9, allow_nan=False)
draws = st.floats(0, 1, exclude_max=True)
UP_NODE = NodeView(NodeSpec(NodeName("eu-1"), Region.EU, "http://h:1", "pw", False), NodeStatus.UP)
SYNC = SyncState("pubsub", True, 1.0, 0)


@given(st.lists(st.tuples(states, times), max_size=30))
def test_since_moves_only_when_the_state_changes(
    observations: list[tuple[DependencyState, float]],
) -> None:
    status = DependencyStatus("redis", DependencyState.DOWN)
    for state, now in observations:
        before = status
        status = status.observe(state, now)
        if state is before.state and before.since is not None:
            assert (status.since, status.changes) == (before.since, before.changes)
        else:
            assert (status.since, status.changes) == (now, before.changes + 1)
        assert status.state is state


def test_observe_keeps_the_detail_fresh_and_refuses_a_bad_time() -> None:
    down = DependencyStatus("sql", DependencyState.UP, 5.0, 1).observe(
        DependencyState.DOWN, 9.0, "refused"
    )
    again = down.observe(DependencyState.DOWN, 12.0, "timed out")
    assert (again.since, again.detail) == (9.0, "timed out")
    assert again.to_json(19.0)["since_age_s"] == 10.0
    with pytest.raises(InvalidInput):
        down.observe(DependencyState.UP, math.nan)


@given(st.integers(0, 200), draws, st.floats(0.01, 5), st.floats(5, 60), st.floats(0, 1))
def test_reconnect_delay_is_capped_jittered_and_grows(
    attempt: int, draw: float, base: float, cap: float, jitter: float
) -> None:
    delay = reconnect_delay(attempt, draw, base=base, cap=cap, jitter=jitter)
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    assert ceiling * (1 - jitter) - 1e-9 <= delay <= ceiling + 1e-9
    assert 0 < delay <= cap
    # the ceiling never shrinks from one attempt to the next
    assert reconnect_delay(attempt + 1, 0.0, base=base, cap=cap) >= reconnect_delay(
        attempt, 0.0, base=base, cap=cap
    )


def test_reconnect_delay_defaults_reach_the_cap_of_30_s() -> None:
    assert reconnect_delay(0, 0.0) == 0.5
    assert reconnect_delay(10, 0.0) == 30.0
    assert reconnect_delay(10, 0.5) == 22.5
    assert reconnect_delay(10_000, 0.999) > 15.0


@pytest.mark.parametrize(
    ("attempt", "draw", "options"),
    [(-1, 0.5, {}), (True, 0.5, {}), (0, 1.0, {}), (0, -0.1, {}), (0, 0.5, {"jitter": 2.0}),
     (0, 0.5, {"base": 0.0}), (0, 0.5, {"base": 5.0, "cap": 1.0}), (0, 0.5, {"cap": math.inf})],
)  # fmt: skip
def test_reconnect_delay_refuses_bad_input(
    attempt: int, draw: float, options: dict[str, float]
) -> None:
    with pytest.raises(InvalidInput):
        reconnect_delay(attempt, draw, **options)


@given(st.lists(st.tuples(st.sampled_from(["redis", "sql", "panel_bridge"]), states, st.booleans()),
                max_size=3, unique_by=lambda t: t[0]))  # fmt: skip
def test_readiness_names_every_required_dependency_that_is_not_usable(
    deps: list[tuple[str, DependencyState, bool]],
) -> None:
    statuses = [DependencyStatus(n, s, 1.0, 1, "why", r) for n, s, r in deps]
    ready, reasons = readiness(shards=[], nodes=[UP_NODE], dependencies=statuses)
    blocking = sorted(n for n, s, r in deps if r and s is DependencyState.DOWN)
    assert ready is (not blocking)
    assert reasons == [f"{n} is down: why" for n in blocking]
    assert dependency_problems(statuses) == reasons
    expected = (
        "down" if blocking
        else "degraded" if any(s in (DependencyState.DOWN, DependencyState.DEGRADED) for _, s, _ in deps)
        else "ok"
    )  # fmt: skip
    assert (
        overall_status(shards=[], nodes=[UP_NODE], settings_sync=SYNC, dependencies=statuses)
        == expected
    )


def test_status_payload_has_a_field_per_dependency() -> None:
    deps = [
        DependencyStatus("redis", DependencyState.DOWN, 100.0, 2, "refused", True),
        DependencyStatus("panel_bridge", DependencyState.NOT_CONFIGURED),
    ]
    payload = build_status(
        now=130.0, started_at=0.0, guilds=0, players=0, queue_tracks=0, shards=[],
        nodes=[UP_NODE], regions={}, settings_sync=SYNC, dependencies=deps,
    )  # fmt: skip
    assert payload["ready"] is False and payload["reasons"] == ["redis is down: refused"]
    assert payload["dependencies"] == {
        "panel_bridge": {"state": "not_configured", "since": None, "since_age_s": None,
                         "changes": 0, "required": False, "detail": None},
        "redis": {"state": "down", "since": 100.0, "since_age_s": 30.0, "changes": 2,
                  "required": True, "detail": "refused"},
    }  # fmt: skip
    with pytest.raises(InvalidInput):
        build_status(
            now=1.0, started_at=0.0, guilds=0, players=0, queue_tracks=0, shards=[], nodes=[],
            regions={}, settings_sync=SYNC, dependencies=[deps[0], deps[0]],
        )  # fmt: skip


@given(st.floats(allow_nan=True), st.floats(0.1, 60))
def test_is_alive_only_with_a_recent_tick(age: float, limit: float) -> None:
    alive, reason = is_alive(age, limit)
    assert alive is (math.isfinite(age) and age <= limit)
    assert (reason is None) is alive


def test_is_alive_refuses_a_bad_limit() -> None:
    for limit in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(InvalidInput):
            is_alive(1.0, limit)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-3.0, "just now"), (4.9, "just now"), (42.0, "42 s ago"), (180.0, "3 min ago"),
     (3599.0, "59 min ago"), (7200.0, "2 h ago"), (86_400.0, "1 day ago"), (3 * 86_400.0, "3 days ago")],
)  # fmt: skip
def test_describe_age(seconds: float, text: str) -> None:
    assert describe_age(seconds) == text


@given(st.floats(-1e6, 1e9))
def test_describe_age_reads_ago_or_just_now(seconds: float) -> None:
    text = describe_age(seconds)
    assert text == "just now" or text.endswith(" ago")


def test_an_age_that_is_not_a_number_of_seconds_is_refused() -> None:
    with pytest.raises(InvalidInput, match="finite number of seconds"):
        describe_age(float("nan"))
