"""Node health state machine, health JSON, alarms and the alarm throttle."""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.routing import health_inputs, times
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import (
    TRANSITIONS,
    Alarm,
    AlarmThrottle,
    HealthEvent,
    HealthPolicy,
    NodeHealth,
    NodeStatus,
    ProbeResult,
    SentAlarm,
    Transition,
    WsEvent,
    alarm_for,
    is_routable,
    mermaid_state_diagram,
    next_probe_delay,
    observe,
)
from vectobeat_core.ids import NodeName

POLICY = HealthPolicy()
NODE = NodeName("eu-1")
OK = ProbeResult(ok=True, latency_ms=20.0)
SLOW = ProbeResult(ok=True, latency_ms=450.0)
FAIL = ProbeResult(ok=False, error="timeout")


def run(events: list[ProbeResult | WsEvent], start: NodeHealth | None = None) -> NodeHealth:
    health = start or NodeHealth.initial(NODE, 0.0)
    for i, event in enumerate(events, start=1):
        health, _ = observe(health, event, POLICY, float(i))
    return health


def test_table_is_total() -> None:
    assert set(TRANSITIONS) == {(s, e) for s in NodeStatus for e in HealthEvent}


def test_default_policy_marks_a_hung_node_down_within_three_seconds() -> None:
    assert POLICY.detection_bound_s <= 3.0
    health = run([OK])
    assert health.status is NodeStatus.UP
    now = 10.0
    health, transition = observe(health, FAIL, POLICY, now)
    assert health.status is NodeStatus.DEGRADED
    assert transition is not None
    for _ in range(POLICY.failures_to_down - 1):
        assert next_probe_delay(health, POLICY) == POLICY.retry_interval_s
        now += POLICY.retry_interval_s + POLICY.probe_timeout_s
        health, transition = observe(health, FAIL, POLICY, now)
    assert health.status is NodeStatus.DOWN
    assert transition == Transition(
        NODE, NodeStatus.DEGRADED, NodeStatus.DOWN, HealthEvent.BAD_STREAK, now
    )
    assert health.last_failover_at == now
    assert next_probe_delay(health, POLICY) == POLICY.probe_interval_s


@given(st.floats(0.0, 30.0), st.floats(0.0, 50.0))
def test_probe_loop_simulation_detects_a_hang_within_three_seconds(
    hang_at: float, latency: float
) -> None:
    """Drive the checker's loop (next_probe_delay after each probe ends) against a node that answers
    in ``latency`` ms until it hangs at ``hang_at``; it must be down within 3 s of the hang."""
    health = NodeHealth.initial(NODE, 0.0)
    start = 0.0
    while health.status is not NodeStatus.DOWN:
        if start < hang_at:
            end = start + latency / 1000
            health, _ = observe(health, ProbeResult(ok=True, latency_ms=latency), POLICY, end)
        else:
            end = start + POLICY.probe_timeout_s
            health, _ = observe(health, FAIL, POLICY, end)
        start = end + next_probe_delay(health, POLICY)
    assert health.last_failover_at is not None
    assert hang_at <= health.last_failover_at <= hang_at + 3.0


def test_closed_websocket_is_down_at_once_from_any_state() -> None:
    for start in NodeStatus:
        health = attrs.evolve(NodeHealth.initial(NODE, 0.0), status=start)
        after, transition = observe(health, WsEvent(open=False, code=1006), POLICY, 5.0)
        assert after.status is NodeStatus.DOWN
        assert (transition is None) == (start is NodeStatus.DOWN)


def test_slow_probes_degrade_then_down() -> None:
    health = run([OK, SLOW])
    assert health.status is NodeStatus.DEGRADED
    assert health.last_latency_ms == 450.0
    assert run([OK, SLOW, SLOW, SLOW]).status is NodeStatus.DOWN


def test_recovery_needs_consecutive_oks() -> None:
    down = run([WsEvent(open=False)])
    assert down.status is NodeStatus.DOWN
    assert run([OK], down).status is NodeStatus.DOWN
    assert run([OK, FAIL, OK], down).status is NodeStatus.DOWN
    assert run([WsEvent(open=True), OK, OK], down).status is NodeStatus.UP
    degraded = run([SLOW])
    assert run([OK], degraded).status is NodeStatus.DEGRADED
    assert run([OK, OK], degraded).status is NodeStatus.UP


