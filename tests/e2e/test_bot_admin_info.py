"""/botinfo, /guildinfo, /permissions and /membership from the real bot process on the fakes:
what they say, bad arguments, and who may use them."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.conftest import bot_world, running_bot

from vectobeat_core import __version__
from vectobeat_core.plans import Tier
from vectobeat_testkit.discord import FakeOverwrite

pytestmark = pytest.mark.anyio

VIEW_CHANNEL, SEND_MESSAGES, CONNECT = 1 << 10, 1 << 11, 1 << 20
ROLE, MEMBER = 0, 1


async def test_admin_info_commands(tmp_path: Path) -> None:
    billing = {"STRIPE_SECRET_KEY": "sk_test_e2e_admin_info"}
    async with bot_world(tmp_path, redis_url=None, panel_config=billing) as world:
        growth = await world.add_guild("growth", Tier.GROWTH)
        free = await world.add_guild("free", Tier.FREE)
        bot_id = int(world.fake.bot_user.id)
        await world.fake.set_overwrites(
            guild_id=growth.id,
            channel_id=growth.text_channel,
            overwrites=[FakeOverwrite(growth.id, ROLE, deny=SEND_MESSAGES)],
        )
        await world.fake.set_overwrites(
            guild_id=growth.id,
            channel_id=growth.voice_channel,
            overwrites=[FakeOverwrite(bot_id, MEMBER, deny=CONNECT)],
        )
        async with running_bot(world):
            info = await world.run(growth, growth.member, "botinfo")
            assert f"VectoBeat {__version__}" in info.content
            assert "Shards here: 0 of 1" in info.content
            assert "Lavalink nodes: 2/2 healthy" in info.content
            assert "• us-1 (us): up" in info.content and "• eu-1 (eu): up" in info.content

            guild = await world.run(growth, growth.member, "guildinfo")
            assert "Plan: Growth" in guild.content and "Region: auto" in guild.content
            assert "queue: 1000 tracks" in guild.content
            assert "concierge: 2 h per 30 days" in guild.content
            assert "support answer within 480 min" in guild.content
            plain = await world.run(free, free.member, "guildinfo")
            assert "Plan: Free" in plain.content and "concierge" not in plain.content

            refused = await world.run(growth, growth.member, "permissions")
            assert refused.ephemeral
            assert "You need the Manage Server permission to check the bot's permissions" in (
                refused.content
            )
            await world.voice(growth, growth.owner)
            both = await world.run(growth, growth.owner, "permissions")
            assert both.ephemeral
            assert (
                "• Send Messages: this channel's permissions deny it to @everyone "
                "(needed to post now-playing and announcements)"
            ) in both.content
            assert "• Embed Links: it needs Send Messages first" in both.content
            assert (
                "• Connect: this channel's permissions deny it to the bot itself "
                "(needed to join the voice channel)"
            ) in both.content
            assert "• Speak: it needs Connect first" in both.content
            voice_only = await world.run(
                growth, growth.owner, "permissions", {"channel": growth.voice_channel}
            )
            assert "Voice <#" in voice_only.content and "Text <#" not in voice_only.content
            text = await world.run(free, free.owner, "permissions", {"channel": free.text_channel})
            assert (
                "• Embed Links: no role of the bot grants it in the server settings" in text.content
            )
            assert "Send Messages" not in text.content
            fine = await world.run(free, free.owner, "permissions", {"channel": free.voice_channel})
            assert "the bot has everything it needs" in fine.content
            await world.fake.set_overwrites(
                guild_id=free.id,
                channel_id=free.text_channel,
                overwrites=[FakeOverwrite(free.id, ROLE, deny=VIEW_CHANNEL)],
            )
            hidden = await world.run(
                free, free.owner, "permissions", {"channel": free.text_channel}
            )
            assert (
                "• View Channel: this channel's permissions deny it to @everyone" in hidden.content
            )
            assert "• Send Messages: it needs View Channel first" in hidden.content

            member = await world.run(growth, growth.member, "membership")
            assert member.ephemeral and "Plan: Growth" in member.content
            assert "playlists: unlimited playlists of 1000 tracks" in member.content
            assert (
                f"Upgrade or manage billing: http://127.0.0.1:1/guilds/{growth.id}#billing-heading"
                in member.content
            )


async def test_membership_without_billing_and_commands_outside_guilds(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as world:
        pro = await world.add_guild("pro", Tier.PRO)
        async with running_bot(world):
            answer = await world.run(pro, pro.member, "membership")
            assert "Plan: Pro" in answer.content
            assert "Online billing is off; ask this bot's operator to change the plan" in (
                answer.content
            )
            usage = await world.run(pro, pro.owner, "concierge usage")
            assert "Concierge is not part of the Pro plan" in usage.content
            pod = await world.run(pro, pro.owner, "success contact")
            assert "A success pod is not part of the Pro plan" in pod.content
            ask = await world.run(
                pro, pro.owner, "success request", {"summary": "Hi", "contact": "a@b.co"}
            )
            assert ask.ephemeral
            assert "Success pod is part of the Scale plan and above; this server is on Pro" in (
                ask.content
            )
