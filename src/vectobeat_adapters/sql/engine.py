"""The database handle: one async engine per process, errors translated in one place.

``open_database(url)`` picks the driver the URL names (``sqlite+aiosqlite``, ``mysql+aiomysql``,
``postgresql+asyncpg``; bare ``sqlite``/``mysql``/``postgresql`` get those drivers), enables pool
pre-ping and a connect timeout, and yields a :class:`Database`. Every repository runs its work
through :meth:`Database.run`, which translates SQLAlchemy and driver errors into the VectoBeat tree:

* connection refused / lost / timed out -> ``StorageUnavailable`` naming backend and host (never
  the password); retried with backoff when the caller marks the operation idempotent;
* deadlock / serialization failure / SQLite busy -> retried (the transaction was rolled back);
* unique-key violations -> ``Conflict``;
* a missing table -> ``StorageUnavailable`` saying to run the migrations.

Opened with a ``timeout`` (``STORE_TIMEOUT``), every :meth:`Database.run` on a database server is
bounded by it, retries included (an ``anyio.fail_after`` guard: the one place SQL waits are
bounded), and the server is told to abandon a statement after two thirds of it (PostgreSQL
``statement_timeout`` and ``idle_in_transaction_session_timeout`` unless behind PgBouncer, see
`vectobeat_adapters.sql.poolers`; MariaDB ``max_statement_time``),
so a write the client gave up on was normally rolled back by the server first. SQLite (a local file,
worked on in a thread that cannot be interrupted) is bounded by its own waits instead: the lock
wait (``busy_timeout``) and the wait for its one pooled connection both end after ``timeout``.
Its connections are `vectobeat_adapters.sql.aiosqlite_guard.StopOnceConnection`: cancelling a
query mid-flight (a task group stopping) closes the connection instead of hanging it.

With a ``gate`` (a `DependencyWatch`), ``run`` refuses at once while the database is known to be
down and reports a lost connection to it; ``probe`` is one ``SELECT 1`` past the gate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs
import tenacity
from sqlalchemy import Select, Table, event, exc, text
from sqlalchemy.engine import URL, CursorResult, RowMapping, make_url
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolResetState
from sqlalchemy.sql.expression import Executable

from vectobeat_adapters.dependency_watch import DependencyGate
from vectobeat_adapters.retrying import EqualJitter
from vectobeat_adapters.sql.abandoned_connects import quiet_abandoned_connects
from vectobeat_adapters.sql.aiosqlite_guard import use_stop_once_connections
from vectobeat_adapters.sql.async_core import AsyncConnection, AsyncEngine, create_async_engine
from vectobeat_adapters.sql.poolers import behind_pgbouncer, driver_url, pgbouncer_connect_args
from vectobeat_core.errors import (
    ConfigError,
    Conflict,
    OutcomeUnknown,
    StorageUnavailable,
    VectoBeatError,
)

if TYPE_CHECKING:
    from sqlalchemy.dialects import mysql, postgresql, sqlite

__all__ = [
    "Database",
    "SqlRepository",
    "backend_label",
    "inserted_id",
    "normalize_url",
    "open_database",
    "sqlite_file",
    "where_equal",
]

T = TypeVar("T")

_DRIVERS = {
    "sqlite": "aiosqlite",
    "mysql": "aiomysql",
    "mariadb": "aiomysql",
    "postgresql": "asyncpg",
}
_BACKEND_NAMES = {"sqlite": "SQLite", "mysql": "MySQL/MariaDB", "postgresql": "PostgreSQL"}
_MYSQL_RETRY = {1205, 1213}  # lock wait timeout, deadlock
_MYSQL_DISCONNECT = {2002, 2003, 2006, 2013, 2055}
_PG_RETRY = {"40001", "40P01"}  # serialization failure, deadlock detected
_MISSING_TABLE_CODES = {1146, "42P01"}  # MySQL: no such table; PostgreSQL: undefined_table
CONNECT_TIMEOUT = 10.0
SERVER_TIMEOUT_SHARE = 2 / 3
"""The share of ``timeout`` after which the server abandons a statement (before the client)."""


def normalize_url(url: str | URL) -> URL:
    """Parse ``url`` and fill in the async driver VectoBeat uses for its dialect."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise ConfigError(f"DATABASE_URL is not a valid database URL: {error}") from None
    dialect, _, driver = parsed.drivername.partition("+")
    if dialect == "mariadb":
        dialect = "mysql"
    expected = _DRIVERS.get(dialect)
    if expected is None:
        raise ConfigError(
            f"DATABASE_URL uses {dialect!r}; VectoBeat supports sqlite, mysql/mariadb and postgresql"
        )
    if driver and driver != expected:
        raise ConfigError(
            f"DATABASE_URL names driver {driver!r} for {dialect}; use {dialect}+{expected}"
        )
    parsed = parsed.set(drivername=f"{dialect}+{expected}")
    behind_pgbouncer(parsed)  # a bad ?pgbouncer= is a configuration error here, not at connect
    if dialect == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def backend_label(url: URL) -> str:
    """``"PostgreSQL at db.example:5432/app"``: backend and where, never the password."""
    dialect = url.get_backend_name()
    name = _BACKEND_NAMES.get(dialect, dialect)
    if dialect == "sqlite":
        return f"{name} at {url.database or ':memory:'}"
    port = f":{url.port}" if url.port else ""
    hosts = url.query.get("host")  # asyncpg's several hosts: ?host=h1:5432&host=h2:5432
    where = f"{url.host or 'localhost'}{port}"
    if url.host is None and hosts:
        where = hosts if isinstance(hosts, str) else ",".join(hosts)
    return f"{name} at {where}/{url.database or ''}"


