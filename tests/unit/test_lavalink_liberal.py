"""Lavalink answers the way real servers deviate from the v4 docs are read, not dropped.

Valid messages of each kind are mutated (keys missing, null, numbers as strings or floats, flags
as 0/1 or "true", names in odd case, over-long text, negative or huge numbers, extra keys):
parsing raises only the project's own errors, the websocket dispatch never raises, and an event
with one odd optional value is still delivered, normalised.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, cast

import anyio
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from vectobeat_adapters.lavalink import registry as registry_module
from vectobeat_adapters.lavalink.lyrics import has_lyrics_plugin, parse_lyrics
from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_adapters.lavalink.node_events import NodeEvents
from vectobeat_adapters.lavalink.players import PlayerRecord
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.lavalink import (
    LoadResult,
    TrackEnd,
    TrackException,
    TrackStart,
    TrackStuck,
    WebSocketClosed,
    parse_event,
)
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import NodeSpec, NodeStats
from vectobeat_core.tracks import MAX_LONG, Track

GUILD = GuildId(4242)
NODE = NodeName("eu-1")


def track_json(title: str = "Song") -> dict[str, Any]:
    return {
        "encoded": "QAAAjQIAJFJpY2sgQXN0bGV5",
        "info": {
            "identifier": "dQw4w9WgXcQ",
            "isSeekable": True,
            "author": "Rick Astley",
            "length": 212000,
            "isStream": False,
            "position": 0,
            "title": title,
            "uri": "https://example.invalid/watch?v=dQw4w9WgXcQ",
            "artworkUrl": None,
            "isrc": None,
            "sourceName": "youtube",
        },
        "pluginInfo": {},
        "userData": {},
    }


def events() -> dict[str, dict[str, Any]]:
    base = {"op": "event", "guildId": str(GUILD), "track": track_json()}
    return {
        "start": {**base, "type": "TrackStartEvent"},
        "end": {**base, "type": "TrackEndEvent", "reason": "finished"},
        "exception": {
            **base,
            "type": "TrackExceptionEvent",
            "exception": {"message": "boom", "severity": "common", "cause": "java.io.IOException"},
        },
        "stuck": {**base, "type": "TrackStuckEvent", "thresholdMs": 10000},
        "closed": {
            "op": "event",
            "guildId": str(GUILD),
            "type": "WebSocketClosedEvent",
            "code": 4006,
            "reason": "Your session is no longer valid.",
            "byRemote": True,
        },
    }


def valid_messages() -> list[dict[str, Any]]:
    stats = {
        "op": "stats",
        "players": 2,
        "playingPlayers": 1,
        "uptime": 123456,
        "memory": {"free": 1, "used": 2, "allocated": 3, "reservable": 4},
        "cpu": {"cores": 4, "systemLoad": 0.5, "lavalinkLoad": 0.1},
        "frameStats": {"sent": 3000, "nulled": 0, "deficit": 0},
    }
    update = {
        "op": "playerUpdate",
        "guildId": str(GUILD),
        "state": {"time": 1500467109, "position": 60000, "connected": True, "ping": 50},
    }
    ready = {"op": "ready", "resumed": False, "sessionId": "la3kfsdf5eafe848"}
    return [stats, update, ready, *events().values()]


def load_answers() -> list[dict[str, Any]]:
    return [
        {"loadType": "track", "data": track_json()},
        {"loadType": "search", "data": [track_json("a"), track_json("b")]},
        {
            "loadType": "playlist",
            "data": {
                "info": {"name": "Mix", "selectedTrack": 1},
                "pluginInfo": {},
                "tracks": [track_json("a"), track_json("b")],
            },
        },
        {"loadType": "empty", "data": {}},
        {
            "loadType": "error",
            "data": {"message": "no", "severity": "common", "cause": "x"},
        },
    ]


ODD_VALUES: list[object] = [
    None,
    "",
    "123",
    "-5",
    123.0,
    12.5,
    0,
    1,
    -1,
    2**63,
    10**400,
    float("nan"),
    float("inf"),
    True,
    "true",
    "FALSE",
    "FINISHED",
    "load_failed",
    "Fault",
    "x" * 70_000,
    [],
    {},
    {"nested": [1, None]},
]
_MISSING = object()
odd_values = st.sampled_from([*ODD_VALUES, _MISSING])


def paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every key path inside ``value`` (objects and lists), the message's own keys included."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*prefix, key))
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.append((*prefix, index))
            found += paths(inner, (*prefix, index))
    return found


def mutate(message: Any, path: tuple[str | int, ...], value: object) -> Any:
    mutated = copy.deepcopy(message)
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    if value is _MISSING and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = None if value is _MISSING else value
    return mutated


@st.composite
def mutations(draw: st.DrawFn, valid: list[dict[str, Any]]) -> tuple[Any, Any]:
    """A valid message and the same with up to three values replaced, deleted or added."""
    original = draw(st.sampled_from(valid))
    mutated = original
    for _ in range(draw(st.integers(1, 3))):
        where = paths(mutated)
        path = draw(st.sampled_from(where)) if where else ("extra",)
        if draw(st.booleans()):
            path = (*path[:-1], "unknownKey")  # an extra key beside a known one
        try:
            mutated = mutate(mutated, path, draw(odd_values))
        except (TypeError, KeyError, IndexError):
            continue  # the parent was replaced by a scalar earlier
    return original, mutated


def dumps(message: Any) -> str:
    return json.dumps(message)


# -- the pure parsers ------------------------------------------------------------------------


def parse_any(message: Any) -> object:
    """What each parser makes of a message; only the project's errors may escape."""
    if not isinstance(message, dict):
        return LoadResult.from_lavalink(message)
    if "loadType" in message or "data" in message:
        return LoadResult.from_lavalink(message)
    op = message.get("op")
    if op == "stats":
        return NodeStats.from_lavalink(message)
    if op == "event":
        return parse_event(GUILD, message)
    return Track.from_lavalink(message.get("track"))


