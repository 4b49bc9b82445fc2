"""Fidelity: unmodified pomice 2.11 and wavelink 3.5 work against the fake Lavalink v4 node.

Both libraries need a discord.py ``Client``; one is built without logging in (no network): its
user is set to a bot id and it is marked ready. Voice is driven the way Discord's gateway would
(the library's own voice-state/voice-server callbacks), so the libraries send their real
``voice`` updates. The libraries import deprecated modules (``audioop``, ``websockets.legacy``),
so they are imported inside the fixtures with exactly those warnings silenced.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore:.*websockets.legacy is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:'audioop' is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:websockets.client.connect is deprecated:DeprecationWarning"),
]

BOT_ID = 1_000_000_000_000_001
GUILD_ID = 555_000_000_000_000_001
CHANNEL_ID = 777_000_000_000_000_001


def _import(name: str) -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return __import__(name)


class Recorder:
    """Collects ``Client.dispatch`` calls (``on_pomice_*`` / ``on_wavelink_*`` events)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.changed = asyncio.Event()

    def record(self, event: str, args: tuple[Any, ...]) -> None:
        self.events.append((event, args))
        self.changed.set()

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    async def wait(self, name: str, count: int = 1) -> list[tuple[Any, ...]]:
        async with asyncio.timeout(20):
            while sum(1 for n, _ in self.events if n == name) < count:
                self.changed.clear()
                await self.changed.wait()
        return [args for n, args in self.events if n == name]


async def offline_client(recorder: Recorder) -> Any:
    """A discord.py bot that never logs in: bot user set, marked ready, events recorded.

    pomice needs ``commands.Bot`` (it calls ``add_listener``); wavelink takes any Client.
    """
    discord = _import("discord")
    commands = _import("discord.ext.commands").ext.commands

    class Bot(commands.Bot):  # type: ignore[misc, name-defined]
        def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
            recorder.record(event, args)
            super().dispatch(event, *args, **kwargs)

    client = Bot(command_prefix="!", intents=discord.Intents.none())
    await client._async_setup_hook()
    client._connection.user = discord.ClientUser(
        state=client._connection,
        data={"id": BOT_ID, "username": "vectobeat", "discriminator": "0", "avatar": None},
    )
    client._ready.set()
    return client


def stub_channel() -> SimpleNamespace:
    """The parts of a voice channel (and its guild) the libraries touch; voice is a no-op."""

    async def change_voice_state(**_: Any) -> None:
        return None

    guild = SimpleNamespace(id=GUILD_ID, name="Test Guild", change_voice_state=change_voice_state)
    channel = SimpleNamespace(
        id=CHANNEL_ID,
        guild=guild,
        name="Music",
        members=[],
        _get_voice_client_key=lambda: (GUILD_ID, "guild_id"),
    )
    guild.get_channel = lambda channel_id: channel if channel_id == CHANNEL_ID else None
    return channel


def make_catalogue() -> Catalogue:
    catalogue = Catalogue()
    catalogue.add("Fidelity Anthem", "The Fakes", 40_000, identifier="fidelity0001")
    catalogue.add("Second Song", "The Fakes", 50_000, identifier="second000002")
    catalogue.add_playlist("https://example.test/playlist", "Fake Mix", list(catalogue.tracks))
    return catalogue


@pytest.fixture
async def node() -> AsyncIterator[FakeLavalinkNode]:
    async with FakeLavalinkNode(
        name="eu-1", region="eu", catalogue=make_catalogue(), speed=20.0,
        player_update_interval=0.05,
    ) as fake:  # fmt: skip
        yield fake


# -- pomice ----------------------------------------------------------------------------------


