"""Crash test: a writer process is SIGKILLed at a random moment; a new process restores every guild.

What may be lost is bounded by the writer's linger (``CoalescingWriter``'s ``DEFAULT_WINDOW``, 0 s:
a round starts as soon as a guild is dirty) plus the longest save the writer logged: every save
that completed survives, each restored snapshot is exactly the writer's state at its version, and
the lost mutations all fall within that bound. (What a user was told is saved is never lost: the
bot replies only after the write, see ``tests/faults``.)
"""

from __future__ import annotations

import os
import random
import signal
import sys
from collections import defaultdict
from pathlib import Path

import anyio
import pytest
from tests.integration.redis_crash_writer import GUILDS, replay
from tests.redis_support import redis_namespace

from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.redis.writer import DEFAULT_WINDOW

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SCHEDULING_SLACK = 0.1  # event-loop and fsync jitter between a mutation and its log line


def _parse(log: Path) -> tuple[dict[int, list[tuple[int, float]]], dict[int, int], float]:
    """Mutations per guild, the last completed save's version per guild, the longest save."""
    mutations: dict[int, list[tuple[int, float]]] = defaultdict(list)
    done: dict[int, int] = {}
    started: dict[tuple[int, int], float] = {}
    longest = 0.0
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue  # the line being written at the kill
        kind, guild, version, at = parts[0], int(parts[1]), int(parts[2]), float(parts[3])
        if kind == "M":
            mutations[guild].append((version, at))
        elif kind == "S":
            started[guild, version] = at
        elif kind == "D":
            done[guild] = max(done.get(guild, 0), version)
            longest = max(longest, at - started[guild, version])
    return mutations, done, longest


@pytest.mark.parametrize("seed", [11, 23, 47])
async def test_sigkill_loses_at_most_the_last_window(tmp_path: Path, seed: int) -> None:
    async with redis_namespace() as (conn, keys):
        log = tmp_path / "writer.log"
        url = os.environ.get("VECTOBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        script = ROOT / "tests" / "integration" / "redis_crash_writer.py"
        args = [str(script), url, keys.namespace, str(log), str(seed), str(DEFAULT_WINDOW)]
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        process = await anyio.open_process([sys.executable, *args], env=env, stderr=None)
        try:
            assert process.stdout is not None
            with anyio.fail_after(30):
                line = await process.stdout.receive()
            assert line.startswith(b"ready"), "the writer did not start"
            await anyio.sleep(random.Random(seed).uniform(0.4, 1.6))
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
            await process.aclose()

        mutations, done, longest = _parse(log)
        restored = await RedisQueueStore(conn, keys).load_all()  # this process never wrote
        assert restored.invalid == ()
        by_guild = {snapshot.guild_id: snapshot for snapshot in restored.snapshots}
        last_logged = max(at for seen in mutations.values() for _, at in seen)
        bound = DEFAULT_WINDOW + longest + SCHEDULING_SLACK
        lost_total = 0
        for guild in GUILDS:
            seen = mutations.get(guild, [])
            if not seen:
                continue
            snapshot = by_guild.get(guild)
            restored_version = 0 if snapshot is None else snapshot.version
            assert restored_version >= done.get(guild, 0), "a completed save was lost"
            if snapshot is not None:
                assert snapshot == replay(guild, seed, restored_version), (
                    "restored state is corrupt"
                )
            lost = [at for version, at in seen if version > restored_version]
            lost_total += len(lost)
            if lost:
                assert last_logged - min(lost) <= bound, (
                    f"guild {guild} lost {len(lost)} mutations spanning "
                    f"{last_logged - min(lost):.3f} s > {bound:.3f} s"
                )
        assert sum(len(seen) for seen in mutations.values()) > 50
        assert lost_total < sum(len(seen) for seen in mutations.values())
