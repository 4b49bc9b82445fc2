"""Music: /play (with autocomplete), /playnext, /previous, /pause, /resume, /skip, /stop,
/nowplaying (buttons), /seek, /replay, /volume, /loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from vectobeat_bot.bot import finish, guild_of, send_error, user_message
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import clip, plural, track_line
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
        text = f"Queued playlist **{clip(outcome.playlist, 80)}** ({len(outcome.added)} tracks)."
        if outcome.started is not None:
            text += f"\nNow playing {track_line(outcome.started.track)}"
    elif outcome.started is not None:
        text = f"Now playing {track_line(outcome.started.track)}{where}"
    else:
        text = f"Queued {track_line(outcome.added[0].track)} at position {outcome.position}."
    if outcome.skipped:
        text += f"\n-# Skipped {plural(outcome.skipped, 'duplicate track')} (queued or played recently)."
    return text


class NowPlayingView(discord.ui.View):
    """The buttons under /nowplaying (persistent: they work after a restart)."""

    def __init__(self, cog: MusicCog) -> None:
        super().__init__(timeout=None)
        self.cog = cog

    async def _show(self, interaction: discord.Interaction, note: str) -> None:
        text = self.cog.now_playing(guild_of(interaction))
        await interaction.response.edit_message(content=f"{text}\n-# {note}", view=self)

    @discord.ui.button(
        label="Pause/Resume", custom_id="vb:np:pause", style=discord.ButtonStyle.secondary
    )
    async def pause(
        self, interaction: discord.Interaction, _: discord.ui.Button[NowPlayingView]
    ) -> None:
        await self.cog.check_control(interaction, "pause or resume playback")
        guild = guild_of(interaction)
        info = self.cog.deps.cluster.player(guild)
        paused = not (info is not None and info.paused)
        await self.cog.deps.players.set_paused(guild, paused)
        await self._show(interaction, "Paused." if paused else "Resumed.")

    @discord.ui.button(label="Skip", custom_id="vb:np:skip", style=discord.ButtonStyle.primary)
    async def skip(
        self, interaction: discord.Interaction, _: discord.ui.Button[NowPlayingView]
    ) -> None:
        tally = await self.cog.votes.decide(interaction, 1)
        if not tally.skip:
            await self._show(interaction, f"{interaction.user.mention} voted: {tally.text()}.")
            return
        await self.cog.deps.players.skip(guild_of(interaction), 1, UserId(interaction.user.id))
        await self._show(interaction, "Skipped.")

    @discord.ui.button(label="Stop", custom_id="vb:np:stop", style=discord.ButtonStyle.danger)
    async def stop_button(
        self, interaction: discord.Interaction, _: discord.ui.Button[NowPlayingView]
    ) -> None:
        await self.cog.check_control(interaction, "stop playback")
        await self.cog.deps.players.stop(guild_of(interaction))
        await self._show(interaction, "Stopped and cleared the queue.")

    @discord.ui.button(label="Loop", custom_id="vb:np:loop", style=discord.ButtonStyle.secondary)
    async def loop(
        self, interaction: discord.Interaction, _: discord.ui.Button[NowPlayingView]
    ) -> None:
        await self.cog.check_control(interaction, "change the loop mode")
        guild = guild_of(interaction)
        session = await self.cog.deps.players.session(guild)
        mode = _NEXT_LOOP[session.queue.loop]
        await self.cog.deps.players.set_loop(guild, mode)
        await self._show(interaction, f"Loop: {mode.value}.")

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
            await self.check_control(interaction, "put tracks ahead of the queue")
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
            where = f" on node {info.node} ({info.region.value})"
        await finish(interaction, queued_text(outcome, where))

    @app_commands.command(name="play", description="Play a link or the top search result")
    @app_commands.describe(query="A URL or words to search for")
    async def play(self, interaction: discord.Interaction, query: str) -> None:
        await self._queue_query(interaction, query, front=False)

    @app_commands.command(name="playnext", description="Queue a link or search result to play next")
    @app_commands.describe(query="A URL or words to search for")
    async def playnext(self, interaction: discord.Interaction, query: str) -> None:
        await self._queue_query(interaction, query, front=True)

    @app_commands.command(name="previous", description="Play the previous track again")
    async def previous(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, "go back to the previous track")
        await interaction.response.defer(thinking=True)
        entry = await self.deps.players.previous(guild_of(interaction))
        await finish(interaction, f"Back to {track_line(entry.track)}")

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
            length = "live" if track.is_stream else format_duration(track.length)
            name = clip(f"{track.title} — {track.author} ({length})", 100)
            choices.append(
                app_commands.Choice(name=name, value=clip(track.uri or track.title, 100))
            )
        return choices

    @app_commands.command(name="pause", description="Pause playback")
    async def pause(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, "pause playback")
        entry = await self.deps.players.set_paused(guild_of(interaction), True)
        await interaction.response.send_message(f"Paused {track_line(entry.track)}.")

    @app_commands.command(name="resume", description="Resume playback")
    async def resume(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, "resume playback")
        entry = await self.deps.players.set_paused(guild_of(interaction), False)
        await interaction.response.send_message(f"Resumed {track_line(entry.track)}.")

    @app_commands.command(name="skip", description="Skip the current track (and more)")
    @app_commands.describe(count="How many tracks to skip (default 1)")
    async def skip(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 10_000] = 1
    ) -> None:
        tally = await self.votes.decide(interaction, count)
        if not tally.skip:
            session = self.deps.players.peek(guild_of(interaction))
            playing = None if session is None else session.queue.current
            what = "the track" if playing is None else track_line(playing.track)
            await interaction.response.send_message(
                f"{interaction.user.mention} voted to skip {what}: {tally.text()}."
            )
            return
        await interaction.response.defer(thinking=True)
        entry = await self.deps.players.skip(
            guild_of(interaction), count, UserId(interaction.user.id)
        )
        skipped = f"Skipped {plural(count, 'track')}."
        if tally.votes:
            skipped = f"Vote passed ({tally.text()}). {skipped}"
        text = (
            f"{skipped} Now playing {track_line(entry.track)}"
            if entry
            else f"{skipped} The queue is finished."
        )
        await finish(interaction, text)

    @app_commands.command(name="stop", description="Stop playback and clear the queue")
    async def stop(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, "stop playback")
        dropped = await self.deps.players.stop(guild_of(interaction))
        await interaction.response.send_message(
            f"Stopped; cleared {dropped} queued track{'s' if dropped != 1 else ''}."
        )

    @app_commands.command(name="nowplaying", description="What is playing, with controls")
    async def nowplaying(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        session = self.deps.players.peek(guild)
        if session is None or session.queue.current is None:
            raise QueueEmpty("Nothing is playing right now.")
        await interaction.response.send_message(self.now_playing(guild), view=NowPlayingView(self))
        message = await interaction.original_response()
        self.deps.board.follow(guild, ChannelId(message.channel.id), message.id)

    @app_commands.command(name="seek", description="Jump to a position in the current track")
    @app_commands.describe(position="83, 1:23 or 1:02:03; or a step from now: +10, -10, +1:30")
    async def seek(self, interaction: discord.Interaction, position: str) -> None:
        target = parse_seek(position)
        await self.check_control(interaction, "seek")
        entry, ms = await self.deps.players.seek_to(guild_of(interaction), target)
        await interaction.response.send_message(
            f"Moved to {format_duration(ms)} in {track_line(entry.track)}."
        )

    @app_commands.command(name="replay", description="Start the current track again")
    async def replay(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, "replay the track")
        entry = await self.deps.players.replay(guild_of(interaction))
        await interaction.response.send_message(f"Replaying {track_line(entry.track)}.")

    @app_commands.command(name="volume", description="Set the volume (0-200 percent)")
    @app_commands.describe(level="0 to 200")
    async def volume(
        self, interaction: discord.Interaction, level: app_commands.Range[int, 0, 200]
    ) -> None:
        await self.check_control(interaction, "change the volume")
        await self.deps.players.set_volume(guild_of(interaction), level)
        await interaction.response.send_message(f"Volume set to {level}%.")

    @app_commands.command(name="loop", description="Loop nothing, the track, or the queue")
    async def loop(
        self, interaction: discord.Interaction, mode: Literal["off", "track", "queue"]
    ) -> None:
        await self.check_control(interaction, "change the loop mode")
        await self.deps.players.set_loop(guild_of(interaction), mode)
        await interaction.response.send_message(f"Loop mode: {mode}.")
