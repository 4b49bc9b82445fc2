"""``SqlQueueStore`` under bad conditions, on SQLite, MariaDB and PostgreSQL: malformed stored rows
are reported (naming backend, table and guild) and left untouched, bad arguments are refused before
anything is written, expired rows stay invisible until evicted, and a database that goes away and
comes back is reported clearly, then served again."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from tests.conftest import service_url
from tests.contract.conftest import ScratchDatabase, run_blocking
from tests.redis_support import ManualClock, make_track

from vectobeat_adapters.snapshot_text import snapshot_to_text
from vectobeat_adapters.sql.engine import Database, open_database
from vectobeat_adapters.sql.migrate import upgrade_database
from vectobeat_adapters.sql.queue_store import SqlQueueStore
from vectobeat_adapters.sql.schema import queue_snapshots
from vectobeat_core.errors import InvalidInput, InvalidSnapshot, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = pytest.mark.anyio

GOOD = GuildId(411_111_111_111_111_111)
BAD = GuildId(422_222_222_222_222_222)


def snapshot(guild: GuildId, tracks: int = 3, at: float = 1_700_000_100.0) -> QueueSnapshot:
    queue = GuildQueue(guild)
    queue.add_many([make_track(n) for n in range(tracks)])
    queue.next()
    return queue.snapshot(PlayerState(volume=70, region="eu"), at)


@pytest.fixture(scope="module", params=["sqlite", "mysql", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    if request.param == "sqlite":
        migrated = make_url(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('q') / 'vb.db'}")
        run_blocking(lambda: upgrade_database(migrated))
        yield migrated
        return
    scratch = ScratchDatabase.create(service_url(request.param))
    try:
        run_blocking(lambda: upgrade_database(scratch.url))
        yield scratch.url
    finally:
        scratch.drop()


@pytest.fixture
async def db(url: URL) -> AsyncIterator[Database]:
    async with open_database(url) as opened:
        async with opened.engine.begin() as conn:
            await conn.execute(queue_snapshots.delete())
        yield opened


async def put_row(db: Database, guild: GuildId, document: str, taken_at: float = 1.0) -> None:
    """Write a row behind the store's back (as a corruption or a foreign writer would)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            queue_snapshots.insert().values(
                guild_id=guild, taken_at=taken_at, expires_at=None, document=document
            )
        )


async def stored(db: Database, guild: GuildId) -> str | None:
    query = sa.select(queue_snapshots.c.document).where(queue_snapshots.c.guild_id == guild)
    async with db.engine.connect() as conn:
        return (await conn.execute(query)).scalar_one_or_none()


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("{not json", "does not hold JSON"),
        ('{"hello": "world"}', "not a VectoBeat queue snapshot"),
        ("[1, 2, 3]", "must be a JSON object"),
        (snapshot_to_text(snapshot(GOOD)).replace('"v":1', '"v":99'), "version 99"),
        (snapshot_to_text(snapshot(GOOD)), f"holds the snapshot of guild {GOOD}"),
        ("[" * 100_000, "does not hold JSON"),
    ],
    ids=["not-json", "foreign-json", "not-an-object", "other-version", "other-guild", "deep"],
)
async def test_a_malformed_row_is_reported_and_left_untouched(
    db: Database, document: str, reason: str
) -> None:
    store = SqlQueueStore(db, ManualClock())
    good = snapshot(GOOD)
    await store.save(good, None)
    await put_row(db, BAD, document)

    with pytest.raises(InvalidSnapshot) as caught:
        await store.load(BAD)
    message = caught.value.message
    assert reason in message
    assert db.label in message and "vb_queue_snapshots" in message and f"guild {BAD}" in message

    restored = await store.load_all()
    assert restored.snapshots == (good,)
    assert [reason in problem.message for problem in restored.invalid] == [True]
    assert sorted(await store.guilds()) == sorted([GOOD, BAD])
    assert await stored(db, BAD) == document


async def test_a_valid_save_replaces_a_malformed_row(db: Database) -> None:
    store = SqlQueueStore(db, ManualClock())
    await put_row(db, BAD, "{not json")
    fresh = snapshot(BAD)
    await store.save(fresh, None)
    assert await store.load(BAD) == fresh


async def test_titles_no_database_charset_takes_raw_round_trip(db: Database) -> None:
    """A lone surrogate and a NUL (which PostgreSQL text and utf8mb4 refuse raw) come back as is."""
    store = SqlQueueStore(db, ManualClock())
    queue = GuildQueue(GOOD)
    queue.add(attrs.evolve(make_track(1), title="odd \ud800 \x00 音楽 🎵"))
    odd = queue.snapshot(PlayerState(), 1_700_000_100.0)
    await store.save(odd, None)
    assert await store.load(GOOD) == odd


