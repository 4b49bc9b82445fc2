"""SQL storage benchmark: versioned settings writes per second on SQLite, MariaDB and PostgreSQL.

Every backend runs the same two workloads in the same run, through ``SqlSettingsRepository`` (one
compare-and-set ``UPDATE`` + one history ``INSERT`` per write, in one transaction):

* ``sequential``: one writer, each write based on the version it just wrote;
* ``concurrent``: 16 writers on 16 guilds at once, each doing read (``get``) + write (``put``).

SQLite is a temporary file; MariaDB and PostgreSQL get a scratch database (``vb_bench_<random>``)
on the servers named by ``VECTOBEAT_TEST_MYSQL_URL`` / ``VECTOBEAT_TEST_POSTGRES_URL`` (defaults:
this machine), dropped afterwards. A server that does not answer is reported, not fatal.
The last line printed is one JSON object with every figure. ``--quick`` does 10x fewer writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sql_support import create_database, drop_database  # noqa: E402

from vectobeat_adapters.sql.engine import normalize_url, open_database  # noqa: E402
from vectobeat_adapters.sql.migrate import upgrade_database  # noqa: E402
from vectobeat_adapters.sql.settings import SqlSettingsRepository  # noqa: E402
from vectobeat_core.ids import GuildId  # noqa: E402
from vectobeat_core.settings import ServerSettings, SettingsRecord, apply_update  # noqa: E402

SERVERS = {
    "mysql": os.environ.get(
        "VECTOBEAT_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/test"
    ),
    "postgres": os.environ.get(
        "VECTOBEAT_TEST_POSTGRES_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test"
    ),
}
WRITERS = 16
T0 = 1_700_000_000.0


async def sequential(repo: SqlSettingsRepository, writes: int) -> float:
    guild = GuildId(100_000_000_000_000_001)
    current: SettingsRecord | None = None
    started = time.perf_counter()
    for n in range(writes):
        base = 0 if current is None else current.version
        new = apply_update(
            current,
            base,
            ServerSettings(default_volume=n % 200),
            now=T0 + n,
            actor="bench",
            guild_id=guild,
        )
        await repo.put(new, base)
        current = new
    return writes / (time.perf_counter() - started)


async def concurrent(repo: SqlSettingsRepository, writes: int) -> float:
    per_writer = max(1, writes // WRITERS)

    async def writer(index: int) -> None:
        guild = GuildId(200_000_000_000_000_000 + index)
        for n in range(per_writer):
            current = await repo.get(guild)
            base = 0 if current is None else current.version
            new = apply_update(
                current,
                base,
                ServerSettings(default_volume=n % 200),
                now=T0 + n,
                actor=f"bench-{index}",
                guild_id=guild,
            )
            await repo.put(new, base)

    started = time.perf_counter()
    await asyncio.gather(*(writer(i) for i in range(WRITERS)))
    return per_writer * WRITERS / (time.perf_counter() - started)


async def measure(url: URL | str, writes: int) -> dict[str, Any]:
    await upgrade_database(url)
    async with open_database(url) as db:
        repo = SqlSettingsRepository(db)
        await repo.ping()
        return {
            "sequential_writes_per_s": round(await sequential(repo, writes), 1),
            "concurrent_writes_per_s": round(await concurrent(repo, writes), 1),
        }


async def on_server(name: str, writes: int) -> dict[str, Any]:
    server = normalize_url(SERVERS[name])
    scratch = f"vb_bench_{secrets.token_hex(5)}"
    try:
        await create_database(server, scratch)
    except Exception as error:
        return {"error": f"{name} unavailable: {type(error).__name__}"}
    try:
        return await measure(server.set(database=scratch), writes)
    finally:
        await drop_database(server, scratch)


async def main() -> None:
    writes = 200 if "--quick" in sys.argv else 2000
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await measure(
            f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", writes
        )
    for name in ("mysql", "postgres"):
        results[name] = await on_server(name, writes)

    print(f"settings writes per second ({writes} writes; concurrent = {WRITERS} writers)")
    print(f"{'backend':<10} {'sequential/s':>14} {'concurrent/s':>14}")
    for name, figures in results.items():
        if "error" in figures:
            print(f"{name:<10} {figures['error']}")
            continue
        print(
            f"{name:<10} {figures['sequential_writes_per_s']:>14.1f} "
            f"{figures['concurrent_writes_per_s']:>14.1f}"
        )
    print(json.dumps({"bench": "storage_sql", "writes": writes, "settings_writes": results}))


if __name__ == "__main__":
    asyncio.run(main())
