"""Bot memory benchmark: the bot's resident memory (RSS) with 10,000 guilds of which 1,000 play,
against a bare discord.py ``AutoShardedBot`` holding the same guilds, in one run.

One fake Discord (this process, 16 shards) holds N guilds (10,000 by default), each with its owner
and a listener in voice. Both bots connect to it, each its own process:

* the floor: ``bot_bench.py --bare-bot``, a bare ``AutoShardedBot`` with two slash commands and the
  intents VectoBeat uses (guilds, voice states), no member chunking;
* VectoBeat: ``python -m vectobeat_bot`` (SQLite, migrated beforehand as the deployments' migrate
  Job/service does; in-memory queues, no panel bridge) with two fake
  Lavalink nodes (a process of their own) that send each playing player's ``playerUpdate`` every
  5 s, as Lavalink does.

The floor connects first, then VectoBeat (the fake routes interactions to the latest session of a
shard, so VectoBeat's); ``/play`` then runs in P guilds (1,000 by default) through VectoBeat, which
joins voice and plays each. After a settle, both processes' VmRSS is sampled five times, a second
apart, at the same moments; the medians and their ratio are the figures. Goal: VectoBeat <= 1.5x
the floor. The last line printed is one JSON object with every figure.

Run: ``python bench/bot_memory_bench.py`` (about 3 minutes on 2 cores); ``--guilds``,
``--playing``; ``--quick`` (2,000 guilds, 200 playing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import warnings
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bot_bench import _start, _stop, _wait_ready, bot_env, floor_env, open_world

GOAL = 1.5
SAMPLES = 5
SETTLE = 10.0
"""Seconds after the last ``/play`` before sampling: tracks started, first player updates in."""
CONCURRENCY = 16
BOT_BENCH = str(Path(__file__).with_name("bot_bench.py"))


def rss_mb(pid: int) -> float:
    """The process's resident set size in MiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _play_all(fake: Any, guilds: list[Any], listeners: dict[int, int]) -> int:
    """``/play`` in every guild of ``guilds``, ``CONCURRENCY`` at a time; how many played."""
    gate = asyncio.Semaphore(CONCURRENCY)
    played = 0

    async def play(guild: Any) -> None:
        nonlocal played
        text = next(c for c in guild.channels if not c.is_voice)
        async with gate:
            record = await fake.slash(
                guild_id=guild.id, channel_id=text.id, user_id=listeners[guild.id],
                name="play", options={"query": "Bench Song"},
            )  # fmt: skip
            await fake.wait_for_response(record.id, timeout=60)
            await fake.wait_for(
                lambda r=record: r.followups or (r.original and not r.original.flags & 128), 60
            )
            if not record.followups:
                played += 1

    await asyncio.gather(*(play(guild) for guild in guilds))
    return played


async def run(guild_count: int, playing: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vectobeat_adapters.sql.migrate import upgrade_database

    tmp = tempfile.mkdtemp(prefix="vectobeat-memory-bench-")
    async with AsyncExitStack() as stack:
        fake, guilds, listeners = await open_world(stack, guild_count)
        node_process, nodes = await _start(
            [sys.executable, BOT_BENCH, "--lavalink-nodes"], dict(os.environ), "nodes ", tmp
        )
        stack.push_async_callback(_stop, node_process)
        env = bot_env(fake, nodes, tmp) | {"VECTOBEAT_BOT_DATA_DIR": str(Path(tmp) / "bot-data")}
        await upgrade_database(env["VECTOBEAT_DATABASE_URL"])  # the migrate Job's part
        bare, _ = await _start(
            [sys.executable, BOT_BENCH, "--bare-bot"], floor_env(fake), "bare-bot ready", tmp
        )
        stack.push_async_callback(_stop, bare)
        bot, line = await _start(
            [sys.executable, "-m", "vectobeat_bot"], env, "vectobeat-bot status", tmp
        )
        stack.push_async_callback(_stop, bot)
        await _wait_ready(line.split()[-1])
        played = await _play_all(fake, guilds[:playing], listeners)
        await asyncio.sleep(SETTLE)
        floor_samples, ours_samples = [], []
        for _ in range(SAMPLES):
            floor_samples.append(rss_mb(bare.pid))
            ours_samples.append(rss_mb(bot.pid))
            await asyncio.sleep(1.0)
    floor = statistics.median(floor_samples)
    ours = statistics.median(ours_samples)
    ratio = ours / floor
    return {
        "bench": "bot_memory",
        "guilds": guild_count,
        "playing_requested": playing,
        "playing": played,
        "floor_rss_mb": round(floor, 1),
        "rss_mb": round(ours, 1),
        "floor_samples_mb": [round(x, 1) for x in floor_samples],
        "samples_mb": [round(x, 1) for x in ours_samples],
        "ratio": round(ratio, 3),
        "goal": GOAL,
        "ok": ratio <= GOAL,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/bot_memory_bench.py")
    parser.add_argument("--guilds", type=int, default=10_000)
    parser.add_argument("--playing", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    guilds, playing = (2_000, 200) if args.quick else (args.guilds, args.playing)
    if playing > guilds:
        parser.error("--playing cannot exceed --guilds")
    result = asyncio.run(run(guilds, playing))
    print(f"{'bot':<26} {'guilds':>7} {'playing':>8} {'RSS MiB':>9} {'/ floor':>8}")
    print(
        f"{'bare AutoShardedBot':<26} {guilds:>7} {0:>8} {result['floor_rss_mb']:>9.1f} {1:>8.2f}"
    )
    verdict = "ok" if result["ok"] else "MISSED"
    print(
        f"{'VectoBeat':<26} {guilds:>7} {result['playing']:>8} {result['rss_mb']:>9.1f} "
        f"{result['ratio']:>8.2f}  goal <= {GOAL}x {verdict}"
    )
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
