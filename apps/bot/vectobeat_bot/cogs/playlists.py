"""Playlists: /playlist save|load|list|delete, within the plan's storage limits."""

from __future__ import annotations

import attrs

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import clip
from vectobeat_core.errors import NotFound
from vectobeat_core.ids import UserId
from vectobeat_core.playback import check_playlist_room
from vectobeat_core.records import Playlist
from vectobeat_core.tracks import decode_track

__all__ = ["PlaylistCog"]


class PlaylistCog(CogBase):
    """Saved playlists of a guild."""

    playlist = app_commands.Group(name="playlist", description="Save and load playlists")

    @playlist.command(name="save", description="Save the current track and queue as a playlist")
    async def save(self, interaction: discord.Interaction, name: str) -> None:
        guild = guild_of(interaction)
        held = await self.check_add(interaction)
        store = self.deps.services.playlists
        session = await self.deps.players.session(guild)
        queue = session.queue
        tracks = ([queue.current.track.encoded] if queue.current else []) + [
            entry.track.encoded for entry in queue
        ]
        existing = await store.get(guild, name)
        count = len(await store.for_guild(guild))
        check_playlist_room(held.plan, count, len(tracks), replacing=existing is not None)
        now = self.deps.services.clock.now()
        if existing is None:
            await store.create(
                Playlist(guild, name.strip(), UserId(interaction.user.id), tuple(tracks), now, now)
            )
        else:
            await store.replace(
                Playlist(
                    guild, existing.name, existing.owner_id, tuple(tracks), existing.created_at, now
                )
            )
        await interaction.response.send_message(
            f"Saved playlist **{clip(name.strip(), 80)}** ({len(tracks)} tracks)."
        )

    @playlist.command(name="load", description="Queue a saved playlist")
    async def load(self, interaction: discord.Interaction, name: str) -> None:
        guild = guild_of(interaction)
        channel = self.user_voice_channel(interaction)
        limit = await self.add_limit(interaction)
        saved = await self.deps.services.playlists.get(guild, name)
        if saved is None:
            raise NotFound(
                f"There is no playlist named {clip(name, 80)!r}; /playlist list shows them."
            )
        await interaction.response.defer(thinking=True)
        requester = UserId(interaction.user.id)
        tracks = [decode_track(encoded) for encoded in saved.tracks]
        tracks = [attrs.evolve(t, requester=requester) for t in tracks]
        outcome = await self.deps.players.add_tracks(guild, tracks, channel, member_limit=limit)
        await finish(
            interaction,
            f"Queued playlist **{clip(saved.name, 80)}** ({len(outcome.added)} tracks).",
        )

    @playlist.command(name="list", description="The saved playlists of this server")
    async def list_(self, interaction: discord.Interaction) -> None:
        saved = await self.deps.services.playlists.for_guild(guild_of(interaction))
        if not saved:
            await interaction.response.send_message("No playlists are saved yet.", ephemeral=True)
            return
        lines = [f"• **{clip(p.name, 80)}** ({len(p.tracks)} tracks)" for p in saved[:50]]
        await interaction.response.send_message("\n".join(lines))

    @playlist.command(name="delete", description="Delete a saved playlist")
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        guild = guild_of(interaction)
        await self.check_control(interaction, "delete playlists")
        if not await self.deps.services.playlists.delete(guild, name):
            raise NotFound(
                f"There is no playlist named {clip(name, 80)!r}; /playlist list shows them."
            )
        await interaction.response.send_message(f"Deleted playlist **{clip(name, 80)}**.")
