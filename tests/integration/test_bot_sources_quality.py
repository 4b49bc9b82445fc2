"""Source access and playback quality over a real `PlayerService`, `LavalinkCluster`, fake nodes
and the panel: a search uses only the sources the guild's level allows and the nodes report (with
a fallback when one finds nothing), a refused link names its source and the plan, and the node's
player carries the quality's filters on every play, after a failover and after a live change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from tests.integration.test_bot_player_moves import Bot, in_process_bot, until

from vectobeat_core.errors import LimitExceeded, NotFound
from vectobeat_core.ids import ChannelId, GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings
from vectobeat_panel.settings_flow import save_settings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]

LAVASRC = ("youtube", "soundcloud", "http", "spotify", "applemusic", "deezer")
STANDARD = {"lowPass": {"smoothing": 20.0}}
Play = Callable[[str], Awaitable[str]]
"""Play a query in one guild; the source of the track it queued."""


async def guild(bot: Bot, key: str, tier: Tier, settings: ServerSettings) -> tuple[GuildId, Play]:
    made = await bot.world.add_guild(key, tier, settings)
    guild_id = GuildId(made.id)

    async def play(query: str) -> str:
        outcome = await bot.service.play(
            guild_id,
            query=query,
            requester=UserId(int(made.member.id)),
            voice_channel_id=ChannelId(made.voice_channel),
        )
        return outcome.added[0].track.source

    return guild_id, play


async def test_searches_and_links_stay_within_the_guilds_source_access(tmp_path: Path) -> None:
    async with in_process_bot(tmp_path) as bot:
        catalogue = bot.world.catalogue
        catalogue.add("Sierra Cloud", "Waves", 60_000, source="soundcloud")
        catalogue.add("Tango Spot", "Lists", 60_000, source="spotify")
        catalogue.add("Uniform Hidden", "Lists", 60_000, source="spotify", uri="https://x.test/u")
        _, free = await guild(bot, "free", Tier.FREE, ServerSettings())
        _, starter = await guild(
            bot, "starter", Tier.STARTER, ServerSettings(source_access="extended")
        )

        assert await free("Alpha Song") == "youtube"
        assert await free("Sierra Cloud") == "soundcloud"  # YouTube found nothing: SoundCloud did
        with pytest.raises(NotFound):  # the nodes report no Spotify yet
            await starter("Tango Spot")

        catalogue.source_managers = LAVASRC  # the nodes now run LavaSrc
        bot.cluster.sources.ttl_s = 0.0
        with pytest.raises(NotFound):  # standard access does not search Spotify
            await free("Tango Spot")
        assert await starter("Tango Spot") == "spotify"

        with pytest.raises(LimitExceeded, match=r"Spotify .*Free.*Starter plan"):
            await free("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC")
        with pytest.raises(LimitExceeded, match=r"Spotify .*Starter plan"):  # found by its source
            await free("https://x.test/u")
        assert await starter("https://x.test/u") == "spotify"


async def test_the_players_filters_follow_the_playback_quality(tmp_path: Path) -> None:
    async with in_process_bot(tmp_path) as bot, anyio.create_task_group() as tg:
        await tg.start(bot.service.settings.run)
        w = bot.world
        guild_id, play = await guild(
            bot,
            "quality",
            Tier.GROWTH,
            ServerSettings(region=Region.EU, playback_quality="standard"),
        )

        def filters(region: str) -> object:
            player = w.nodes[region].players.get(guild_id)
            return None if player is None else player.filters

        await play("Alpha Song")
        await until(lambda: filters("eu") == STANDARD)

        await save_settings(
            w.panel, guild_id, base_version=1, patch={"playback_quality": "lossless"}, actor="t"
        )
        await until(lambda: filters("eu") == {})  # changed live, no new track needed

        await save_settings(
            w.panel, guild_id, base_version=2, patch={"playback_quality": "high"}, actor="t"
        )
        await until(lambda: filters("eu") == {"lowPass": {"smoothing": 5.0}})
        await w.nodes["eu"].kill()  # the player moves to us-1 with its filters
        await until(lambda: filters("us") == {"lowPass": {"smoothing": 5.0}})
        tg.cancel_scope.cancel()
