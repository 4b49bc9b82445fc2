"""Shard takeover benchmark: a shard stalls inside a running bot process; how long until a hot
spare serves it, against ``SHARD_STALE_AFTER``.

Per ``stale_after`` value: 12 shards on three ``python -m vectobeat_bot`` processes (shards 0-3,
4-7, 8-11, through leases) plus one hot spare, all on one fake Discord (this process) and one
private Redis (``redis-server`` in a temporary directory), with a guild playing in every shard on a
fake Lavalink node (this process). Then, one at a time, a shard of each process stalls: the fake
gateway stops answering its connection (no heartbeat ACKs, no events) while the socket stays open.
Figures per stall, from the moment of the stall:

* ``stopped``: the stalled process closed its session (it surrendered the shard);
* ``claimed``: the spare holds the shard's lease (a higher epoch in Redis);
* ``serving``: the spare's new gateway session for the shard is READY;
* ``playing``: the shard's guild plays again, restored from its snapshot on the spare's session.

Goal: ``serving`` within ``stale_after + 1 s``. The stall shows once a heartbeat goes unanswered,
so the fake's heartbeat interval (``--heartbeat-ms``, 250 by default; Discord's is 41.25 s, which
adds up to that much in production) is part of every figure and printed with them. Also counted:
moments two live sessions served one shard (the fake records them; goal 0). The last line printed
is one JSON object with every figure.

Run: ``python bench/shard_takeover_bench.py`` (stale_after 2 s and 5 s, about 2 minutes);
``--stale 3`` (repeatable) picks the values; ``--heartbeat-ms`` the fake's heartbeat interval.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any

from bot_bench import APP_ID, LAVALINK_PASSWORD, TOKEN, _start, _stop, _wait_ready

SHARD_COUNT = 12
RANGES = ["0,1,2,3", "4,5,6,7", "8,9,10,11"]
STALLS = [1, 6, 11]  # one shard of each process
SLACK = 1.0
"""Seconds above ``stale_after`` the spare may take to serve a stalled shard (the goal)."""


async def _until(check: Callable[[], bool], timeout: float = 60.0) -> float:  # noqa: ASYNC109
    """``time.perf_counter()`` once ``check()`` holds (polled every 10 ms)."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - other processes' state: only polled
            await asyncio.sleep(0.01)
    return time.perf_counter()


def closed(session: Any) -> bool:
    return session.ws is None or bool(session.ws.closed)


def replaced(fake: Any, shard: int, old: Any) -> bool:
    """Another session serves ``shard`` and is READY."""
    current = fake.gateway.by_shard[shard]
    return current is not old and bool(current.live)


def restored(playing: Callable[[int], set[str]], guild: int, before: set[str]) -> bool:
    return bool(playing(guild) - before)


