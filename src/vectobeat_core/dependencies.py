"""The state of each dependency (Redis, SQL, the panel bridge, Lavalink nodes) and how to reconnect.

`DependencyStatus` is one dependency's state with the time it last changed (``since``) and how
often it changed; `observe` is its only transition. `reconnect_delay` is the wait before the next
reconnect attempt: exponential backoff with jitter, capped. `dependency_problems` says which
required dependencies keep the process from serving, `is_alive` judges the event-loop heartbeat,
and `describe_age` says how old something is for a person ("3 min ago"). Pure: the caller brings the time and the random draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum

import attrs

from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.errors import InvalidInput
from vectobeat_core.jsontypes import JSON
from vectobeat_core.messages import message_id

__all__ = [
    "RECONNECT_BASE_S",
    "RECONNECT_CAP_S",
    "DependencyState",
    "DependencyStatus",
    "age_message",
    "dependency_problems",
    "describe_age",
    "is_alive",
    "reconnect_delay",
]

RECONNECT_BASE_S = 0.5
RECONNECT_CAP_S = 30.0


class DependencyState(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    NOT_CONFIGURED = "not_configured"

    @property
    def label(self) -> str:
        """How the state reads for people (a message id: the shells translate it)."""
        return _STATE_LABELS[self]


_STATE_LABELS: Mapping[DependencyState, str] = {
    DependencyState.UP: message_id("up"),
    DependencyState.DEGRADED: message_id("degraded"),
    DependencyState.DOWN: message_id("down"),
    DependencyState.NOT_CONFIGURED: message_id("not configured"),
}


@attrs.frozen
class DependencyStatus:
    """``name`` is ``state`` since ``since`` (epoch seconds; ``None``: never observed)."""

    name: str
    state: DependencyState
    since: float | None = None
    changes: int = 0
    detail: str | None = None
    required: bool = False

    @property
    def usable(self) -> bool:
        """Calls may go to it (up, or degraded but answering)."""
        return self.state in (DependencyState.UP, DependencyState.DEGRADED)

    def observe(
        self, state: DependencyState, now: float, detail: str | None = None
    ) -> DependencyStatus:
        """The status after seeing ``state`` at ``now``: ``since`` moves only when the state changes."""
        if not math.isfinite(now):
            raise InvalidInput("a dependency observation needs a finite time")
        if state is self.state and self.since is not None:
            return attrs.evolve(self, detail=detail)
        return attrs.evolve(self, state=state, since=now, changes=self.changes + 1, detail=detail)

    # Written by hand, not by jsonform: a view at ``now`` (with the age), never read back.
    def to_json(self, now: float) -> dict[str, JSON]:
        age = None if self.since is None else round(max(0.0, now - self.since), 3)
        return {
            "state": self.state.value,
            "since": self.since,
            "since_age_s": age,
            "changes": self.changes,
            "required": self.required,
            "detail": self.detail,
        }


def reconnect_delay(
    attempt: int,
    draw: float,
    *,
    base: float = RECONNECT_BASE_S,
    cap: float = RECONNECT_CAP_S,
    jitter: float = 0.5,
) -> float:
    """Seconds to wait before reconnect ``attempt`` (0 is the first retry).

    The core's one back-off (`ExponentialBackoff`): the ceiling doubles from ``base`` up to
    ``cap``; ``draw`` (uniform in [0, 1)) takes up to ``jitter`` of it away, so processes that
    lost a dependency together do not return together.
    """
    if not (0.0 <= draw < 1.0):
        raise InvalidInput("reconnect draw must be in [0, 1)")
    return ExponentialBackoff(base, cap, jitter).delay(attempt, draw)


def dependency_problems(dependencies: Sequence[DependencyStatus]) -> list[str]:
    """One reason per required dependency that cannot be used, naming it."""
    reasons: list[str] = []
    for dep in sorted(dependencies, key=lambda d: d.name):
        if dep.required and not dep.usable and dep.state is not DependencyState.NOT_CONFIGURED:
            detail = f": {dep.detail}" if dep.detail else ""
            reasons.append(f"{dep.name} is {dep.state.value}{detail}")
    return reasons


def is_alive(last_tick_age_s: float, max_age_s: float) -> tuple[bool, str | None]:
    """Whether the event loop's heartbeat is recent enough; the reason when it is not."""
    if not (math.isfinite(max_age_s) and max_age_s > 0):
        raise InvalidInput("the heartbeat limit must be a positive number of seconds")
    if not math.isfinite(last_tick_age_s) or last_tick_age_s > max_age_s:
        shown = "never" if not math.isfinite(last_tick_age_s) else f"{last_tick_age_s:.1f} s ago"
        return False, f"the event loop heartbeat last ticked {shown} (limit {max_age_s:.1f} s)"
    return True, None


def age_message(seconds: float) -> tuple[str, int]:
    """How old something is, as a message id and the number filling its ``{n}``: just now,
    seconds, minutes, hours or days (rounded down; a negative age, from a clock step, reads as
    just now). The shells translate it; `describe_age` is its English."""
    if not math.isfinite(seconds):
        raise InvalidInput("an age must be a finite number of seconds")
    whole = int(seconds)
    if whole < 5:
        return message_id("just now"), 0
    if whole < 60:
        return message_id("{n} s ago"), whole
    if whole < 3600:
        return message_id("{n} min ago"), whole // 60
    if whole < 86_400:
        return message_id("{n} h ago"), whole // 3600
    days = whole // 86_400
    return (message_id("{n} day ago") if days == 1 else message_id("{n} days ago")), days


def describe_age(seconds: float) -> str:
    """``"just now"``, ``"42 s ago"``, ``"3 min ago"``, ``"5 h ago"`` or ``"2 days ago"``."""
    text, number = age_message(seconds)
    return text.format(n=number)