def _orig(error: BaseException) -> BaseException:
    return getattr(error, "orig", None) or error


def _code(error: BaseException) -> object:
    """MySQL's error number, else the SQLSTATE (PostgreSQL), else ``None``."""
    orig = _orig(error)
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    if args and isinstance(args[0], int):
        return args[0]
    for attr in ("sqlstate", "pgcode"):
        value = getattr(orig, attr, None)
        if value:
            return value
    return None


def _reason(error: BaseException) -> str:
    """The driver's own message (first line), never the statement or its parameters."""
    orig = _orig(error)
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        message = str(args[1])
    else:
        message = str(orig) or type(orig).__name__
    return message.strip().splitlines()[0][:300] if message.strip() else type(orig).__name__


_DRIVER_ERRORS = (exc.SQLAlchemyError, OSError, TimeoutError)


def is_retryable(error: BaseException) -> bool:
    """A rolled-back transaction that may simply run again (deadlock, busy, serialization)."""
    code = _code(error)
    if code in _MYSQL_RETRY or code in _PG_RETRY:
        return True
    return isinstance(error, exc.OperationalError) and "database is locked" in _reason(error)


def is_disconnect(error: BaseException) -> bool:
    """The connection was refused, lost or timed out."""
    if isinstance(error, OSError | TimeoutError | asyncio.TimeoutError):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if _code(error) in _MYSQL_DISCONNECT:
        return True
    return isinstance(_orig(error), OSError | TimeoutError | ConnectionError)


# Each dialect's ``INSERT`` (with its upsert clause) imports its dialect package on first use:
# a process loads the one its database speaks, not all three (PostgreSQL's is about 2 MiB
# resident, MySQL's 1 MiB); the engine has loaded it already by then.


def _mysql_insert(table: Table) -> mysql.Insert:
    from sqlalchemy.dialects import mysql  # noqa: PLC0415

    return mysql.insert(table)


def _postgresql_insert(table: Table) -> postgresql.Insert:
    from sqlalchemy.dialects import postgresql  # noqa: PLC0415

    return postgresql.insert(table)


def _sqlite_insert(table: Table) -> sqlite.Insert:
    from sqlalchemy.dialects import sqlite  # noqa: PLC0415

    return sqlite.insert(table)