async def test_pomice_connects_loads_plays_and_receives_events(node: FakeLavalinkNode) -> None:
    pomice = _import("pomice")
    recorder = Recorder()
    client = await offline_client(recorder)
    pool_node = await pomice.NodePool.create_node(
        bot=client,
        host=node.host,
        port=node.port,
        password="youshallnotpass",
        identifier="fidelity-pomice",
        resume_key="unused-on-v4",
        resume_timeout=30,
    )
    try:
        async with asyncio.timeout(10):
            await node.wait_for(lambda: any(s.resuming for s in node.sessions.values()))
        session = next(iter(node.sessions.values()))
        assert session.user_id == BOT_ID
        assert session.client_name is not None
        assert session.client_name.startswith("Pomice/")
        assert session.timeout == 30
        assert pool_node._version.major == 4

        found = await pool_node.get_tracks("ytsearch:fidelity")
        assert [t.title for t in found] == ["Fidelity Anthem"]
        playlist = await pool_node.get_tracks("https://example.test/playlist")
        assert playlist.name == "Fake Mix"
        assert len(playlist.tracks) == 2
        built = await pool_node.build_track(found[0].track_id)
        assert built.title == "Fidelity Anthem"

        player = pomice.Player(client, stub_channel(), node=pool_node)
        pool_node._players[GUILD_ID] = player
        await player.on_voice_server_update(
            {"token": "voice-token", "endpoint": "eu.discord.media", "guild_id": str(GUILD_ID)}
        )  # no voice session yet: pomice waits for the voice state
        assert GUILD_ID not in node.players
        player._voice_state["sessionId"] = "discord-voice-session"
        await player._dispatch_voice_update()
        assert node.players[GUILD_ID].voice == {
            "token": "voice-token",
            "endpoint": "eu.discord.media",
            "sessionId": "discord-voice-session",
            "channelId": str(CHANNEL_ID),
        }

        await player.play(found[0])
        await recorder.wait("pomice_track_start")
        await player.set_volume(40)
        await player.set_pause(True)
        snapshot = node.players[GUILD_ID]
        assert (snapshot.volume, snapshot.paused) == (40, True)
        assert snapshot.track is not None
        assert snapshot.track["info"]["title"] == "Fidelity Anthem"

        await player.set_pause(False)
        await player.seek(39_000)
        ended = await recorder.wait("pomice_track_end")
        assert ended[0][2] == "finished"
        async with asyncio.timeout(5):
            await node.wait_for(lambda: player._last_position > 0)

        await player.play(playlist.tracks[1])
        await recorder.wait("pomice_track_start", 2)
        node.track_exception(GUILD_ID, "decoder exploded")
        await recorder.wait("pomice_track_exception")
        node.websocket_closed(GUILD_ID, code=4006)
        await recorder.wait("pomice_websocket_closed")

        await player.destroy()
        assert GUILD_ID not in node.players
    finally:
        await pool_node.disconnect()
        await client.close()
    paths = {r.path for r in node.requests}
    assert {"/version", "/v4/loadtracks", "/v4/decodetrack"} <= paths


# -- wavelink --------------------------------------------------------------------------------


async def test_wavelink_connects_loads_plays_and_receives_events(node: FakeLavalinkNode) -> None:
    wavelink = _import("wavelink")
    recorder = Recorder()
    client = await offline_client(recorder)
    wl_node = wavelink.Node(
        uri=node.base_url, password="youshallnotpass", client=client, resume_timeout=45
    )
    try:
        await wavelink.Pool.connect(nodes=[wl_node], client=client)
        (ready,) = await recorder.wait("wavelink_node_ready")
        session = node.sessions[ready[0].session_id]
        assert session.resuming
        assert session.timeout == 45
        assert session.client_name is not None
        assert session.client_name.startswith("Wavelink/")

        search = await wavelink.Playable.search("second", source="ytsearch")
        assert [t.title for t in search] == ["Second Song"]
        playlist = await wavelink.Playable.search("https://example.test/playlist")
        assert playlist.name == "Fake Mix"
        assert len(playlist.tracks) == 2
        assert await wavelink.Pool.fetch_tracks("ytsearch:no such thing") == []
        info = await wl_node.fetch_info()
        assert info.version.major == 4
        stats = await wl_node.fetch_stats()
        assert stats.players == 0

        player = wavelink.Player(client, stub_channel())
        player._guild = player.channel.guild
        wl_node._players[GUILD_ID] = player
        await player.on_voice_state_update(
            {"channel_id": str(CHANNEL_ID), "session_id": "discord-voice", "user_id": str(BOT_ID)}
        )
        await player.on_voice_server_update(
            {"token": "tok", "endpoint": "eu.discord.media", "guild_id": str(GUILD_ID)}
        )
        assert node.players[GUILD_ID].voice["channelId"] == str(CHANNEL_ID)

        await player.play(search[0], volume=70)
        (started,) = await recorder.wait("wavelink_track_start")
        assert started[0].track.title == "Second Song"
        fetched = await wl_node.fetch_player_info(GUILD_ID)
        assert fetched is not None
        assert fetched.volume == 70
        await player.pause(True)
        assert node.players[GUILD_ID].paused is True
        await player.pause(False)
        await player.seek(49_000)
        ended = await recorder.wait("wavelink_track_end")
        assert ended[0][0].reason == "finished"
        await recorder.wait("wavelink_player_update")

        await player.play(playlist.tracks[0])
        await recorder.wait("wavelink_track_start", 2)
        node.track_stuck(GUILD_ID, 7_000)
        (stuck,) = await recorder.wait("wavelink_track_stuck")
        assert stuck[0].threshold == 7_000
        node.track_exception(GUILD_ID, "decoder exploded")
        (failed,) = await recorder.wait("wavelink_track_exception")
        assert failed[0].exception["message"] == "decoder exploded"
        node.websocket_closed(GUILD_ID, code=4014, reason="Disconnected.")
        (closed,) = await recorder.wait("wavelink_websocket_closed")
        assert closed[0].code.value == 4014
        await recorder.wait("wavelink_stats_update")
    finally:
        await wavelink.Pool.close()
        await client.close()
    assert GUILD_ID not in node.players
