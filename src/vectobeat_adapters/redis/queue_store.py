"""``RedisQueueStore``: durable per-guild queue snapshots, written incrementally.

Keys per guild (see :mod:`.keys`): ``...:meta`` (JSON, :mod:`.queue_layout`) and ``...:entries``
(hash entry id -> track JSON), both with the plan's TTL, plus an index sorted set (guild -> time of
the last write, the snapshot's ``taken_at``) used for restore and eviction.

A write sends only the difference against what this store last wrote for the guild: new or changed
entries (HSET), removed ids (HDEL) and the meta, in one Lua script, so it is atomic. The meta carries
a random write tag; when the stored tag is not the one we wrote (another process wrote, the keys
expired, Redis restarted) the script refuses the diff and the store rewrites the guild whole.
"""

from __future__ import annotations

import gc
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import anyio

from vectobeat_adapters.redis.connection import Client, RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_adapters.redis.queue_layout import dumps, join_snapshot, split_snapshot
from vectobeat_adapters.redis.queue_scripts import EVICT, PRUNE, READ, WRITE
from vectobeat_core.errors import InvalidSnapshot
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import RestoredQueues
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.tracks import Track

__all__ = ["RedisQueueStore"]


class _Written:
    """What this store last wrote for a guild: the write tag and each entry's track."""

    __slots__ = ("entries", "tag")

    def __init__(self, tag: str, entries: dict[int, Track]) -> None:
        self.tag = tag
        self.entries = entries


def _diff(previous: dict[int, Track], current: dict[int, Track]) -> tuple[list[bytes], list[bytes]]:
    """(flattened id/json pairs to HSET, ids to HDEL)."""
    sets: list[bytes] = []
    for entry_id, track in current.items():
        old = previous.get(entry_id)
        if old is None or (old is not track and old != track):
            sets += (str(entry_id).encode(), dumps(track.to_json()))
    dels = [str(entry_id).encode() for entry_id in previous if entry_id not in current]
    return sets, dels


