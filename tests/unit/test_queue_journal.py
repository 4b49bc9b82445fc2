"""QueueJournal: the latest snapshot per guild with a growing sequence, kept across reopening;
a stale remove is refused; unreadable rows are reported and kept; a bad path is a clear error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from tests.redis_support import make_track
from vectobeat_adapters.queue_journal import QueueJournal
from vectobeat_core.errors import StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot

pytestmark = pytest.mark.anyio


def snapshot(guild: int, tracks: int, at: float) -> QueueSnapshot:
    queue = GuildQueue(GuildId(guild))
    for n in range(tracks):
        queue.add(make_track(n))
    return queue.snapshot(PlayerState(), at)


async def test_latest_per_guild_with_growing_sequence_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "data" / "journal.sqlite3"
    async with QueueJournal(path) as journal:
        first = await journal.put(snapshot(1, 1, 10.0), 60.0)
        second = await journal.put(snapshot(2, 2, 11.0), None)
        third = await journal.put(snapshot(1, 3, 12.0), 60.0)
        assert first < second < third
    async with QueueJournal(path) as journal:
        entries = await journal.entries()
        assert [(e.guild_id, e.seq, e.ttl) for e in entries] == [
            (2, second, None),
            (1, third, 60.0),
        ]
        assert entries[1].snapshot == snapshot(1, 3, 12.0)
        assert await journal.put(snapshot(3, 1, 13.0), None) > third  # never reused
        assert await journal.remove(GuildId(1), first) is False  # replaced since: kept
        assert await journal.remove(GuildId(1), third) is True
        assert await journal.count() == 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_an_unreadable_row_is_reported_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    async with QueueJournal(path) as journal:
        await journal.put(snapshot(1, 1, 10.0), None)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO journal VALUES (2, 99, 1.0, NULL, '{not json')")
    async with QueueJournal(path) as journal:
        assert [e.guild_id for e in await journal.entries()] == [1]
        assert len(journal.problems) == 1 and "guild 2 entry 99" in journal.problems[0]
        assert await journal.count() == 2


async def test_a_journal_that_cannot_be_created_says_where(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageUnavailable, match=r"queue journal .*file"):
        await QueueJournal(blocker / "journal.sqlite3").open()
    with pytest.raises(StorageUnavailable, match="not open"):
        await QueueJournal(tmp_path / "closed.sqlite3").entries()


async def test_concurrent_puts_are_committed_together_each_with_its_own_sequence(
    tmp_path: Path,
) -> None:
    seqs: dict[tuple[int, int], int] = {}
    async with QueueJournal(tmp_path / "journal.sqlite3") as journal:

        async def put(guild: int, version: int) -> None:
            seqs[guild, version] = await journal.put(snapshot(guild, version, float(version)), None)

        async with anyio.create_task_group() as tg:
            for version in range(1, 4):
                for guild in range(1, 31):
                    tg.start_soon(put, guild, version)
        assert sorted(seqs.values()) == list(range(1, 91))
        entries = await journal.entries()
        assert len(entries) == 30
        for entry in entries:
            assert entry.seq == max(s for (g, _), s in seqs.items() if g == entry.guild_id)
            assert entry.seq == seqs[entry.guild_id, len(entry.snapshot.entries)]


async def test_a_failed_commit_fails_every_put_it_held(tmp_path: Path) -> None:
    journal = QueueJournal(tmp_path / "journal.sqlite3")
    await journal.open()
    await journal.close()
    errors: list[Exception] = []

    async def put(guild: int) -> None:
        try:
            await journal.put(snapshot(guild, 1, 1.0), None)
        except StorageUnavailable as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for guild in range(5):
            tg.start_soon(put, guild + 1)
    assert len(errors) == 5
