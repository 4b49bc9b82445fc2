"""Playback quality, end to end: the bot process plays each guild with the Lavalink filters its
setting asks for (a low-pass for standard, none for lossless) on the fake node."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.conftest import bot_world, running_bot

from vectobeat_core.plans import Tier
from vectobeat_core.settings import ServerSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]


async def test_each_guild_plays_with_the_filters_of_its_quality(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        standard = await w.add_guild("q-standard", Tier.FREE)  # the default: standard
        lossless = await w.add_guild(
            "q-lossless", Tier.GROWTH, ServerSettings(playback_quality="lossless")
        )
        async with running_bot(w):
            for guild in (standard, lossless):
                await w.voice(guild, guild.member)
                answer = await w.run(guild, guild.member, "play", {"query": "Alpha Song"})
                assert not answer.ephemeral, answer.content
            _, played = await w.wait_player(standard, "Alpha Song")
            assert played.filters.get("lowPass", {}).get("smoothing") == 20.0
            _, untouched = await w.wait_player(lossless, "Alpha Song")
            assert "lowPass" not in untouched.filters
