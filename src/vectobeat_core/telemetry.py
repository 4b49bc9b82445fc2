"""Queue sync and queue telemetry: when a guild's queue goes to the panel, and what it may say.

* `sync_due` — queue sync is plan-gated: ``realtime`` plans (Pro and above) sync on every change,
  ``periodic`` plans (Starter) on the periodic tick, ``none`` (Free) never.
* `queue_sync_payload` — the snapshot sent to ``/api/bot/queue-sync``: at most `SYNC_CAP` upcoming
  tracks and no history, with how far the bot applied the erasure record for the guild
  (`ERASURES_APPLIED`, read back by `erasures_applied`).
* `QueueTelemetry` + `redact` — ``play``/``skip``/``queue_finished`` events, reduced to what the
  guild's analytics mode allows (``none`` sends nothing; ``basic`` no titles; ``advanced`` no
  user ids; ``predictive`` everything).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.jsontypes import JSON, JSONObject
from vectobeat_core.plans import ANALYTICS_LEVELS, AnalyticsLevel, QueueSyncMode, level_rank
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.tracks import Track

__all__ = [
    "ERASURES_APPLIED",
    "SYNC_CAP",
    "QueueTelemetry",
    "SyncTrigger",
    "TelemetryKind",
    "erasures_applied",
    "queue_sync_payload",
    "redact",
    "redacted_track",
    "sync_due",
]

SYNC_CAP = 50
"""Upcoming tracks a queue-sync payload carries at most."""
ERASURES_APPLIED = "erasures_applied"
"""The key of a synced snapshot that says up to which place of the erasure record the bot had
applied every erasure of the guild when it took it (`vectobeat_core.erasures.sent_after`)."""

SyncTrigger: TypeAlias = Literal["change", "tick"]
TelemetryKind: TypeAlias = Literal["play", "skip", "queue_finished"]
_KINDS: tuple[TelemetryKind, ...] = ("play", "skip", "queue_finished")


def sync_due(mode: QueueSyncMode, trigger: SyncTrigger) -> bool:
    """Whether a queue sync goes out on ``trigger`` for a plan whose queue sync is ``mode``."""
    if trigger not in ("change", "tick"):
        raise InvalidInput(f"A sync trigger is 'change' or 'tick', got {trigger!r}.")
    if mode == "realtime":
        return True
    if mode == "periodic":
        return trigger == "tick"
    if mode == "none":
        return False
    raise InvalidInput(f"Unknown queue sync mode {mode!r}.")


def queue_sync_payload(snapshot: QueueSnapshot, erasures: int | None = None) -> dict[str, JSON]:
    """The snapshot for dashboards: the first `SYNC_CAP` upcoming tracks, no history, and
    `ERASURES_APPLIED` (``erasures``) unless the bot does not follow the erasure record."""
    if not isinstance(snapshot, QueueSnapshot):
        raise InvalidInput(
            f"queue_sync_payload needs a QueueSnapshot, got {type(snapshot).__name__}."
        )
    capped = attrs.evolve(snapshot, entries=snapshot.entries[:SYNC_CAP], history=())
    payload: dict[str, JSON] = capped.to_json()
    if erasures is not None:
        payload[ERASURES_APPLIED] = erasures
    return payload


def erasures_applied(payload: Mapping[str, object]) -> int | None:
    """A synced snapshot's `ERASURES_APPLIED` (``None`` when absent: a bot that does not follow
    the erasure record); `InvalidInput` unless it is a place in the record (0 or more)."""
    value = payload.get(ERASURES_APPLIED)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InvalidInput(
            "'{key}' must be the place in the erasure record the bot applied (0 or more).",
            key=ERASURES_APPLIED,
        )
    return value


@attrs.frozen(slots=True)
class QueueTelemetry:
    """One queue event as the bot saw it (before redaction)."""

    kind: TelemetryKind
    guild_id: GuildId
    at: float
    track: Track | None = None
    user_id: UserId | None = None
    queue_length: int = 0

    def __attrs_post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidInput(f"Telemetry kind must be one of {', '.join(_KINDS)}.")


def redact(event: QueueTelemetry, mode: AnalyticsLevel) -> JSONObject | None:
    """``event`` reduced to what analytics ``mode`` allows; ``None`` when nothing may be sent."""
    rank = level_rank(ANALYTICS_LEVELS, mode)
    if rank == 0:
        return None
    out: JSONObject = {
        "kind": event.kind,
        "guild_id": str(event.guild_id),
        "at": event.at,
        "queue_length": event.queue_length,
    }
    out.update(redacted_track(event.track, event.user_id, mode))
    return out


def redacted_track(track: Track | None, user_id: UserId | None, mode: AnalyticsLevel) -> JSONObject:
    """What analytics ``mode`` lets an export say about a track and who asked for it: nothing
    under ``none``; source and length under ``basic``; title, author and URI from ``advanced``;
    the user id only under ``predictive``."""
    rank = level_rank(ANALYTICS_LEVELS, mode)
    out: JSONObject = {}
    if track is not None and rank >= level_rank(ANALYTICS_LEVELS, "basic"):
        out["source"] = track.source
        out["length_ms"] = 0 if track.is_stream else track.length
        if rank >= level_rank(ANALYTICS_LEVELS, "advanced"):
            out["title"] = track.title
            out["author"] = track.author
            out["uri"] = track.uri
    if rank >= level_rank(ANALYTICS_LEVELS, "predictive") and user_id is not None:
        out["user_id"] = str(user_id)
    return out
