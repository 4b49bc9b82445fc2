"""The fake Lavalink v4 node over raw HTTP and websocket: shapes, status codes, playback, faults."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from vectobeat_core.tracks import decode_track
from vectobeat_testkit.lavalink import Catalogue, CatalogueTrack, FakeLavalinkNode, PlaybackClock

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": "youshallnotpass"}
WS_HEADERS = {**AUTH, "User-Id": "4242", "Client-Name": "raw-test/1.0"}
ERROR_KEYS = {"timestamp", "status", "error", "message", "path"}


def make_catalogue() -> Catalogue:
    catalogue = Catalogue()
    catalogue.add("Alpha Song", "The Testers", 60_000, identifier="alpha0000001")
    catalogue.add("Beta Tune", "Other Band", 120_000, identifier="beta00000002")
    catalogue.add("Gamma Alpha", "Cloud Crew", 90_000, identifier="gamma", source="soundcloud")
    catalogue.add_playlist("https://example.test/list", "Mix", list(catalogue.tracks[:2]))
    catalogue.fail("https://example.test/broken", "This video is unavailable", severity="common")
    return catalogue


@pytest.fixture
async def node() -> AsyncIterator[FakeLavalinkNode]:
    fake = FakeLavalinkNode(
        name="eu-1", region="eu", catalogue=make_catalogue(), speed=20.0,
        player_update_interval=0.05,
    )  # fmt: skip
    async with fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Socket:
    """A raw websocket client that keeps every message it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []

    async def next(self, predicate: Any = None) -> dict[str, Any]:
        async with asyncio.timeout(10):
            while True:
                message: dict[str, Any] = await self.ws.receive_json()
                self.messages.append(message)
                if predicate is None or predicate(message):
                    return message

    async def event(self, kind: str) -> dict[str, Any]:
        return await self.next(lambda m: m.get("op") == "event" and m.get("type") == kind)


async def open_socket(
    http: aiohttp.ClientSession, node: FakeLavalinkNode, **extra: str
) -> tuple[Socket, dict[str, Any]]:
    ws = await http.ws_connect(node.ws_url, headers={**WS_HEADERS, **extra})
    socket = Socket(ws)
    ready = await socket.next()
    return socket, ready


def players_url(node: FakeLavalinkNode, session_id: str, guild: int | None = None) -> str:
    url = f"{node.base_url}/v4/sessions/{session_id}/players"
    return url if guild is None else f"{url}/{guild}"


async def patch(http: aiohttp.ClientSession, url: str, body: Any, **query: str) -> tuple[int, Any]:
    async with http.patch(url, json=body, headers=AUTH, params=query) as resp:
        return resp.status, await resp.json()