def test_unknown_node_stays_unknown_on_a_single_failure() -> None:
    assert run([FAIL]).status is NodeStatus.UNKNOWN
    assert run([WsEvent(open=True)]).status is NodeStatus.UNKNOWN
    assert run([FAIL, FAIL, FAIL]).status is NodeStatus.DOWN


def test_websocket_events_keep_probe_facts() -> None:
    health = run([OK])
    after, transition = observe(health, WsEvent(open=True), POLICY, 9.0)
    assert transition is None
    assert after.last_check_at == health.last_check_at
    assert after.last_latency_ms == health.last_latency_ms


@given(st.lists(health_inputs, max_size=40), times)
def test_observe_invariants(events: list[ProbeResult | WsEvent], start: float) -> None:
    health = NodeHealth.initial(NODE, start)
    now = start
    for event in events:
        now += 0.5
        before = health
        health, transition = observe(health, event, POLICY, now)
        assert (
            health.consecutive_failures < POLICY.failures_to_down
            or health.status is NodeStatus.DOWN
        )
        assert health.consecutive_failures == 0 or health.consecutive_ok == 0
        if transition is None:
            assert health.status is before.status
            assert health.since == before.since
        else:
            assert (transition.from_status, transition.to_status) == (before.status, health.status)
            assert TRANSITIONS[(before.status, transition.event)] is health.status
            assert health.since == now == health.last_change_at
        if isinstance(event, WsEvent) and not event.open:
            assert health.status is NodeStatus.DOWN
        assert NodeHealth.from_json(json.loads(json.dumps(health.to_json()))) == health


def test_policy_validation() -> None:
    with pytest.raises(InvalidInput, match="failures_to_down"):
        HealthPolicy(failures_to_down=0)
    with pytest.raises(InvalidInput, match="probe_interval_s"):
        HealthPolicy(probe_interval_s=float("nan"))
    with pytest.raises(InvalidInput, match="retry_interval_s"):
        HealthPolicy(retry_interval_s=-1)
    with pytest.raises(InvalidInput, match="slow_ms"):
        HealthPolicy(slow_ms=1000, probe_timeout_s=0.5)
    assert HealthPolicy(slow_ms=1000, probe_timeout_s=1.5).detection_bound_s == pytest.approx(5.6)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"node": ""}, "node"),
        ({"status": "sideways"}, "status"),
        ({"status": None}, "status"),
        ({"since": None}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"consecutive_ok": -1}, "consecutive_ok"),
        ({"consecutive_failures": True}, "consecutive_failures"),
        ({"last_latency_ms": [1]}, "last_latency_ms"),
    ],
)
def test_health_json_garbage_names_the_field(patch: dict[str, object], field: str) -> None:
    data = {**NodeHealth.initial(NODE, 1.0).to_json(), **patch}
    with pytest.raises(InvalidInput, match=field):
        NodeHealth.from_json(data)


def test_health_json_must_be_an_object() -> None:
    with pytest.raises(InvalidInput, match="object"):
        NodeHealth.from_json([])


def test_routable_states() -> None:
    assert [s for s in NodeStatus if is_routable(s)] == [NodeStatus.UP, NodeStatus.DEGRADED]


def test_mermaid_diagram_is_drawn_from_the_table() -> None:
    diagram = mermaid_state_diagram()
    assert diagram.startswith("stateDiagram-v2\n    [*] --> unknown\n")
    for (source, event), target in TRANSITIONS.items():
        if source is not target:
            line = next(
                x for x in diagram.splitlines() if x.strip().startswith(f"{source} --> {target}:")
            )
            assert event.value in line
    assert "up --> up" not in diagram


def _transition(src: NodeStatus, dst: NodeStatus) -> Transition:
    return Transition(NODE, src, dst, HealthEvent.PROBE_OK, 7.0)


def test_alarms_trigger_on_down_and_resolve_on_recovery() -> None:
    trigger = alarm_for(_transition(NodeStatus.UP, NodeStatus.DOWN), NODE, "eu")
    assert trigger is not None
    assert (trigger.key, trigger.status, trigger.severity, trigger.at) == (
        "node:eu-1",
        "trigger",
        "critical",
        7.0,
    )
    assert "eu-1" in trigger.summary
    assert "eu" in trigger.summary
    resolve = alarm_for(_transition(NodeStatus.DOWN, NodeStatus.UP), NODE, "eu")
    assert resolve is not None
    assert (resolve.key, resolve.status) == ("node:eu-1", "resolve")
    assert alarm_for(_transition(NodeStatus.UP, NodeStatus.DEGRADED), NODE, "eu") is None
    assert alarm_for(_transition(NodeStatus.DEGRADED, NodeStatus.UP), NODE, "eu") is None


