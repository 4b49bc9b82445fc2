"""The fake node's filters (validated like Lavalink, applied to position and end time) and its
LavaLyrics plugin routes, over raw HTTP; and our lyrics client (`NodeLyrics`) against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from tests.integration.test_fake_lavalink_protocol import (
    AUTH,
    ERROR_KEYS,
    Socket,
    open_socket,
    players_url,
)

from vectobeat_adapters.lavalink.lyrics import has_lyrics_plugin, parse_lyrics
from vectobeat_testkit.lavalink import Catalogue, CatalogueTrack, FakeLavalinkNode

pytestmark = pytest.mark.anyio

GUILD = 777


class FakeClock:
    """A monotonic seconds source the test moves by hand (no wall-clock in assertions)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def catalogue_with_lyrics() -> tuple[Catalogue, CatalogueTrack, CatalogueTrack, CatalogueTrack]:
    catalogue = Catalogue()
    synced = catalogue.add("Synced Song", "Singers", 200_000, identifier="synced000001")
    plain = catalogue.add("Plain Song", "Singers", 200_000, identifier="plain0000001")
    silent = catalogue.add("Silent Song", "Mimes", 200_000, identifier="silent000001")
    catalogue.add_lyrics(synced, lines=[(0, "First line"), (4_500, "Second line")])
    catalogue.add_lyrics(plain, text="Just words\nand more words")
    return catalogue, synced, plain, silent


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def node(clock: FakeClock) -> AsyncIterator[FakeLavalinkNode]:
    catalogue, *_ = catalogue_with_lyrics()
    fake = FakeLavalinkNode(catalogue=catalogue, clock_source=clock, lyrics_plugin=True)
    async with fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def playing(
    http: aiohttp.ClientSession, node: FakeLavalinkNode, encoded: str
) -> tuple[Socket, str]:
    socket, ready = await open_socket(http, node)
    session = ready["sessionId"]
    async with http.patch(
        players_url(node, session, GUILD), json={"track": {"encoded": encoded}}, headers=AUTH
    ) as response:
        assert response.status == 200, await response.text()
    return socket, session


async def patch(
    http: aiohttp.ClientSession, node: FakeLavalinkNode, session: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    async with http.patch(players_url(node, session, GUILD), json=body, headers=AUTH) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"timescale": {"speed": 0}}, "timescale.speed must be greater than 0"),
        ({"equalizer": [{"band": 15, "gain": 0.1}]}, "Equalizer band must be 0 to 14"),
        ({"equalizer": [{"band": 1, "gain": -0.5}]}, "Equalizer gain must be from -0.25 to 1.0"),
        (
            {"vibrato": {"frequency": 20.0, "depth": 0.5}},
            "vibrato.frequency must be greater than 0",
        ),
        ({"tremolo": {"frequency": 2.0, "depth": 0}}, "tremolo.depth must be greater than 0"),
        ({"lowPass": {"smoothing": 1.0}}, "lowPass.smoothing must be greater than 1"),
        ({"volume": 7}, "volume must be from 0.0 to 5.0"),
    ],
)
async def test_out_of_range_filters_are_refused_in_lavalinks_error_shape(
    http: aiohttp.ClientSession, node: FakeLavalinkNode, filters: dict[str, Any], message: str
) -> None:
    _, synced, *_ = catalogue_with_lyrics()
    socket, session = await playing(http, node, synced.encoded)
    status, body = await patch(http, node, session, {"filters": filters})
    assert status == 400
    assert set(body) >= ERROR_KEYS and body["status"] == 400
    assert message in body["message"]
    assert node.players[GUILD].filters == {}  # nothing applied
    await socket.ws.close()


