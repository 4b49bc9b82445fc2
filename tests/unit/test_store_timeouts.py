"""``STORE_TIMEOUT``: every SQL and Redis operation is bounded, retries included; a read that ran
out of time is `StorageUnavailable`, a write is `OutcomeUnknown` (it may still be applied)."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import service_url
from vectobeat_adapters.config import AppConfig, load_config
from vectobeat_adapters.redis.connection import RedisConnection, RedisSettings
from vectobeat_adapters.services import store_timeout
from vectobeat_adapters.sql.abandoned_connects import quiet_abandoned_connects
from vectobeat_adapters.sql.engine import (
    SERVER_TIMEOUT_SHARE,
    _engine_options,
    normalize_url,
    open_database,
)
from vectobeat_core.errors import ConfigError, OutcomeUnknown, StorageUnavailable

pytestmark = pytest.mark.anyio

HANG_GUARD = 30.0  # only so a broken bound fails instead of hanging


async def _stall(_conn: Any) -> None:
    await anyio.sleep(3600)


@pytest.mark.service("postgres")
@pytest.mark.parametrize(
    ("idempotent", "error"), [(True, StorageUnavailable), (False, OutcomeUnknown)]
)
async def test_a_sql_operation_is_bounded(idempotent: bool, error: type[Exception]) -> None:
    async with open_database(service_url("postgres"), operation_timeout=0.5) as db:
        await db.ping()  # connected: only the stalled work below runs out of time
        with anyio.fail_after(HANG_GUARD), pytest.raises(error) as caught:
            await db.run(_stall, idempotent=idempotent)
        assert "did not answer within 0.5 s" in str(caught.value)
        assert ("may still be applied" in str(caught.value)) is not idempotent
        with anyio.fail_after(HANG_GUARD):
            await db.run(_select_one, idempotent=True, bounded=False)  # still serves


async def _select_one(conn: AsyncConnection) -> None:
    await conn.execute(text("SELECT 1"))


async def test_sqlite_is_bounded_by_its_own_waits_not_interrupted() -> None:
    """SQLite work runs in a thread: it is not cancelled midway; its lock and pool waits end."""
    async with open_database("sqlite+aiosqlite://", operation_timeout=0.05) as db:

        async def slow(conn: AsyncConnection) -> int:
            await anyio.sleep(0.2)
            return int((await conn.execute(text("PRAGMA busy_timeout"))).scalar_one())

        assert await db.run(slow) == 50
        assert db.engine.pool.timeout() == 0.05  # type: ignore[attr-defined]


def test_server_statement_limits_are_shorter_than_the_client_bound() -> None:
    pg = _engine_options(normalize_url("postgresql+asyncpg://u@h/db"), 3.0)["connect_args"]
    assert pg["server_settings"] == {
        "statement_timeout": str(round(3000 * SERVER_TIMEOUT_SHARE)),
        "idle_in_transaction_session_timeout": str(round(3000 * SERVER_TIMEOUT_SHARE)),
    }
    assert pg["timeout"] <= 3.0 and pg["command_timeout"] == 3.0
    assert SERVER_TIMEOUT_SHARE < 1
    unbounded = _engine_options(normalize_url("postgresql+asyncpg://u@h/db"), None)["connect_args"]
    assert "server_settings" not in unbounded


@pytest.mark.parametrize(
    ("idempotent", "error"), [(True, StorageUnavailable), (False, OutcomeUnknown)]
)
async def test_a_redis_operation_is_bounded(idempotent: bool, error: type[Exception]) -> None:
    conn = RedisConnection(client=object(), where="h:6379/0", settings=RedisSettings.bounded(0.2))  # type: ignore[arg-type]
    with anyio.fail_after(HANG_GUARD), pytest.raises(error, match=r"did not answer within 0\.2 s"):
        await conn.run("reading", _stall, idempotent=idempotent)


def test_store_timeout_is_read_and_checked(tmp_path: Any) -> None:
    config = load_config({"STORE_TIMEOUT": "1.5"}, dotenv=tmp_path / "none.env")
    assert store_timeout(config) == 1.5
    assert load_config({}, dotenv=tmp_path / "none.env").store_timeout == 3.0
    for bad in (0.0, -1.0, float("nan"), 1e9):
        with pytest.raises(ConfigError, match="STORE_TIMEOUT"):
            store_timeout(AppConfig(store_timeout=bad))


async def test_an_abandoned_connect_is_one_warning_and_other_loop_errors_pass_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context["message"]))
    try:
        with quiet_abandoned_connects():
            loop.call_exception_handler(
                {
                    "message": "Future exception was never retrieved",
                    "exception": ConnectionError("unexpected connection_lost() call"),
                }
            )
            loop.call_exception_handler({"message": "something else", "exception": OSError()})
        assert seen == ["something else"]
        warned = [r for r in caplog.records if r.getMessage() == "database_connect_abandoned"]
        assert len(warned) == 1 and not warned[0].exc_info
        loop.call_exception_handler({"message": "after", "exception": OSError()})
        assert seen == ["something else", "after"]  # the previous handler is back
    finally:
        loop.set_exception_handler(previous)
