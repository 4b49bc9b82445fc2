"""Storage benchmark: restoring queue snapshots from Redis, and bytes written per small change.

Measured in one run against the Redis at ``VECTOBEAT_TEST_REDIS_URL`` (default 127.0.0.1:6379), under
a private key prefix deleted afterwards:

1. restore: ``RedisQueueStore.load_all()`` over N guild snapshots of M tracks each (default
   10,000 x 100), in MB/s of stored bytes, beside a raw pipelined GET + HGETALL loop fetching the
   same keys (no decoding) in the same run; target >= 50 % of the raw figure;
2. bytes sent to Redis for a one-track change to a 1,000-track queue (the RESP bytes of the
   incremental write) against a whole-queue rewrite (one SET of the full snapshot JSON, what the
   popular Node.js Lavalink client does); target <= 1/20;
3. SQL figures from ``bench/storage_sql_bench.py`` when that file exists (its last JSON line).

The last line printed is one JSON object with every figure. ``--quick`` runs 500 x 100.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, cast

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.redis_support import make_track  # noqa: E402

from vectobeat_adapters.redis.connection import RedisConnection, open_redis  # noqa: E402
from vectobeat_adapters.redis.keys import RedisKeys  # noqa: E402
from vectobeat_adapters.redis.queue_store import RedisQueueStore  # noqa: E402
from vectobeat_core.ids import GuildId  # noqa: E402
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot  # noqa: E402

PLAYER = PlayerState(volume=80, region="eu")


def resp_size(args: list[Any]) -> int:
    """Bytes of one command in RESP (what goes over the wire)."""
    total = len(f"*{len(args)}\r\n")
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        total += len(f"${len(raw)}\r\n") + len(raw) + 2
    return total


def build(guild: int, size: int) -> GuildQueue:
    queue = GuildQueue(GuildId(guild))
    queue.add_many([make_track(guild * 1000 + i) for i in range(size)])
    queue.next()
    return queue


async def populate(store: RedisQueueStore, guilds: int, tracks: int) -> None:
    template = build(1, tracks + 1)

    async def save(guild: int) -> None:
        snap = template.snapshot(PLAYER, 1_700_000_000.0 + guild)
        snap = QueueSnapshot(
            GuildId(guild), snap.version, snap.current, snap.entries, snap.history,
            snap.player, snap.next_entry_id, snap.taken_at,
        )  # fmt: skip
        await store.save(snap, 3600)

    limiter = anyio.Semaphore(32)

    async def one(guild: int) -> None:
        async with limiter:
            await save(guild)

    async with anyio.create_task_group() as tg:
        for guild in range(1, guilds + 1):
            tg.start_soon(one, guild)


async def raw_fetch(conn: RedisConnection, keys: RedisKeys, guilds: int) -> int:
    """Pipelined GET meta + HGETALL entries, 200 guilds per round trip; returns payload bytes."""
    total = 0
    client = conn.client
    for start in range(1, guilds + 1, 200):
        async with client.pipeline(transaction=False) as pipe:
            for guild in range(start, min(start + 200, guilds + 1)):
                pipe.get(keys.queue_meta(guild))
                pipe.hgetall(keys.queue_entries(guild))
            for value in await pipe.execute():
                if isinstance(value, dict):
                    total += sum(len(k) + len(v) for k, v in value.items())
                else:
                    total += len(value)
    return total


async def restore_figures(
    conn: RedisConnection, keys: RedisKeys, guilds: int, tracks: int
) -> dict[str, Any]:
    store = RedisQueueStore(conn, keys)
    started = time.perf_counter()
    await populate(store, guilds, tracks)
    populate_s = time.perf_counter() - started
    raw_s, ours_s, nbytes, restored = [], [], 0, 0
    for _ in range(2):
        started = time.perf_counter()
        nbytes = await raw_fetch(conn, keys, guilds)
        raw_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = await RedisQueueStore(conn, keys).load_all()
        ours_s.append(time.perf_counter() - started)
        restored = len(result.snapshots)
        assert not result.invalid
        assert all(len(s.entries) == tracks for s in result.snapshots)
    mb = nbytes / 1e6
    return {
        "guilds": guilds,
        "tracks_per_guild": tracks,
        "restored": restored,
        "stored_mb": round(mb, 1),
        "populate_s": round(populate_s, 2),
        "raw_s": round(min(raw_s), 3),
        "restore_s": round(min(ours_s), 3),
        "raw_mb_s": round(mb / min(raw_s), 1),
        "restore_mb_s": round(mb / min(ours_s), 1),
        "restore_vs_raw": round(min(raw_s) / min(ours_s), 3),
    }


async def bytes_figures(conn: RedisConnection, keys: RedisKeys) -> dict[str, Any]:
    store = RedisQueueStore(conn, keys)
    sent: list[int] = []
    script = store._write  # the incremental write (EVALSHA keys + args): count its RESP bytes

    async def spy(*, keys: list[str], args: list[Any]) -> Any:
        sent.append(resp_size(["EVALSHA", script.sha, len(keys), *keys, *args]))
        return await script(keys=keys, args=args)

    store._write = spy  # type: ignore[assignment]
    queue = build(5_000_000, 1001)
    await store.save(queue.snapshot(PLAYER, 1.0), None)
    queue.remove(500)
    queue.add(make_track(9_999_999), 500)  # one track replaced in the middle
    changed = queue.snapshot(PLAYER, 2.0)
    await store.save(changed, None)
    assert await store.load(changed.guild_id) == changed
    body = json.dumps(changed.to_json(), separators=(",", ":")).encode()
    whole = resp_size(["SET", keys.queue_meta(changed.guild_id), body])
    return {
        "queue_tracks": len(changed.entries),
        "first_write_bytes": sent[0],
        "one_track_change_bytes": sent[1],
        "whole_rewrite_bytes": whole,
        "change_vs_rewrite": round(sent[1] / whole, 4),
    }


def sql_figures() -> dict[str, Any] | None:
    script = ROOT / "bench" / "storage_sql_bench.py"
    if not script.exists():
        return None
    done = subprocess.run(
        [sys.executable, str(script), *sys.argv[1:]], capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return cast("dict[str, Any]", json.loads(lines[-1])) if lines else {"error": done.stderr[-300:]}


async def main() -> None:
    quick = "--quick" in sys.argv
    guilds, tracks = (500, 100) if quick else (10_000, 100)
    url = os.environ.get("VECTOBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    keys = RedisKeys(f"vbbench-{uuid.uuid4().hex[:8]}:")
    async with open_redis(url) as conn:
        try:
            restore = await restore_figures(conn, keys, guilds, tracks)
            written = await bytes_figures(conn, keys)
        finally:
            doomed = [
                key
                async for key in conn.client.scan_iter(match=keys.everything_pattern(), count=1000)
            ]
            for start in range(0, len(doomed), 1000):
                await conn.client.delete(*doomed[start : start + 1000])
    sql = sql_figures()
    rows = [
        (
            "restore: snapshots",
            f"{restore['restored']} x {tracks} tracks ({restore['stored_mb']} MB)",
        ),
        (
            "restore: RedisQueueStore.load_all",
            f"{restore['restore_s']} s = {restore['restore_mb_s']} MB/s",
        ),
        (
            "restore: raw pipelined GET+HGETALL",
            f"{restore['raw_s']} s = {restore['raw_mb_s']} MB/s",
        ),
        ("restore: ours / raw (target >= 0.5)", str(restore["restore_vs_raw"])),
        ("write: one-track change, 1000 tracks", f"{written['one_track_change_bytes']} B"),
        ("write: whole-queue rewrite (SET JSON)", f"{written['whole_rewrite_bytes']} B"),
        ("write: change / rewrite (target <= 0.05)", str(written["change_vs_rewrite"])),
    ]
    for backend, figures in ((sql or {}).get("settings_writes") or {}).items():
        rate = ", ".join(
            f"{name.removesuffix('_writes_per_s')} {value}/s" for name, value in figures.items()
        )
        rows.append((f"sql settings writes: {backend}", rate))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(
        json.dumps(
            {"bench": "storage", "redis_restore": restore, "redis_write": written, "sql": sql}
        )
    )


if __name__ == "__main__":
    anyio.run(main)