async def test_timescale_changes_how_fast_position_advances_and_when_the_track_ends(
    http: aiohttp.ClientSession, node: FakeLavalinkNode, clock: FakeClock
) -> None:
    _, synced, *_ = catalogue_with_lyrics()
    socket, session = await playing(http, node, synced.encoded)
    clock.now += 10.0
    assert node.players[GUILD].position == 10_000
    status, body = await patch(
        http, node, session, {"filters": {"timescale": {"speed": 1.5, "pitch": 1.0, "rate": 2.0}}}
    )
    assert status == 200 and body["filters"]["timescale"]["speed"] == 1.5
    clock.now += 10.0  # 10 node seconds at 1.5 x 2.0
    assert node.players[GUILD].position == 40_000
    state = node._engine.find_player(GUILD)[1]  # the end-time arithmetic
    assert state.remaining_ms() == pytest.approx((200_000 - 40_000) / 3.0)
    status, _ = await patch(http, node, session, {"filters": {}})
    clock.now += 10.0  # back at normal speed
    assert node.players[GUILD].position == 50_000
    await socket.ws.close()


async def test_lyrics_routes_answer_the_plugins_shapes(
    http: aiohttp.ClientSession, node: FakeLavalinkNode
) -> None:
    _, synced, plain, silent = catalogue_with_lyrics()
    async with http.get(f"{node.base_url}/v4/info", headers=AUTH) as response:
        assert has_lyrics_plugin(await response.json())
    url = f"{node.base_url}/v4/lyrics"
    async with http.get(url, params={"track": synced.encoded}, headers=AUTH) as response:
        body = await response.json()
    assert response.status == 200
    assert body["sourceName"] == "youtube" and body["provider"] == "FakeMatch"
    assert body["lines"][0] == {
        "timestamp": 0,
        "duration": 4500,
        "line": "First line",
        "plugin": {},
    }
    assert body["lines"][1]["duration"] is None and body["text"] is None
    query = {"track": plain.encoded, "skipTrackSource": "true"}
    async with http.get(url, params=query, headers=AUTH) as response:
        body = await response.json()
    assert body["sourceName"] == "lrclib" and body["lines"] == []
    lyrics = parse_lyrics(body)
    assert lyrics is not None and lyrics.rows() == ["Just words", "and more words"]
    async with http.get(url, params={"track": silent.encoded}, headers=AUTH) as response:
        assert response.status == 204
    async with http.get(url, params={"track": "not-a-track"}, headers=AUTH) as response:
        assert (
            response.status == 400
            and "Failed to decode track" in (await response.json())["message"]
        )
    async with http.get(url, headers=AUTH) as response:
        assert response.status == 400

    socket, session = await playing(http, node, synced.encoded)
    player = f"{players_url(node, session, GUILD)}/track/lyrics"
    async with http.get(player, params={"skipTrackSource": "false"}, headers=AUTH) as response:
        lyrics = parse_lyrics(await response.json())
    assert lyrics is not None and lyrics.synced
    assert lyrics.rows() == ["[0:00] First line", "[0:04] Second line"]
    nobody = f"{players_url(node, session, GUILD + 1)}/track/lyrics"
    async with http.get(nobody, headers=AUTH) as response:
        assert response.status == 404 and set(await response.json()) >= ERROR_KEYS
    await socket.ws.close()


async def test_a_node_without_the_plugin_lists_none_and_has_no_routes(
    http: aiohttp.ClientSession, node: FakeLavalinkNode
) -> None:
    _, synced, *_ = catalogue_with_lyrics()
    node.lyrics_plugin = False
    async with http.get(f"{node.base_url}/v4/info", headers=AUTH) as response:
        assert not has_lyrics_plugin(await response.json())
    query = {"track": synced.encoded}
    async with http.get(f"{node.base_url}/v4/lyrics", params=query, headers=AUTH) as response:
        assert response.status == 404


def test_lyrics_are_read_liberally() -> None:
    odd = {
        "provider": None,
        "lines": [
            {"timestamp": 9000, "line": "later"},
            {"timestamp": "x", "duration": -1, "line": "first"},
            {"no": "line"},
            "junk",
        ],
    }
    lyrics = parse_lyrics(odd)
    assert lyrics is not None
    assert [(ln.timestamp_ms, ln.line) for ln in lyrics.lines] == [(0, "first"), (9000, "later")]
    assert lyrics.source == "unknown" and lyrics.provider == "unknown"
    assert parse_lyrics(None) is None
    assert parse_lyrics({"text": "  ", "lines": None}) is None
