"""Music: /play (with autocomplete), /playnext, /previous, /pause, /resume, /skip, /stop,
/nowplaying (buttons), /seek, /replay, /volume, /loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from vectobeat_adapters.i18n import current_language
from vectobeat_bot.bot import finish, guild_of, send_error, user_message
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import (
    clip,
    length_text,
    loop_text,
    tally_text,
    track_line,
    tracks_count,
)
from vectobeat_bot.i18n import LocalizedView, _, locale_str, ngettext
from vectobeat_bot.nowplaying import render_now_playing
from vectobeat_bot.player_service import PlayOutcome
from vectobeat_bot.skip_votes import SkipVotes
from vectobeat_core.errors import QueueEmpty, VectoBeatError
from vectobeat_core.ids import ChannelId, GuildId, UserId
from vectobeat_core.playback import format_duration, parse_seek, search_identifier
from vectobeat_core.queue import LoopMode

if TYPE_CHECKING:
    from vectobeat_bot.bot import VectoBeatBot

__all__ = ["MusicCog", "NowPlayingView", "queued_text"]

_NEXT_LOOP = {
    LoopMode.OFF: LoopMode.TRACK,
    LoopMode.TRACK: LoopMode.QUEUE,
    LoopMode.QUEUE: LoopMode.OFF,
}


def queued_text(outcome: PlayOutcome, where: str) -> str:
    """The reply to a command that queued tracks: the playlist, what started (``where`` it
    plays), or the position the track went to; and the duplicates left out."""
    if outcome.playlist is not None:
        text = _("Queued playlist **{name}** ({tracks}).").format(
            name=clip(outcome.playlist, 80), tracks=tracks_count(len(outcome.added))
        )
        if outcome.started is not None:
            text += "\n" + _("Now playing {track}").format(track=track_line(outcome.started.track))
    elif outcome.started is not None:
        text = _("Now playing {track}").format(track=track_line(outcome.started.track)) + where
    else:
        text = _("Queued {track} at position {position}.").format(
            track=track_line(outcome.added[0].track), position=outcome.position
        )
    if outcome.skipped:
        skipped = ngettext(
            "Skipped {count} duplicate track (queued or played recently).",
            "Skipped {count} duplicate tracks (queued or played recently).",
            outcome.skipped,
        )
        text += "\n-# " + skipped.format(count=outcome.skipped)
    return text


class NowPlayingView(LocalizedView):
    """The buttons under /nowplaying (persistent: they work after a restart)."""

    def __init__(self, cog: MusicCog) -> None:
        super().__init__(timeout=None)
        self.cog = cog
        self.pause.label = _("Pause/Resume")  # in the language of whoever shows the view
        self.skip.label = _("Skip")
        self.stop_button.label = _("Stop")
        self.loop.label = _("Loop")

    async def _show(self, interaction: discord.Interaction, note: str) -> None:
        text = self.cog.now_playing(guild_of(interaction))
        await interaction.response.edit_message(content=f"{text}\n-# {note}", view=self)

    @discord.ui.button(
        label="Pause/Resume", custom_id="vb:np:pause", style=discord.ButtonStyle.secondary
    )
    async def pause(
        self, interaction: discord.Interaction, button: discord.ui.Button[NowPlayingView]
    ) -> None:
        await self.cog.check_control(interaction, _("pause or resume playback"))
        guild = guild_of(interaction)
        info = self.cog.deps.cluster.player(guild)
        paused = not (info is not None and info.paused)
        await self.cog.deps.players.set_paused(guild, paused)
        await self._show(interaction, _("Paused.") if paused else _("Resumed."))

    @discord.ui.button(label="Skip", custom_id="vb:np:skip", style=discord.ButtonStyle.primary)
    async def skip(
        self, interaction: discord.Interaction, button: discord.ui.Button[NowPlayingView]
    ) -> None:
        tally = await self.cog.votes.decide(interaction, 1)
        if not tally.skip:
            await self._show(
                interaction,
                _("{member} voted: {tally}.").format(
                    member=interaction.user.mention, tally=tally_text(tally)
                ),
            )
            return
        await self.cog.deps.players.skip(guild_of(interaction), 1, UserId(interaction.user.id))
        await self._show(interaction, _("Skipped."))

    @discord.ui.button(label="Stop", custom_id="vb:np:stop", style=discord.ButtonStyle.danger)
    async def stop_button(
        self, interaction: discord.Interaction, button: discord.ui.Button[NowPlayingView]
    ) -> None:
        await self.cog.check_control(interaction, _("stop playback"))
        await self.cog.deps.players.stop(guild_of(interaction))
        await self._show(interaction, _("Stopped and cleared the queue."))

    @discord.ui.button(label="Loop", custom_id="vb:np:loop", style=discord.ButtonStyle.secondary)
    async def loop(
        self, interaction: discord.Interaction, button: discord.ui.Button[NowPlayingView]
    ) -> None:
        await self.cog.check_control(interaction, _("change the loop mode"))
        guild = guild_of(interaction)
        session = await self.cog.deps.players.session(guild)
        mode = _NEXT_LOOP[session.queue.loop]
        await self.cog.deps.players.set_loop(guild, mode)
        await self._show(interaction, _("Loop: {mode}.").format(mode=loop_text(mode)))

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[NowPlayingView],
    ) -> None:
        self.cog.deps.metrics.command(
            f"button {item.custom_id if isinstance(item, discord.ui.Button) else '?'}", "refused"
        )
        await send_error(interaction, user_message(error))


class MusicCog(CogBase):
    """Playback commands."""

    def __init__(self, bot: VectoBeatBot) -> None:
        super().__init__(bot)
        self.votes = SkipVotes(bot)

    async def cog_load(self) -> None:
        self.bot.add_view(NowPlayingView(self))

    def now_playing(self, guild: int) -> str:
        return render_now_playing(self.deps.players, self.deps.cluster, GuildId(guild))

    async def _queue_query(
        self, interaction: discord.Interaction, query: str, *, front: bool
    ) -> None:
        """/play and /playnext: resolve ``query`` and queue it (``front``: next), then reply."""
        guild = guild_of(interaction)
        search_identifier(query)
        channel = self.user_voice_channel(interaction)
        limit = await self.add_limit(interaction)
        if front:
            await self.check_control(interaction, _("put tracks ahead of the queue"))
        await interaction.response.defer(thinking=True)
        if interaction.channel_id is not None:  # where region changes are told
            self.deps.notices.remember(guild, ChannelId(interaction.channel_id))
        outcome = await self.deps.players.play(
            guild,
            query=query,
            requester=UserId(interaction.user.id),
            voice_channel_id=channel,
            front=front,
            member_limit=limit,
        )
        where = ""
        info = self.deps.cluster.player(guild)
        if outcome.started is not None and info is not None:
            where = _(" on node {node} ({region})").format(node=info.node, region=info.region.value)
        await finish(interaction, queued_text(outcome, where))

    @app_commands.command(
        name="play", description=locale_str("Play a link or the top search result")
    )
    @app_commands.describe(query=locale_str("A URL or words to search for"))
    async def play(self, interaction: discord.Interaction, query: str) -> None:
        await self._queue_query(interaction, query, front=False)

    @app_commands.command(
        name="playnext", description=locale_str("Queue a link or search result to play next")
    )
    @app_commands.describe(query=locale_str("A URL or words to search for"))
    async def playnext(self, interaction: discord.Interaction, query: str) -> None:
        await self._queue_query(interaction, query, front=True)

    @app_commands.command(name="previous", description=locale_str("Play the previous track again"))
    async def previous(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, _("go back to the previous track"))
        await interaction.response.defer(thinking=True)
        entry = await self.deps.players.previous(guild_of(interaction))
        await finish(interaction, _("Back to {track}").format(track=track_line(entry.track)))

    @play.autocomplete("query")
    @playnext.autocomplete("query")
    async def play_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not current.strip() or interaction.guild_id is None:
            return []
        try:  # within the guild's source access, as /play itself
            result = await self.deps.players.search(GuildId(interaction.guild_id), current)
        except VectoBeatError:
            return []
        choices: list[app_commands.Choice[str]] = []
        for track in result.tracks[:10]:
            name = clip(f"{track.title} — {track.author} ({length_text(track)})", 100)
            choices.append(
                app_commands.Choice(name=name, value=clip(track.uri or track.title, 100))
            )
        return choices

    @app_commands.command(name="pause", description=locale_str("Pause playback"))
    async def pause(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, _("pause playback"))
        entry = await self.deps.players.set_paused(guild_of(interaction), True)
        await interaction.response.send_message(
            _("Paused {track}.").format(track=track_line(entry.track))
        )

    @app_commands.command(name="resume", description=locale_str("Resume playback"))
    async def resume(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, _("resume playback"))
        entry = await self.deps.players.set_paused(guild_of(interaction), False)
        await interaction.response.send_message(
            _("Resumed {track}.").format(track=track_line(entry.track))
        )

    @app_commands.command(name="skip", description=locale_str("Skip the current track (and more)"))
    @app_commands.describe(count=locale_str("How many tracks to skip (default 1)"))
    async def skip(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 10_000] = 1
    ) -> None:
        tally = await self.votes.decide(interaction, count)
        if not tally.skip:
            session = self.deps.players.peek(guild_of(interaction))
            playing = None if session is None else session.queue.current
            what = _("the track") if playing is None else track_line(playing.track)
            await interaction.response.send_message(
                _("{member} voted to skip {track}: {tally}.").format(
                    member=interaction.user.mention, track=what, tally=tally_text(tally)
                )
            )
            return
        await interaction.response.defer(thinking=True)
        entry = await self.deps.players.skip(
            guild_of(interaction), count, UserId(interaction.user.id)
        )
        text = ngettext("Skipped {count} track.", "Skipped {count} tracks.", count).format(
            count=count
        )
        if tally.votes:
            text = _("Vote passed ({tally}).").format(tally=tally_text(tally)) + " " + text
        text += " "
        if entry:
            text += _("Now playing {track}").format(track=track_line(entry.track))
        else:
            text += _("The queue is finished.")
        await finish(interaction, text)

    @app_commands.command(name="stop", description=locale_str("Stop playback and clear the queue"))
    async def stop(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, _("stop playback"))
        dropped = await self.deps.players.stop(guild_of(interaction))
        text = ngettext(
            "Stopped; cleared {count} queued track.",
            "Stopped; cleared {count} queued tracks.",
            dropped,
        )
        await interaction.response.send_message(text.format(count=dropped))

    @app_commands.command(
        name="nowplaying", description=locale_str("What is playing, with controls")
    )
    async def nowplaying(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        session = self.deps.players.peek(guild)
        if session is None or session.queue.current is None:
            raise QueueEmpty(_("Nothing is playing right now."))
        await interaction.response.send_message(self.now_playing(guild), view=NowPlayingView(self))
        message = await interaction.original_response()
        self.deps.board.follow(guild, ChannelId(message.channel.id), message.id, current_language())

    @app_commands.command(
        name="seek", description=locale_str("Jump to a position in the current track")
    )
    @app_commands.describe(
        position=locale_str("83, 1:23 or 1:02:03; or a step from now: +10, -10, +1:30")
    )
    async def seek(self, interaction: discord.Interaction, position: str) -> None:
        target = parse_seek(position)
        await self.check_control(interaction, _("seek"))
        entry, ms = await self.deps.players.seek_to(guild_of(interaction), target)
        await interaction.response.send_message(
            _("Moved to {position} in {track}.").format(
                position=format_duration(ms), track=track_line(entry.track)
            )
        )

    @app_commands.command(name="replay", description=locale_str("Start the current track again"))
    async def replay(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, _("replay the track"))
        entry = await self.deps.players.replay(guild_of(interaction))
        await interaction.response.send_message(
            _("Replaying {track}.").format(track=track_line(entry.track))
        )

    @app_commands.command(name="volume", description=locale_str("Set the volume (0-200 percent)"))
    @app_commands.describe(level=locale_str("0 to 200"))
    async def volume(
        self, interaction: discord.Interaction, level: app_commands.Range[int, 0, 200]
    ) -> None:
        await self.check_control(interaction, _("change the volume"))
        await self.deps.players.set_volume(guild_of(interaction), level)
        await interaction.response.send_message(_("Volume set to {level}%.").format(level=level))

    @app_commands.command(
        name="loop", description=locale_str("Loop nothing, the track, or the queue")
    )
    async def loop(
        self, interaction: discord.Interaction, mode: Literal["off", "track", "queue"]
    ) -> None:
        await self.check_control(interaction, _("change the loop mode"))
        await self.deps.players.set_loop(guild_of(interaction), mode)
        await interaction.response.send_message(
            _("Loop mode: {mode}.").format(mode=loop_text(LoopMode(mode)))
        )