class RedisQueueStore:
    """The durable queue store over Redis (see the module docstring for the layout)."""

    def __init__(self, conn: RedisConnection, keys: RedisKeys, *, batch: int = 50) -> None:
        self._conn = conn
        self._keys = keys
        self._batch = batch
        self._written: dict[int, _Written] = {}
        self._write = conn.client.register_script(WRITE)
        self._evict = conn.client.register_script(EVICT)
        self._prune = conn.client.register_script(PRUNE)
        self._read = conn.client.register_script(READ)

    # -- writing -------------------------------------------------------------------------------

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        """Store ``snapshot`` (diffed against our last write); ``ttl=None`` keeps it forever."""
        guild = snapshot.guild_id
        layout = split_snapshot(snapshot)
        previous = self._written.get(guild)
        tag = secrets.token_hex(8)
        layout.meta["w"] = tag
        meta = dumps(layout.meta)
        ttl_ms = 0 if ttl is None else max(1, round(ttl * 1000))
        keys = [
            self._keys.queue_meta(guild),
            self._keys.queue_entries(guild),
            self._keys.queue_index(),
        ]
        head: list[Any] = [meta, ttl_ms, repr(snapshot.taken_at), str(guild)]
        self._written.pop(guild, None)
        if previous is not None:
            sets, dels = _diff(previous.entries, layout.entries)
            expected = f"{previous.tag}:{len(previous.entries)}"
            args = [expected, *head, len(sets) // 2, *sets, *dels]
            if await self._run_write(keys, args, guild):
                self._written[guild] = _Written(tag, layout.entries)
                return
        sets, _ = _diff({}, layout.entries)
        await self._run_write(keys, ["", *head, len(sets) // 2, *sets], guild)
        self._written[guild] = _Written(tag, layout.entries)

    async def _run_write(self, keys: list[str], args: list[Any], guild: int) -> bool:
        try:
            result = await self._conn.run(
                f"writing the queue snapshot of guild {guild}",
                lambda _: self._write(keys=keys, args=args),
            )
        except Exception as exc:
            if "FOREIGN" in str(exc):
                raise InvalidSnapshot(
                    f"Refusing to overwrite {keys[0]}: it holds data that is not a VectoBeat queue "
                    "snapshot (left untouched)."
                ) from None
            raise
        return bool(result)

    async def delete(self, guild_id: GuildId) -> None:
        self._written.pop(guild_id, None)

        async def op(c: Client) -> None:
            async with c.pipeline(transaction=True) as pipe:
                pipe.delete(self._keys.queue_meta(guild_id), self._keys.queue_entries(guild_id))
                pipe.zrem(self._keys.queue_index(), str(guild_id))
                await pipe.execute()

        await self._conn.run(f"deleting the queue snapshot of guild {guild_id}", op)

    async def evict(
        self, *, older_than: float | None = None, max_guilds: int | None = None
    ) -> list[GuildId]:
        """Delete snapshots taken before ``older_than``, then all but the newest ``max_guilds``.

        A guild written again while this runs is spared (the delete checks its index score).
        """
        ranked = await self._ranked()  # oldest first
        doomed = [(g, t) for g, t in ranked if older_than is not None and t < older_than]
        if max_guilds is not None:
            gone = {guild for guild, _ in doomed}
            rest = [(g, t) for g, t in ranked if g not in gone]
            doomed += rest[: max(0, len(rest) - max_guilds)]
        evicted: list[GuildId] = []
        for start in range(0, len(doomed), self._batch):
            chunk = doomed[start : start + self._batch]
            keys = [self._keys.queue_index()]
            args: list[str] = []
            for guild, taken in chunk:
                self._written.pop(guild, None)
                keys += (self._keys.queue_meta(guild), self._keys.queue_entries(guild))
                args += (str(guild), repr(taken))

            async def op(_: Client, k: list[str] = keys, a: list[str] = args) -> list[bytes]:
                return cast("list[bytes]", await self._evict(keys=k, args=a))

            done = await self._conn.run("evicting queue snapshots", op)
            evicted += [GuildId(int(member)) for member in done]
        return evicted

    async def ping(self) -> None:
        await self._conn.ping()

    async def generation(self) -> str:
        """``<marker>:<run_id>``: the marker key (created when missing) changes after a flush,
        Redis's ``run_id`` after a restart, which may have lost the latest writes."""
        key = self._keys.queue_generation()
        token = secrets.token_hex(8)

        async def op(c: Client) -> tuple[bytes, dict[str, Any]]:
            async with c.pipeline(transaction=True) as pipe:
                pipe.set(key, token, nx=True)
                pipe.get(key)
                _, marker = await pipe.execute()
            info = await c.info("server")
            return cast("bytes", marker), info

        marker, info = await self._conn.run("reading the queue store generation", op)
        return f"{marker.decode()}:{info.get('run_id', '')}"

    # -- reading -------------------------------------------------------------------------------

    async def load(self, guild_id: GuildId) -> QueueSnapshot | None:
        """The stored snapshot, ``None`` if absent; a bad stored value raises ``InvalidSnapshot``."""
        result = (await self._fetch([guild_id]))[0]
        if isinstance(result, InvalidSnapshot):
            raise result
        return result

    async def guilds(self) -> list[GuildId]:
        """Guilds that have a stored snapshot, oldest write first."""
        return [guild for guild, _ in await self._ranked()]

    async def _ranked(self) -> list[tuple[GuildId, float]]:
        """Index members whose meta still exists, by write time; expired ones leave the index."""
        index = self._keys.queue_index()

        async def everyone(c: Client) -> list[tuple[bytes, float]]:
            return cast("list[tuple[bytes, float]]", await c.zrange(index, 0, -1, withscores=True))

        members = await self._conn.run("listing queue snapshots", everyone)
        alive: list[tuple[GuildId, float]] = []
        dead: list[bytes] = []
        for start in range(0, len(members), 1000):
            chunk = members[start : start + 1000]

            async def op(c: Client, chunk: list[tuple[bytes, float]] = chunk) -> list[Any]:
                async with c.pipeline(transaction=False) as pipe:
                    for member, _ in chunk:
                        pipe.exists(self._keys.queue_meta(int(member)))
                    return list(await pipe.execute())

            flags = await self._conn.run("listing queue snapshots", op)
            for (member, taken), flag in zip(chunk, flags, strict=True):
                if flag:
                    alive.append((GuildId(int(member)), float(taken)))
                else:
                    dead.append(member)
        if dead:
            keys = [index, *(self._keys.queue_meta(int(member)) for member in dead)]
            await self._conn.run(
                "pruning the snapshot index", lambda _: self._prune(keys=keys, args=dead)
            )
        return alive

    async def load_all(self) -> RestoredQueues:
        """Every stored snapshot, read in batches; unreadable ones are reported, not raised."""
        index = self._keys.queue_index()

        async def everyone(c: Client) -> list[bytes]:
            return cast("list[bytes]", await c.zrange(index, 0, -1))

        members = await self._conn.run("listing queue snapshots", everyone)
        snapshots: list[QueueSnapshot] = []
        invalid: list[InvalidSnapshot] = []
        expired: list[bytes] = []
        guilds = [GuildId(int(member)) for member in members]
        chunks = list(_chunks(guilds, self._batch))
        # Fetch batch i + 1 while batch i is decoded, so Redis works while we parse.
        send, receive = anyio.create_memory_object_stream[list[list[Any]]](1)

        async def produce() -> None:
            async with send:
                for chunk in chunks:
                    await send.send(await self._fetch_raw(chunk))

        with _bulk_allocation():
            async with anyio.create_task_group() as tg, receive:
                tg.start_soon(produce)
                for chunk in chunks:
                    replies = await receive.receive()
                    for guild, result in zip(chunk, self._decode(chunk, replies), strict=True):
                        if isinstance(result, InvalidSnapshot):
                            invalid.append(result)
                        elif result is not None:
                            snapshots.append(result)
                        else:
                            expired.append(str(guild).encode())
        if expired:
            keys = [index, *(self._keys.queue_meta(int(member)) for member in expired)]
            await self._conn.run(
                "pruning the snapshot index", lambda _: self._prune(keys=keys, args=expired)
            )
        return RestoredQueues(tuple(snapshots), tuple(invalid))

    async def _fetch(
        self, guilds: Sequence[GuildId]
    ) -> list[QueueSnapshot | InvalidSnapshot | None]:
        return self._decode(guilds, await self._fetch_raw(guilds))

    async def _fetch_raw(self, guilds: Sequence[GuildId]) -> list[list[Any]]:
        keys: list[str] = []
        for guild in guilds:
            keys += (self._keys.queue_meta(guild), self._keys.queue_entries(guild))

        async def op(_: Client) -> list[list[Any]]:
            return cast("list[list[Any]]", await self._read(keys=keys, args=[]))

        return await self._conn.run("reading queue snapshots", op)

    def _decode(
        self, guilds: Sequence[GuildId], raw: list[list[Any]]
    ) -> list[QueueSnapshot | InvalidSnapshot | None]:
        out: list[QueueSnapshot | InvalidSnapshot | None] = []
        for guild, reply in zip(guilds, raw, strict=True):
            where = f"Redis key {self._keys.queue_meta(guild)}"
            if reply[0] == 0:
                out.append(None)
            elif reply[0] == 2:
                out.append(InvalidSnapshot(f"{where} (or its entries hash) holds a foreign type."))
            else:
                try:
                    snapshot = join_snapshot(reply[1], reply[2], where)
                except InvalidSnapshot as exc:
                    out.append(exc)
                    continue
                if snapshot.guild_id != guild:
                    out.append(
                        InvalidSnapshot(f"{where} holds the snapshot of guild {snapshot.guild_id}.")
                    )
                else:
                    out.append(snapshot)
        return out


@contextmanager
def _bulk_allocation() -> Iterator[None]:
    """Pause the cyclic garbage collector while a restore builds ~10^6 acyclic objects.

    Without this, Python rescans the growing heap over and over (a third of restore time at
    10,000 x 100 tracks); the objects built here hold no reference cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chunks(items: Sequence[GuildId], size: int) -> Iterable[Sequence[GuildId]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