@attrs.define
class Database:
    """An open database: engine, dialect name and a human label for messages."""

    engine: AsyncEngine
    url: URL
    retries: int = 3
    backoff: float = 0.05
    gate: DependencyGate | None = None
    timeout: float | None = None
    """Seconds one :meth:`run` may take, retries included; ``None``: unbounded."""

    @property
    def dialect(self) -> str:
        """``"sqlite"``, ``"mysql"`` or ``"postgresql"``."""
        return self.engine.dialect.name if self.engine.dialect.name != "mariadb" else "mysql"

    @property
    def label(self) -> str:
        return backend_label(self.url)

    def translate(self, error: BaseException) -> VectoBeatError:
        """Map a SQLAlchemy/driver error to the VectoBeat tree (the one place that does)."""
        if isinstance(error, VectoBeatError):
            return error
        reason = _reason(error)
        if isinstance(error, exc.IntegrityError):
            return Conflict(f"{self.label}: write conflicts with existing data ({reason})")
        if _code(error) in _MISSING_TABLE_CODES or reason.startswith("no such table"):
            return StorageUnavailable(
                f"{self.label} is not migrated ({reason}); run `vectobeat-ops db upgrade`"
            )
        if is_disconnect(error):
            return StorageUnavailable(f"{self.label} is unavailable: {reason}")
        return StorageUnavailable(f"{self.label} failed: {reason}")

    async def run(
        self,
        work: Callable[[AsyncConnection], Awaitable[T]],
        *,
        idempotent: bool = False,
        bounded: bool = True,
    ) -> T:
        """Run ``work`` in one transaction; retry deadlocks always, disconnects if idempotent.

        With a ``timeout`` (and ``bounded``) the whole run gives up after it: a read with
        ``StorageUnavailable``, a write with ``OutcomeUnknown`` (the server may still commit it).
        """
        if self.gate is not None:
            self.gate.check()
        if self.timeout is None or not bounded or self.dialect == "sqlite":
            return await self._run(work, idempotent=idempotent)
        try:
            with anyio.fail_after(self.timeout):
                return await self._run(work, idempotent=idempotent)
        except TimeoutError:
            waited = f"{self.label} did not answer within {self.timeout:g} s"
            if self.gate is not None:
                self.gate.failed(StorageUnavailable(f"{waited}."))
            if idempotent:
                raise StorageUnavailable(f"{waited}.") from None
            raise OutcomeUnknown(
                f"The change was not confirmed: {waited}. It may still be applied; "
                "check again in a moment."
            ) from None

    async def _run(self, work: Callable[[AsyncConnection], Awaitable[T]], *, idempotent: bool) -> T:
        def worth_retrying(error: BaseException) -> bool:
            return is_retryable(error) or (idempotent and is_disconnect(error))

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(_DRIVER_ERRORS)
            & tenacity.retry_if_exception(worth_retrying),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=EqualJitter(base_s=2 * self.backoff, cap_s=max(1.0, 2 * self.backoff)),
            sleep=asyncio.sleep,
            reraise=True,
        )
        try:
            result: T = await retrying(self._transaction, work)
        except VectoBeatError:
            raise
        except _DRIVER_ERRORS as error:
            translated = self.translate(error)
            if self.gate is not None and is_disconnect(error):
                self.gate.failed(translated)
            raise translated from error
        return result

    async def _transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.engine.begin() as conn:
            return await work(conn)

    def upsert(
        self, table: Table, values: dict[str, Any], keys: list[str], update: dict[str, Any]
    ) -> Executable:
        """``INSERT ... ON CONFLICT/DUPLICATE KEY UPDATE`` in this dialect (one atomic statement)."""
        if self.dialect == "mysql":
            my = _mysql_insert(table).values(values)
            return my.on_duplicate_key_update(update)
        if self.dialect == "postgresql":
            pg = _postgresql_insert(table).values(values)
            return pg.on_conflict_do_update(index_elements=keys, set_=update)
        lite = _sqlite_insert(table).values(values)
        return lite.on_conflict_do_update(index_elements=keys, set_=update)

    def insert_or_replace(
        self, table: Table, values: dict[str, Any], keys: list[str]
    ) -> Executable:
        """Like :meth:`upsert` with every non-key column overwritten by the new row's value, each
        value sent once (the statement refers to the proposed row: ``excluded``/``VALUES()``)."""
        names = [name for name in values if name not in keys]
        if self.dialect == "mysql":
            my = _mysql_insert(table).values(values)
            return my.on_duplicate_key_update({name: my.inserted[name] for name in names})
        if self.dialect == "postgresql":
            pg = _postgresql_insert(table).values(values)
            return pg.on_conflict_do_update(
                index_elements=keys, set_={name: pg.excluded[name] for name in names}
            )
        lite = _sqlite_insert(table).values(values)
        return lite.on_conflict_do_update(
            index_elements=keys, set_={name: lite.excluded[name] for name in names}
        )

    async def set_statement_limit(self, conn: AsyncConnection, *, lifted: bool) -> None:
        """Lift (or restore) the server's statement limit on ``conn``: migrations may take longer
        than a request. PostgreSQL's lift ends with the transaction; MariaDB's is restored after."""
        if self.timeout is None:
            return
        seconds = 0.0 if lifted else self.timeout * SERVER_TIMEOUT_SHARE
        if self.dialect == "postgresql" and lifted:
            await conn.execute(text("SET LOCAL statement_timeout = 0"))
            await conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
        elif self.dialect == "mysql":
            with contextlib.suppress(exc.DBAPIError):  # MySQL has no such variable (nor a limit)
                await conn.execute(text(f"SET SESSION max_statement_time = {seconds:.3f}"))

    async def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless the database answers ``SELECT 1``."""

        async def probe(conn: AsyncConnection) -> None:
            await conn.execute(text("SELECT 1"))

        await self.run(probe, idempotent=True)

    async def probe(self) -> None:
        """One ``SELECT 1`` past the gate and without retries (for its `DependencyWatch`)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (exc.SQLAlchemyError, OSError, TimeoutError) as error:
            raise self.translate(error) from error


