"""A SQLite query cancelled mid-flight closes its connection; nothing is left waiting (the bot's
SIGTERM hang: `vectobeat_adapters.sql.aiosqlite_guard`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from vectobeat_adapters.sql.aiosqlite_guard import StopOnceConnection, connect

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 30.0  # seconds before a close counts as hung (not a speed assertion)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def open_connection(folder: Path) -> StopOnceConnection:
    conn = connect(str(folder / "guard.db"))
    await conn  # starts its thread and opens the file
    await conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    return conn


async def test_close_after_a_force_stop_finishes(tmp_path: Path) -> None:
    conn = await open_connection(tmp_path)
    conn.stop()  # SQLAlchemy's force close, first
    with anyio.fail_after(HANG_GUARD):
        await conn.close()
    conn._thread.join(HANG_GUARD)
    assert not conn._thread.is_alive()


async def test_close_alongside_a_force_stop_finishes(tmp_path: Path) -> None:
    for _ in range(20):
        conn = await open_connection(tmp_path)
        closing = asyncio.ensure_future(conn.close())  # the shielded graceful close
        await asyncio.sleep(0)
        conn.stop()  # ... and the force close while it runs
        with anyio.fail_after(HANG_GUARD):
            await closing
        conn._thread.join(HANG_GUARD)
        assert not conn._thread.is_alive()


async def test_a_cancelled_waiter_does_not_cancel_the_stop(tmp_path: Path) -> None:
    conn = await open_connection(tmp_path)
    first = conn.stop()
    assert first is not None
    first.cancel()
    second = conn.stop()
    assert second is not None
    with anyio.fail_after(HANG_GUARD):
        await second
    assert not second.cancelled()


async def test_the_connection_works_until_closed(tmp_path: Path) -> None:
    conn = await open_connection(tmp_path)
    await conn.execute("INSERT INTO t VALUES (7)")
    async with conn.execute("SELECT x FROM t") as cursor:
        assert [tuple(row) for row in await cursor.fetchall()] == [(7,)]
    await conn.close()
    conn._thread.join(HANG_GUARD)
    assert not conn._thread.is_alive()


def test_cancelling_queries_mid_flight_then_closing_leaves_nothing_stuck(tmp_path: Path) -> None:
    script = ROOT / "tests" / "integration" / "sqlite_cancel_worker.py"
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path), "30"],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the process hung after cancelling SQLite queries: {exc.stdout!r}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rounds=30 stuck=0" in done.stdout, done.stdout
