"""Playlists: /playlist save|load|list|delete, within the plan's storage limits."""

from __future__ import annotations

import attrs

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import clip, tracks_count
from vectobeat_bot.i18n import _, locale_str
from vectobeat_core.errors import NotFound
from vectobeat_core.ids import UserId
from vectobeat_core.playback import check_playlist_room
from vectobeat_core.records import Playlist
from vectobeat_core.tracks import decode_track

__all__ = ["PlaylistCog"]


class PlaylistCog(CogBase):
    """Saved playlists of a guild."""

    playlist = app_commands.Group(
        name="playlist", description=locale_str("Save and load playlists")
    )

    @playlist.command(
        name="save", description=locale_str("Save the current track and queue as a playlist")
    )
    @app_commands.describe(name=locale_str("The playlist's name"))
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
            _("Saved playlist **{name}** ({tracks}).").format(
                name=clip(name.strip(), 80), tracks=tracks_count(len(tracks))
            )
        )

    @playlist.command(name="load", description=locale_str("Queue a saved playlist"))
    @app_commands.describe(name=locale_str("The playlist's name"))
    async def load(self, interaction: discord.Interaction, name: str) -> None:
        guild = guild_of(interaction)
        channel = self.user_voice_channel(interaction)
        limit = await self.add_limit(interaction)
        saved = await self.deps.services.playlists.get(guild, name)
        if saved is None:
            raise NotFound(
                "There is no playlist named {name}; /playlist list shows them.",
                name=repr(clip(name, 80)),
            )
        await interaction.response.defer(thinking=True)
        requester = UserId(interaction.user.id)
        tracks = [decode_track(encoded) for encoded in saved.tracks]
        tracks = [attrs.evolve(t, requester=requester) for t in tracks]
        outcome = await self.deps.players.add_tracks(guild, tracks, channel, member_limit=limit)
        await finish(
            interaction,
            _("Queued playlist **{name}** ({tracks}).").format(
                name=clip(saved.name, 80), tracks=tracks_count(len(outcome.added))
            ),
        )

    @playlist.command(name="list", description=locale_str("The saved playlists of this server"))
    async def list_(self, interaction: discord.Interaction) -> None:
        saved = await self.deps.services.playlists.for_guild(guild_of(interaction))
        if not saved:
            await interaction.response.send_message(
                _("No playlists are saved yet."), ephemeral=True
            )
            return
        lines = [f"• **{clip(p.name, 80)}** ({tracks_count(len(p.tracks))})" for p in saved[:50]]
        await interaction.response.send_message("\n".join(lines))

    @playlist.command(name="delete", description=locale_str("Delete a saved playlist"))
    @app_commands.describe(name=locale_str("The playlist's name"))
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        guild = guild_of(interaction)
        await self.check_control(interaction, _("delete playlists"))
        if not await self.deps.services.playlists.delete(guild, name):
            raise NotFound(
                "There is no playlist named {name}; /playlist list shows them.",
                name=repr(clip(name, 80)),
            )
        await interaction.response.send_message(
            _("Deleted playlist **{name}**.").format(name=clip(name, 80))
        )