def inserted_id(result: CursorResult[Any]) -> int:
    """The autoincrement id an ``INSERT`` produced (RETURNING or lastrowid, per dialect)."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:  # pragma: no cover - every supported dialect reports it
        raise StorageUnavailable("the database did not report the new row's id")
    return int(key[0])


class SqlRepository:
    """Base of the SQL repositories: holds the database, pings it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ping(self) -> None:
        await self._db.ping()

    def shares_database(self, other: object) -> bool:
        """Whether ``other`` is a SQL repository on this very database (one transaction fits)."""
        return isinstance(other, SqlRepository) and other._db is self._db

    async def _erase(self, guild: int, *tables: Table) -> int:
        """Delete every row of ``guild`` from ``tables`` in one transaction; rows deleted."""

        async def work(conn: AsyncConnection) -> int:
            total = 0
            for table in tables:
                result = await conn.execute(table.delete().where(table.c.guild_id == guild))
                total += max(0, result.rowcount or 0)
            return total

        return await self._db.run(work, idempotent=True)

    async def _insert(self, table: Table, values: dict[str, Any]) -> int:
        """Insert one row of ``table``; the autoincrement id it got."""

        async def work(conn: AsyncConnection) -> int:
            return inserted_id(await conn.execute(table.insert().values(values)))

        return await self._db.run(work)

    async def _mappings(self, query: Select[Any]) -> list[RowMapping]:
        """The rows ``query`` reads, as mappings (a read: retried like any idempotent work)."""

        async def work(conn: AsyncConnection) -> list[RowMapping]:
            return [row._mapping for row in await conn.execute(query)]

        return await self._db.run(work, idempotent=True)


def where_equal(query: Select[Any], table: Table, **values: object) -> Select[Any]:
    """``query`` narrowed to the rows of ``table`` whose columns equal the values given; a
    ``None`` value narrows nothing (a filter left out)."""
    for column, value in values.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    return query


