"""Queue sync gating, the queue-sync payload cap and analytics-mode redaction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.tracks import tracks
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import ANALYTICS_LEVELS, Tier, default_catalogue
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot
from vectobeat_core.telemetry import SYNC_CAP, QueueTelemetry, queue_sync_payload, redact, sync_due
from vectobeat_core.tracks import Track


def test_sync_is_gated_by_plan() -> None:
    modes = {tier: default_catalogue().plan(tier).queue_sync for tier in Tier}
    assert modes[Tier.FREE] == "none" and modes[Tier.STARTER] == "periodic"
    assert all(modes[t] == "realtime" for t in Tier if t >= Tier.PRO)
    assert not sync_due("none", "change") and not sync_due("none", "tick")
    assert not sync_due("periodic", "change") and sync_due("periodic", "tick")
    assert sync_due("realtime", "change") and sync_due("realtime", "tick")
    with pytest.raises(InvalidInput):
        sync_due("sometimes", "tick")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        sync_due("realtime", "later")  # type: ignore[arg-type]


@given(st.lists(tracks(), max_size=120), st.lists(tracks(), max_size=5))
def test_queue_sync_payload_caps_upcoming_and_drops_history(
    upcoming: list[Track], played: list[Track]
) -> None:
    queue = GuildQueue(GuildId(5))
    for track in played:
        queue.add(track)
        queue.next()
    queue.add_many(upcoming)
    snapshot = queue.snapshot(PlayerState(), 10.0)
    payload = queue_sync_payload(snapshot)
    back = QueueSnapshot.from_json(payload)
    assert back.entries == snapshot.entries[:SYNC_CAP]
    assert back.history == ()
    assert back.current == snapshot.current


@given(
    tracks(), st.sampled_from(ANALYTICS_LEVELS), st.sampled_from(["play", "skip", "queue_finished"])
)
def test_redaction_reveals_only_what_the_mode_allows(track: Track, mode: str, kind: str) -> None:
    event = QueueTelemetry(kind, GuildId(9), 12.5, track, UserId(77), 3)  # type: ignore[arg-type]
    document = redact(event, mode)  # type: ignore[arg-type]
    rank = ANALYTICS_LEVELS.index(mode)
    if rank == 0:
        assert document is None
        return
    assert document is not None
    assert (
        document["kind"] == kind and document["guild_id"] == "9" and document["queue_length"] == 3
    )
    assert ("title" in document) is (rank >= 2)
    assert ("uri" in document) is (rank >= 2)
    assert ("user_id" in document) is (rank >= 3)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInput):
        QueueTelemetry("pause", GuildId(1), 0.0)  # type: ignore[arg-type]


def test_an_unknown_sync_mode_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Unknown queue sync mode"):
        sync_due("sometimes", "tick")  # type: ignore[arg-type]


def test_a_queue_sync_payload_needs_a_snapshot() -> None:
    with pytest.raises(InvalidInput, match="needs a QueueSnapshot"):
        queue_sync_payload({"guild": 1})  # type: ignore[arg-type]


def test_predictive_redaction_without_a_user_or_track_keeps_the_counts() -> None:
    event = QueueTelemetry(kind="skip", guild_id=GuildId(5), at=1.0, queue_length=3)
    assert redact(event, "predictive") == {
        "kind": "skip",
        "guild_id": "5",
        "at": 1.0,
        "queue_length": 3,
    }