@hsettings(max_examples=300)
@given(mutations(valid_messages() + load_answers()))
def test_parsers_raise_only_the_projects_errors(case: tuple[Any, Any]) -> None:
    _original, mutated = case
    with contextlib.suppress(VectoBeatError):
        parse_any(json.loads(dumps(mutated)))


_LYRICS = {
    "sourceName": "x",
    "provider": "y",
    "text": "t",
    "lines": [{"timestamp": 1000, "duration": 2000, "line": "la"}],
}


@hsettings(max_examples=200)
@given(st.sampled_from(paths(_LYRICS)), odd_values)
def test_lyrics_answers_never_raise(path: tuple[str | int, ...], value: object) -> None:
    parse_lyrics(json.loads(dumps(mutate(_LYRICS, path, value))))
    info = mutate({"plugins": [{"name": "lavalyrics-plugin"}]}, ("plugins",), value)
    has_lyrics_plugin(json.loads(dumps(info)))


# -- optional values are normalised, the event is kept ---------------------------------------

_OPTIONAL_EVENT_FIELDS: list[tuple[str, tuple[str | int, ...]]] = [
    ("start", ("track", "info", "length")),
    ("start", ("track", "info", "title")),
    ("start", ("track", "userData")),
    ("end", ("track",)),
    ("end", ("reason",)),
    ("exception", ("track",)),
    ("exception", ("exception",)),
    ("exception", ("exception", "severity")),
    ("exception", ("exception", "message")),
    ("stuck", ("track",)),
    ("stuck", ("thresholdMs",)),
    ("closed", ("code",)),
    ("closed", ("reason",)),
    ("closed", ("byRemote",)),
]


@hsettings(max_examples=300)
@given(st.sampled_from(_OPTIONAL_EVENT_FIELDS), odd_values)
def test_an_event_with_one_odd_optional_value_is_still_delivered(
    field: tuple[str, tuple[str | int, ...]], value: object
) -> None:
    kind, path = field
    message = json.loads(dumps(mutate(events()[kind], path, value)))
    event = parse_event(GUILD, message)
    expected = {
        "start": TrackStart,
        "end": TrackEnd,
        "exception": TrackException,
        "stuck": TrackStuck,
        "closed": WebSocketClosed,
    }[kind]
    assert isinstance(event, expected)
    if isinstance(event, TrackException):
        assert event.severity in ("common", "suspicious", "fault")
        assert len(event.message) <= 1000
    if isinstance(event, TrackStuck):
        assert 0 <= event.threshold_ms <= MAX_LONG


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("finished", "finished"),
        ("FINISHED", "finished"),
        ("LOAD_FAILED", "loadFailed"),
        ("loadfailed", "loadFailed"),
        ("Replaced", "replaced"),
        ("exploded", "stopped"),
        (None, "stopped"),
        (3, "stopped"),
    ],
)
def test_end_reasons_read_in_any_case_and_unknown_ones_do_not_advance(
    reason: object, expected: str
) -> None:
    event = parse_event(GUILD, {**events()["end"], "reason": reason})
    assert isinstance(event, TrackEnd)
    assert event.reason == expected


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("COMMON", "common"),
        ("Suspicious", "suspicious"),
        ("catastrophic", "fault"),
        (None, "common"),
    ],
)
def test_exception_severities_are_normalised(severity: object, expected: str) -> None:
    message = events()["exception"]
    message["exception"]["severity"] = severity
    event = parse_event(GUILD, message)
    assert isinstance(event, TrackException)
    assert event.severity == expected


