"""/skip as a vote, end to end: a member who is neither a DJ nor the requester votes, the tally
is public, bots in the channel and members who left do not count, a new track starts a new vote,
DJs and the requester skip at once, and ``vote_skip_percent`` 0 keeps the plain DJ rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.conftest import BotWorld, E2EGuild, bot_world, running_bot

from vectobeat_core.ids import UserId
from vectobeat_core.plans import Tier
from vectobeat_core.settings import ServerSettings
from vectobeat_testkit.discord import FakeUser

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


async def join(w: BotWorld, guild: E2EGuild, user: FakeUser) -> FakeUser:
    """``user`` as a member of the guild, in its voice channel."""
    await w.fake.add_member(guild_id=guild.id, user=user)
    await w.fake.set_voice(guild_id=guild.id, user_id=int(user.id), channel_id=guild.voice_channel)
    return user


async def test_votes_skip_at_the_share_of_listeners(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        guild = await w.add_guild("votes", Tier.FREE, ServerSettings(vote_skip_percent=60))
        other = guild.dj  # no DJ roles configured here: a plain member
        third = await join(w, guild, w.fake.add_user("votes-third"))
        helper = FakeUser(id=UserId(w.fake.world.ids.next()), username="other-bot", bot=True)
        w.fake.world.users[helper.id] = helper
        await join(w, guild, helper)
        outsider = w.fake.add_user("votes-outsider")
        await w.fake.add_member(guild_id=guild.id, user=outsider)
        async with running_bot(w):
            for user in (guild.member, other):
                await w.voice(guild, user)
            for title in ("Alpha Song", "Bravo Song", "Charlie Song"):
                await w.run(guild, guild.member, "play", {"query": title})
            await w.wait_player(guild, "Alpha Song")

            # 3 listeners (the other bot excluded) x 60 % -> 2 votes
            first = await w.run(guild, other, "skip")
            assert not first.ephemeral
            assert first.content == (
                f"<@{other.id}> voted to skip **Alpha Song** by The Testers (10:00): "
                "1/2 votes to skip."
            )
            again = await w.run(guild, other, "skip")
            assert again.content.endswith("1/2 votes to skip.")
            several = await w.run(guild, other, "skip", {"count": 2})
            assert several.ephemeral and "run /skip without a count" in several.content
            away = await w.run(guild, outsider, "skip")
            assert away.ephemeral and away.content.startswith("Join the voice channel")

            await w.voice(guild, other, join=False)  # a member who left no longer counts
            lone = await w.run(guild, third, "skip")
            assert lone.content.endswith("1/2 votes to skip.")
            await w.voice(guild, other)  # back: the earlier vote counts again
            passed = await w.run(guild, other, "skip")
            assert not passed.ephemeral
            assert passed.content.startswith("Vote passed (2/2 votes to skip). Skipped 1 track.")
            assert "Now playing **Bravo Song**" in passed.content
            await w.wait_player(guild, "Bravo Song")

            fresh = await w.run(guild, third, "skip")  # a new track, a new vote
            assert fresh.content.endswith("1/2 votes to skip.")
            owner = await w.run(guild, guild.owner, "skip")  # Manage Server: a DJ, at once
            assert owner.content.startswith("Skipped 1 track. Now playing **Charlie Song**")
            requester = await w.run(guild, guild.member, "skip")  # the requester, at once
            assert requester.content.startswith("Skipped 1 track.")


async def test_dj_only_guilds_vote_and_percent_zero_keeps_the_dj_rule(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        voting = await w.add_guild("dj-vote", Tier.FREE, dj_role=True)
        plain = await w.add_guild(
            "dj-off", Tier.FREE, ServerSettings(vote_skip_percent=0), dj_role=True
        )
        async with running_bot(w):
            for guild in (voting, plain):
                await w.voice(guild, guild.dj)
                await w.voice(guild, guild.member)
                await w.voice(guild, guild.owner)
                for title in ("Delta Song", "Echo Song"):
                    await w.run(guild, guild.dj, "play", {"query": title})
                await w.wait_player(guild, "Delta Song")
            shown = await w.run(voting, voting.dj, "nowplaying")  # the Skip button votes too
            assert shown.message is not None
            click = await w.fake.click(
                message_id=int(shown.message.id),
                user_id=int(voting.member.id),
                custom_id="vb:np:skip",
            )
            await w.fake.wait_for_response(click.id)
            edited = w.fake.world.messages[int(shown.message.id)].content
            assert edited.endswith(f"<@{voting.member.id}> voted: 1/2 votes to skip.")
            vote = await w.run(voting, voting.member, "skip")
            assert vote.content.endswith(
                "1/2 votes to skip."
            )  # 3 listeners x 50 %, not counted twice
            assert w.player(voting)[1].track["info"]["title"] == "Delta Song"  # type: ignore[index]
            refused = await w.run(plain, plain.member, "skip")
            assert refused.ephemeral
            assert refused.content.startswith("Only DJs can skip tracks here")
            dj = await w.run(plain, plain.dj, "skip")
            assert dj.content.startswith("Skipped 1 track. Now playing **Echo Song**")
