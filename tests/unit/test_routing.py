"""Node configuration, Lavalink stats, load penalty, node choice, migration and return plans."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.routing import (
    lavalink_stats_payloads,
    node_stats,
    placements,
    regions,
    unique_node_views,
)
from vectobeat_core.errors import InvalidInput, NodeUnavailable
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import (
    FrameStats,
    NodeSpec,
    NodeStats,
    NodeView,
    PlayerPlacement,
    choose_node,
    extrapolate_position,
    keep_target_position,
    parse_node_list,
    penalty,
    plan_migration,
    plan_return,
    region_healthy_since,
)

NOW = 1_000_000.0


def decision(region: Region) -> RegionDecision:
    return RegionDecision(
        requested=region,
        effective=region,
        clamped=False,
        reason_code="auto" if region is Region.AUTO else "as_requested",
        reason="test",
    )


def stats(playing: int = 0, load: float = 0.0, frames: FrameStats | None = None) -> NodeStats:
    return NodeStats(
        players=playing,
        playing_players=playing,
        uptime_ms=1,
        memory_used=1,
        memory_free=1,
        memory_allocated=1,
        memory_reservable=1,
        cpu_cores=4,
        system_load=load,
        lavalink_load=0.0,
        frames=frames,
    )


def view(
    name: str,
    region: Region = Region.EU,
    status: NodeStatus = NodeStatus.UP,
    node_stats: NodeStats | None = None,
) -> NodeView:
    spec = NodeSpec(NodeName(name), region, "http://127.0.0.1:2333", "pw", secure=False)
    return NodeView(spec, status, node_stats if node_stats is not None else stats())


# -- configuration ------------------------------------------------------------------------------


def test_parse_node_list() -> None:
    specs = parse_node_list(
        " eu:eu-1:http://lava.example:2333:s3:cret , US:us_1:HTTPS://[::1]:443 ,apac:ap.1:http://10.0.0.1:80:",
        default_password="fallback",
    )
    assert [(s.name, s.region, s.uri, s.secure, s.password) for s in specs] == [
        ("eu-1", Region.EU, "http://lava.example:2333", False, "s3:cret"),
        ("us_1", Region.US, "https://[::1]:443", True, "fallback"),
        ("ap.1", Region.APAC, "http://10.0.0.1:80", False, "fallback"),
    ]
    assert specs[0].websocket_uri == "ws://lava.example:2333/v4/websocket"
    assert specs[1].websocket_uri == "wss://[::1]:443/v4/websocket"
    assert parse_node_list("  ", None) == ()


def test_view_from_health() -> None:
    (spec,) = parse_node_list("eu:a:http://h:1:pw", None)
    health = attrs.evolve(
        NodeHealth.initial(spec.name, 0.0), status=NodeStatus.DEGRADED, last_latency_ms=12.5
    )
    assert NodeView.of(spec, health) == NodeView(spec, NodeStatus.DEGRADED, None, 12.5)


def test_password_never_shows_in_repr() -> None:
    (spec,) = parse_node_list("eu:a:http://h:1:hunter2", None)
    assert "hunter2" not in repr(spec)
    assert "hunter2" not in json.dumps(NodeView(spec, NodeStatus.UP).to_json())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eu:a", "entry 1 must look like"),
        ("eu:a:http://h:1:SECRETPW,,", "entry 2 is empty"),
        ("mars:a:http://h:1:SECRETPW", "entry 1: unknown region 'mars'"),
        ("auto:a:http://h:1:SECRETPW", "entry 1: unknown region 'auto'"),
        ("eu:a b:http://h:1:SECRETPW", "entry 1: node name"),
        ("eu:a:ftp://h:1:SECRETPW", "entry 1: bad URL"),
        ("eu:a:h:1:SECRETPW", "entry 1: bad URL"),
        ("eu:a:http://:1:SECRETPW", "entry 1: bad URL"),
        ("eu:a:http://[::1:1:SECRETPW", "entry 1: bad URL"),
        ("eu:a:http://bad_host:1:SECRETPW", "entry 1: bad URL"),
        ("eu:a:http://h", "entry 1: bad port"),
        ("eu:a:http://[::1]", "entry 1: bad port"),
        ("eu:a:http://h:0:SECRETPW", "entry 1: bad port"),
        ("eu:a:http://h:65536:SECRETPW", "entry 1: bad port"),
        ("eu:a:http://h:x1:SECRETPW", "entry 1: bad port"),
        ("eu:a:http://h:\u00b2:SECRETPW", "entry 1: bad port"),
        ("eu:a:http://h:1:SECRETPW,us:a:http://h:2:SECRETPW", "entry 2: duplicate node name 'a'"),
        ("eu:a:http://h:1", "entry 1: missing password"),
        ("eu:a:http://h:1:", "entry 1: missing password"),
    ],
)
def test_parse_node_list_errors_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        parse_node_list(text, default_password=None)
    assert "SECRETPW" not in str(error.value)


@given(st.text(max_size=80), st.none() | st.text(max_size=5))
def test_parse_node_list_never_crashes(text: str, default: str | None) -> None:
    try:
        specs = parse_node_list(text, default)
    except InvalidInput:
        return
    assert len({s.name for s in specs}) == len(specs)
    assert all(s.region is not Region.AUTO and s.password for s in specs)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["us", "eu", "apac"]),
            st.integers(1, 65535),
            st.sampled_from(["http", "https"]),
            st.from_regex(r"[A-Za-z0-9:!@#$%^&*]{1,12}", fullmatch=True),
        ),
        max_size=6,
    )
)
def test_parse_node_list_reads_what_operators_write(
    entries: list[tuple[str, int, str, str]],
) -> None:
    text = ",".join(
        f"{r}:node{i}:{sch}://host{i}.example:{port}:{pw}"
        for i, (r, port, sch, pw) in enumerate(entries)
    )
    specs = parse_node_list(text, None)
    assert [(s.region.value, s.uri, s.password, s.secure) for s in specs] == [
        (r, f"{sch}://host{i}.example:{port}", pw, sch == "https")
        for i, (r, port, sch, pw) in enumerate(entries)
    ]


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=4),
        max_leaves=12,
    )
)
def test_stats_garbage_never_crashes(payload: object) -> None:
    with contextlib.suppress(InvalidInput):
        NodeStats.from_lavalink(payload)  # type: ignore[arg-type]


# -- stats and penalty --------------------------------------------------------------------------


@given(lavalink_stats_payloads())
def test_stats_round_trip(payload: dict[str, object]) -> None:
    parsed = NodeStats.from_lavalink(payload)
    assert parsed.to_json() == payload
    assert NodeStats.from_lavalink({**payload, "op": "stats"}) == parsed


def _stats_payload() -> dict[str, Any]:
    return {
        "players": 1,
        "playingPlayers": 1,
        "uptime": 5,
        "memory": {"free": 1, "used": 1, "allocated": 1, "reservable": 1},
        "cpu": {"cores": 4, "systemLoad": 0.1, "lavalinkLoad": 0.1},
        "frameStats": None,
    }


@pytest.mark.parametrize(
    ("mutate", "read", "expected"),
    [
        (lambda p: p.pop("players"), lambda s: s.players, 0),
        (lambda p: p.update(players=-1), lambda s: s.players, 0),
        (lambda p: p.update(playingPlayers="3"), lambda s: s.playing_players, 3),
        (lambda p: p.update(playingPlayers="three"), lambda s: s.playing_players, 0),
        (lambda p: p.update(playingPlayers=3.0), lambda s: s.playing_players, 3),
        (lambda p: p.update(uptime=True), lambda s: s.uptime_ms, 0),
        (lambda p: p.update(memory=[]), lambda s: s.memory_free, 0),
        (lambda p: p["memory"].pop("free"), lambda s: s.memory_free, 0),
        (lambda p: p["cpu"].update(systemLoad=float("nan")), lambda s: s.system_load, 0.0),
        (lambda p: p["cpu"].update(lavalinkLoad=None), lambda s: s.lavalink_load, 0.0),
        (lambda p: p["cpu"].update(cores=0), lambda s: s.cpu_cores, 1),
        # a Unix load average (some servers): 2.0 on 4 cores is half loaded
        (lambda p: p["cpu"].update(systemLoad=2.0), lambda s: s.system_load, 0.5),
        (lambda p: p["cpu"].update(systemLoad=9.0), lambda s: s.system_load, 1.0),
        (lambda p: p.update(frameStats=7), lambda s: s.frames, None),
        (
            lambda p: p.update(frameStats={"sent": 1, "nulled": 0, "deficit": 0.5}),
            lambda s: s.frames,
            FrameStats(sent=1, nulled=0, deficit=0),
        ),
        (
            lambda p: p.update(frameStats={"sent": 1, "nulled": 0, "deficit": "n/a"}),
            lambda s: s.frames,
            None,
        ),
        (
            lambda p: p.update(frameStats={"sent": 2999, "nulled": 1, "deficit": 0}),
            lambda s: s.frames,
            FrameStats(sent=2999, nulled=1, deficit=0),
        ),
        # cumulative counters (some servers): the shares are kept, scaled to a minute
        (
            lambda p: p.update(frameStats={"sent": 270_000, "nulled": 30_000, "deficit": 6000}),
            lambda s: s.frames,
            FrameStats(sent=2700, nulled=300, deficit=60),
        ),
    ],
)
def test_odd_stats_fields_are_normalised_one_by_one(
    mutate: Callable[[dict[str, Any]], object],
    read: Callable[[NodeStats], object],
    expected: object,
) -> None:
    payload = _stats_payload()
    mutate(payload)
    assert read(NodeStats.from_lavalink(payload)) == expected


def test_stats_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(InvalidInput, match="object"):
        NodeStats.from_lavalink([])  # type: ignore[arg-type]


@given(st.floats(min_value=0, max_value=64, allow_nan=False), st.integers(1, 64))
def test_a_normalised_load_is_a_share(load: float, cores: int) -> None:
    payload = _stats_payload()
    payload["cpu"] = {"cores": cores, "systemLoad": load, "lavalinkLoad": load}
    stats = NodeStats.from_lavalink(payload)
    assert 0.0 <= stats.system_load <= 1.0


def test_penalty_matches_lavalink_clients() -> None:
    assert penalty(None) == 0.0
    assert penalty(stats(playing=7)) == pytest.approx(7.0)
    assert penalty(stats(load=0.5)) == pytest.approx(1.05**50 * 10 - 10)
    frames = FrameStats(sent=3000, nulled=300, deficit=600)
    expected = (1.03 ** (500 * 0.1) * 300 - 300) * 2 + (1.03 ** (500 * 0.2) * 600 - 600)
    assert penalty(stats(frames=frames)) == pytest.approx(expected)
    assert penalty(stats(frames=FrameStats(3000, 300, -1))) == 0.0
    assert penalty(stats(load=-1.0, frames=FrameStats(0, 10**9, 10**9))) < float("inf")


@given(node_stats, st.integers(1, 100), st.floats(0.0, 0.5))
def test_penalty_grows_with_load(base: NodeStats, more: int, extra_load: float) -> None:
    value = penalty(base)
    assert value >= 0
    busier = attrs.evolve(base, playing_players=base.playing_players + more)
    assert penalty(busier) > value
    hotter = attrs.evolve(base, system_load=min(1.0, base.system_load + extra_load))
    assert penalty(hotter) >= value


# -- node choice --------------------------------------------------------------------------------


def test_choose_in_region_by_penalty_then_name() -> None:
    nodes = [
        view("eu-b"),
        view("eu-a"),
        view("eu-c", node_stats=stats(playing=0, load=0.9)),
        view("us-a", Region.US),
    ]
    choice = choose_node(nodes, decision(Region.EU))
    assert (choice.node, choice.region, choice.reason_code) == ("eu-a", Region.EU, "in_region")
    assert choose_node(nodes, decision(Region.EU), exclude=[NodeName("eu-a")]).node == "eu-b"
    assert choose_node(nodes, decision(Region.US)).node == "us-a"


def test_choose_prefers_up_over_degraded() -> None:
    nodes = [view("a", status=NodeStatus.DEGRADED), view("b", node_stats=stats(playing=50))]
    assert choose_node(nodes, decision(Region.EU)).node == "b"


def test_choose_auto_and_fallback_and_none() -> None:
    nodes = [
        view("eu-a", node_stats=stats(5)),
        view("us-a", Region.US),
        view("ap", Region.APAC, NodeStatus.DOWN),
    ]
    auto = choose_node(nodes, decision(Region.AUTO))
    assert (auto.node, auto.region, auto.reason_code) == ("us-a", Region.US, "auto")
    fallback = choose_node(nodes, decision(Region.APAC))
    assert (fallback.node, fallback.reason_code) == ("us-a", "region_unavailable")
    assert "apac" in fallback.reason
    dead = [attrs.evolve(n, status=NodeStatus.DOWN) for n in nodes]
    with pytest.raises(NodeUnavailable, match="No Lavalink node"):
        choose_node(dead, decision(Region.EU))
    with pytest.raises(NodeUnavailable):
        choose_node(nodes[:2], decision(Region.EU), exclude=[NodeName("eu-a"), NodeName("us-a")])


@given(unique_node_views(max_size=8), regions)
def test_choose_node_properties(nodes: list[NodeView], region: Region) -> None:
    routable = [n for n in nodes if n.routable]
    if not routable:
        with pytest.raises(NodeUnavailable):
            choose_node(nodes, decision(region))
        return
    choice = choose_node(nodes, decision(region))
    chosen = next(n for n in nodes if n.name == choice.node)
    assert chosen.routable
    assert choice.region is chosen.spec.region
    local = [n for n in routable if region is Region.AUTO or n.spec.region is region]
    pool = local or routable
    assert chosen in pool
    assert choice.reason_code == (
        "auto" if region is Region.AUTO else "in_region" if local else "region_unavailable"
    )

    def key(n: NodeView) -> tuple[bool, float, str]:
        return (n.status is not NodeStatus.UP, penalty(n.stats), n.name)

    assert key(chosen) == min(map(key, pool))
    assert choose_node(list(reversed(nodes)), decision(region)) == choice


# -- positions ----------------------------------------------------------------------------------


def test_extrapolate_position() -> None:
    assert extrapolate_position(10_000, 100.0, 102.5, False, 60_000) == 12_500
    assert extrapolate_position(10_000, 100.0, 102.5, True, 60_000) == 10_000
    assert extrapolate_position(59_000, 100.0, 110.0, False, 60_000) == 60_000
    assert extrapolate_position(10_000, 100.0, 90.0, False, None) == 10_000
    assert extrapolate_position(-5, 100.0, 100.0, False, None) == 0
    with pytest.raises(InvalidInput, match="finite"):
        extrapolate_position(0, 100.0, float("inf"), False, None)


@given(
    st.integers(0, 10**7),
    st.floats(0, 1e6),
    st.floats(-100, 1e4),
    st.booleans(),
    st.none() | st.integers(0, 10**7),
)
def test_extrapolate_properties(
    position: int, read_at: float, elapsed: float, paused: bool, length: int | None
) -> None:
    result = extrapolate_position(position, read_at, read_at + elapsed, paused, length)
    assert result >= 0
    if length is not None:
        assert result <= length
    if paused:
        assert result == (position if length is None else min(position, length))
    elif length is None:
        assert result >= position


# -- migration ----------------------------------------------------------------------------------


def player(
    guild: int, node: str, region: Region = Region.EU, paused: bool = False
) -> PlayerPlacement:
    return PlayerPlacement(
        GuildId(guild), NodeName(node), region, 30_000, NOW - 2.0, paused, 180_000
    )


def test_migration_spreads_a_thousand_players_over_two_nodes() -> None:
    nodes = [
        view("eu-1", status=NodeStatus.DOWN),
        view("eu-2"),
        view("eu-3"),
        view("us-1", Region.US),
    ]
    players = [player(g, "eu-1") for g in range(1, 1001)]
    plan = plan_migration(players, nodes, NodeName("eu-1"), NOW)
    assert plan.counts() == {"eu-2": 500, "eu-3": 500}
    assert plan.stranded == ()
    assert {m.reason_code for m in plan.moves} == {"in_region"}
    assert {m.position_ms for m in plan.moves} == {32_000}


def test_migration_accounts_for_existing_load() -> None:
    nodes = [
        view("eu-1", status=NodeStatus.DOWN),
        view("eu-2", node_stats=stats(100)),
        view("eu-3"),
    ]
    plan = plan_migration([player(g, "eu-1") for g in range(300)], nodes, NodeName("eu-1"), NOW)
    assert plan.counts() == {"eu-2": 100, "eu-3": 200}


def test_migration_falls_back_to_other_regions_and_strands_when_nothing_is_up() -> None:
    nodes = [view("eu-1"), view("us-1", Region.US)]
    players = [
        player(1, "eu-1"),
        player(2, "eu-1", paused=True),
        player(3, "us-1"),
        player(4, "eu-1", Region.AUTO),
    ]
    plan = plan_migration(players, nodes, NodeName("eu-1"), NOW)
    assert [
        (m.guild_id, m.to_node, m.reason_code, m.paused, m.position_ms) for m in plan.moves
    ] == [
        (1, "us-1", "region_unavailable", False, 32_000),
        (2, "us-1", "region_unavailable", True, 30_000),
        (4, "us-1", "auto", False, 32_000),
    ]
    lonely = plan_migration(players, [view("eu-1")], NodeName("eu-1"), NOW)
    assert lonely.moves == ()
    assert lonely.stranded == (GuildId(1), GuildId(2), GuildId(4))


@given(
    unique_node_views(min_size=1, max_size=6),
    st.lists(placements(now=NOW), max_size=60, unique_by=lambda p: p.guild_id),
)
def test_migration_properties(nodes: list[NodeView], raw: list[PlayerPlacement]) -> None:
    dead = nodes[0].name
    players = [attrs.evolve(p, node=dead) if i % 2 == 0 else p for i, p in enumerate(raw)]
    plan = plan_migration(players, nodes, dead, NOW)
    on_dead = {p.guild_id: p for p in players if p.node == dead}
    moved = [m.guild_id for m in plan.moves]
    assert sorted(moved + list(plan.stranded)) == sorted(on_dead)
    assert len(set(moved)) == len(moved)
    by_name = {n.name: n for n in nodes}
    usable = [n for n in nodes if n.routable and n.name != dead]
    assert bool(plan.stranded) == (bool(on_dead) and not usable)
    for move in plan.moves:
        target = by_name[move.to_node]
        assert target.routable
        assert move.to_node != dead
        source = on_dead[move.guild_id]
        want = source.preferred_region
        if want is not Region.AUTO and any(n.spec.region is want for n in usable):
            assert target.spec.region is want
            assert move.reason_code == "in_region"
        length = source.track_length_ms
        assert 0 <= move.position_ms <= (length if length is not None else 10**12)
        assert move.paused == source.paused


@given(st.integers(2, 6), st.integers(0, 400))
def test_migration_balances_equal_nodes(count: int, players: int) -> None:
    nodes = [view("dead", status=NodeStatus.DOWN)] + [view(f"n{i}") for i in range(count)]
    plan = plan_migration([player(g, "dead") for g in range(players)], nodes, NodeName("dead"), NOW)
    counts = [plan.counts().get(NodeName(f"n{i}"), 0) for i in range(count)]
    assert sum(counts) == players
    assert max(counts) - min(counts) <= 1


# -- return to the preferred region -------------------------------------------------------------


def test_region_healthy_since() -> None:
    def health(status: NodeStatus, since: float) -> NodeHealth:
        return attrs.evolve(NodeHealth.initial(NodeName("n"), since), status=status)

    assert region_healthy_since(
        [
            (Region.EU, health(NodeStatus.UP, 50.0)),
            (Region.EU, health(NodeStatus.UP, 20.0)),
            (Region.EU, health(NodeStatus.UP, 30.0)),
            (Region.US, health(NodeStatus.DEGRADED, 10.0)),
        ]
    ) == {Region.US: None, Region.EU: 20.0, Region.APAC: None}


def returns(
    players: Sequence[PlayerPlacement],
    since: float | None,
    *,
    boundary: bool = True,
    nodes: Sequence[NodeView] | None = None,
) -> list[tuple[int, str]]:
    nodes = nodes if nodes is not None else [view("eu-1"), view("eu-2"), view("us-1", Region.US)]
    moves = plan_return(
        players,
        nodes,
        health_since={Region.EU: since},
        now=NOW,
        hold_seconds=120.0,
        at_track_boundary=lambda p: boundary,
    )
    assert all(m.reason_code == "region_restored" for m in moves)
    return [(m.guild_id, m.to_node) for m in moves]


def test_return_waits_for_hold_and_track_boundary() -> None:
    away = [player(1, "us-1"), player(2, "us-1"), player(3, "eu-1"), player(4, "us-1", Region.AUTO)]
    assert returns(away, NOW - 119.0) == []
    assert returns(away, None) == []
    assert returns(away, NOW - 120.0, boundary=False) == []
    assert returns(away, NOW - 120.0) == [(1, "eu-1"), (2, "eu-2")]
    assert returns([player(5, "gone")], NOW - 500.0) == [(5, "eu-1")]
    down_eu = [view("eu-1", status=NodeStatus.DOWN), view("us-1", Region.US)]
    assert returns(away, NOW - 500.0, nodes=down_eu) == []
    with pytest.raises(InvalidInput, match="hold_seconds"):
        plan_return(
            away, [], health_since={}, now=NOW, hold_seconds=-1, at_track_boundary=lambda p: True
        )


@given(
    unique_node_views(max_size=6),
    st.lists(placements(now=NOW), max_size=30, unique_by=lambda p: p.guild_id),
    st.none() | st.floats(0, 1000),
    st.booleans(),
)
def test_return_properties(
    nodes: list[NodeView], players: list[PlayerPlacement], age: float | None, boundary: bool
) -> None:
    since = dict.fromkeys(Region, None if age is None else NOW - age)
    moves = plan_return(
        players,
        nodes,
        health_since=since,
        now=NOW,
        hold_seconds=300.0,
        at_track_boundary=lambda p: boundary,
    )
    if age is None or age < 300.0 or not boundary:
        assert moves == ()
    region_of = {n.name: n.spec.region for n in nodes}
    by_guild = {p.guild_id: p for p in players}
    for move in moves:
        source = by_guild[move.guild_id]
        assert source.preferred_region is not Region.AUTO
        assert region_of.get(source.node) is not source.preferred_region
        assert region_of[move.to_node] is source.preferred_region is move.region
        assert next(n for n in nodes if n.name == move.to_node).routable


# -- trusting our own target position -----------------------------------------------------------


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.floats(0, 60, allow_nan=False))
def test_a_target_position_is_kept_only_while_young_and_disputed(
    expected: int, reported: int, age: float
) -> None:
    kept = keep_target_position(expected, reported, age)
    if abs(expected - reported) <= 1500 or age >= 5.0:
        assert not kept
    else:
        assert kept


def test_a_play_reply_at_zero_does_not_override_a_fresh_target() -> None:
    assert keep_target_position(90_000, 0, 0.01)
    assert not keep_target_position(90_000, 90_400, 0.01)
    assert not keep_target_position(90_000, 0, 6.0)
