"""Shard failover with real processes: a keeper is frozen (SIGSTOP), two spare processes race for
its shards on real Redis, exactly one takes each with a higher epoch, and the keeper, thawed
(SIGCONT), is fenced from every shard. Waits poll the processes' output under a timeout."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import pytest
from tests.conftest import service_url
from tests.redis_support import redis_namespace

from vectobeat_adapters.redis.leases import RedisLeaseStore
from vectobeat_core.ids import ShardId

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "e2e" / "shard_process.py"
STALE = 2.0  # seconds of wall clock: short, yet far above a loaded machine's scheduling jitter
SHARDS = [ShardId(0), ShardId(1), ShardId(2)]


class Proc:
    """A running shard process and the lines it printed so far."""

    def __init__(self, process: anyio.abc.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def read(self) -> None:
        assert self.process.stdout is not None
        buffer = b""
        async for chunk in self.process.stdout:
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            self.lines.extend(line.decode() for line in done)

    async def wait_for(self, what: str, count: int = 1) -> list[str]:
        """The first ``count`` lines starting with ``what``, once printed (30 s at most)."""
        with anyio.fail_after(30):
            while len(found := [x for x in self.lines if x.startswith(what)]) < count:  # noqa: ASYNC110 (another process's output)
                await anyio.sleep(0.02)
        return found[:count]


def promoted(spares: list[Proc]) -> list[str]:
    return sorted(line for spare in spares for line in spare.lines if line.startswith("promoted"))


@asynccontextmanager
async def processes(tg: anyio.abc.TaskGroup) -> AsyncIterator[list[Proc]]:
    started: list[Proc] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.process.send_signal(signal.SIGCONT)
            proc.process.kill()
            await proc.process.wait()
            await proc.process.aclose()
        tg.cancel_scope.cancel()


async def test_a_frozen_bot_process_is_replaced_by_one_spare_per_shard_and_fenced() -> None:
    url = service_url("redis")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    async with redis_namespace() as (conn, keys), anyio.create_task_group() as tg:
        store = RedisLeaseStore(conn, keys)
        async with processes(tg) as started:

            async def start(*args: str) -> Proc:
                command = [sys.executable, str(SCRIPT), *args[:2], keys.namespace, url, str(STALE)]
                process = await anyio.open_process([*command, *args[2:]], env=env, stderr=None)
                proc = Proc(process)
                started.append(proc)
                tg.start_soon(proc.read)
                await proc.wait_for("ready")
                return proc

            keeper = await start("keeper", "bot-a", *(str(s) for s in SHARDS))
            spares = [await start("spare", f"spare-{n}") for n in range(2)]
            assert [(lease.owner, lease.epoch) for lease in await store.all()] == [("bot-a", 1)] * 3

            keeper.process.send_signal(signal.SIGSTOP)  # a real stall: no renewals at all
            with anyio.fail_after(30):
                while len(promotions := promoted(spares)) < len(SHARDS):  # noqa: ASYNC110 (output)
                    await anyio.sleep(0.02)
                await anyio.sleep(STALE)  # room for a wrong second takeover to show up
            promotions = promoted(spares)
            assert promotions == [f"promoted {shard} 2" for shard in SHARDS]
            leases = await store.all()
            assert [lease.epoch for lease in leases] == [2, 2, 2]
            assert {lease.owner for lease in leases} <= {"spare-0", "spare-1"}

            keeper.process.send_signal(signal.SIGCONT)
            fenced = await keeper.wait_for("fenced", len(SHARDS))
            assert sorted(fenced) == [f"fenced {shard}" for shard in SHARDS]
            assert [lease.epoch for lease in await store.all()] == [2, 2, 2]
