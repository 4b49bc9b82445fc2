"""SQLite pool reset: a connection returned with a transaction open is rolled back; one without
is left alone (no pointless ``ROLLBACK`` thread hop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import text
from sqlalchemy.pool import PoolResetState

from vectobeat_adapters.sql.engine import _sqlite_reset, open_database

pytestmark = pytest.mark.anyio


@attrs.define
class _Driver:
    in_transaction: bool


@attrs.define
class _Record:
    driver_connection: _Driver


@attrs.define
class _Dbapi:
    rollbacks: int = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def _state(asyncio_safe: bool = True) -> Any:
    return PoolResetState(
        transaction_was_reset=False, terminate_only=False, asyncio_safe=asyncio_safe
    )


def test_reset_rolls_back_only_an_open_transaction() -> None:
    dbapi = _Dbapi()
    _sqlite_reset(dbapi, _Record(_Driver(False)), _state())
    assert dbapi.rollbacks == 0
    _sqlite_reset(dbapi, _Record(_Driver(True)), _state())
    assert dbapi.rollbacks == 1
    _sqlite_reset(dbapi, _Record(_Driver(True)), _state(asyncio_safe=False))
    assert dbapi.rollbacks == 1


async def test_connection_returned_mid_transaction_is_rolled_back(tmp_path: Path) -> None:
    async with open_database(f"sqlite:///{tmp_path / 'reset.db'}") as db:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.execute("BEGIN")
            await driver.execute("INSERT INTO t (x) VALUES (1)")
            assert driver.in_transaction
        async with db.engine.connect() as conn:
            again = (await conn.get_raw_connection()).driver_connection
            assert again is driver and not again.in_transaction  # the one pooled connection
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
