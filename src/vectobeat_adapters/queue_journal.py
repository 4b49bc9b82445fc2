"""``QueueJournal``: the bot's local journal of queue snapshots the store could not take.

One SQLite file (``<BOT_DATA_DIR>/queue-journal.sqlite3``) in WAL mode with ``synchronous=FULL``,
so a ``put`` that returned survives a crash of the process and of the machine. It keeps the latest
snapshot per guild with a growing sequence number; ``remove(guild, seq)`` deletes an entry only if
no newer one replaced it. The stdlib ``sqlite3`` runs in a worker thread (one connection, one call
at a time); puts that arrive while one is committed are committed together (a group commit: one
transaction and one fsync for all of them). Failures raise ``StorageUnavailable`` naming the file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Self, TypeVar

import anyio
import attrs

from vectobeat_core.durability import JournalStamp
from vectobeat_core.errors import InvalidSnapshot, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import QueueSnapshot

__all__ = ["JOURNAL_FILE", "JournalEntry", "QueueJournal"]

JOURNAL_FILE = "queue-journal.sqlite3"
"""The journal's file name inside ``BOT_DATA_DIR``."""

T = TypeVar("T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS journal ("
    " guild_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, taken_at REAL NOT NULL,"
    " ttl REAL, snapshot TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS journal_seq (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER)",
    "INSERT OR IGNORE INTO journal_seq (id, seq) VALUES (1, 0)",
)


@attrs.frozen
class JournalEntry(JournalStamp):
    """A journaled snapshot and the TTL it is to be stored with."""

    snapshot: QueueSnapshot
    ttl: float | None


@attrs.define
class _Put:
    """One snapshot waiting to be committed, and then its sequence number or error."""

    guild_id: int
    taken_at: float
    ttl: float | None
    body: str
    seq: int | None = None
    error: StorageUnavailable | None = None


def _write_batch(conn: sqlite3.Connection, batch: list[_Put]) -> list[int]:
    """Upsert every put in one transaction; their sequence numbers, in order."""
    seqs: list[int] = []
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        (seq,) = conn.execute("SELECT seq FROM journal_seq WHERE id = 1").fetchone()
        for put in batch:
            seq += 1
            conn.execute(
                "INSERT INTO journal (guild_id, seq, taken_at, ttl, snapshot)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
                " seq = excluded.seq, taken_at = excluded.taken_at, ttl = excluded.ttl,"
                " snapshot = excluded.snapshot",
                (put.guild_id, seq, put.taken_at, put.ttl, put.body),
            )
            seqs.append(int(seq))
        conn.execute("UPDATE journal_seq SET seq = ? WHERE id = 1", (seq,))
    return seqs


class QueueJournal:
    """The SQLite journal (see the module docstring); use as ``async with QueueJournal(path)``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._mutex = threading.Lock()
        self._committing = anyio.Lock()
        self._queued: list[_Put] = []
        self.problems: list[str] = []

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Create the directory and the file if needed; raise ``StorageUnavailable`` if not."""

        def connect() -> sqlite3.Connection:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                for statement in _SCHEMA:
                    conn.execute(statement)
            except BaseException:
                conn.close()
                raise
            return conn

        try:
            self._conn = await anyio.to_thread.run_sync(connect)
        except (sqlite3.Error, OSError) as exc:
            raise self._unavailable("opening", exc) from None

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await anyio.to_thread.run_sync(conn.close)

    async def put(self, snapshot: QueueSnapshot, ttl: float | None) -> int:
        """Journal ``snapshot`` as its guild's latest (fsync'd); returns its sequence number.

        Puts made while another is being committed are committed together (one transaction,
        one fsync), each still answered with its own sequence number or error."""
        item = _Put(
            int(snapshot.guild_id),
            snapshot.taken_at,
            ttl,
            json.dumps(snapshot.to_json(), separators=(",", ":")),
        )
        self._queued.append(item)
        async with self._committing:
            if item.seq is None and item.error is None:
                batch, self._queued = self._queued, []
                with anyio.CancelScope(shield=True):  # every put of the batch gets its answer
                    try:
                        seqs = await self._call(
                            f"writing {len(batch)} snapshot(s) to",
                            lambda conn: _write_batch(conn, batch),
                        )
                    except StorageUnavailable as exc:
                        for queued in batch:
                            queued.error = exc
                    else:
                        for queued, seq in zip(batch, seqs, strict=True):
                            queued.seq = seq
        if item.error is not None:
            raise item.error
        assert item.seq is not None  # set by the batch that held it
        return item.seq

    async def entries(self) -> list[JournalEntry]:
        """Every readable entry, oldest sequence first; unreadable rows stay in the file and are
        listed in ``problems``."""

        def read(conn: sqlite3.Connection) -> list[tuple[int, int, float, float | None, str]]:
            return conn.execute(
                "SELECT guild_id, seq, taken_at, ttl, snapshot FROM journal ORDER BY seq"
            ).fetchall()

        rows = await self._call("reading", read)
        found: list[JournalEntry] = []
        self.problems = []
        for guild, seq, taken_at, ttl, body in rows:
            try:
                snapshot = QueueSnapshot.from_json(json.loads(body))
            except (ValueError, InvalidSnapshot) as exc:
                self.problems.append(f"{self.path}: guild {guild} entry {seq} is unreadable: {exc}")
                continue
            found.append(JournalEntry(GuildId(guild), seq, taken_at, snapshot, ttl))
        return found

    async def remove(self, guild: GuildId, seq: int) -> bool:
        """Delete ``guild``'s entry if it is still entry ``seq``; True if it was deleted."""

        def delete(conn: sqlite3.Connection) -> bool:
            with conn:
                cursor = conn.execute(
                    "DELETE FROM journal WHERE guild_id = ? AND seq = ?", (int(guild), seq)
                )
            return cursor.rowcount > 0

        return await self._call(f"removing guild {guild} from", delete)

    async def remove_guild(self, guild: GuildId) -> int:
        """Delete every entry of ``guild`` (right to erasure); how many went."""

        def delete(conn: sqlite3.Connection) -> int:
            with conn:
                cursor = conn.execute("DELETE FROM journal WHERE guild_id = ?", (int(guild),))
            return max(0, cursor.rowcount)

        return await self._call(f"erasing guild {guild} from", delete)

    async def count(self) -> int:
        def count(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0])

        return await self._call("counting", count)

    async def _call(self, action: str, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise StorageUnavailable(f"The local queue journal {self.path} is not open.")

        def run() -> T:
            with self._mutex:
                return fn(conn)

        try:
            return await anyio.to_thread.run_sync(run)
        except (sqlite3.Error, OSError) as exc:
            raise self._unavailable(action, exc) from None

    def _unavailable(self, action: str, exc: BaseException) -> StorageUnavailable:
        return StorageUnavailable(
            f"The local queue journal {self.path} failed while {action} it: {exc}"
        )
