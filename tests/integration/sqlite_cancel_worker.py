"""The process of the SQLite cancel-and-close regression test (run as a script).

Each round opens the database, starts slow queries and probes in a task group, cancels the group
while they run (as the bot's task groups are cancelled on SIGTERM) and disposes of the engine. It
prints ``rounds=N stuck=K`` (tasks still pending after the rounds, such as a connection close that
never ends) and exits 1 when K > 0; without the guard it also never gets past ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from vectobeat_adapters.sql.engine import open_database

SLOW_QUERY = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) "
    "SELECT sum(x) FROM c"
)


async def slow(conn: AsyncConnection) -> None:
    await conn.execute(SLOW_QUERY)


async def cancel_mid_flight(url: str, round_no: int) -> None:
    async with open_database(url, operation_timeout=5.0) as db:
        await db.ping()
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(db.run, slow)
                tg.start_soon(db.probe)
            await anyio.sleep(0.001 * (round_no % 10))  # cancel at varying points of the work
            tg.cancel_scope.cancel()


async def main(folder: Path, rounds: int) -> int:
    url = f"sqlite+aiosqlite:///{folder / 'cancel.db'}"
    for round_no in range(rounds):
        await cancel_mid_flight(url, round_no)
    for _ in range(20):  # let closes that are merely late finish
        await asyncio.sleep(0.01)
    stuck = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    print(f"rounds={rounds} stuck={len(stuck)}", flush=True)
    for task in stuck:
        print(f"stuck {task.get_coro()!r}", flush=True)
    if stuck:
        os._exit(1)  # asyncio.run would wait on them forever
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]))))
