"""Audit events: typed, JSON-safe, readable summaries, and a strict reader for foreign payloads."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given

from tests.strategies.settings import audit_events
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, NodeName, ShardId
from vectobeat_core.jsontypes import MAX_JSON_DEPTH, json_value, snowflake
from vectobeat_core.plans import Tier, default_catalogue
from vectobeat_core.regions import Region, clamp_region
from vectobeat_core.settings import ServerSettings, clamp_to_plan

GUILD = GuildId(987654321098765432)
CAT = default_catalogue()


def _round_trip(event: AuditEvent) -> AuditEvent:
    return AuditEvent.from_json(json.loads(json.dumps(event.to_json())))


def test_effective_region_event_explains_a_clamp() -> None:
    decision = clamp_region(CAT.plan(Tier.PRO), "eu")
    event = AuditEvent.effective_region(GUILD, decision, NodeName("us-1"), 10.0)
    assert event.kind is AuditKind.EFFECTIVE_REGION
    assert event.summary == (
        "Playing in auto on node us-1. Requested eu: Your plan (Pro) plays on auto; "
        "pinning a region (us/eu/apac) needs Growth or higher."
    )
    assert event.data["node"] == "us-1"
    assert event.data["reason_code"] == "plan_disallows_pinning"
    assert _round_trip(event) == event


def test_effective_region_event_without_clamp_or_node() -> None:
    decision = clamp_region(CAT.plan(Tier.GROWTH), "eu")
    event = AuditEvent.effective_region(GUILD, decision, None, 10.0)
    assert event.summary == "Playing in eu with no node available."


def test_settings_events_log_field_names_never_values() -> None:
    asked = ServerSettings(queue_limit=900, webhook_export_url="https://h.example/tok3n")
    _, clamps = clamp_to_plan(asked, CAT.plan(Tier.FREE))
    clamped = AuditEvent.settings_clamped(GUILD, Tier.FREE, clamps, 5.0)
    assert (
        clamped.summary == "Settings lowered to fit the Free plan: queue_limit, webhook_export_url."
    )
    assert clamped.data["tier"] == "free"
    assert "tok3n" not in json.dumps(clamped.to_json())
    stored = [c for c in clamped.data["clamps"] if isinstance(c, dict)]  # type: ignore[union-attr]
    assert [c["reason"] for c in stored] == [c.reason for c in clamps]
    assert all("reason_phrase" not in c for c in stored)  # the English only, as every entry
    changed = AuditEvent.settings_changed(GUILD, 4, ["queue_limit", "region"], "panel:42", 6.0)
    assert changed.summary == "panel:42 saved settings version 4 (queue_limit, region)."
    assert changed.actor == "panel:42"
    assert AuditEvent.settings_changed(GUILD, 5, [], "bot", 6.0).summary.endswith("(no fields).")
    assert AuditEvent.settings_clamped(GUILD, Tier.PRO, (), 5.0).summary.endswith("plan: nothing.")
    for event in (clamped, changed):
        assert _round_trip(event) == event


def test_failover_and_return_events() -> None:
    failover = AuditEvent.node_failover(
        GUILD,
        NodeName("eu-1"),
        NodeName("eu-2"),
        Region.EU,
        reason="websocket closed",
        at=1.0,
        position_ms=61_000,
    )
    assert failover.summary == "Player moved from node eu-1 to eu-2 (eu): websocket closed"
    assert failover.data["position_ms"] == 61_000
    unavailable = AuditEvent.region_unavailable(GUILD, Region.EU, NodeName("us-1"), Region.US, 2.0)
    assert unavailable.summary == "No healthy node in eu; playing on us-1 (us) until it recovers."
    back = AuditEvent.node_return(GUILD, NodeName("us-1"), NodeName("eu-1"), Region.EU, 3.0)
    assert back.kind is AuditKind.NODE_RETURN
    shard = AuditEvent.shard_failover(ShardId(3), "bot-a", "spare-eu-1", 7, 4.0)
    assert shard.guild_id is None
    assert shard.summary == "Shard 3 taken over by spare-eu-1 from bot-a (epoch 7)."
    for event in (failover, unavailable, back, shard):
        assert _round_trip(event) == event


def test_other_named_constructors() -> None:
    throttled = AuditEvent.throttled_command(GUILD, "user:1", "play", 2.25, 1.0)
    assert throttled.summary == "/play by user:1 was throttled; retry after 2.2s."
    assert (
        AuditEvent.plan_changed(GUILD, Tier.PRO, Tier.GROWTH, 1.0).summary
        == "Plan upgraded from Pro to Growth."
    )
    assert "downgraded" in AuditEvent.plan_changed(GUILD, Tier.PRO, Tier.FREE, 1.0).summary
    assert "renewed" in AuditEvent.plan_changed(GUILD, Tier.PRO, Tier.PRO, 1.0).summary
    assert AuditEvent.queue_restored(GUILD, 1, None, 1.0).summary == "Queue restored with 1 track."
    assert (
        AuditEvent.queue_restored(GUILD, 3, NodeName("n"), 1.0).summary
        == "Queue restored with 3 tracks on node n."
    )


@given(audit_events)
def test_any_event_round_trips_through_json(event: AuditEvent) -> None:
    assert _round_trip(event) == event


def test_data_is_copied_so_the_event_cannot_change_under_you() -> None:
    source: dict[str, Any] = {"nodes": ["a"]}
    event = AuditEvent(
        AuditKind.AUTOMATION_ACTION, 1.0, GUILD, None, "Auto-skipped a silent track.", source
    )
    source["nodes"].append("b")
    assert event.data == {"nodes": ["a"]}
    assert event.to_json()["data"] is not event.data


def test_events_are_explicitly_unhashable() -> None:
    event = AuditEvent(AuditKind.BILLING_EVENT, 1.0, None, None, "Invoice paid.")
    with pytest.raises(TypeError):
        hash(event)


@pytest.mark.parametrize(
    ("kwargs", "expect"),
    [
        ({"kind": "plan_changed"}, "'kind' must be an AuditKind"),
        ({"at": -1.0}, "'at' must be a finite, non-negative"),
        ({"at": math.inf}, "'at'"),
        ({"at": True}, "'at'"),
        ({"guild_id": 0}, "'guild_id' must be a Discord id"),
        ({"actor": " "}, "'actor' must be null or 1 to 200"),
        ({"actor": 5}, "'actor'"),
        ({"summary": ""}, "'summary' must be a sentence"),
        ({"summary": "x" * 1001}, "'summary'"),
        ({"data": {"x": math.nan}}, "must be a finite number"),
        ({"data": {"x": {1, 2}}}, "must be JSON"),
        ({"data": {1: "x"}}, "non-text key 1"),
        ({"data": ["x"]}, "must be a JSON object"),
    ],
)
def test_constructor_rejects_bad_fields(kwargs: dict[str, Any], expect: str) -> None:
    args: dict[str, Any] = {
        "kind": AuditKind.NODE_FAILOVER, "at": 1.0, "guild_id": GUILD, "actor": None, "summary": "s",
        "data": {},
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(InvalidInput) as info:
        AuditEvent(**args)
    assert expect in str(info.value)


@pytest.mark.parametrize(
    ("payload", "expect"),
    [
        ([], "must be a JSON object"),
        ({"kind": "node_failover", "at": 1}, "missing field(s): summary"),
        ({"kind": "node_failover", "at": 1, "summary": "s", "x": 1}, "unknown field(s): x"),
        ({"kind": "party", "at": 1, "summary": "s"}, "'kind' must be one of effective_region"),
        ({"kind": 3, "at": 1, "summary": "s"}, "'kind' must be one of"),
        ({"kind": "node_failover", "at": "now", "summary": "s"}, "'at'"),
        ({"kind": "node_failover", "at": 1, "summary": "s", "guild_id": "x1"}, "'guild_id'"),
    ],
)
def test_from_json_names_bad_fields(payload: object, expect: str) -> None:
    with pytest.raises(InvalidInput) as info:
        AuditEvent.from_json(payload)
    assert expect in str(info.value)


def test_from_json_fills_optional_fields() -> None:
    event = AuditEvent.from_json({"kind": "billing_event", "at": 3, "summary": "Invoice paid."})
    assert (event.guild_id, event.actor, event.data, event.at) == (None, None, {}, 3.0)


def test_json_value_limits_depth_and_accepts_tuples() -> None:
    assert json_value((1, "a", None, 2.5)) == [1, "a", None, 2.5]
    deep: Any = 0
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = [deep]
    with pytest.raises(InvalidInput, match="nests deeper"):
        json_value(deep, "payload")


@pytest.mark.parametrize(("value", "expect"), [("42", 42), (42, 42), (2**63 - 1, 2**63 - 1)])
def test_snowflakes_accept_ints_and_decimal_text(value: object, expect: int) -> None:
    assert snowflake(value) == expect


@pytest.mark.parametrize("bad", [0, -1, 2**63, "0x1", "", "1" * 20, "٣", True, 1.0, None])
def test_snowflakes_reject_everything_else(bad: object) -> None:
    with pytest.raises(InvalidInput, match="must be a Discord id"):
        snowflake(bad)
