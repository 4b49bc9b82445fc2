"""/247 end to end: plan-gated (Starter and up) and Manage Server only; with it on the bot stays
in an empty channel with an empty queue while the idle leave frees another guild's, and a
restarted bot goes back to the channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.conftest import bot_world, running_bot

from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


async def test_247_keeps_the_bot_in_voice_and_comes_back_after_a_restart(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        free = await w.add_guild("stay-free", Tier.FREE)
        stay = await w.add_guild("stay", Tier.STARTER)
        idle = await w.add_guild("stay-idle", Tier.STARTER)
        bot_id = w.fake.bot_user.id
        async with running_bot(w, VECTOBEAT_VOICE_IDLE_SECONDS="1"):
            refused = await w.run(free, free.owner, "247", {"enabled": True})
            assert refused.ephemeral
            assert refused.content == (
                "24/7 mode is not included in this server's plan (Free); it needs Starter or "
                "higher."
            )
            member = await w.run(stay, stay.member, "247", {"enabled": True})
            assert member.ephemeral
            assert member.content == "You need the Manage Server permission to change 24/7 mode."
            away = await w.run(stay, stay.owner, "247", {"enabled": True})
            assert not away.ephemeral and "I am not in a voice channel" in away.content
            await w.voice(stay, stay.owner)
            on = await w.run(stay, stay.owner, "247", {"enabled": True})
            assert on.content == (
                f"24/7 mode is on: I stay in <#{stay.voice_channel}>, even with nothing queued."
            )
            stay_states = w.fake.guild(stay.id).voice_states
            await w.fake.wait_for(lambda: bot_id in stay_states)
            record = await w.services.settings.get(GuildId(stay.id))
            assert record is not None and record.settings.stay_connected  # a real setting
            shown = await w.run(stay, stay.owner, "settings show")
            assert "24/7 mode: on · vote-skip: 50% of listeners" in shown.content

            # both guilds' channels empty: the idle leave frees the other guild only
            await w.voice(idle, idle.member)
            await w.run(idle, idle.member, "connect")
            idle_states = w.fake.guild(idle.id).voice_states
            await w.fake.wait_for(lambda: bot_id in idle_states)
            await w.voice(stay, stay.owner, join=False)
            await w.voice(idle, idle.member, join=False)
            await w.fake.wait_for(lambda: bot_id not in idle_states, timeout=15)
            assert stay_states[bot_id].channel_id == stay.voice_channel
            shown = await w.run(stay, stay.owner, "queue")
            assert "The queue is empty." in shown.content

        await w.fake.wait_for(lambda: bot_id not in stay_states)  # the bot process is gone
        async with running_bot(w, VECTOBEAT_VOICE_IDLE_SECONDS="1"):
            await w.fake.wait_for(lambda: bot_id in stay_states, timeout=20)
            assert stay_states[bot_id].channel_id == stay.voice_channel
            off = await w.run(stay, stay.owner, "247", {"enabled": False})
            assert off.content.startswith("24/7 mode is off")
            await w.fake.wait_for(lambda: bot_id not in stay_states, timeout=15)  # idle again