async def one_setting(stale: float, heartbeat_ms: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vectobeat_adapters.redis import RedisKeys, open_redis
        from vectobeat_adapters.redis.leases import RedisLeaseStore
        from vectobeat_core.ids import ShardId
        from vectobeat_testkit.discord import FakeDiscord
        from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode
        from vectobeat_testkit.redis_server import private_redis_server

    tmp = tempfile.mkdtemp(prefix="vectobeat-takeover-bench-")
    catalogue = Catalogue()
    catalogue.add("Bench Song", "Bench", 3_600_000)
    async with AsyncExitStack() as stack:
        redis_url = await stack.enter_async_context(private_redis_server(Path(tmp)))
        conn = await stack.enter_async_context(open_redis(redis_url))
        leases = RedisLeaseStore(conn, RedisKeys())
        fake = await stack.enter_async_context(
            FakeDiscord(
                token=TOKEN,
                application_id=APP_ID,
                heartbeat_interval_ms=heartbeat_ms,
                interaction_deadline=None,
                rate_limit=100_000,
            )
        )
        node = await stack.enter_async_context(
            FakeLavalinkNode(
                password=LAVALINK_PASSWORD, name="eu-1", region="eu", catalogue=catalogue
            )
        )
        owner = fake.add_user("bench-owner")
        guilds: dict[int, Any] = {}
        listeners: dict[int, int] = {}
        while len(guilds) < SHARD_COUNT:
            listener = fake.add_user(f"listener-{len(listeners)}")
            guild = await fake.add_guild(name="Bench", owner=owner, members=[(listener, ())])
            listeners[guild.id] = int(listener.id)
            if guild.shard_id(SHARD_COUNT) not in guilds:
                guilds[guild.shard_id(SHARD_COUNT)] = guild
        base = {k: v for k, v in os.environ.items() if not k.startswith("VECTOBEAT_")} | {
            "VECTOBEAT_DISCORD_TOKEN": TOKEN,
            "VECTOBEAT_DISCORD_API_BASE": fake.api_base,
            "VECTOBEAT_DISCORD_GATEWAY_URL": fake.gateway_url,
            "VECTOBEAT_LAVALINK_NODES": f"eu:eu-1:http://127.0.0.1:{node.port}",
            "VECTOBEAT_LAVALINK_PASSWORD": LAVALINK_PASSWORD,
            "VECTOBEAT_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "VECTOBEAT_REDIS_URL": redis_url,
            "VECTOBEAT_REGION": "eu",
            "VECTOBEAT_STATUS_PORT": "0",
            "VECTOBEAT_LOG_LEVEL": "WARNING",
            "VECTOBEAT_SHARD_COUNT": str(SHARD_COUNT),
            "VECTOBEAT_SHARD_STALE_AFTER": str(stale),
        }
        roles = [{"VECTOBEAT_SHARD_IDS": r} for r in RANGES] + [{"VECTOBEAT_SHARD_SPARE": "true"}]
        started = await asyncio.gather(
            *(
                _start([sys.executable, "-m", "vectobeat_bot"], base | extra, "vectobeat-bot", tmp)
                for extra in roles
            )
        )
        for process, _ in started:
            stack.push_async_callback(_stop, process)
        await asyncio.gather(*(_wait_ready(line.split()[-1]) for _, line in started))
        spare_pid = started[-1][0].pid

        for guild in guilds.values():
            voice = next(c for c in guild.channels if c.is_voice)
            text = next(c for c in guild.channels if not c.is_voice)
            user = listeners[guild.id]
            await fake.set_voice(guild_id=guild.id, user_id=user, channel_id=voice.id)
            record = await fake.slash(
                guild_id=guild.id, channel_id=text.id, user_id=user, name="play",
                options={"query": "Bench Song"},
            )  # fmt: skip
            await fake.wait_for_response(record.id, timeout=30)

        def sessions_playing(guild_id: int) -> set[str]:
            return {
                p.snapshot().session_id
                for p in node._engine.all_players()
                if p.snapshot().guild_id == guild_id and p.snapshot().track is not None
            }

        await _until(lambda: all(sessions_playing(g.id) for g in guilds.values()))
        await asyncio.sleep(2 * stale)  # every queue snapshot stored (written within a second)

        rows = []
        for shard in STALLS:
            guild = guilds[shard]
            old_session = fake.gateway.by_shard[shard]
            old_players = sessions_playing(guild.id)

            async def watch_lease(shard: int = shard) -> float:
                while True:
                    lease = await leases.get(ShardId(shard))
                    if lease is not None and lease.owner.endswith(f":{spare_pid}"):
                        return time.perf_counter()
                    await asyncio.sleep(0.01)

            stalled_at = time.perf_counter()
            fake.stall_shard(shard)
            watcher = asyncio.create_task(watch_lease())
            stopped = await _until(partial(closed, old_session))
            serving = await _until(partial(replaced, fake, shard, old_session))
            playing = await _until(partial(restored, sessions_playing, guild.id, old_players))
            claimed_at = await asyncio.wait_for(watcher, 60)
            rows.append(
                {
                    "shard": shard,
                    "stopped_s": round(stopped - stalled_at, 3),
                    "claimed_s": round(claimed_at - stalled_at, 3),
                    "serving_s": round(serving - stalled_at, 3),
                    "playing_s": round(playing - stalled_at, 3),
                }
            )
        for process, _ in started:
            process.send_signal(signal.SIGTERM)
    serving_times = [row["serving_s"] for row in rows]
    worst = max(serving_times)
    return {
        "stale_after_s": stale,
        "heartbeat_ms": heartbeat_ms,
        "shards": SHARD_COUNT,
        "stalls": rows,
        "serving_median_s": round(statistics.median(serving_times), 3),
        "serving_max_s": worst,
        "serving_max_over_stale": round(worst / stale, 3),
        "goal_s": stale + SLACK,
        "ok": worst <= stale + SLACK and not fake.gateway.overlaps,
        "two_live_sessions": len(fake.gateway.overlaps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/shard_takeover_bench.py")
    parser.add_argument("--stale", type=float, action="append")
    parser.add_argument("--heartbeat-ms", type=int, default=250)
    args = parser.parse_args()
    settings = args.stale or [2.0, 5.0]
    results = [asyncio.run(one_setting(stale, args.heartbeat_ms)) for stale in settings]
    print(
        f"{'stale_after':>11} {'shard':>5} {'stopped s':>9} {'claimed s':>9} {'serving s':>9} "
        f"{'playing s':>9} {'goal s':>6}"
    )
    for result in results:
        for row in result["stalls"]:
            print(
                f"{result['stale_after_s']:>11.1f} {row['shard']:>5} {row['stopped_s']:>9.2f} "
                f"{row['claimed_s']:>9.2f} {row['serving_s']:>9.2f} {row['playing_s']:>9.2f} "
                f"{result['goal_s']:>6.1f}"
            )
        verdict = "ok" if result["ok"] else "MISSED"
        print(
            f"stale_after {result['stale_after_s']} s, heartbeat {result['heartbeat_ms']} ms: "
            f"serving max {result['serving_max_s']:.2f} s = {result['serving_max_over_stale']:.2f}x "
            f"stale_after (goal <= {result['goal_s']:.1f} s), two live sessions for a shard: "
            f"{result['two_live_sessions']} {verdict}"
        )
    summary = {
        "bench": "shard_takeover",
        "settings": results,
        "ok": all(r["ok"] for r in results),
    }
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    main()