# -- handshake -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({**WS_HEADERS, "Authorization": "wrong"}, 401),
        ({"User-Id": "1", "Client-Name": "x/1"}, 401),
        ({**AUTH, "Client-Name": "x/1"}, 400),
        ({**AUTH, "User-Id": "0", "Client-Name": "x/1"}, 400),
        ({**AUTH, "User-Id": "abc", "Client-Name": "x/1"}, 400),
    ],
)
async def test_handshake_rejections(
    node: FakeLavalinkNode, http: aiohttp.ClientSession, headers: dict[str, str], status: int
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(node.ws_url, headers=headers)
    assert caught.value.status == status
    assert node.sessions == {}


async def test_ready_then_stats_on_connect(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    socket, ready = await open_socket(http, node)
    assert socket.ws._response is not None
    assert socket.ws._response.headers["Session-Resumed"] == "false"
    assert ready["op"] == "ready"
    assert ready["resumed"] is False
    assert re.fullmatch(r"[a-z0-9]{16}", ready["sessionId"])
    stats = await socket.next()
    assert stats["op"] == "stats"
    assert set(stats) >= {"players", "playingPlayers", "uptime", "memory", "cpu", "frameStats"}
    assert set(stats["memory"]) == {"free", "used", "allocated", "reservable"}
    assert set(stats["cpu"]) == {"cores", "systemLoad", "lavalinkLoad"}
    assert node.sessions[ready["sessionId"]].client_name == "raw-test/1.0"


async def test_client_name_is_optional_like_lavalink_unless_required(
    http: aiohttp.ClientSession,
) -> None:
    headers = {**AUTH, "User-Id": "7"}
    async with FakeLavalinkNode() as lenient:
        ws = await http.ws_connect(lenient.ws_url, headers=headers)
        assert (await ws.receive_json())["op"] == "ready"
        await ws.close()
    async with FakeLavalinkNode(require_client_name=True) as strict:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await http.ws_connect(strict.ws_url, headers=headers)
        assert caught.value.status == 400


# -- plain REST ------------------------------------------------------------------------------


async def test_rest_auth_and_error_body(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{node.base_url}/v4/info") as resp:
        assert resp.status == 401
        body = await resp.json()
        assert set(body) == ERROR_KEYS
        assert body["path"] == "/v4/info"
    async with http.get(f"{node.base_url}/v4/stats", headers={"Authorization": "no"}) as resp:
        assert resp.status == 403
        assert (await resp.json())["error"] == "Forbidden"
    async with http.get(f"{node.base_url}/v4/nothing", headers=AUTH) as resp:
        assert resp.status == 404
        assert set(await resp.json()) == ERROR_KEYS
        assert resp.headers["Lavalink-Api-Version"] == "4"


async def test_version_info_stats(node: FakeLavalinkNode, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{node.base_url}/version", headers=AUTH) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        assert await resp.text() == "4.2.2"
        assert resp.headers["Lavalink-Api-Version"] == "4"
    async with http.get(f"{node.base_url}/v4/info", headers=AUTH) as resp:
        info = await resp.json()
    assert info["version"]["major"] == 4
    assert info["version"]["semver"] == "4.2.2"
    assert {"buildTime", "git", "jvm", "lavaplayer", "sourceManagers", "filters", "plugins"} <= set(
        info
    )
    async with http.get(f"{node.base_url}/v4/stats", headers=AUTH) as resp:
        stats = await resp.json()
    assert stats["players"] == 0
    assert stats["frameStats"] is None


async def test_info_reports_the_configured_sources_and_searches_only_those(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    node.catalogue.add("Spot Tune", "Plugin", 60_000, source="spotify")

    async def get(path: str, **query: str) -> Any:
        async with http.get(f"{node.base_url}{path}", headers=AUTH, params=query) as resp:
            return await resp.json()

    assert (await get("/v4/info"))["sourceManagers"] == ["youtube", "soundcloud", "http"]
    assert (await get("/v4/loadtracks", identifier="spsearch:Spot"))["loadType"] == "empty"
    node.catalogue.source_managers = ("youtube", "soundcloud", "http", "spotify")
    node.catalogue.plugins = [{"name": "lavasrc-plugin", "version": "4.3.0"}]
    info = await get("/v4/info")
    assert info["sourceManagers"][-1] == "spotify"
    assert info["plugins"] == [{"name": "lavasrc-plugin", "version": "4.3.0"}]
    found = await get("/v4/loadtracks", identifier="spsearch:Spot")
    assert found["loadType"] == "search"
    assert found["data"][0]["info"]["sourceName"] == "spotify"


async def test_metrics_gauges_without_auth(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    _socket, ready = await open_socket(http, node)
    await patch(http, players_url(node, ready["sessionId"], 1), {"identifier": "alpha0000001"})
    async with http.get(f"{node.base_url}/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    samples = dict(
        line.split(" ") for line in text.splitlines() if line and not line.startswith("#")
    )
    assert float(samples["lavalink_players_total"]) == 1.0
    assert float(samples["lavalink_playing_players_total"]) == 1.0
    for name in (
        "lavalink_uptime_milliseconds",
        "lavalink_memory_used_bytes",
        "lavalink_memory_reservable_bytes",
        "lavalink_cpu_cores",
        "lavalink_cpu_system_load_percentage",
        "lavalink_cpu_lavalink_load_percentage",
    ):
        assert name in samples
    async with FakeLavalinkNode(metrics=False) as quiet, http.get(f"{quiet.base_url}/metrics") as r:
        assert r.status == 404


# -- loading and decoding --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "load_type", "titles"),
    [
        ("alpha0000001", "track", ["Alpha Song"]),
        ("https://example.test/watch?v=beta00000002", "track", ["Beta Tune"]),
        ("https://example.test/list", "playlist", ["Alpha Song", "Beta Tune"]),
        ("ytsearch:alpha", "search", ["Alpha Song"]),
        ("ytmsearch:other band", "search", ["Beta Tune"]),
        ("scsearch:ALPHA", "search", ["Gamma Alpha"]),
        ("ytsearch:nothing like this", "empty", []),
        ("https://unknown.test/x", "empty", []),
        ("https://example.test/broken", "error", []),
    ],
)
async def test_loadtracks(
    node: FakeLavalinkNode,
    http: aiohttp.ClientSession,
    identifier: str,
    load_type: str,
    titles: list[str],
) -> None:
    url = f"{node.base_url}/v4/loadtracks"
    async with http.get(url, params={"identifier": identifier}, headers=AUTH) as resp:
        result = await resp.json()
    assert result["loadType"] == load_type
    data = result["data"]
    tracks: list[dict[str, Any]] = []
    if load_type in {"track", "search"}:
        tracks = [data] if load_type == "track" else data
    elif load_type == "playlist":
        tracks = data["tracks"]
    assert [track["info"]["title"] for track in tracks] == titles
    for track in tracks:
        decoded = decode_track(track["encoded"])
        assert (decoded.title, decoded.length) == (track["info"]["title"], track["info"]["length"])
        assert set(track) == {"encoded", "info", "pluginInfo", "userData"}
    if load_type == "playlist":
        assert data["info"] == {"name": "Mix", "selectedTrack": -1}
    if load_type == "empty":
        assert data == {}
    if load_type == "error":
        assert data["message"] == "This video is unavailable"
        assert data["severity"] == "common"
        assert "cause" in data


async def test_decode_track_and_tracks(node: FakeLavalinkNode, http: aiohttp.ClientSession) -> None:
    encoded = [track.encoded for track in node.catalogue.tracks]
    url = f"{node.base_url}/v4/decodetrack"
    async with http.get(url, params={"encodedTrack": encoded[0]}, headers=AUTH) as resp:
        one = await resp.json()
    assert one["encoded"] == encoded[0]
    assert one["info"]["title"] == "Alpha Song"
    async with http.post(f"{url}s", json=encoded, headers=AUTH) as resp:
        many = await resp.json()
    assert [t["info"]["identifier"] for t in many] == ["alpha0000001", "beta00000002", "gamma"]
    async with http.get(url, params={"encodedTrack": "not-a-track"}, headers=AUTH) as resp:
        assert resp.status == 400
        assert set(await resp.json()) == ERROR_KEYS
    async with http.get(f"{node.base_url}/v4/loadtracks", headers=AUTH) as resp:
        assert resp.status == 400


# -- players and playback --------------------------------------------------------------------


async def test_player_lifecycle_and_events(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    socket, ready = await open_socket(http, node)
    session = ready["sessionId"]
    alpha, beta = node.catalogue.tracks[:2]
    async with http.get(players_url(node, "nosuchsession0000"), headers=AUTH) as resp:
        assert resp.status == 404
        assert (await resp.json())["message"] == "Session not found"
    async with http.get(players_url(node, session, 9), headers=AUTH) as resp:
        assert resp.status == 404
        assert (await resp.json())["message"] == "Player not found"

    status, player = await patch(
        http,
        players_url(node, session, 9),
        {"track": {"encoded": alpha.encoded, "userData": {"requester": "1"}}, "volume": 50},
    )
    assert status == 200
    assert player["guildId"] == "9"
    assert player["volume"] == 50
    assert player["track"]["userData"] == {"requester": "1"}
    start = await socket.event("TrackStartEvent")
    assert start["guildId"] == "9"
    assert start["track"]["encoded"] == alpha.encoded

    status, _ = await patch(http, players_url(node, session, 9), {"encodedTrack": beta.encoded})
    replaced = await socket.event("TrackEndEvent")
    assert replaced["reason"] == "replaced"
    assert replaced["track"]["info"]["title"] == "Alpha Song"
    assert (await socket.event("TrackStartEvent"))["track"]["info"]["title"] == "Beta Tune"

    _, kept = await patch(
        http, players_url(node, session, 9), {"track": {"encoded": alpha.encoded}}, noReplace="true"
    )
    assert kept["track"]["info"]["title"] == "Beta Tune"

    await patch(http, players_url(node, session, 9), {"track": {"encoded": None}})
    assert (await socket.event("TrackEndEvent"))["reason"] == "stopped"

    await patch(http, players_url(node, session, 9), {"track": {"identifier": "alpha0000001"}})
    await socket.event("TrackStartEvent")
    async with http.get(players_url(node, session), headers=AUTH) as resp:
        assert [p["guildId"] for p in await resp.json()] == ["9"]
    async with http.delete(players_url(node, session, 9), headers=AUTH) as resp:
        assert resp.status == 204
    assert (await socket.event("TrackEndEvent"))["reason"] == "cleanup"
    assert node.players == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"track": {"encoded": "x"}, "encodedTrack": "y"}, "Cannot specify both track and"),
        ({"track": {"encoded": "x", "identifier": "y"}}, "Cannot specify both encodedTrack"),
        ({"volume": 1001}, "Volume must be between 0 and 1000"),
        ({"endTime": 0, "encodedTrack": None}, "End time must be greater than 0"),
        ({"track": {"identifier": "https://example.test/list"}}, "Cannot play a playlist"),
        ({"track": {"identifier": "ytsearch:zzz"}}, "No matches found"),
        ({"track": {"encoded": "garbage"}}, "Failed to decode track"),
        ({"voice": {"token": "t", "endpoint": "e", "sessionId": "s"}}, "Partial Lavalink voice"),
        ({"paused": "yes"}, "Invalid value for 'paused'"),
    ],
)
async def test_player_update_validation(
    node: FakeLavalinkNode, http: aiohttp.ClientSession, body: dict[str, Any], message: str
) -> None:
    _, ready = await open_socket(http, node)
    status, error = await patch(http, players_url(node, ready["sessionId"], 5), body)
    assert status == 400
    assert set(error) == ERROR_KEYS
    assert error["message"].startswith(message)
    assert "token" not in error["message"] or "'t'" not in error["message"]
    assert node.players == {}


async def test_voice_channel_id_required_only_from_lavalink_4_2(
    http: aiohttp.ClientSession,
) -> None:
    voice = {"token": "t", "endpoint": "eu.discord.media", "sessionId": "s"}
    async with FakeLavalinkNode(version="4.0.8") as old:
        _, ready = await open_socket(http, old)
        status, player = await patch(
            http, players_url(old, ready["sessionId"], 3), {"voice": voice}
        )
        assert status == 200
        assert player["state"]["connected"] is True
    async with FakeLavalinkNode() as new:
        _, ready = await open_socket(http, new)
        url = players_url(new, ready["sessionId"], 3)
        status, player = await patch(http, url, {"voice": {**voice, "channelId": "77"}})
        assert status == 200
        assert player["voice"]["channelId"] == "77"
        assert new.players[3].voice["endpoint"] == "eu.discord.media"


async def test_playback_clock_end_time_pause_and_seek(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    socket, ready = await open_socket(http, node)
    url = players_url(node, ready["sessionId"], 11)
    alpha = node.catalogue.tracks[0]
    # pomice sends numbers as strings; Lavalink (Jackson) accepts them.
    await patch(http, url, {"encodedTrack": alpha.encoded, "position": "1000", "endTime": "4000"})
    update = await socket.next(
        lambda m: m["op"] == "playerUpdate" and m["state"]["position"] > 1000
    )
    assert update["guildId"] == "11"
    assert update["state"]["connected"] is False
    end = await socket.event("TrackEndEvent")
    assert end["reason"] == "finished"
    assert node.players[11].track is None

    await patch(http, url, {"encodedTrack": alpha.encoded, "paused": True, "position": 30_000})
    await socket.event("TrackStartEvent")
    frozen = node.players[11].position
    await socket.next(lambda m: m["op"] == "playerUpdate")
    await socket.next(lambda m: m["op"] == "playerUpdate")
    assert node.players[11].position == frozen == 30_000

    _, seeked = await patch(http, url, {"position": 59_000, "paused": False})
    assert seeked["paused"] is False
    assert seeked["state"]["position"] >= 59_000
    assert (await socket.event("TrackEndEvent"))["reason"] == "finished"


async def test_each_player_is_updated_on_its_own_schedule_from_its_track_start(
    http: aiohttp.ClientSession,
) -> None:
    # Lavalink schedules a player's playerUpdate at a fixed rate from TrackStart (the first at
    # once) and cancels it at TrackEnd: players are not updated in one burst.
    slow = FakeLavalinkNode(catalogue=make_catalogue(), player_update_interval=3600.0)
    async with slow:
        socket, ready = await open_socket(http, slow)
        alpha = slow.catalogue.tracks[0].encoded
        for guild in (21, 22):
            await patch(http, players_url(slow, ready["sessionId"], guild), {"encodedTrack": alpha})
            start = await socket.event("TrackStartEvent")
            update = await socket.next()  # next message: this player's first update
            assert (start["guildId"], update["op"], update["guildId"]) == (
                str(guild),
                "playerUpdate",
                str(guild),
            )
        await patch(http, players_url(slow, ready["sessionId"], 21), {"encodedTrack": None})
        await socket.event("TrackEndEvent")
        assert len(slow._engine.sessions[ready["sessionId"]].update_timers) == 1  # 22 only


def test_playback_clock_speed() -> None:
    now = [100.0]
    clock = PlaybackClock(speed=4.0, source=lambda: now[0])
    now[0] += 2.5
    assert clock.now_ms() == 10_000.0
    assert clock.real_seconds(10_000) == 2.5
    with pytest.raises(ValueError, match="positive"):
        PlaybackClock(speed=0)


async def test_filters_volume_and_user_data_are_kept(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    _, ready = await open_socket(http, node)
    url = players_url(node, ready["sessionId"], 12)
    filters = {"timescale": {"speed": 1.2, "pitch": 1.0, "rate": 1.0}, "volume": 0.8}
    await patch(http, url, {"track": {"identifier": "beta00000002"}, "filters": filters})
    await patch(http, url, {"volume": 250, "track": {"userData": {"k": "v"}}})
    snapshot = node.players[12]
    assert snapshot.filters == filters
    assert snapshot.volume == 250
    assert snapshot.track is not None
    assert snapshot.track["userData"] == {"k": "v"}


# -- triggers --------------------------------------------------------------------------------


async def test_exception_stuck_and_voice_closed_events(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    socket, ready = await open_socket(http, node)
    voice = {"token": "t", "endpoint": "e", "sessionId": "s", "channelId": "1"}
    await patch(
        http,
        players_url(node, ready["sessionId"], 13),
        {"track": {"identifier": "alpha0000001"}, "voice": voice},
    )
    await socket.event("TrackStartEvent")
    node.track_stuck(13, threshold_ms=5000)
    assert (await socket.event("TrackStuckEvent"))["thresholdMs"] == 5000
    node.track_exception(13, "boom", severity="suspicious")
    exception = (await socket.event("TrackExceptionEvent"))["exception"]
    assert exception["message"] == "boom"
    assert exception["severity"] == "suspicious"
    assert (await socket.event("TrackEndEvent"))["reason"] == "loadFailed"
    node.websocket_closed(13, code=4014, reason="Disconnected.")
    closed = await socket.event("WebSocketClosedEvent")
    assert (closed["code"], closed["reason"], closed["byRemote"]) == (4014, "Disconnected.", True)
    assert node.players[13].voice == {}
    assert [e["type"] for e in node.events(13)][-2:] == ["TrackEndEvent", "WebSocketClosedEvent"]


# -- resuming --------------------------------------------------------------------------------


async def test_resume_replays_queued_events_in_order(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    _socket, ready = await open_socket(http, node)
    session = ready["sessionId"]
    async with http.patch(
        f"{node.base_url}/v4/sessions/{session}",
        json={"resuming": True, "timeout": 60},
        headers=AUTH,
    ) as resp:
        assert await resp.json() == {"resuming": True, "timeout": 60}
    await patch(http, players_url(node, session, 21), {"track": {"identifier": "alpha0000001"}})
    await patch(
        http,
        players_url(node, session, 22),
        {"track": {"identifier": "beta00000002"}, "position": 119_000},
    )
    await node.drop_websocket()
    assert node.sessions[session].paused
    async with http.get(players_url(node, session), headers=AUTH) as resp:
        assert resp.status == 404
    node.track_exception(21, "lost while away")
    await node.wait_for(lambda: node.players[22].track is None)  # finished while away

    resumed = Socket(
        await http.ws_connect(node.ws_url, headers={**WS_HEADERS, "Session-Id": session})
    )
    assert resumed.ws._response is not None
    assert resumed.ws._response.headers["Session-Resumed"] == "true"
    ready_again = await resumed.next()
    assert ready_again == {"op": "ready", "resumed": True, "sessionId": session}
    replayed = [await resumed.next(lambda m: m["op"] == "event") for _ in range(3)]
    assert [(e["guildId"], e["type"]) for e in replayed] == [
        ("21", "TrackExceptionEvent"),
        ("21", "TrackEndEvent"),
        ("22", "TrackEndEvent"),
    ]
    assert replayed[2]["reason"] == "finished"
    async with http.get(players_url(node, session), headers=AUTH) as resp:
        assert resp.status == 200
        assert len(await resp.json()) == 2


async def test_session_without_resuming_or_after_timeout_is_gone(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    _, ready = await open_socket(http, node)
    await node.drop_websocket()
    assert ready["sessionId"] not in node.sessions

    _, ready = await open_socket(http, node)
    session = ready["sessionId"]
    async with http.patch(
        f"{node.base_url}/v4/sessions/{session}",
        json={"resuming": True, "timeout": 0},
        headers=AUTH,
    ):
        pass
    await node.drop_websocket()
    async with asyncio.timeout(5):
        await node.wait_for(lambda: session not in node.sessions)
    _, fresh = await open_socket(http, node, **{"Session-Id": session})
    assert fresh["resumed"] is False
    assert fresh["sessionId"] != session


# -- faults ----------------------------------------------------------------------------------


async def test_kill_refuses_connections_and_revive_serves_again(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    socket, _ = await open_socket(http, node)
    port = node.port
    await node.kill()
    async with asyncio.timeout(5):
        while (await socket.ws.receive()).type == aiohttp.WSMsgType.TEXT:
            pass
    assert socket.ws.closed
    with pytest.raises(aiohttp.ClientConnectorError):
        await http.get(f"{node.base_url}/version", headers=AUTH)
    assert node.sessions == {}
    await node.revive()
    assert node.port == port
    async with http.get(f"{node.base_url}/version", headers=AUTH) as resp:
        assert resp.status == 200


async def test_hang_answers_nothing_until_revived(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    node.hang()
    pending = asyncio.ensure_future(http.get(f"{node.base_url}/version", headers=AUTH))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await asyncio.shield(pending)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await http.ws_connect(node.ws_url, headers=WS_HEADERS)
    await node.revive()
    async with asyncio.timeout(5):
        resp = await pending
    assert resp.status == 200
    resp.release()


async def test_slow_adds_latency(node: FakeLavalinkNode, http: aiohttp.ClientSession) -> None:
    node.slow(5_000)
    timeout = aiohttp.ClientTimeout(total=0.2)
    with pytest.raises(TimeoutError):
        await http.get(f"{node.base_url}/version", headers=AUTH, timeout=timeout)
    node.slow(0)
    async with http.get(f"{node.base_url}/version", headers=AUTH, timeout=timeout) as resp:
        assert resp.status == 200


async def test_refuse_new_players(node: FakeLavalinkNode, http: aiohttp.ClientSession) -> None:
    _, ready = await open_socket(http, node)
    session = ready["sessionId"]
    assert (await patch(http, players_url(node, session, 1), {"volume": 10}))[0] == 200
    node.refuse_new_players(True)
    status, error = await patch(http, players_url(node, session, 2), {"volume": 10})
    assert status == 503
    assert set(error) == ERROR_KEYS
    assert (await patch(http, players_url(node, session, 1), {"volume": 20}))[0] == 200
    node.refuse_new_players(False)
    assert (await patch(http, players_url(node, session, 2), {"volume": 10}))[0] == 200


async def test_requests_are_recorded(node: FakeLavalinkNode, http: aiohttp.ClientSession) -> None:
    async with http.get(
        f"{node.base_url}/v4/loadtracks", params={"identifier": "ytsearch:beta"}, headers=AUTH
    ):
        pass
    recorded = node.requests[-1]
    assert (recorded.method, recorded.path) == ("GET", "/v4/loadtracks")
    assert recorded.query == {"identifier": "ytsearch:beta"}


async def test_stats_op_reports_load_and_frame_stats(
    node: FakeLavalinkNode, http: aiohttp.ClientSession
) -> None:
    socket, ready = await open_socket(http, node)
    await patch(http, players_url(node, ready["sessionId"], 31), {"identifier": "alpha0000001"})
    node.set_load(system_load=0.75, lavalink_load=0.5, frame_deficit=120)
    node.send_stats()
    stats = await socket.next(lambda m: m["op"] == "stats" and m["players"] == 1)
    assert stats["playingPlayers"] == 1
    assert stats["cpu"]["systemLoad"] == 0.75
    assert stats["frameStats"] == {"sent": 3000, "nulled": 0, "deficit": 120}


async def test_command_line_entry_serves_a_node(http: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vectobeat_testkit.lavalink",
        "--port",
        "0",
        "--name",
        "cli-1",
        "--region",
        "eu",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        assert "cli-1 (eu)" in line
        base_url = line.rsplit(" ", 1)[1].strip()
        params = {"identifier": "ytsearch:rick"}
        async with http.get(f"{base_url}/v4/loadtracks", params=params, headers=AUTH) as resp:
            assert (await resp.json())["loadType"] == "search"
    finally:
        process.terminate()
        await process.wait()


def test_catalogue_track_round_trips_through_the_core_codec() -> None:
    track = CatalogueTrack(
        title="Ünïcode 🎵", author="A", length=1234, identifier="x", uri=None, isrc="USRC1"
    )
    decoded = decode_track(track.encoded)
    assert (decoded.title, decoded.isrc, decoded.uri, decoded.source) == (
        "Ünïcode 🎵",
        "USRC1",
        None,
        "youtube",
    )