def _alarm(status: str, at: float, key: str = "node:a") -> Alarm:
    return Alarm(key=key, severity="critical", summary="x", status=status, at=at)  # type: ignore[arg-type]


def test_throttle_dedups_and_resolves_only_open_alarms() -> None:
    throttle = AlarmThrottle(per_key_interval_s=60, global_limit=2, global_window_s=10)
    assert throttle.decide(_alarm("trigger", 0), {}, [], 0).send
    sent = {"node:a": SentAlarm("trigger", 0.0)}
    assert not throttle.decide(_alarm("trigger", 30), sent, [0.0], 30).send
    assert throttle.decide(_alarm("trigger", 61), sent, [0.0], 61).send
    assert throttle.decide(_alarm("resolve", 31), sent, [0.0], 31).send
    assert not throttle.decide(_alarm("resolve", 31), {}, [], 31).send
    resolved = {"node:a": SentAlarm("resolve", 40.0)}
    assert not throttle.decide(_alarm("resolve", 41), resolved, [], 41).send
    assert throttle.decide(_alarm("trigger", 41), resolved, [40.0], 41).send


def test_throttle_global_limit_spares_resolves() -> None:
    throttle = AlarmThrottle(per_key_interval_s=60, global_limit=2, global_window_s=10)
    decision = throttle.decide(_alarm("trigger", 5, "node:c"), {}, [1.0, 2.0], 5)
    assert not decision.send
    assert "global limit" in decision.reason
    assert throttle.decide(_alarm("trigger", 12, "node:c"), {}, [1.0, 2.0], 12).send
    open_b = {"node:b": SentAlarm("trigger", 2.0)}
    assert throttle.decide(_alarm("resolve", 5, "node:b"), open_b, [1.0, 2.0], 5).send


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["node:a", "node:b", "node:c"]), st.sampled_from(["trigger", "resolve"])
        ),
        max_size=60,
    ),
    st.floats(0.1, 20),
)
def test_throttle_properties(events: list[tuple[str, str]], step: float) -> None:
    """Sent triggers respect the global window; resolves only close open alarms; no two open triggers
    of one key are closer than the per-key interval."""
    throttle = AlarmThrottle(per_key_interval_s=30, global_limit=3, global_window_s=10)
    last: dict[str, SentAlarm] = {}
    trigger_times: list[float] = []
    now = 0.0
    for key, status in events:
        now += step
        alarm = _alarm(status, now, key)
        previous = last.get(key)
        decision = throttle.decide(alarm, last, trigger_times, now)
        if not decision.send:
            continue
        if status == "resolve":
            assert previous is not None
            assert previous.status == "trigger"
        else:
            assert sum(1 for t in trigger_times if now - 10 < t <= now) < 3
            if previous is not None and previous.status == "trigger":
                assert now - previous.at >= 30
            trigger_times.append(now)
        last[key] = SentAlarm(alarm.status, now)


def test_throttle_validation() -> None:
    with pytest.raises(InvalidInput, match="global_limit"):
        AlarmThrottle(global_limit=0)


BUSY_FAIL = ProbeResult(ok=False, error="timeout", busy=True)
BUSY_SLOW = ProbeResult(ok=True, latency_ms=1800.0, busy=True)


@given(st.lists(st.sampled_from([BUSY_FAIL, BUSY_SLOW, OK]), min_size=1, max_size=40))
def test_a_busy_node_is_degraded_at_worst_never_down(events: list[ProbeResult]) -> None:
    health = run([OK, *events])
    assert health.status is not NodeStatus.DOWN


def test_a_busy_node_that_falls_silent_goes_down_as_before() -> None:
    health = run([OK, BUSY_FAIL, BUSY_FAIL])
    assert health.status is NodeStatus.DEGRADED
    health = run([FAIL] * POLICY.failures_to_down, start=health)
    assert health.status is NodeStatus.DOWN


def test_only_a_node_found_up_at_start_is_routine() -> None:
    health = NodeHealth.initial(NODE, 0.0)
    _, found = observe(health, OK, POLICY, 1.0)
    assert found is not None and found.routine
    health = run([OK, OK])
    _, lost = observe(health, WsEvent(open=False, reason="closed"), POLICY, 9.0)
    assert lost is not None and not lost.routine


def test_every_health_event_reads_as_words() -> None:
    for event in HealthEvent:
        assert event.text and "_" not in event.text, event
