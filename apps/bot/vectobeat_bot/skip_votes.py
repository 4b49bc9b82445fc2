"""``SkipVotes``: each guild's running vote to skip its current track (`vectobeat_core.voting`).

`SkipVotes.decide` is the one place ``/skip`` and the now-playing Skip button ask whether a
member skips at once (a DJ, the requester, voting off) or casts a vote; the listeners are the
people in the bot's voice channel, bots excluded, read from Discord's voice states.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vectobeat_bot.bot import guild_of, member_facts
from vectobeat_bot.discord_compat import discord
from vectobeat_bot.i18n import _
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.permissions import has_dj_access, require_control
from vectobeat_core.voting import SkipVote, VoteTally

if TYPE_CHECKING:
    from vectobeat_bot.bot import VectoBeatBot

__all__ = ["SkipVotes", "listeners_of"]


def listeners_of(bot: VectoBeatBot, guild_id: GuildId) -> frozenset[UserId]:
    """Who is in the bot's voice channel of ``guild_id`` (bots excluded)."""
    players = bot.deps.players
    session = players.peek(guild_id)
    channel_id = players.voice.connected_channel(guild_id) or (
        None if session is None else session.voice_channel_id
    )
    guild = bot.get_guild(guild_id)
    channel = None if guild is None or channel_id is None else guild.get_channel(channel_id)
    if guild is None or not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
        return frozenset()
    me = bot.user.id if bot.user is not None else 0
    found: set[UserId] = set()
    for user_id in channel.voice_states:
        member = guild.get_member(user_id)
        if user_id != me and not (member is not None and member.bot):
            found.add(UserId(user_id))
    return frozenset(found)


class SkipVotes:
    """The vote on each guild's current entry (a new entry starts a new vote)."""

    def __init__(self, bot: VectoBeatBot) -> None:
        self.bot = bot
        self._votes: dict[GuildId, SkipVote] = {}

    async def decide(self, interaction: discord.Interaction, count: int) -> VoteTally:
        """Whether ``interaction``'s member skips now, or their vote and the tally so far."""
        deps = self.bot.deps
        guild = guild_of(interaction)
        held = await deps.settings.get(guild)
        member = member_facts(interaction)
        session = deps.players.peek(guild)
        current = None if session is None else session.queue.current
        percent = held.settings.vote_skip_percent
        if current is None or percent == 0:
            require_control(member, held.settings, _("skip tracks"))
            return VoteTally(True, 0, 1)
        immediate = (
            has_dj_access(member, held.settings) or current.track.requester == member.user_id
        )
        if not immediate and count != 1:
            raise InvalidInput(
                "Only DJs and the track's requester skip several tracks at once; "
                "a vote skips the current track: run /skip without a count."
            )
        vote = self._votes.get(guild)
        if vote is None or vote.entry_id != current.entry_id:
            vote = SkipVote(current.entry_id)
        vote, tally = vote.cast(
            member.user_id, listeners_of(self.bot, guild), percent, immediate=immediate
        )
        if tally.skip:
            self._votes.pop(guild, None)
        else:
            self._votes[guild] = vote
        return tally