def test_odd_event_values_are_normalised_not_dropped() -> None:
    closed = parse_event(
        GUILD, {**events()["closed"], "code": "4014", "byRemote": "true", "reason": "r" * 5000}
    )
    assert closed == WebSocketClosed(GUILD, 4014, "r" * 1000, True)
    stuck = parse_event(GUILD, {**events()["stuck"], "thresholdMs": 10000.0, "track": {"x": 1}})
    assert stuck == TrackStuck(GUILD, None, 10000)
    assert parse_event(GUILD, {**events()["end"], "type": "trackendevent"}) is not None


def test_plugin_event_types_are_ignored_and_a_start_without_track_is_refused() -> None:
    assert parse_event(GUILD, {**events()["end"], "type": "SegmentsLoaded"}) is None
    with pytest.raises(VectoBeatError):
        parse_event(GUILD, {**events()["start"], "track": None})


def test_load_answers_are_read_liberally() -> None:
    assert LoadResult.from_lavalink({"loadType": "SEARCH", "data": [track_json()]}).kind == "search"
    bad_one = {"loadType": "search", "data": [track_json("a"), {"encoded": 3}, track_json("b")]}
    assert [t.title for t in LoadResult.from_lavalink(bad_one).tracks] == ["a", "b"]
    with pytest.raises(VectoBeatError):
        LoadResult.from_lavalink({"loadType": "search", "data": [{"encoded": 3}]})
    playlist = {"loadType": "playlist", "data": {"tracks": [track_json()], "info": None}}
    assert LoadResult.from_lavalink(playlist).playlist_name is None
    selected = {"loadType": "playlist", "data": {"tracks": [], "info": {"selectedTrack": "0"}}}
    assert LoadResult.from_lavalink(selected).selected == 0
    error = {"loadType": "error", "data": {"message": "m" * 4000, "severity": "FAULT"}}
    result = LoadResult.from_lavalink(error)
    assert (len(result.error or ""), result.severity) == (1000, "fault")


def test_stats_read_numbers_sent_as_strings_and_huge_frames() -> None:
    stats = NodeStats.from_lavalink(
        {
            "players": "3",
            "cpu": {"cores": 4.0, "systemLoad": "0.5"},
            "frameStats": {"sent": 10**400, "nulled": 0, "deficit": -(10**400)},
        }
    )
    assert (stats.players, stats.cpu_cores, stats.system_load) == (3, 4, 0.5)
    assert stats.frames is not None


# -- the player's position -------------------------------------------------------------------


def a_record() -> PlayerRecord:
    decision = RegionDecision(Region.EU, Region.EU, False, "as_requested", "test")
    return PlayerRecord(GUILD, decision, NODE, track=Track.from_lavalink(track_json()))


@pytest.mark.parametrize(
    ("position", "expected"),
    [(60000, 60000), ("60000", 60000), (60000.7, 60000), (-5, 0), (None, 0), ("soon", 0)],
)
def test_a_player_update_position_is_normalised_or_left_out(
    position: object, expected: int
) -> None:
    record = a_record()
    record.note_state({"time": 1, "position": position, "connected": True}, 10.0)
    assert record.position_ms == expected


# -- the websocket dispatch ------------------------------------------------------------------


