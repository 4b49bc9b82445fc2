"""Each class written by jsonform, against what its hand-written ``to_json`` wrote before.

The golden texts below were written by the old code (``json.dumps`` with compact separators, as
the stores use): a stored snapshot, a health record or a panel payload must not change by a byte.
The old texts also read back, and every class round-trips through JSON text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.routing import leases, node_names, regions, times
from tests.strategies.settings import audit_events, guild_ids, server_settings, settings_records
from tests.strategies.tracks import json_values, player_states, tracks
from vectobeat_core import jsonform
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.controls import (
    ControlAction,
    ControlCommand,
    ControlOutcome,
    ControlRequest,
    ControlResult,
)
from vectobeat_core.displacement import Displacement
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import ChannelId, EntryId, GuildId, NodeName, RoleId, ShardId, UserId
from vectobeat_core.lavalink import FailoverCounts
from vectobeat_core.plans import Tier, default_catalogue
from vectobeat_core.queue_entry import LoopMode, QueueEntry
from vectobeat_core.queue_snapshot import PlayerState, QueueSnapshot
from vectobeat_core.regions import Region, RegionDecision, clamp_region
from vectobeat_core.settings import Clamp, ServerSettings, SettingsRecord, parse_settings
from vectobeat_core.shards import Lease, LeaseState, ShardStatus
from vectobeat_core.tracks import Track
from vectobeat_ops.envcheck import Problem

SNOWFLAKE = GuildId(111222333444555666)
FULL = Track(
    encoded="QAAAjQIAJVJpY2s=", title="Never Gonna Give You Up — ✓", author="Rick Astley",
    length=212000, identifier="dQw4w9WgXcQ", is_stream=True, is_seekable=True,
    uri="https://www.youtube.com/watch?v=dQw4w9WgXcQ", artwork_url="https://i.ytimg.com/vi/x.jpg",
    isrc="GBARL9300135", source="youtube", position=61000, requester=UserId(123456789012345678),
)  # fmt: skip
MINIMAL = Track(
    encoded="QAAB", title="", author="a", length=0, identifier="i", is_stream=False,
    is_seekable=False, uri=None, artwork_url=None, isrc=None, source="http",
)  # fmt: skip
PLAYER = PlayerState(
    position_ms=1234, position_read_at=1700000000.5, paused=True, volume=80, loop=LoopMode.QUEUE,
    filters={"timescale": {"speed": 1.2, "pitch": 1.0, "rate": 1.0}, "volume": 1.0},
    effects={"nightcore": {"timescale": {"speed": 1.2, "pitch": 1.0, "rate": 1.0}}},
    voice_channel_id=ChannelId(987654321098765432), node=NodeName("eu-1"), region="eu",
)  # fmt: skip
ENTRIES = [QueueEntry(EntryId(i), t) for i, t in ((1, FULL), (2, MINIMAL), (3, FULL), (7, MINIMAL))]
SETTINGS = ServerSettings(
    queue_limit=500, dj_role_ids=(RoleId(222), RoleId(111)), region=Region.EU,
    webhook_export_url="https://hooks.example.com/x/token", webhook_export_events=("track_started",),
    branding_color="#00FF00", announcement_style="rich", source_access="extended",
)  # fmt: skip

EXAMPLES: dict[str, object] = {
    "track_full": FULL,
    "track_minimal": MINIMAL,
    "player_full": PLAYER,
    "player_default": PlayerState(),
    "snapshot": QueueSnapshot(
        SNOWFLAKE,
        42,
        ENTRIES[0],
        (ENTRIES[1], ENTRIES[2]),
        (ENTRIES[3],),
        PLAYER,
        8,
        1700000001.25,
        (EntryId(3), EntryId(2)),
    ),
    "snapshot_bare": QueueSnapshot(GuildId(5), 0, None, (), (), PlayerState(), 1, 0.0),
    "audit": AuditEvent(
        AuditKind.NODE_FAILOVER,
        1700000000.0,
        SNOWFLAKE,
        "user:42",
        "Player moved.",
        {"from_node": "a", "to_node": "b", "position_ms": 5, "nested": [1, {"x": None}]},
    ),
    "audit_bare": AuditEvent(AuditKind.BILLING_EVENT, 3.0, None, None, "Invoice paid."),
    "settings": SETTINGS,
    "settings_default": ServerSettings(),
    "record": SettingsRecord(SNOWFLAKE, 3, SETTINGS, 1700000000.75, "user:42"),
    "health": NodeHealth(
        NodeName("us-1"), NodeStatus.DEGRADED, 2, 0, 12.5, 100.0, 90.0, 50.0, 90.0
    ),
    "health_initial": NodeHealth.initial(NodeName("n"), 5.0),
    "lease": Lease(ShardId(3), "bot-a", 7, 1700000000.5, Region.APAC),
    "request": ControlRequest(
        "abcdefgh12",
        GuildId(5),
        ControlCommand(ControlAction.SEEK, position_ms=61000),
        "user:7",
        UserId(7),
        "de",
    ),
    "request_token": ControlRequest(
        "abcdefgh13",
        GuildId(5),
        ControlCommand(ControlAction.MOVE, position=2, target=1),
        "token:tok_1",
        None,
    ),
    "result_refused": ControlResult(ControlOutcome.REFUSED, "Only DJs can skip tracks here.", 403),
    "result_applied": ControlResult(ControlOutcome.APPLIED, "Paused."),
    "clamp": Clamp("region", "us", "auto", "needs Growth", Tier.GROWTH),
    "clamp_none": Clamp("webhook_export_events", ["track_started"], [], "no plan", None),
    "decision": clamp_region(default_catalogue().plan(Tier.FREE), "eu"),
    "shard": ShardStatus(ShardId(1), LeaseState.HELD, "bot-a", 4, 1.25, 40.5, 12),
    "shard_free": ShardStatus(ShardId(2), LeaseState.FREE, None, 0, None),
    "counts": FailoverCounts(1, 2, 3, 4, 5, 6, 7, 8),
    "displacement": Displacement(SNOWFLAKE, Region.EU, Region.US, "us-1"),
    "problem": Problem("REDIS_URL", "error", "is not set", "set it"),
}

GOLDEN = {
    "track_full": (
        '{"e":"QAAAjQIAJVJpY2s=","t":"Never Gonna Give You Up — ✓","a":"Rick Astley",'
        '"l":212000,"i":"dQw4w9WgXcQ","s":"youtube","st":true,"sk":true,'
        '"u":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","w":"https://i.ytimg.com/vi/x.jpg",'
        '"r":"GBARL9300135","p":61000,"q":"123456789012345678"}'
    ),
    "track_minimal": '{"e":"QAAB","t":"","a":"a","l":0,"i":"i","s":"http"}',
    "player_full": (
        '{"pos":1234,"at":1700000000.5,"vol":80,"loop":"queue","reg":"eu","pause":true,'
        '"f":{"timescale":{"speed":1.2,"pitch":1.0,"rate":1.0},"volume":1.0},'
        '"fx":{"nightcore":{"timescale":{"speed":1.2,"pitch":1.0,"rate":1.0}}},'
        '"vc":"987654321098765432","node":"eu-1"}'
    ),
    "player_default": '{"pos":0,"at":0.0,"vol":100,"loop":"off","reg":"auto"}',
    "snapshot": (
        '{"k":"vectobeat.queue","v":1,"g":"111222333444555666","n":42,"c":{"id":1,'
        '"t":{"e":"QAAAjQIAJVJpY2s=","t":"Never Gonna Give You Up — ✓","a":"Rick Astley",'
        '"l":212000,"i":"dQw4w9WgXcQ","s":"youtube","st":true,"sk":true,'
        '"u":"https://www.youtube.com/watch?v=dQw4w9WgXcQ","w":"https://i.ytimg.com/vi/x.jpg",'
        '"r":"GBARL9300135","p":61000,"q":"123456789012345678"}},"q":[{"id":2,"t":{"e":"QAAB",'
        '"t":"","a":"a","l":0,"i":"i","s":"http"}},{"id":3,"t":{"e":"QAAAjQIAJVJpY2s=",'
        '"t":"Never Gonna Give You Up — ✓","a":"Rick Astley","l":212000,"i":"dQw4w9WgXcQ",'
        '"s":"youtube","st":true,"sk":true,"u":"https://www.youtube.com/watch?v=dQw4w9WgXcQ",'
        '"w":"https://i.ytimg.com/vi/x.jpg","r":"GBARL9300135","p":61000,'
        '"q":"123456789012345678"}}],"h":[{"id":7,"t":{"e":"QAAB","t":"","a":"a","l":0,"i":"i",'
        '"s":"http"}}],"p":{"pos":1234,"at":1700000000.5,"vol":80,"loop":"queue","reg":"eu",'
        '"pause":true,"f":{"timescale":{"speed":1.2,"pitch":1.0,"rate":1.0},"volume":1.0},'
        '"fx":{"nightcore":{"timescale":{"speed":1.2,"pitch":1.0,"rate":1.0}}},'
        '"vc":"987654321098765432","node":"eu-1"},"x":8,"at":1700000001.25,"u":[3,2]}'
    ),
    "snapshot_bare": (
        '{"k":"vectobeat.queue","v":1,"g":"5","n":0,"c":null,"q":[],"h":[],"p":{"pos":0,'
        '"at":0.0,"vol":100,"loop":"off","reg":"auto"},"x":1,"at":0.0}'
    ),
    "audit": (
        '{"kind":"node_failover","at":1700000000.0,"guild_id":"111222333444555666",'
        '"actor":"user:42","summary":"Player moved.","data":{"from_node":"a","to_node":"b",'
        '"position_ms":5,"nested":[1,{"x":null}]}}'
    ),
    "audit_bare": (
        '{"kind":"billing_event","at":3.0,"guild_id":null,"actor":null,'
        '"summary":"Invoice paid.","data":{}}'
    ),
    "settings": (
        '{"queue_limit":500,"collaborative_queue":true,"member_track_limit":0,'
        '"dj_role_ids":["222","111"],"default_volume":100,"autoplay":false,'
        '"stay_connected":false,"vote_skip_percent":50,"announcement_style":"rich",'
        '"region":"eu","source_access":"extended","playback_quality":"standard",'
        '"analytics_mode":"none","automation_level":"off","automation_window_hours":0,'
        '"webhook_export_url":"https://hooks.example.com/x/token",'
        '"webhook_export_events":["track_started"],"branding_color":"#00FF00"}'
    ),
    "settings_default": (
        '{"queue_limit":100,"collaborative_queue":true,"member_track_limit":0,"dj_role_ids":[],'
        '"default_volume":100,"autoplay":false,"stay_connected":false,"vote_skip_percent":50,'
        '"announcement_style":"minimal","region":"auto","source_access":"standard",'
        '"playback_quality":"standard","analytics_mode":"none","automation_level":"off",'
        '"automation_window_hours":0,"webhook_export_url":null,"webhook_export_events":[],'
        '"branding_color":"#5865F2"}'
    ),
    "record": (
        '{"guild_id":"111222333444555666","version":3,"settings":{"queue_limit":500,'
        '"collaborative_queue":true,"member_track_limit":0,"dj_role_ids":["222","111"],'
        '"default_volume":100,"autoplay":false,"stay_connected":false,"vote_skip_percent":50,'
        '"announcement_style":"rich","region":"eu","source_access":"extended",'
        '"playback_quality":"standard","analytics_mode":"none","automation_level":"off",'
        '"automation_window_hours":0,"webhook_export_url":"https://hooks.example.com/x/token",'
        '"webhook_export_events":["track_started"],"branding_color":"#00FF00"},'
        '"updated_at":1700000000.75,"updated_by":"user:42"}'
    ),
    "health": (
        '{"node":"us-1","status":"degraded","consecutive_failures":2,"consecutive_ok":0,'
        '"last_latency_ms":12.5,"last_check_at":100.0,"last_change_at":90.0,'
        '"last_failover_at":50.0,"since":90.0}'
    ),
    "health_initial": (
        '{"node":"n","status":"unknown","consecutive_failures":0,"consecutive_ok":0,'
        '"last_latency_ms":null,"last_check_at":null,"last_change_at":null,'
        '"last_failover_at":null,"since":5.0}'
    ),
    "lease": (
        '{"shard_id":3,"owner":"bot-a","epoch":7,"heartbeat_at":1700000000.5,"region":"apac"}'
    ),
    "request": (
        '{"id":"abcdefgh12","guild_id":"5","command":{"action":"seek","position_ms":61000},'
        '"actor":"user:7","member":"7","language":"de"}'
    ),
    "request_token": (
        '{"id":"abcdefgh13","guild_id":"5","command":{"action":"move","position":2,"target":1},'
        '"actor":"token:tok_1","member":null,"language":"en"}'
    ),
    "result_refused": (
        '{"outcome":"refused","message":"Only DJs can skip tracks here.","status":403}'
    ),
    "result_applied": '{"outcome":"applied","message":"Paused.","status":200}',
    "clamp": (
        '{"field":"region","requested":"us","effective":"auto","reason":"needs Growth",'
        '"required_tier":"growth"}'
    ),
    "clamp_none": (
        '{"field":"webhook_export_events","requested":["track_started"],"effective":[],'
        '"reason":"no plan","required_tier":null}'
    ),
    "decision": (  # and, since the reasons are translated, the reason as a phrase (added)
        '{"requested":"eu","effective":"auto","clamped":true,'
        '"reason_code":"plan_disallows_pinning",'
        '"reason":"Your plan (Free) plays on auto; pinning a region (us/eu/apac) needs Growth '
        'or higher.","reason_phrase":{"id":"Your plan ({plan}) plays on auto; pinning a region '
        '({regions}) needs {tier} or higher.","params":{"plan":"Free","regions":"us/eu/apac",'
        '"tier":"Growth"}}}'
    ),
    "shard": (
        '{"shard_id":1,"state":"held","owner":"bot-a","epoch":4,"heartbeat_age_s":1.25,'
        '"latency_ms":40.5,"guilds":12}'
    ),
    "shard_free": (
        '{"shard_id":2,"state":"free","owner":null,"epoch":0,"heartbeat_age_s":null,'
        '"latency_ms":null,"guilds":0}'
    ),
    "counts": (
        '{"failovers":1,"players_moved":2,"players_returned":3,"players_stranded":4,'
        '"players_rebuilt":5,"players_adopted":6,"move_failures":7,"bad_payloads":8}'
    ),
    "displacement": (
        '{"guild_id":"111222333444555666","requested_region":"eu","playing_region":"us",'
        '"node":"us-1",'
        '"reason":"eu has no healthy Lavalink node; it returns at a track change once eu is '
        'healthy"}'
    ),
    "problem": (
        '{"variable":"REDIS_URL","severity":"error","message":"is not set","fix":"set it"}'
    ),
}
"""What the hand-written ``to_json`` of each class wrote before jsonform (one example each)."""

GOLDEN_PLANS = (
    (
        '{"tier":"free","queue_cap":100,"playlist_limit":0,"playlist_track_limit":0,'
        '"region_pinning":false,"concierge":false,"concierge_hours":0,"sla_minutes":null,'
        '"success_pod":false,"source_access":"standard","playback_quality":"standard",'
        '"analytics":"none","automation":"off","automation_window_hours":0,'
        '"webhook_exports":false,"stay_connected":false,"api_tokens":0,"queue_sync":"none",'
        '"snapshot_ttl_seconds":86400}'
    ),
    (
        '{"tier":"starter","queue_cap":250,"playlist_limit":50,"playlist_track_limit":250,'
        '"region_pinning":false,"concierge":false,"concierge_hours":0,"sla_minutes":null,'
        '"success_pod":false,"source_access":"extended","playback_quality":"high",'
        '"analytics":"basic","automation":"off","automation_window_hours":0,'
        '"webhook_exports":false,"stay_connected":true,"api_tokens":0,"queue_sync":"periodic",'
        '"snapshot_ttl_seconds":259200}'
    ),
    (
        '{"tier":"pro","queue_cap":500,"playlist_limit":null,"playlist_track_limit":500,'
        '"region_pinning":false,"concierge":false,"concierge_hours":0,"sla_minutes":1440,'
        '"success_pod":false,"source_access":"extended","playback_quality":"high",'
        '"analytics":"advanced","automation":"smart","automation_window_hours":24,'
        '"webhook_exports":true,"stay_connected":true,"api_tokens":10,"queue_sync":"realtime",'
        '"snapshot_ttl_seconds":604800}'
    ),
    (
        '{"tier":"growth","queue_cap":1000,"playlist_limit":null,"playlist_track_limit":1000,'
        '"region_pinning":true,"concierge":true,"concierge_hours":2,"sla_minutes":480,'
        '"success_pod":false,"source_access":"unlimited","playback_quality":"lossless",'
        '"analytics":"advanced","automation":"smart","automation_window_hours":72,'
        '"webhook_exports":true,"stay_connected":true,"api_tokens":10,"queue_sync":"realtime",'
        '"snapshot_ttl_seconds":1209600}'
    ),
    (
        '{"tier":"scale","queue_cap":2500,"playlist_limit":null,"playlist_track_limit":2500,'
        '"region_pinning":true,"concierge":true,"concierge_hours":6,"sla_minutes":120,'
        '"success_pod":true,"source_access":"unlimited","playback_quality":"lossless",'
        '"analytics":"predictive","automation":"full","automation_window_hours":168,'
        '"webhook_exports":true,"stay_connected":true,"api_tokens":10,"queue_sync":"realtime",'
        '"snapshot_ttl_seconds":1814400}'
    ),
    (
        '{"tier":"enterprise","queue_cap":10000,"playlist_limit":null,'
        '"playlist_track_limit":10000,"region_pinning":true,"concierge":true,'
        '"concierge_hours":20,"sla_minutes":30,"success_pod":true,"source_access":"unlimited",'
        '"playback_quality":"lossless","analytics":"predictive","automation":"full",'
        '"automation_window_hours":720,"webhook_exports":true,"stay_connected":true,'
        '"api_tokens":10,"queue_sync":"realtime","snapshot_ttl_seconds":2592000}'
    ),
)
"""The shipped plans as ``Plan.to_json`` wrote them, free to enterprise."""


def _text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _golden(name: str) -> str:
    text = GOLDEN[name]
    return text if isinstance(text, str) else "".join(text)


def _read(example: object, data: object) -> object:
    """Read ``data`` back as ``example``'s class, the way its callers do."""
    if isinstance(example, ServerSettings):
        return parse_settings(data)  # type: ignore[arg-type]
    reader = getattr(type(example), "from_json", None)
    if reader is not None:
        return reader(data)
    return jsonform.load(type(example), data)  # written only: the generic form still reads it


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_json_is_what_the_old_code_wrote(name: str) -> None:
    assert _text(EXAMPLES[name].to_json()) == _golden(name)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_what_the_old_code_wrote_reads_back(name: str) -> None:
    assert _read(EXAMPLES[name], json.loads(_golden(name))) == EXAMPLES[name]