@pytest.mark.parametrize("ttl", [math.nan, math.inf, -math.inf, True])
async def test_a_bad_ttl_is_refused_and_the_stored_snapshot_kept(db: Database, ttl: float) -> None:
    store = SqlQueueStore(db, ManualClock())
    kept = snapshot(GOOD)
    await store.save(kept, None)
    with pytest.raises(InvalidInput, match="TTL must be a finite number"):
        await store.save(snapshot(GOOD, tracks=5, at=1_700_000_200.0), ttl)
    assert await store.load(GOOD) == kept


async def test_a_negative_max_guilds_is_refused(db: Database) -> None:
    store = SqlQueueStore(db, ManualClock())
    await store.save(snapshot(GOOD), None)
    with pytest.raises(InvalidInput, match="max_guilds"):
        await store.evict(max_guilds=-1)
    assert await store.guilds() == [GOOD]


async def test_expired_rows_are_invisible_until_evict_removes_them(db: Database) -> None:
    clock = ManualClock()
    store = SqlQueueStore(db, clock)
    await store.save(snapshot(GOOD), 10.0)
    await store.save(snapshot(BAD), None)
    clock.advance(10.0)
    assert await store.load(GOOD) is None
    assert await store.guilds() == [BAD]
    assert await stored(db, GOOD) is not None  # still on disk, invisible
    assert await store.evict() == []  # expired rows are not reported as evicted
    assert await stored(db, GOOD) is None
    assert await store.guilds() == [BAD]


async def test_load_all_removes_expired_rows_and_keeps_unreadable_ones(db: Database) -> None:
    clock = ManualClock()
    store = SqlQueueStore(db, clock)
    await store.save(snapshot(GOOD), 5.0)
    await put_row(db, BAD, "{not json")
    clock.advance(6.0)
    restored = await store.load_all()
    assert restored.snapshots == () and len(restored.invalid) == 1
    assert await stored(db, GOOD) is None
    assert await stored(db, BAD) == "{not json"


async def test_evict_spares_a_guild_saved_again_after_it_was_ranked(db: Database) -> None:
    """The delete is conditional on the ``taken_at`` evict ranked (as Redis's EVICT script): a save
    slipped in between the ranking and the delete (on the same connection, so that SQLite's one
    pooled connection can run it) must survive."""
    store = SqlQueueStore(db, ManualClock())
    await store.save(snapshot(GOOD, at=100.0), None)
    newer = snapshot(GOOD, tracks=4, at=200.0)
    real_execute = AsyncConnection.execute
    saved_meanwhile = False

    async def execute(conn: AsyncConnection, statement: sa.Executable, *rest: Any) -> object:
        nonlocal saved_meanwhile
        ranked_delete = isinstance(statement, sa.Delete) and "taken_at =" in str(statement)
        if ranked_delete and not saved_meanwhile:
            saved_meanwhile = True
            await real_execute(
                conn,
                queue_snapshots.update()
                .where(queue_snapshots.c.guild_id == GOOD)
                .values(taken_at=newer.taken_at, document=snapshot_to_text(newer)),
            )
        return await real_execute(conn, statement, *rest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AsyncConnection, "execute", execute)
        assert await store.evict(older_than=150.0) == []
    assert saved_meanwhile
    assert await store.load(GOOD) == newer


@pytest.fixture
def scratch_postgres() -> Iterator[URL]:
    scratch = ScratchDatabase.create(service_url("postgres"))
    try:
        run_blocking(lambda: upgrade_database(scratch.url))
        yield scratch.url
    finally:
        scratch.drop()


async def test_a_database_that_goes_away_is_reported_then_served_again(
    scratch_postgres: URL,
) -> None:
    async with FaultProxy(scratch_postgres.port or 5432) as proxy:
        url = scratch_postgres.set(host="127.0.0.1", port=proxy.port)
        async with open_database(url) as db:
            db.backoff = 0.001
            store = SqlQueueStore(db, ManualClock())
            guild = GuildId(433_333_333_333_333_333)
            first = snapshot(guild)
            await store.save(first, None)
            proxy.cut()
            with pytest.raises(
                StorageUnavailable, match=r"PostgreSQL at 127\.0\.0\.1:\d+/vb_test_"
            ):
                await store.save(snapshot(guild, tracks=6, at=1_700_000_300.0), None)
            proxy.heal()
            assert await store.load(guild) == first
            second = snapshot(guild, tracks=7, at=1_700_000_400.0)
            await store.save(second, None)
            assert await store.load(guild) == second
