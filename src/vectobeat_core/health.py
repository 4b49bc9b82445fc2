"""Lavalink node health: one transition table, probe classification, alarms and their throttle.

Facts go in (a probe result or a websocket event, and ``now``), a new ``NodeHealth`` and maybe a
``Transition`` come out. The table ``TRANSITIONS`` is the only place the state machine lives; the docs
diagram is generated from it by ``mermaid_state_diagram()``.

Raw inputs are classified first: a probe is ``probe_ok``, ``probe_slow`` or ``probe_failed``; a bad
probe that completes a streak of ``failures_to_down`` bad probes becomes ``bad_streak``; a good probe
that completes ``recover_after`` good probes becomes ``ok_streak``. A bad probe of a node that is
busy (heard from just before, see `ProbeResult.busy`) is ``probe_slow`` and never part of a streak:
a node absorbing a failover is not failed for slow replies alone, while a node that stops answering
entirely is heard from by nothing and goes down as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import partial
from typing import Literal

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import NodeName
from vectobeat_core.jsonform import dump_method, json_form, json_key, load_method
from vectobeat_core.messages import message_id

__all__ = [
    "TRANSITIONS",
    "Alarm",
    "AlarmThrottle",
    "HealthEvent",
    "HealthPolicy",
    "NodeHealth",
    "NodeStatus",
    "ProbeResult",
    "SentAlarm",
    "ThrottleDecision",
    "Transition",
    "WsEvent",
    "alarm_for",
    "classify",
    "is_routable",
    "mermaid_state_diagram",
    "next_probe_delay",
    "observe",
]


class NodeStatus(StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"

    @property
    def label(self) -> str:
        """How the status reads for people (a message id: the shells translate it)."""
        return _STATUS_LABELS[self]


_STATUS_LABELS: Mapping[NodeStatus, str] = {
    NodeStatus.UNKNOWN: message_id("unknown"),
    NodeStatus.UP: message_id("up"),
    NodeStatus.DEGRADED: message_id("degraded"),
    NodeStatus.DOWN: message_id("down"),
}


class HealthEvent(StrEnum):
    PROBE_OK = "probe_ok"
    OK_STREAK = "ok_streak"
    PROBE_SLOW = "probe_slow"
    PROBE_FAILED = "probe_failed"
    BAD_STREAK = "bad_streak"
    WS_OPEN = "ws_open"
    WS_CLOSED = "ws_closed"

    @property
    def text(self) -> str:
        """What happened, for people (audit entries and alarms never show ``ws_closed``)."""
        return _EVENT_TEXT[self]


_EVENT_TEXT: Mapping[HealthEvent, str] = {
    HealthEvent.PROBE_OK: "a health probe answered",
    HealthEvent.OK_STREAK: "health probes answered again",
    HealthEvent.PROBE_SLOW: "a health probe answered slowly",
    HealthEvent.PROBE_FAILED: "a health probe failed",
    HealthEvent.BAD_STREAK: "health probes kept failing",
    HealthEvent.WS_OPEN: "its websocket opened",
    HealthEvent.WS_CLOSED: "its websocket closed",
}


_S = NodeStatus
_E = HealthEvent

#: The node health state machine. Every (state, event) pair is present.
TRANSITIONS: Mapping[tuple[NodeStatus, HealthEvent], NodeStatus] = {
    (_S.UNKNOWN, _E.PROBE_OK): _S.UP,
    (_S.UNKNOWN, _E.OK_STREAK): _S.UP,
    (_S.UNKNOWN, _E.PROBE_SLOW): _S.DEGRADED,
    (_S.UNKNOWN, _E.PROBE_FAILED): _S.UNKNOWN,
    (_S.UNKNOWN, _E.BAD_STREAK): _S.DOWN,
    (_S.UNKNOWN, _E.WS_OPEN): _S.UNKNOWN,
    (_S.UNKNOWN, _E.WS_CLOSED): _S.DOWN,
    (_S.UP, _E.PROBE_OK): _S.UP,
    (_S.UP, _E.OK_STREAK): _S.UP,
    (_S.UP, _E.PROBE_SLOW): _S.DEGRADED,
    (_S.UP, _E.PROBE_FAILED): _S.DEGRADED,
    (_S.UP, _E.BAD_STREAK): _S.DOWN,
    (_S.UP, _E.WS_OPEN): _S.UP,
    (_S.UP, _E.WS_CLOSED): _S.DOWN,
    (_S.DEGRADED, _E.PROBE_OK): _S.DEGRADED,
    (_S.DEGRADED, _E.OK_STREAK): _S.UP,
    (_S.DEGRADED, _E.PROBE_SLOW): _S.DEGRADED,
    (_S.DEGRADED, _E.PROBE_FAILED): _S.DEGRADED,
    (_S.DEGRADED, _E.BAD_STREAK): _S.DOWN,
    (_S.DEGRADED, _E.WS_OPEN): _S.DEGRADED,
    (_S.DEGRADED, _E.WS_CLOSED): _S.DOWN,
    (_S.DOWN, _E.PROBE_OK): _S.DOWN,
    (_S.DOWN, _E.OK_STREAK): _S.UP,
    (_S.DOWN, _E.PROBE_SLOW): _S.DOWN,
    (_S.DOWN, _E.PROBE_FAILED): _S.DOWN,
    (_S.DOWN, _E.BAD_STREAK): _S.DOWN,
    (_S.DOWN, _E.WS_OPEN): _S.DOWN,
    (_S.DOWN, _E.WS_CLOSED): _S.DOWN,
}

_ROUTABLE = frozenset({NodeStatus.UP, NodeStatus.DEGRADED})


def is_routable(status: NodeStatus) -> bool:
    """Whether new or moved players may be placed on a node in this state."""
    return status in _ROUTABLE


def _check_positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InvalidInput(f"{attribute.name} must be a positive number, got {value!r}")


def _check_non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise InvalidInput(f"{attribute.name} must be zero or more, got {value!r}")


def _check_count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{attribute.name} must be a whole number of at least 1, got {value!r}")


@attrs.frozen
class HealthPolicy:
    """Thresholds of the health checker.

    A probe unanswered after ``probe_timeout_s`` failed; one answered after ``slow_ms`` is slow.
    After a bad probe the next one follows ``retry_interval_s`` later instead of ``probe_interval_s``,
    so a node that hangs is down within ``detection_bound_s`` (2.9 s with the defaults) plus the
    latency of the last good probe: under the 3 s the failover design promises.
    """

    failures_to_down: int = attrs.field(default=3, validator=_check_count)
    slow_ms: float = attrs.field(default=400.0, validator=_check_positive)
    probe_interval_s: float = attrs.field(default=1.0, validator=_check_positive)
    probe_timeout_s: float = attrs.field(default=0.6, validator=_check_positive)
    retry_interval_s: float = attrs.field(default=0.05, validator=_check_non_negative)
    recover_after: int = attrs.field(default=2, validator=_check_count)

    def __attrs_post_init__(self) -> None:
        if self.slow_ms >= self.probe_timeout_s * 1000:
            raise InvalidInput(
                f"slow_ms ({self.slow_ms}) must be below the probe timeout "
                f"({self.probe_timeout_s * 1000:.0f} ms), or no probe could ever be slow"
            )

    @property
    def detection_bound_s(self) -> float:
        """Worst case from a node hanging to it being marked down (probes scheduled from the end
        of the previous probe, not counting the last good probe's latency)."""
        n = self.failures_to_down
        return self.probe_interval_s + n * self.probe_timeout_s + (n - 1) * self.retry_interval_s


@attrs.frozen
class ProbeResult:
    """One probe of a node: ``ok`` with its latency, or failed with a short ``error``.

    ``busy``: the node was heard from (a websocket message, a REST answer) within the moments
    before the probe ended, so a slow or failed probe means "loaded", not "gone" (see `classify`).
    """

    ok: bool
    latency_ms: float | None = None
    error: str | None = None
    busy: bool = False


@attrs.frozen
class WsEvent:
    """The node's websocket opened (``ready`` received) or closed."""

    open: bool
    code: int | None = None
    reason: str | None = None


@attrs.frozen
class Transition:
    """A status change, so callers can alarm, audit and count failovers."""

    node: NodeName
    from_status: NodeStatus
    to_status: NodeStatus
    event: HealthEvent
    at: float

    @property
    def routine(self) -> bool:
        """A node found up at start: worth an INFO line, not a WARNING."""
        return self.from_status is NodeStatus.UNKNOWN and self.to_status is NodeStatus.UP


def _count(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"Node health field {field!r} must be a whole number of at least 0.")
    return value


def _node(value: object) -> NodeName:
    if not isinstance(value, str) or not value:
        raise InvalidInput("Node health field 'node' must be a non-empty string.")
    return NodeName(value)


@json_form(what="Node health")
@attrs.frozen
class NodeHealth:
    """What the checker knows about one node; ``since`` is when the current status began."""

    node: NodeName = attrs.field(metadata=json_key(load=_node))
    status: NodeStatus = NodeStatus.UNKNOWN
    consecutive_failures: int = attrs.field(
        default=0, metadata=json_key(load=partial(_count, "consecutive_failures"))
    )
    consecutive_ok: int = attrs.field(
        default=0, metadata=json_key(load=partial(_count, "consecutive_ok"))
    )
    last_latency_ms: float | None = None
    last_check_at: float | None = None
    last_change_at: float | None = None
    last_failover_at: float | None = None
    since: float = 0.0

    @classmethod
    def initial(cls, node: NodeName, now: float) -> NodeHealth:
        return cls(node=node, since=now)

    to_json = dump_method()
    from_json = load_method()
    """Read what ``to_json`` wrote; anything else raises ``InvalidInput`` naming the field."""


def classify(
    health: NodeHealth, event: ProbeResult | WsEvent, policy: HealthPolicy
) -> tuple[HealthEvent, int, int]:
    """The table event for a raw input, with the new (consecutive_failures, consecutive_ok)."""
    if isinstance(event, WsEvent):
        if event.open:
            return HealthEvent.WS_OPEN, health.consecutive_failures, health.consecutive_ok
        return HealthEvent.WS_CLOSED, health.consecutive_failures, 0
    if event.ok and (event.latency_ms is None or event.latency_ms < policy.slow_ms):
        oks = health.consecutive_ok + 1
        kind = HealthEvent.OK_STREAK if oks >= policy.recover_after else HealthEvent.PROBE_OK
        return kind, 0, oks
    if event.busy:  # loaded, not gone: degraded, and no step towards down
        return HealthEvent.PROBE_SLOW, health.consecutive_failures, 0
    failures = health.consecutive_failures + 1
    if failures >= policy.failures_to_down:
        return HealthEvent.BAD_STREAK, failures, 0
    return (HealthEvent.PROBE_SLOW if event.ok else HealthEvent.PROBE_FAILED), failures, 0


def observe(
    health: NodeHealth, event: ProbeResult | WsEvent, policy: HealthPolicy, now: float
) -> tuple[NodeHealth, Transition | None]:
    """Apply one probe result or websocket event; a closed websocket is down at once."""
    kind, failures, oks = classify(health, event, policy)
    target = TRANSITIONS[(health.status, kind)]
    latency = health.last_latency_ms
    checked = health.last_check_at
    if isinstance(event, ProbeResult):
        latency = event.latency_ms if event.ok else None
        checked = now
    updated = attrs.evolve(
        health,
        consecutive_failures=failures,
        consecutive_ok=oks,
        last_latency_ms=latency,
        last_check_at=checked,
    )
    if target is health.status:
        return updated, None
    updated = attrs.evolve(
        updated,
        status=target,
        last_change_at=now,
        since=now,
        last_failover_at=now if target is NodeStatus.DOWN else health.last_failover_at,
    )
    return updated, Transition(health.node, health.status, target, kind, now)


def next_probe_delay(health: NodeHealth, policy: HealthPolicy) -> float:
    """Seconds until the next probe: quick retries while a node is failing, else the interval."""
    if health.consecutive_failures > 0 and health.status is not NodeStatus.DOWN:
        return policy.retry_interval_s
    return policy.probe_interval_s


def mermaid_state_diagram() -> str:
    """A Mermaid ``stateDiagram-v2`` drawn from ``TRANSITIONS`` (self-loops left out)."""
    edges: dict[tuple[NodeStatus, NodeStatus], list[str]] = {}
    for (source, event), target in TRANSITIONS.items():
        if source is not target:
            edges.setdefault((source, target), []).append(event.value)
    lines = ["stateDiagram-v2", f"    [*] --> {NodeStatus.UNKNOWN.value}"]
    lines += [
        f"    {source.value} --> {target.value}: {', '.join(events)}"
        for (source, target), events in edges.items()
    ]
    return "\n".join(lines) + "\n"


Severity = Literal["critical", "error", "warning", "info"]
AlarmStatus = Literal["trigger", "resolve"]


@attrs.frozen
class Alarm:
    """An alarm for the sinks; ``key`` de-duplicates (PagerDuty ``dedup_key``)."""

    key: str
    severity: Severity
    summary: str
    status: AlarmStatus
    at: float


def alarm_for(transition: Transition, node: NodeName, region: str) -> Alarm | None:
    """Trigger when a node goes down, resolve when a down node comes back up, else nothing."""
    key = f"node:{node}"
    if transition.to_status is NodeStatus.DOWN and transition.from_status is not NodeStatus.DOWN:
        return Alarm(
            key=key,
            severity="critical",
            summary=(
                f"Lavalink node {node} ({region}) is down "
                f"({transition.event.value} while {transition.from_status.value})"
            ),
            status="trigger",
            at=transition.at,
        )
    if transition.from_status is NodeStatus.DOWN and transition.to_status is NodeStatus.UP:
        return Alarm(
            key=key,
            severity="info",
            summary=f"Lavalink node {node} ({region}) recovered",
            status="resolve",
            at=transition.at,
        )
    return None


@attrs.frozen
class SentAlarm:
    """The last alarm actually sent for a key."""

    status: AlarmStatus
    at: float


@attrs.frozen
class ThrottleDecision:
    send: bool
    reason: str


@attrs.frozen
class AlarmThrottle:
    """De-duplication and rate limits for alarms.

    A trigger repeating an unresolved trigger of the same key within ``per_key_interval_s`` is a
    duplicate; a trigger is suppressed once ``global_limit`` alarms were sent within
    ``global_window_s`` (``recent_sends`` holds their times). A resolve is sent only when its key
    has an open (sent) trigger, and is never rate limited. The caller records what it sent.
    """

    per_key_interval_s: float = attrs.field(default=300.0, validator=_check_positive)
    global_limit: int = attrs.field(default=20, validator=_check_count)
    global_window_s: float = attrs.field(default=60.0, validator=_check_positive)

    def decide(
        self,
        alarm: Alarm,
        last_sent: Mapping[str, SentAlarm],
        recent_sends: Sequence[float],
        now: float,
    ) -> ThrottleDecision:
        previous = last_sent.get(alarm.key)
        if alarm.status == "resolve":
            if previous is None or previous.status == "resolve":
                return ThrottleDecision(False, f"{alarm.key} has no open alarm to resolve")
            return ThrottleDecision(True, "resolves the open alarm")
        if (
            previous is not None
            and previous.status == "trigger"
            and now - previous.at < self.per_key_interval_s
        ):
            return ThrottleDecision(False, f"duplicate of the open {alarm.key} alarm")
        in_window = sum(1 for at in recent_sends if now - self.global_window_s < at <= now)
        if in_window >= self.global_limit:
            return ThrottleDecision(
                False,
                f"global limit of {self.global_limit} alarms per {self.global_window_s:g} s reached",
            )
        return ThrottleDecision(True, "new alarm")
