"""``SqlPlaylistStore``: playlists keyed by (guild, case-folded name); the key makes names unique."""

from __future__ import annotations

import json

import sqlalchemy as sa

from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.schema import playlists
from vectobeat_core.errors import Conflict, InvalidSnapshot, NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.records import Playlist, playlist_key

__all__ = ["SqlPlaylistStore", "decode_tracks", "encode_tracks"]


def encode_tracks(tracks: tuple[str, ...]) -> str:
    return json.dumps(list(tracks), separators=(",", ":"))


def decode_tracks(text: str, where: str) -> tuple[str, ...]:
    """Read a stored track list; anything but a JSON list of strings is ``InvalidSnapshot``."""
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidSnapshot(f"stored tracks of {where} are not JSON") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidSnapshot(f"stored tracks of {where} are not a list of encoded tracks")
    return tuple(value)


def _from_row(row: sa.RowMapping) -> Playlist:
    return Playlist(
        guild_id=GuildId(int(row["guild_id"])),
        name=str(row["name"]),
        owner_id=UserId(int(row["owner_id"])),
        tracks=decode_tracks(str(row["tracks"]), f"playlist {row['name']!r}"),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )


def _where(guild: GuildId, name: str) -> sa.ColumnElement[bool]:
    return sa.and_(playlists.c.guild_id == guild, playlists.c.name_key == playlist_key(name))


class SqlPlaylistStore(SqlRepository):
    """Implements ``PlaylistStore`` on ``vb_playlists``."""

    async def create(self, playlist: Playlist) -> None:
        async def work(conn: AsyncConnection) -> None:
            await conn.execute(
                playlists.insert().values(
                    guild_id=playlist.guild_id,
                    name_key=playlist.key,
                    name=playlist.name,
                    owner_id=playlist.owner_id,
                    tracks=encode_tracks(playlist.tracks),
                    created_at=playlist.created_at,
                    updated_at=playlist.updated_at,
                )
            )

        try:
            await self._db.run(work)
        except Conflict:
            raise Conflict(
                f"this server already has a playlist named {playlist.name!r} (names ignore case)"
            ) from None

    async def replace(self, playlist: Playlist) -> None:
        async def work(conn: AsyncConnection) -> None:
            result = await conn.execute(
                playlists.update()
                .where(_where(playlist.guild_id, playlist.name))
                .values(
                    name=playlist.name,
                    tracks=encode_tracks(playlist.tracks),
                    updated_at=playlist.updated_at,
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"no playlist named {playlist.name!r} on this server")

        await self._db.run(work, idempotent=True)

    async def get(self, guild: GuildId, name: str) -> Playlist | None:
        async def work(conn: AsyncConnection) -> Playlist | None:
            row = (await conn.execute(sa.select(playlists).where(_where(guild, name)))).first()
            return None if row is None else _from_row(row._mapping)

        return await self._db.run(work, idempotent=True)

    async def for_guild(self, guild: GuildId) -> list[Playlist]:
        query = (
            sa.select(playlists).where(playlists.c.guild_id == guild).order_by(playlists.c.name_key)
        )
        return [_from_row(row) for row in await self._mappings(query)]

    async def delete(self, guild: GuildId, name: str) -> bool:
        async def work(conn: AsyncConnection) -> bool:
            result = await conn.execute(playlists.delete().where(_where(guild, name)))
            return bool(result.rowcount)

        return await self._db.run(work)

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, playlists)
