"""Every command with bad arguments answers with a clear ephemeral message; none raises unhandled.

The bot runs as a real process; its log must show no unhandled error (checked when it stops).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import BotProcess, BotWorld, E2EGuild, bot_world, running_bot

from vectobeat_core.plans import Tier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(300)]

GENERIC = "Something went wrong"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[BotWorld, BotProcess]]:
    tmp: Path = tmp_path_factory.mktemp("bot-bad-input")
    async with bot_world(tmp, redis_url=None) as built:
        await built.add_guild("idle", Tier.FREE)
        await built.add_guild("playing", Tier.STARTER)
        await built.add_guild("free", Tier.FREE)
        async with running_bot(built) as bot:
            playing = built.guilds["playing"]
            await built.voice(playing, playing.member)
            for title in ("Short Tune", "Alpha Song", "Bravo Song"):
                answer = await built.run(playing, playing.member, "play", {"query": title})
                assert not answer.ephemeral, answer.content
            await built.wait_player(playing, "Short Tune")
            yield built, bot


async def refused(
    world: tuple[BotWorld, BotProcess],
    key: str,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    voice: bool = False,
) -> str:
    w = world[0]
    guild: E2EGuild = w.guilds[key]
    if voice:
        await w.voice(guild, guild.member)
    answer = await w.run(guild, guild.member, name, options)
    assert answer.ephemeral, f"/{name} {options}: {answer.content!r} is public"
    assert GENERIC not in answer.content, f"/{name} {options} fell through to the generic error"
    return answer.content


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("remove", {"from": 9}, "Position 9 is out of range: choose 1-2."),
        ("remove", {"from": 0}, "Position 0 is out of range: choose 1-2."),
        ("remove", {"from": 2, "to": 1}, "The range 2-1 is backwards: start must not pass end."),
        ("remove", {"from": 1, "to": 3}, "End position 3 is out of range: choose 1-2."),
        ("move", {"from": 1, "to": 7}, "Target position 7 is out of range: choose 1-2."),
        ("move", {"from": -3, "to": 1}, "Source position -3 is out of range: choose 1-2."),
        ("jump", {"position": 50}, "Position 50 is out of range: choose 1-2."),
        ("skip", {"count": 99}, "Skip count 99 is out of range: choose 1-2."),
        ("queue", {"page": 4}, "Page 4 is out of range: choose 1-1."),
        ("volume", {"level": 500}, "Volume must be from 0 to 200 percent, got 500."),
        ("volume", {"level": -1}, "Volume must be from 0 to 200 percent, got -1."),
        (
            "seek",
            {"position": "99:00"},
            "1:39:00 is past the end of Short Tune: choose a position from 0:00 to 0:03.",
        ),
        ("seek", {"position": "1:75"}, "minutes and seconds after a colon go up to 59"),
        ("seek", {"position": "+99:00"}, "is past the end of Short Tune"),
        ("seek", {"position": "+-3"}, "or a step from now like +10 or -1:30"),
        ("shuffle", {"undo": True}, "There is no shuffle to undo"),
        ("seek", {"position": "soon"}, "is not a position: write seconds (90), mm:ss (1:30)"),
        ("loop", {"mode": "sideways"}, "Loop mode must be off, track or queue"),
        ("play", {"query": "   "}, "Say what to play: a link or some words to search for."),
        (
            "play",
            {"query": "https://example.test/broken"},
            "That could not be loaded: This video is unavailable",
        ),
        (
            "play",
            {"query": "no such song anywhere"},
            "Nothing was found for 'no such song anywhere'.",
        ),
        ("playlist load", {"name": "nope"}, "There is no playlist named 'nope'"),
        ("playlist delete", {"name": "nope"}, "There is no playlist named 'nope'"),
    ],
)
async def test_bad_arguments_while_playing(
    world: tuple[BotWorld, BotProcess], name: str, options: dict[str, Any], expected: str
) -> None:
    assert expected in await refused(world, "playing", name, options, voice=True)


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("pause", None, "Nothing is playing and the queue is empty."),
        ("skip", None, "Nothing is playing and the queue is empty."),
        ("seek", {"position": "0:10"}, "Nothing is playing and the queue is empty."),
        ("stop", None, "Nothing is playing and the queue is empty."),
        ("nowplaying", None, "Nothing is playing right now."),
        ("remove", {"from": 1}, "Position 1 is out of range: the queue is empty."),
        ("previous", None, "There is no previous track."),
        ("replay", None, "Nothing is playing right now."),
        ("search", {"query": "no such song anywhere"}, "Join a voice channel first"),
        ("disconnect", None, "I am not connected to a voice channel."),
    ],
)
async def test_bad_arguments_with_nothing_playing(
    world: tuple[BotWorld, BotProcess], name: str, options: dict[str, Any] | None, expected: str
) -> None:
    assert expected in await refused(world, "idle", name, options)


async def test_no_voice_channel(world: tuple[BotWorld, BotProcess]) -> None:
    for name, options in (
        ("play", {"query": "Alpha Song"}),
        ("connect", None),
        ("playlist load", {"name": "x"}),
    ):
        text = await refused(world, "free", name, options)
        assert text == "Join a voice channel first, then run the command again."


async def test_playlists_are_a_paid_feature_on_free(world: tuple[BotWorld, BotProcess]) -> None:
    text = await refused(world, "free", "playlist save", {"name": "mine"})
    assert text == "Saved playlists are not included in your plan (Free); upgrade to save them."


async def test_playlist_round_trip_on_starter(world: tuple[BotWorld, BotProcess]) -> None:
    w = world[0]
    guild = w.guilds["playing"]
    saved = await w.run(guild, guild.member, "playlist save", {"name": "Mix"})
    assert not saved.ephemeral and saved.content.startswith("Saved playlist **Mix** (")
    listed = await w.run(guild, guild.member, "playlist list")
    assert "**Mix**" in listed.content
    loaded = await w.run(guild, guild.member, "playlist load", {"name": "mix"})
    assert loaded.content.startswith("Queued playlist **Mix** (")
    deleted = await w.run(guild, guild.member, "playlist delete", {"name": "MIX"})
    assert deleted.content == "Deleted playlist **MIX**."
