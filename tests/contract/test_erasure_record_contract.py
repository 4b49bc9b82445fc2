"""The erasure record on every backend (memory, SQLite, MariaDB, PostgreSQL): a deletion request
gets one place (placing it again keeps it), exports and unknown requests get none, and readers
page through the places in order. Deletions placed at once by two "replicas" (two connections
pools on one database) get distinct places, and a reader that follows the record by its cursor
while they are placed misses none: a place never becomes visible after a larger one."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from tests.contract.conftest import TEST_KEYS, Stores, sql_stores_for
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.engine import open_database
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import InvalidInput, NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.ports import ComplianceStore

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

USER = UserId(111_222_333_444_555_666)
NOW = 1_700_000_000.0


async def deletion(store: ComplianceStore, guild: int) -> int:
    opened = await store.open(
        GuildId(guild), "delete", requested_by=USER, email="dpo@example.org", now=NOW
    )
    return opened.request_id


async def test_a_deletion_is_placed_once_and_read_back_in_order(stores: Stores) -> None:
    store = stores.compliance
    assert await store.erasures_since(0, 10) == []
    first, second = await deletion(store, 11), await deletion(store, 22)
    placed_second = await store.record_erasure(second, NOW + 1)
    placed_first = await store.record_erasure(first, NOW + 2)
    assert placed_second == Erasure(placed_second.seq, GuildId(22), NOW + 1)
    assert placed_first.guild_id == GuildId(11) and placed_first.seq > placed_second.seq
    assert await store.record_erasure(second, NOW + 9) == placed_second  # placed before: kept
    assert await store.erasures_since(0, 10) == [placed_second, placed_first]
    assert await store.erasures_since(placed_second.seq, 10) == [placed_first]
    assert await store.erasures_since(0, 1) == [placed_second]
    assert await store.erasures_since(placed_first.seq, 10) == []

    export = await store.open(
        GuildId(33), "export", requested_by=USER, email="dpo@example.org", now=NOW
    )
    with pytest.raises(InvalidInput, match="only a deletion"):
        await store.record_erasure(export.request_id, NOW)
    with pytest.raises(NotFound):
        await store.record_erasure(10**9, NOW)
    assert len(await store.erasures_since(0, 10)) == 2


async def test_replicas_placing_at_once_give_distinct_places_a_follower_never_misses(
    sql_stores: Stores,
) -> None:
    assert sql_stores.db is not None
    count = 24
    async with open_database(sql_stores.db.url) as other_db:
        other = sql_stores_for(sql_stores.backend, other_db, Keyring.from_config(TEST_KEYS))
        replicas = (sql_stores.compliance, other.compliance)
        requests = [await deletion(replicas[n % 2], 1000 + n) for n in range(count)]
        seen: list[Erasure] = []
        placing = True

        async def follow() -> None:
            cursor = 0
            while placing or len(seen) < count:
                for erasure in await replicas[1].erasures_since(cursor, 5):
                    seen.append(erasure)
                    cursor = erasure.seq
                await anyio.lowlevel.checkpoint()

        async def place(n: int) -> None:
            await replicas[n % 2].record_erasure(requests[n], NOW + n)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as follower:
                follower.start_soon(follow)
                async with anyio.create_task_group() as placers:
                    for n in range(count):
                        placers.start_soon(place, n)
                placing = False

    placed = await sql_stores.compliance.erasures_since(0, 100)
    assert [e.seq for e in placed] == sorted({e.seq for e in placed})
    assert len(placed) == count
    assert {e.guild_id for e in placed} == {GuildId(1000 + n) for n in range(count)}
    assert seen == placed  # in order, none skipped, none twice
