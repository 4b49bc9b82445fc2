"""Webhook export rules (`vectobeat_core.webhooks`): payloads shaped by analytics mode, the
signature receivers verify, the retry schedule and which outcomes are retried."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.tracks import tracks
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, NodeName, UserId
from vectobeat_core.plans import ANALYTICS_LEVELS
from vectobeat_core.settings import WEBHOOK_EVENTS, ServerSettings
from vectobeat_core.tracks import Track
from vectobeat_core.webhooks import (
    EXPORT_KINDS,
    ExportEvent,
    RetrySchedule,
    WebhookDelivery,
    encode_body,
    export_payload,
    guild_secret,
    retryable,
    sign,
    verify,
    wants,
)

MASTER = "operator-master-secret-0123456789"
G = GuildId(123456789012345678)


@given(st.binary(max_size=2000), st.integers(0, 2**40), st.text(min_size=1, max_size=60))
def test_a_signature_verifies_and_any_change_breaks_it(body: bytes, t: int, secret: str) -> None:
    header = sign(secret, t, body)
    assert header.startswith(f"t={t},v1=")
    assert verify(secret, header, body, now=t)
    assert not verify(secret, header, body + b"x", now=t)
    assert not verify(secret + "x", header, body, now=t)
    assert not verify(secret, header.replace(f"t={t}", f"t={t + 1}"), body, now=t)
    assert not verify(secret, header, body, now=t + 301)  # too old: a replay


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    mac = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("s3cret", 1_700_000_000, b"{}") == f"t=1700000000,v1={mac}"
    assert not verify("s3cret", "v1=" + mac, b"{}", now=1_700_000_000)  # no timestamp
    assert not verify("s3cret", "garbage", b"{}", now=1_700_000_000)


@given(st.integers(1, 2**63 - 1), st.integers(1, 2**63 - 1))
def test_each_guild_has_its_own_secret(a: int, b: int) -> None:
    if a != b:
        assert guild_secret(MASTER, GuildId(a)) != guild_secret(MASTER, GuildId(b))
    assert guild_secret(MASTER, GuildId(a)) == guild_secret(MASTER, GuildId(a))
    assert guild_secret(MASTER, GuildId(a)).startswith("whsec_")


def test_a_short_master_secret_is_refused() -> None:
    with pytest.raises(InvalidInput, match="16 characters"):
        guild_secret("short", G)


@given(tracks(), st.sampled_from(ANALYTICS_LEVELS))
def test_payload_says_only_what_analytics_allows(track: Track, mode: str) -> None:
    event = ExportEvent("track_started", G, 1.5, track=track, user_id=UserId(42), queue_length=3)
    payload = export_payload(event, mode, "d1")  # type: ignore[arg-type]
    assert payload["type"] == "track_started" and payload["guild_id"] == str(G)
    assert payload["id"] == "d1" and payload["created_at"] == 1.5
    data = payload["data"]
    assert isinstance(data, dict) and data["queue_length"] == 3
    shown = data.get("track", {})
    assert isinstance(shown, dict)
    rank = ANALYTICS_LEVELS.index(mode)
    assert ("source" in shown) == (rank >= 1)
    assert ("title" in shown) == (rank >= 2)
    assert ("user_id" in shown) == (rank >= 3)
    assert json.loads(encode_body(payload)) == payload


def test_other_events_carry_their_facts() -> None:
    moved = ExportEvent(
        "node_failover", G, 2.0, from_node=NodeName("us-1"), to_node=NodeName("us-2")
    )
    assert export_payload(moved, "none", "d")["data"] == {"from_node": "us-1", "to_node": "us-2"}
    changed = ExportEvent("settings_changed", G, 2.0, fields=("queue_limit",), version=4)
    assert export_payload(changed, "none", "d")["data"] == {"fields": ["queue_limit"], "version": 4}
    with pytest.raises(InvalidInput, match="Unknown export event"):
        ExportEvent("nope", G, 1.0)  # type: ignore[arg-type]


@given(st.lists(st.sampled_from(WEBHOOK_EVENTS), unique=True), st.sampled_from(EXPORT_KINDS))
def test_wants_exactly_the_selected_events(selected: list[str], kind: str) -> None:
    without_url = ServerSettings(webhook_export_events=tuple(selected))
    assert not wants(without_url, kind)
    with_url = ServerSettings(
        webhook_export_url="https://hooks.example.com/", webhook_export_events=tuple(selected)
    )
    assert wants(with_url, kind) == (kind == "test" or kind in selected)


@given(
    st.integers(1, 20),
    st.floats(0.001, 5),
    st.floats(5, 120),
    st.integers(0, 100),
    st.floats(0, 1),
)
def test_retry_delays_grow_with_jitter_and_stay_capped(
    attempts: int, base: float, cap: float, attempt: int, jitter: float
) -> None:
    schedule = RetrySchedule(attempts, base, cap)
    wait = schedule.delay(attempt, jitter)
    ceiling = min(cap, base * 2.0**attempt)
    assert ceiling / 2 <= wait <= ceiling + 1e-9
    assert schedule.delay(attempt, 0.0) <= schedule.delay(attempt, 1.0)
    assert schedule.delay(attempt, jitter, retry_after=10**6) == cap
    assert schedule.more_after(attempt) == (attempt + 1 < attempts)


def test_retry_schedule_refuses_nonsense() -> None:
    for bad in ((0, 1.0, 2.0), (21, 1.0, 2.0), (3, 0.0, 1.0), (3, 2.0, 1.0)):
        with pytest.raises(InvalidInput):
            RetrySchedule(*bad)


@given(st.integers(100, 599))
def test_which_statuses_are_retried(status: int) -> None:
    assert retryable(status) == (status >= 500 or status in (408, 429))


def test_timeouts_and_errors_are_retried() -> None:
    assert retryable("timeout") and retryable("error")


def test_a_delivery_has_a_status_or_an_error() -> None:
    ok = WebhookDelivery(G, "d", "test", 1, 1.0, 12.5, status_code=204)
    assert ok.ok and ok.outcome == "HTTP 204"
    failed = WebhookDelivery(G, "d", "test", 2, 1.0, 3.0, error="timeout: no answer")
    assert not failed.ok and failed.outcome == "timeout: no answer"
    for kwargs in ({}, {"status_code": 200, "error": "x"}, {"status_code": 99}):
        with pytest.raises(InvalidInput):
            WebhookDelivery(G, "d", "test", 1, 1.0, 1.0, **kwargs)


def test_the_receiver_example_in_the_operations_guide_verifies_our_signature() -> None:
    """docs/operations.md shows receivers how to verify; that code must accept what we send."""
    import time
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    section = guide.split("**Verifying a delivery (receivers).**", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(code, "operations.md", "exec"), namespace)  # noqa: S102 - our own docs
    check = namespace["verify"]
    assert callable(check)
    secret, body, now = guild_secret(MASTER, G), b'{"type":"test"}', int(time.time())
    assert check(secret, sign(secret, now, body), body)
    assert not check(secret, sign(secret, now, body), body + b" ")
    assert not check(secret, sign(secret, now - 3600, body), body)


def _delivery(**changes: object) -> WebhookDelivery:
    fields: dict[str, object] = {
        "guild_id": G, "delivery_id": "d1", "event": "track_started", "attempt": 1,
        "at": 1.0, "latency_ms": 2.0, "status_code": 200,
    }  # fmt: skip
    fields.update(changes)
    return WebhookDelivery(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event": "nope"}, "Unknown export event"),
        ({"delivery_id": ""}, "1 to 64 characters"),
        ({"attempt": 1.5}, "whole number"),
        ({"attempt": 101}, "from 1 to 100"),
        ({"at": "now"}, "must be a number"),
        ({"latency_ms": float("inf")}, "finite and >= 0"),
        ({"status_code": None, "error": "x" * 301}, "1 to 300 characters"),
    ],
)
def test_a_bad_delivery_record_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _delivery(**changes)


def test_bad_event_times_signatures_outcomes_and_schedules_are_refused() -> None:
    with pytest.raises(InvalidInput, match="must be a number"):
        ExportEvent("track_started", G, "soon")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="finite and positive"):
        ExportEvent("track_started", G, float("nan"))
    with pytest.raises(InvalidInput, match="whole unix seconds"):
        sign("s" * 16, -1, b"{}")
    with pytest.raises(InvalidInput, match="a status, 'timeout' or 'error'"):
        retryable("later")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="whole number"):
        RetrySchedule(attempts=2.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="whole number >= 0"):
        RetrySchedule().delay(-1, 0.5)
    with pytest.raises(InvalidInput, match="Jitter must be from 0 to 1"):
        RetrySchedule().delay(0, 1.5)