def _engine_options(url: URL, timeout: float | None) -> dict[str, Any]:
    dialect = url.get_backend_name()
    connect = CONNECT_TIMEOUT if timeout is None else min(CONNECT_TIMEOUT, timeout)
    if dialect == "sqlite":
        # One pooled connection, handed to one transaction at a time: SQLite serializes writers
        # anyway, one connection cannot deadlock, and an in-memory database lives as long as it.
        return {
            "connect_args": {"timeout": connect},
            "poolclass": AsyncAdaptedQueuePool,
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 60 if timeout is None else timeout,
            "pool_reset_on_return": None,  # `_sqlite_reset` rolls back only what is open
        }
    connect_args: dict[str, Any] = (
        {"connect_timeout": max(1, round(connect))}
        if dialect == "mysql"
        else {"timeout": connect, "command_timeout": 60 if timeout is None else timeout}
    )
    if dialect == "postgresql" and behind_pgbouncer(url):
        connect_args.update(pgbouncer_connect_args())  # and no server_settings: PgBouncer refuses
    elif dialect == "postgresql" and timeout is not None:
        server_ms = str(max(1, round(timeout * SERVER_TIMEOUT_SHARE * 1000)))
        connect_args["server_settings"] = {
            "statement_timeout": server_ms,
            "idle_in_transaction_session_timeout": server_ms,
        }
    return {
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "pool_size": 10,
        "max_overflow": 20,
        "pool_timeout": 30,
        "connect_args": connect_args,
    }


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    """The connect hook of SQLite: WAL, and how long a statement waits for a lock."""

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return pragmas


def _sqlite_reset(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    """Roll back a connection returned to the pool only when SQLite has a transaction open: a
    ``ROLLBACK`` outside one does nothing, yet costs a thread hop through aiosqlite."""
    if not state.asyncio_safe:  # as the default reset: no I/O from a garbage-collected fairy
        return
    if getattr(record.driver_connection, "in_transaction", True):
        dbapi_connection.rollback()


def _mariadb_statement_limit(seconds: float) -> Callable[[Any, Any], None]:
    """A connect hook setting MariaDB's ``max_statement_time`` (MySQL has none: left as is)."""

    def limit(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:  # MySQL: an unknown variable, so no server limit; the client's guard still holds
            with contextlib.suppress(Exception):
                cursor.execute(f"SET SESSION max_statement_time = {seconds:.3f}")
        finally:
            cursor.close()

    return limit


def create_engine(url: str | URL, *, timeout: float | None = None) -> tuple[AsyncEngine, URL]:
    """Create (without connecting) the async engine for ``url``."""
    parsed = normalize_url(url)
    engine = create_async_engine(driver_url(parsed), **_engine_options(parsed, timeout))
    if parsed.get_backend_name() == "sqlite":
        busy_ms = 10_000 if timeout is None else max(1, round(timeout * 1000))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_ms))
        event.listen(engine.sync_engine, "reset", _sqlite_reset)
        use_stop_once_connections(engine)  # a query cancelled mid-flight must not hang its close
    elif parsed.get_backend_name() == "mysql" and timeout is not None:
        seconds = timeout * SERVER_TIMEOUT_SHARE
        event.listen(engine.sync_engine, "connect", _mariadb_statement_limit(seconds))
    return engine, parsed


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a file-backed SQLite URL (``None`` for other databases and ``:memory:``)."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).expanduser().resolve()


def _sqlite_folder_problem(url: URL) -> str | None:
    path = sqlite_file(url)
    if path is None:
        return None
    return None if path.parent.is_dir() else f"directory {path.parent} does not exist"


@asynccontextmanager
async def open_database(
    url: str | URL, *, operation_timeout: float | None = None
) -> AsyncIterator[Database]:
    """Open the database at ``url`` for the duration of the block; dispose of the pool after.

    ``operation_timeout`` bounds every operation (see the module docstring). A SQLite file whose directory
    does not exist fails here, before any connection is tried.
    """
    engine, parsed = create_engine(url, timeout=operation_timeout)
    problem = _sqlite_folder_problem(parsed)
    if problem is not None:
        await engine.dispose()
        raise StorageUnavailable(f"{backend_label(parsed)} is unavailable: {problem}")
    bounded_pg = operation_timeout is not None and parsed.get_backend_name() == "postgresql"
    with quiet_abandoned_connects() if bounded_pg else contextlib.nullcontext():
        try:
            yield Database(engine, parsed, timeout=operation_timeout)
        finally:
            await engine.dispose()
