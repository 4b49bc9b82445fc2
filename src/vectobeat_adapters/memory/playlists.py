"""``MemoryPlaylistStore``: playlists keyed by (guild, case-folded name), in one process."""

from __future__ import annotations

import attrs

from vectobeat_adapters.memory._base import MemoryService
from vectobeat_core.errors import Conflict, NotFound
from vectobeat_core.ids import GuildId
from vectobeat_core.records import Playlist, playlist_key

__all__ = ["MemoryPlaylistStore"]


class MemoryPlaylistStore(MemoryService):
    """Implements ``PlaylistStore``."""

    def __init__(self) -> None:
        self._lists: dict[tuple[GuildId, str], Playlist] = {}

    async def create(self, playlist: Playlist) -> None:
        key = (playlist.guild_id, playlist.key)
        if key in self._lists:
            raise Conflict(
                f"this server already has a playlist named {playlist.name!r} (names ignore case)"
            )
        self._lists[key] = playlist

    async def replace(self, playlist: Playlist) -> None:
        key = (playlist.guild_id, playlist.key)
        old = self._lists.get(key)
        if old is None:
            raise NotFound(f"no playlist named {playlist.name!r} on this server")
        self._lists[key] = attrs.evolve(
            old, name=playlist.name, tracks=playlist.tracks, updated_at=playlist.updated_at
        )

    async def get(self, guild: GuildId, name: str) -> Playlist | None:
        return self._lists.get((guild, playlist_key(name)))

    async def for_guild(self, guild: GuildId) -> list[Playlist]:
        return [p for (g, _), p in sorted(self._lists.items()) if g == guild]

    async def delete(self, guild: GuildId, name: str) -> bool:
        return self._lists.pop((guild, playlist_key(name)), None) is not None

    async def erase_guild(self, guild: GuildId) -> int:
        keys = [key for key in self._lists if key[0] == guild]
        for key in keys:
            del self._lists[key]
        return len(keys)
