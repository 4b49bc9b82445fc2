"""``RedisPlaylistStore``: saved playlists, one hash per guild (case-folded name -> playlist JSON).

Name uniqueness is atomic: ``create`` uses HSETNX on the case-insensitive key (``playlist_key``);
``replace`` is a WATCH/MULTI transaction that keeps the stored owner and creation time.
"""

from __future__ import annotations

import json
from typing import Any, cast

from redis.asyncio.client import Pipeline

from vectobeat_adapters.redis.connection import Client, RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_core.errors import Conflict, InvalidInput, NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.records import Playlist, playlist_key

__all__ = ["RedisPlaylistStore"]


def _dump(playlist: Playlist) -> bytes:
    doc = {
        "n": playlist.name,
        "o": str(playlist.owner_id),
        "t": list(playlist.tracks),
        "c": playlist.created_at,
        "u": playlist.updated_at,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _load(guild: GuildId, raw: bytes, where: str) -> Playlist:
    try:
        doc: Any = json.loads(raw)
        return Playlist(
            guild_id=guild,
            name=str(doc["n"]),
            owner_id=UserId(int(doc["o"])),
            tracks=tuple(str(track) for track in doc["t"]),
            created_at=float(doc["c"]),
            updated_at=float(doc["u"]),
        )
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidInput(f"{where} does not hold a VectoBeat playlist.") from None


class RedisPlaylistStore:
    """Playlists in Redis."""

    def __init__(self, conn: RedisConnection, keys: RedisKeys) -> None:
        self._conn = conn
        self._keys = keys

    async def create(self, playlist: Playlist) -> None:
        """Store a new playlist; ``Conflict`` if the guild has one of that name in any case."""
        key = self._keys.playlist(playlist.guild_id)
        body = _dump(playlist)

        async def op(c: Client) -> int:
            return int(await c.hsetnx(key, playlist.key, body))

        # Not retried: a repeat after a lost reply would find the name taken (by us) and lie.
        if not await self._conn.run(f"creating playlist {playlist.name!r}", op, idempotent=False):
            raise Conflict(
                f"this server already has a playlist named {playlist.name!r} (names ignore case)"
            )

    async def replace(self, playlist: Playlist) -> None:
        """Overwrite name, tracks and ``updated_at`` of an existing playlist; ``NotFound`` if none."""
        key = self._keys.playlist(playlist.guild_id)
        missing: list[bool] = []

        async def step(pipe: Pipeline) -> None:
            raw = cast("bytes | None", await pipe.hget(key, playlist.key))
            if raw is None:
                missing.append(True)
                pipe.multi()  # type: ignore[no-untyped-call]
                return
            old = _load(playlist.guild_id, raw, f"Redis key {key}")
            merged = Playlist(
                guild_id=playlist.guild_id,
                name=playlist.name,
                owner_id=old.owner_id,
                tracks=playlist.tracks,
                created_at=old.created_at,
                updated_at=playlist.updated_at,
            )
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.hset(key, playlist.key, _dump(merged))

        async def op(c: Client) -> None:
            missing.clear()
            await c.transaction(step, key)

        await self._conn.run(f"replacing playlist {playlist.name!r}", op)
        if missing:
            raise NotFound(f"no playlist named {playlist.name!r} on this server")

    async def get(self, guild: GuildId, name: str) -> Playlist | None:
        key = self._keys.playlist(guild)

        async def op(c: Client) -> bytes | None:
            return cast("bytes | None", await c.hget(key, playlist_key(name)))

        raw = await self._conn.run(f"reading playlist {name!r}", op)
        return None if raw is None else _load(guild, raw, f"Redis key {key}")

    async def for_guild(self, guild: GuildId) -> list[Playlist]:
        """Every playlist of the guild, ordered by name (case-insensitive)."""
        key = self._keys.playlist(guild)

        async def op(c: Client) -> dict[bytes, bytes]:
            return cast("dict[bytes, bytes]", await c.hgetall(key))

        raw = await self._conn.run("listing playlists", op)
        return [_load(guild, raw[field], f"Redis key {key}") for field in sorted(raw)]

    async def delete(self, guild: GuildId, name: str) -> bool:
        key = self._keys.playlist(guild)

        async def op(c: Client) -> int:
            return int(await c.hdel(key, playlist_key(name)))

        return bool(await self._conn.run(f"deleting playlist {name!r}", op))

    async def ping(self) -> None:
        await self._conn.ping()

    async def erase_guild(self, guild: GuildId) -> int:
        key = self._keys.playlist(guild)

        async def op(c: Client) -> int:
            count = int(await c.hlen(key))
            await c.delete(key)
            return count

        return await self._conn.run(f"erasing the playlists of guild {guild}", op)
