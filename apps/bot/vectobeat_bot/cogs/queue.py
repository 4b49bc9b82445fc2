"""Queue: /queue [page], /queueinfo, /remove (a position or a range), /move, /shuffle (and its
undo), /dedupe, /clear, /jump."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import loop_text, queue_page_text, track_line, tracks_count
from vectobeat_bot.i18n import _, locale_str, ngettext
from vectobeat_core.playback import format_duration
from vectobeat_core.queue import GuildQueue

__all__ = ["QueueCog"]

T = TypeVar("T")

PER_PAGE = 10


class QueueCog(CogBase):
    """Queue commands."""

    @app_commands.command(name="queue", description=locale_str("Show the queue"))
    @app_commands.describe(page=locale_str("Page number (10 tracks per page)"))
    async def queue(self, interaction: discord.Interaction, page: int = 1) -> None:
        session = await self.deps.players.session(guild_of(interaction))
        shown = session.queue.page(page, PER_PAGE)
        await interaction.response.send_message(queue_page_text(session.queue, shown))

    @app_commands.command(
        name="queueinfo", description=locale_str("Queue length, duration, limits and loop mode")
    )
    async def queueinfo(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        held = await self.settings_of(interaction)
        session = await self.deps.players.session(guild)
        queue = session.queue
        info = self.deps.cluster.player(guild)
        remaining = queue.remaining_duration(info.position_ms if info else 0)
        text = _(
            "{count} of {capacity} tracks queued ({plan} plan) · {left} left · loop {loop} · "
            "collaborative {collaborative}."
        ).format(
            count=len(queue),
            capacity=queue.capacity,
            plan=held.plan.label,
            left=format_duration(remaining),
            loop=loop_text(queue.loop),
            collaborative=_("on") if held.settings.collaborative_queue else _("off"),
        )
        await interaction.response.send_message(text)

    async def _edit(
        self, interaction: discord.Interaction, action: str, edit: Callable[[GuildQueue], T]
    ) -> T:
        await self.check_control(interaction, action)
        return await self.deps.players.edit(guild_of(interaction), edit)

    @app_commands.command(
        name="remove", description=locale_str("Remove a track, or a range of tracks")
    )
    @app_commands.rename(first="from", last="to")
    @app_commands.describe(
        first=locale_str("Its position in /queue (the first of a range)"),
        last=locale_str("The last position of the range (default: just the one at from)"),
    )
    async def remove(
        self, interaction: discord.Interaction, first: int, last: int | None = None
    ) -> None:
        if last is None or last == first:
            entry = await self._edit(interaction, _("remove tracks"), lambda q: q.remove(first))
            await interaction.response.send_message(
                _("Removed {track}.").format(track=track_line(entry.track))
            )
            return
        end = last
        removed = await self._edit(
            interaction, _("remove tracks"), lambda q: q.remove_range(first, end)
        )
        await interaction.response.send_message(
            _("Removed {tracks} (positions {first} to {last}).").format(
                tracks=tracks_count(len(removed)), first=first, last=end
            )
        )

    @app_commands.command(name="move", description=locale_str("Move a track to another position"))
    @app_commands.rename(source="from", target="to")
    @app_commands.describe(
        source=locale_str("Its position now"), target=locale_str("Its new position")
    )
    async def move(self, interaction: discord.Interaction, source: int, target: int) -> None:
        entry = await self._edit(interaction, _("move tracks"), lambda q: q.move(source, target))
        await interaction.response.send_message(
            _("Moved {track} to position {position}.").format(
                track=track_line(entry.track), position=target
            )
        )

    @app_commands.command(
        name="shuffle", description=locale_str("Shuffle the upcoming tracks (or undo it)")
    )
    @app_commands.describe(
        undo=locale_str("Put the tracks back in their order before the last shuffle")
    )
    async def shuffle(self, interaction: discord.Interaction, undo: bool = False) -> None:
        if undo:
            count = await self._edit(interaction, _("unshuffle the queue"), lambda q: q.unshuffle())
            await interaction.response.send_message(
                _("Put {tracks} back in their order before the shuffle.").format(
                    tracks=tracks_count(count)
                )
            )
            return
        seed = self.deps.players.shuffle_seed()

        def shuffle(queue: GuildQueue) -> int:
            queue.shuffle(seed)
            return len(queue)

        count = await self._edit(interaction, _("shuffle the queue"), shuffle)
        await interaction.response.send_message(
            _("Shuffled {tracks}.").format(tracks=tracks_count(count))
        )

    @app_commands.command(
        name="dedupe", description=locale_str("Remove tracks that are queued twice")
    )
    async def dedupe(self, interaction: discord.Interaction) -> None:
        count = await self._edit(interaction, _("remove duplicates"), lambda q: q.dedupe())
        text = (
            ngettext("Removed {count} duplicate track.", "Removed {count} duplicate tracks.", count)
            if count
            else _("No track is queued twice; nothing was removed.")
        )
        await interaction.response.send_message(text.format(count=count))

    @app_commands.command(name="clear", description=locale_str("Remove every upcoming track"))
    async def clear(self, interaction: discord.Interaction) -> None:
        count = await self._edit(interaction, _("clear the queue"), lambda q: q.clear())
        await interaction.response.send_message(
            _("Cleared {tracks} from the queue.").format(tracks=tracks_count(count))
        )

    @app_commands.command(name="jump", description=locale_str("Play the track at a position now"))
    @app_commands.describe(position=locale_str("Its position in /queue"))
    async def jump(self, interaction: discord.Interaction, position: int) -> None:
        await self.check_control(interaction, _("jump in the queue"))
        await interaction.response.defer(thinking=True)
        entry = await self.deps.players.jump(guild_of(interaction), position)
        await finish(interaction, _("Jumped to {track}.").format(track=track_line(entry.track)))