def test_the_plans_are_what_the_old_code_wrote() -> None:
    written = [_text(plan.to_json()) for plan in default_catalogue()]
    assert written == ["".join(text) for text in GOLDEN_PLANS]
    assert [jsonform.load(type(plan), plan.to_json()) for plan in default_catalogue()] == list(
        default_catalogue()
    )


_short = st.text(min_size=1, max_size=12).filter(str.strip)
_maybe_times = st.none() | times
_entries = st.builds(QueueEntry, st.integers(1, 2**32 - 1).map(EntryId), tracks(encoded=False))


@st.composite
def _snapshots(draw: st.DrawFn) -> QueueSnapshot:
    entries = draw(st.lists(_entries, max_size=4))
    return QueueSnapshot(
        guild_id=draw(guild_ids),
        version=draw(st.integers(0, 2**40)),
        current=draw(st.none() | _entries),
        entries=tuple(entries),
        history=tuple(draw(st.lists(_entries, max_size=2))),
        player=draw(player_states),
        next_entry_id=draw(st.integers(1, 2**32)),
        taken_at=draw(times),
        unshuffled=draw(st.none() | st.just(tuple(e.entry_id for e in entries))),
    )


_commands = st.sampled_from(
    [
        ControlCommand(ControlAction.PAUSE),
        ControlCommand(ControlAction.SEEK, position_ms=5),
        ControlCommand(ControlAction.VOLUME, volume=50),
        ControlCommand(ControlAction.REMOVE, position=3),
        ControlCommand(ControlAction.MOVE, position=3, target=1),
    ]
)
STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    Track: tracks(),
    PlayerState: player_states,
    QueueSnapshot: _snapshots(),
    AuditEvent: audit_events,
    ServerSettings: server_settings(),
    SettingsRecord: settings_records(),
    NodeHealth: st.builds(
        NodeHealth,
        node_names,
        st.sampled_from(NodeStatus),
        st.integers(0, 99),
        st.integers(0, 99),
        _maybe_times,
        _maybe_times,
        _maybe_times,
        _maybe_times,
        times,
    ),
    Lease: leases(),
    ShardStatus: st.builds(
        ShardStatus,
        st.integers(0, 63).map(ShardId),
        st.sampled_from(LeaseState),
        st.none() | _short,
        st.integers(0, 99),
        _maybe_times,
        _maybe_times,
        st.integers(0, 99),
    ),
    ControlRequest: st.builds(
        ControlRequest,
        st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True),
        guild_ids,
        _commands,
        st.from_regex(r"(user|token):[a-z0-9]{1,10}", fullmatch=True),
        st.none() | st.integers(1, 2**63 - 1).map(UserId),
        st.sampled_from(["en", "de", "fr"]),
    ),
    ControlResult: st.builds(ControlResult, st.sampled_from(ControlOutcome), _short).map(
        lambda r: (
            r
            if r.outcome is not ControlOutcome.REFUSED
            else ControlResult(r.outcome, r.message, 403)
        )
    ),
    Clamp: st.builds(
        Clamp, _short, json_values, json_values, _short, st.none() | st.sampled_from(Tier)
    ),
    RegionDecision: st.builds(clamp_region, st.sampled_from(list(default_catalogue())), regions),
    FailoverCounts: st.builds(FailoverCounts, *[st.integers(0, 10**6)] * 8),
    Displacement: st.builds(Displacement, guild_ids, regions, regions, node_names),
    Problem: st.builds(Problem, _short, st.sampled_from(["error", "warning"]), _short, _short),
}


@pytest.mark.parametrize("cls", list(STRATEGIES), ids=lambda cls: cls.__name__)
def test_every_class_round_trips_through_json_text(cls: type) -> None:
    example = EXAMPLES[next(name for name, value in EXAMPLES.items() if type(value) is cls)]

    @given(STRATEGIES[cls])
    def round_trip(value: Any) -> None:
        assert _read(example, json.loads(json.dumps(value.to_json()))) == value

    round_trip()


def test_every_class_with_a_golden_example_has_a_strategy() -> None:
    assert set(STRATEGIES) == {type(value) for value in EXAMPLES.values()}
