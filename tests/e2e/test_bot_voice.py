"""Voice: /connect, /voiceinfo, /disconnect, and leaving an empty channel after the idle time."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.conftest import bot_world, running_bot

from vectobeat_core.plans import Tier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]


async def test_connect_voiceinfo_disconnect_and_idle_leave(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        guild = await w.add_guild("voice", Tier.FREE)
        async with running_bot(w, VECTOBEAT_VOICE_IDLE_SECONDS="1"):
            bot_id = w.fake.bot_user.id
            voice_states = w.fake.guild(guild.id).voice_states
            await w.voice(guild, guild.member)
            joined = await w.run(guild, guild.member, "connect")
            assert joined.content == f"Connected to <#{guild.voice_channel}>."
            assert voice_states[bot_id].channel_id == guild.voice_channel
            info = await w.run(guild, guild.member, "voiceinfo")
            assert f"Voice channel: <#{guild.voice_channel}>" in info.content
            assert "Region: requested auto, effective auto." in info.content
            assert "I leave an empty channel after 1 s." in info.content
            left = await w.run(guild, guild.member, "disconnect")
            assert left.content == "Disconnected and cleared the queue."
            await w.fake.wait_for(lambda: bot_id not in voice_states)

            played = await w.run(guild, guild.member, "play", {"query": "Alpha Song"})
            assert "Now playing **Alpha Song**" in played.content
            await w.wait_player(guild, "Alpha Song")
            assert voice_states[bot_id].channel_id == guild.voice_channel
            await w.voice(guild, guild.member, join=False)  # the last listener leaves
            await w.fake.wait_for(lambda: bot_id not in voice_states, timeout=10)
            await w.wait_nodes(lambda: w.player(guild) is None)
