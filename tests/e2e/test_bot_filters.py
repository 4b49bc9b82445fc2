"""/filter end to end: every preset reaches the fake node merged with the playback quality's
low-pass, survives a node failover (each guild's player moves at least once) and a bot restart;
bad values and members without DJ access get clear ephemeral errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.e2e.conftest import BotProcess, BotWorld, E2EGuild, bot_world, running_bot

from vectobeat_core.filters import (
    PRESETS,
    Effects,
    equalizer_effect,
    merge_filters,
    preset_effect,
    timescale_effect,
)
from vectobeat_core.jsontypes import JSONObject
from vectobeat_core.plans import Tier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(400)]

STANDARD: JSONObject = {"lowPass": {"smoothing": 20.0}}
"""What a Free guild's playback quality (standard) plays with."""

Case = tuple[str, dict[str, Any], tuple[str, JSONObject]]
CASES: list[Case] = [
    *[(f"preset {name}", {"name": name}, preset_effect(name)) for name in PRESETS],
    ("equalizer", {"preset": "rock"}, equalizer_effect("rock")),
    ("timescale", {"speed": 1.25, "pitch": 0.9, "rate": 1.0}, timescale_effect(1.25, 0.9, 1.0)),
]


def expected_filters(effect: tuple[str, JSONObject]) -> JSONObject:
    return merge_filters(STANDARD, Effects().with_effect(*effect))


async def filters_on_node(w: BotWorld, guild: E2EGuild, node: str) -> dict[str, Any]:
    """The guild's filters once its player plays on ``node``."""
    await w.wait_nodes(lambda: (w.player(guild) or ("", None))[0] == node, 20)
    found = w.player(guild)
    assert found is not None
    return dict(found[1].filters)


async def wait_all_nodes_up(bot: BotProcess, count: int) -> None:
    """Until the bot's Status API counts ``count`` nodes up (a revived node is back in use)."""
    with anyio.fail_after(20):
        while True:  # another process: its view can only be polled
            nodes = (await bot.get("/status")).json()["nodes"]
            if nodes["by_status"].get("up", 0) == count:
                return
            await anyio.sleep(0.05)


async def test_each_preset_is_applied_and_kept_across_failover_and_restart(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        guilds = [await w.add_guild(f"fx{i}", Tier.FREE) for i in range(len(CASES))]
        async with running_bot(w) as bot:
            for guild, (command, options, effect) in zip(guilds, CASES, strict=True):
                await w.voice(guild, guild.member)
                played = await w.run(guild, guild.member, "play", {"query": "Alpha Song"})
                assert not played.ephemeral, played.content
                await w.wait_player(guild, "Alpha Song")
                answer = await w.run(guild, guild.member, f"filter {command.split()[0]}", options)
                assert not answer.ephemeral, answer.content
                label = Effects().with_effect(*effect).names()[0]
                assert answer.content == f"Filters: {label}."
                want = expected_filters(effect)
                await w.wait_nodes(lambda g=guild, f=want: w.player(g)[1].filters == f)  # type: ignore[index,misc]
            shown = await w.run(guilds[1], guilds[1].member, "nowplaying")
            assert "Filters: Nightcore." in shown.content

            # every player moves at least once: kill us-1, then (us-1 back) eu-1
            for dead, alive in (("us", "eu"), ("eu", "us")):
                await w.nodes[dead].kill()
                for guild, (_, _, effect) in zip(guilds, CASES, strict=True):
                    moved = await filters_on_node(w, guild, w.nodes[alive].name)
                    assert moved == expected_filters(effect), guild.guild.name
                await w.nodes[dead].revive()
                await wait_all_nodes_up(bot, 2)

        async with running_bot(w):  # a restart: the effects come back from the snapshot
            for guild, (_, _, effect) in zip(guilds, CASES, strict=True):
                label = Effects().with_effect(*effect).names()[0]
                shown = await w.run(guild, guild.member, "filter show")
                assert shown.content == f"Filters: {label}.", guild.guild.name
                _, player = await w.wait_player(guild, "Alpha Song")
                assert dict(player.filters) == expected_filters(effect)
            reset = await w.run(guilds[0], guilds[0].member, "filter reset")
            assert reset.content.startswith("Filters reset")
            await w.wait_nodes(lambda: w.player(guilds[0])[1].filters == STANDARD)  # type: ignore[index]


async def test_bad_filter_values_and_permissions_get_clear_ephemeral_errors(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        guild = await w.add_guild("fxbad", Tier.FREE, dj_role=True)
        idle = await w.add_guild("fxidle", Tier.FREE)
        async with running_bot(w):
            nothing = await w.run(idle, idle.member, "filter preset", {"name": "nightcore"})
            assert nothing.ephemeral and "Nothing is playing" in nothing.content
            await w.voice(guild, guild.dj)
            await w.run(guild, guild.dj, "play", {"query": "Bravo Song"})
            await w.wait_player(guild, "Bravo Song")
            refused = await w.run(guild, guild.member, "filter preset", {"name": "8d"})
            assert refused.ephemeral
            assert refused.content.startswith("Only DJs can change the filters here")
            for command, options, message in (
                ("filter timescale", {"speed": 0.0}, "timescale.speed must be greater than 0"),
                ("filter timescale", {"pitch": -2.0}, "timescale.pitch must be greater than 0"),
                ("filter band", {"band": 15, "gain": 0.1}, "Equalizer band must be 0 to 14"),
                ("filter band", {"band": 3, "gain": 1.5}, "Equalizer gain must be from -0.25"),
            ):
                answer = await w.run(guild, guild.dj, command, options)
                assert answer.ephemeral, (command, options, answer.content)
                assert message in answer.content, (command, options, answer.content)
            _, player = await w.wait_player(guild, "Bravo Song")
            assert dict(player.filters) == STANDARD  # nothing bad reached the node
            band = await w.run(guild, guild.dj, "filter band", {"band": 3, "gain": 0.5})
            assert band.content == "Filters: Equalizer (custom)."
            await w.wait_nodes(
                lambda: w.player(guild)[1].filters.get("equalizer") == [{"band": 3, "gain": 0.5}]  # type: ignore[index]
            )