class Recording:
    """A `NodeHandler` that records what reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    async def node_ready(self, node: NodeClient, resumed: bool) -> None:
        self.calls.append(("ready", resumed))

    async def node_closed(self, node: NodeClient, reason: str) -> None:
        self.calls.append(("closed", reason))

    async def node_stats(self, node: NodeClient, stats: NodeStats) -> None:
        self.calls.append(("stats", stats))

    async def node_message(self, node: NodeClient, op: str, payload: Mapping[str, Any]) -> None:
        self.calls.append((op, payload))

    async def node_bad_payload(self, node: NodeClient, problem: str) -> None:
        self.calls.append(("bad", problem))


class Offline(NodeClient):
    """A node client whose REST calls answer nothing (``ready`` PATCHes the session)."""

    async def request(self, method: str, path: str, **_: Any) -> Any:
        return None


def a_node(handler: Recording) -> NodeClient:
    spec = NodeSpec(NODE, Region.EU, "http://127.0.0.1:1", "pw", False)
    return Offline(spec, user_id=1, client_name="test", http=cast(Any, None), handler=handler)


@hsettings(max_examples=300)
@given(mutations(valid_messages()))
def test_dispatch_never_raises_and_reports_or_delivers_each_message(case: tuple[Any, Any]) -> None:
    _original, mutated = case
    handler = Recording()
    node = a_node(handler)
    anyio.run(node._dispatch, dumps(mutated))
    assert len(handler.calls) == 1


@pytest.mark.parametrize("resumed", [True, "true", 1])
def test_a_ready_op_reads_resumed_flags_liberally(resumed: object) -> None:
    handler = Recording()
    node = a_node(handler)
    node.session_id = "abc"
    anyio.run(node._dispatch, dumps({"op": "ready", "resumed": resumed, "sessionId": "abc"}))
    assert handler.calls == [("ready", True)]


# -- the cluster's handling of delivered messages --------------------------------------------


class Reporter:
    def __init__(self) -> None:
        self.emitted: list[object] = []
        self.bad = 0

    def count(self, *, bad_payloads: int) -> None:
        self.bad += bad_payloads

    async def emit(self, event: object) -> None:
        self.emitted.append(event)


def cluster_events(record: PlayerRecord, reporter: Reporter) -> NodeEvents:
    registry = SimpleNamespace(clock=SimpleNamespace(now=lambda: 10.0), lag=lambda _s: 0.0)
    store = SimpleNamespace(record=lambda g: record if g == record.guild_id else None)
    nothing = cast(Any, None)
    return NodeEvents(
        cast(Any, registry),
        cast(Any, store),
        cast(Any, reporter),
        nothing,
        nothing,
        spawn=nothing,
        sessions=None,
    )


@pytest.mark.parametrize("guild_id", [str(GUILD), int(GUILD)])
def test_a_guild_id_sent_as_a_number_is_read(guild_id: object) -> None:
    record, reporter = a_record(), Reporter()
    handler = cluster_events(record, reporter)
    node = a_node(Recording())
    update = {"op": "playerUpdate", "guildId": guild_id, "state": {"position": "1234"}}
    anyio.run(handler.node_message, node, "playerUpdate", update)
    assert (record.position_ms, reporter.bad) == (1234, 0)
    end = {**events()["end"], "guildId": guild_id, "reason": "FINISHED"}
    anyio.run(handler.node_message, node, "event", end)
    assert [type(e) for e in reporter.emitted] == [TrackEnd]


@pytest.mark.parametrize("guild_id", [None, "", "12a", -4, 1.5, True, "x" * 100])
def test_a_message_without_a_usable_guild_id_is_a_bad_payload(guild_id: object) -> None:
    record, reporter = a_record(), Reporter()
    anyio.run(
        cluster_events(record, reporter).node_message,
        a_node(Recording()),
        "event",
        {**events()["end"], "guildId": guild_id},
    )
    assert (reporter.bad, reporter.emitted) == (1, [])


def test_a_plugin_event_is_ignored_not_counted() -> None:
    record, reporter = a_record(), Reporter()
    anyio.run(
        cluster_events(record, reporter).node_message,
        a_node(Recording()),
        "event",
        {"op": "event", "guildId": str(GUILD), "type": "SegmentsLoaded", "segments": []},
    )
    assert (reporter.bad, reporter.emitted) == (0, [])


@pytest.mark.parametrize("sent", [1_000_000, "1000000", 1_000_000.0])
def test_a_player_update_time_sent_as_a_string_still_says_it_is_stale(sent: object) -> None:
    record = a_record()
    record.settled_wall_ms = 2_000_000.0  # a PATCH answer was taken after the update was made
    assert record.fresh({"time": sent, "position": 1}) is False
    assert record.fresh({"time": "3000000", "position": 1}) is True
    assert record.fresh({"time": None, "position": 1}) is True  # no time: cannot tell


@pytest.mark.parametrize("sent", [998_000, "998000", "998000.0"])
def test_a_player_update_time_sent_as_a_string_gives_the_lag(
    sent: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = SimpleNamespace(time=lambda: 1000.0, monotonic=lambda: 50.0)
    monkeypatch.setattr(registry_module, "time", wall)
    registry = NodeRegistry(
        [NodeSpec(NODE, Region.EU, "http://127.0.0.1:1", "pw", False)],
        cast(Any, SimpleNamespace(now=lambda: 10.0)),
    )
    registry.start([], {})
    assert registry.lag({"time": sent}) == pytest.approx(2.0)
    assert registry.lag({"time": "soon"}) == 0.0


@pytest.mark.parametrize(
    ("paused", "volume", "read"),
    [
        (True, 70, (True, 70)),
        ("true", "70", (True, 70)),
        (1, 70.0, (True, 70)),
        (0, None, (False, 100)),
        ("no", 5000, (False, 100)),
        (None, -3, (False, 100)),
    ],
)
def test_an_adopted_player_reads_paused_and_volume_liberally(
    paused: object, volume: object, read: tuple[bool, int]
) -> None:
    record = PlayerRecord.adopted(
        GuildId(1),
        node=NodeName("eu-1"),
        region=Region("eu"),
        session_id="s",
        player={"guildId": "1", "paused": paused, "volume": volume, "track": None},
        now=0.0,
    )
    assert (record.paused, record.volume) == read
