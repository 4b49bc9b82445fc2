"""Backends for the contract suites: memory, SQLite, MariaDB/MySQL and PostgreSQL.

Each real server gets its own database per test run (``vb_test_<random>``), created and migrated
once per session and dropped at the end; SQLite uses a temporary file. Every test starts from
empty tables. ``stores`` is parametrized over all four backends, ``sql_stores`` over the three
SQL ones (for what only makes sense at rest: ciphertexts, hashes, raw rows).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest
from sqlalchemy.engine import URL, make_url

from tests.conftest import service_url
from tests.sql_support import create_database, drop_database
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.services import Services, SystemClock, memory_services
from vectobeat_adapters.sql import SqlStores
from vectobeat_adapters.sql.engine import Database, normalize_url, open_database
from vectobeat_adapters.sql.migrate import upgrade_database
from vectobeat_adapters.sql.schema import metadata
from vectobeat_core.ports import (
    AuditLog,
    ComplianceStore,
    ConciergeStore,
    ContactStore,
    GuildRepository,
    PlaylistStore,
    SettingsRepository,
    StripeEventStore,
    TokenStore,
    WebhookDeliveryLog,
)

SQL_BACKENDS = ("sqlite", "mysql", "postgres")
ALL_BACKENDS = ("memory", *SQL_BACKENDS)
TEST_KEYS = f"k1:{Keyring.generate_key()},k0:{Keyring.generate_key()}"


@attrs.frozen
class Stores:
    """Every SQL-side port of one backend; ``db`` is ``None`` for memory."""

    backend: str
    settings: SettingsRepository
    audit: AuditLog
    playlists: PlaylistStore
    guilds: GuildRepository
    tokens: TokenStore
    contacts: ContactStore
    concierge: ConciergeStore
    compliance: ComplianceStore
    stripe_events: StripeEventStore
    webhook_log: WebhookDeliveryLog
    db: Database | None = None
    keyring: Keyring | None = None


def _stores(
    backend: str,
    ports: Services | SqlStores,
    db: Database | None = None,
    keyring: Keyring | None = None,
) -> Stores:
    return Stores(
        backend=backend,
        settings=ports.settings,
        audit=ports.audit,
        playlists=ports.playlists,
        guilds=ports.guilds,
        tokens=ports.tokens,
        contacts=ports.contacts,
        concierge=ports.concierge,
        compliance=ports.compliance,
        stripe_events=ports.stripe_events,
        webhook_log=ports.webhook_log,
        db=db,
        keyring=keyring,
    )


def memory_stores() -> Stores:
    """The in-memory ports, built by the composition root."""
    return _stores("memory", memory_services())


def sql_stores_for(backend: str, db: Database, keyring: Keyring) -> Stores:
    """The SQL ports over ``db``, built the way ``open_services`` builds them."""
    return _stores(backend, SqlStores.build(db, keyring, SystemClock()), db, keyring)


def run_blocking(make: Callable[[], Awaitable[object]]) -> None:
    """Run a coroutine to completion on a fresh loop in a worker thread (safe inside a test loop)."""

    async def main() -> None:
        await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, main()).result()


@attrs.frozen
class ScratchDatabase:
    """A uniquely named database on a real server, created empty; ``drop()`` removes it."""

    server: URL
    url: URL

    @classmethod
    def create(cls, server_url: str) -> ScratchDatabase:
        server = normalize_url(server_url)
        name = f"vb_test_{secrets.token_hex(6)}"
        run_blocking(lambda: create_database(server, name))
        return cls(server, server.set(database=name))

    def drop(self) -> None:
        run_blocking(lambda: drop_database(self.server, str(self.url.database)))


def migrated_scratch(service: str) -> Iterator[URL]:
    """A scratch database on ``service``, migrated to head; dropped when the session ends."""
    scratch = ScratchDatabase.create(service_url(service))
    try:
        run_blocking(lambda: upgrade_database(scratch.url))
        yield scratch.url
    finally:
        scratch.drop()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> URL:
    path: Path = tmp_path_factory.mktemp("sql") / "contract.db"
    url = make_url(f"sqlite+aiosqlite:///{path}")
    run_blocking(lambda: upgrade_database(url))
    return url


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[URL]:
    yield from migrated_scratch("mysql")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[URL]:
    yield from migrated_scratch("postgres")


async def _empty_tables(db: Database) -> None:
    async with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


async def _open_sql(request: pytest.FixtureRequest, backend: str) -> AsyncIterator[Stores]:
    url: URL = request.getfixturevalue(f"{backend}_url")
    async with open_database(url) as db:
        await _empty_tables(db)
        yield sql_stores_for(backend, db, Keyring.from_config(TEST_KEYS))


@pytest.fixture(params=ALL_BACKENDS)
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    """Every SQL-side port on one backend (memory, sqlite, mysql, postgres)."""
    if request.param == "memory":
        yield memory_stores()
        return
    async for opened in _open_sql(request, request.param):
        yield opened


@pytest.fixture(params=SQL_BACKENDS)
async def sql_stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    """The SQL backends only (for checks of what is actually at rest)."""
    async for opened in _open_sql(request, request.param):
        yield opened
