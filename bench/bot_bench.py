"""Bot benchmark: INTERACTION_CREATE -> interaction response latency with 1,000 guilds connected.

One fake Discord (this process) holds 1,000 guilds, each with a member in voice, and two fake
Lavalink nodes (us, eu). Two bots connect to it in turn, each as its own process:

* the floor: a bare discord.py ``AutoShardedBot`` answering ``/queue`` and ``/play`` at once;
* VectoBeat: ``python -m vectobeat_bot`` (in-memory stores, no panel bridge, free plan defaults).

For each bot the same interactions are injected one at a time into distinct guilds (``/play`` in a
guild that has not played yet, ``/queue`` in one that has), timing from the dispatch of
INTERACTION_CREATE to the bot's interaction callback (for ``/play`` VectoBeat's callback is its
deferral; the next interaction is injected once the deferred answer is shown). Targets:
``/queue`` p99 within 1.5x the floor, ``/play`` p99 within 3x. The last line printed is one JSON
object with every figure. VectoBeat also probes both nodes every second (failover detection), work
the floor does not do.

The bots alternate over 5 rounds (a fresh process each), each round in guilds no earlier
round used; each process first answers 20 of each command elsewhere (warm-up, not counted).

Run: ``python bench/bot_bench.py`` (``--guilds 1000 --samples 300``; ``--quick``: 200 guilds, 100).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

TOKEN = "bench-bot-token"  # noqa: S105 - a fake Discord's token
APP_ID = 1_400_000_000_000_000_001
LAVALINK_PASSWORD = "bench-lavalink"  # noqa: S105 - a fake node's password
TARGETS = {"queue": 1.5, "play": 3.0}
WARMUP = 20
ROUNDS = 5
PLAYER_UPDATES = 60.0
"""Seconds between playerUpdate ops: the fake sends every player's update in one burst, where
Lavalink spreads them over its interval, so a short interval would only measure that burst."""
SHARDS = 4
"""Discord allows 120 gateway commands a minute per shard; each first /play joins voice (op 4)."""


def bare_bot() -> None:
    """The floor: discord.py answering at once (run as ``bot_bench.py --bare-bot``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import discord
        import yarl
        from discord import app_commands
        from discord.ext import commands
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

    Route.BASE = os.environ["BENCH_API_BASE"]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["BENCH_GATEWAY_URL"])

    class Bare(commands.AutoShardedBot):
        async def setup_hook(self) -> None:
            @app_commands.command(name="queue", description="Show the queue")
            async def queue(interaction: discord.Interaction, page: int = 1) -> None:
                await interaction.response.send_message("The queue is empty.")

            @app_commands.command(name="play", description="Play")
            async def play(interaction: discord.Interaction, query: str) -> None:
                await interaction.response.send_message(f"ok {query}")

            self.tree.add_command(queue)
            self.tree.add_command(play)
            await self.tree.sync()

        async def before_identify_hook(
            self, shard_id: int | None, *, initial: bool = False
        ) -> None:
            return None

        async def on_ready(self) -> None:
            sys.stdout.write("bare-bot ready\n")
            sys.stdout.flush()

    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    bot = Bare(
        command_prefix=commands.when_mentioned,
        intents=intents,
        guild_ready_timeout=0.2,
        chunk_guilds_at_startup=False,
    )
    bot.run(TOKEN, log_handler=None)


async def _start(
    cmd: list[str], env: dict[str, str], marker: str, cwd: str
) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``cmd``; return it and the line starting with ``marker`` it printed when ready."""
    log = (Path(cwd) / f"{Path(cmd[-1]).name.strip('-')}.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=log
    )
    log.close()
    assert process.stdout is not None
    async with asyncio.timeout(120):
        while True:
            line = await process.stdout.readline()
            if not line:
                raise RuntimeError(f"{cmd} exited before it was ready")
            text = line.decode(errors="replace").strip()
            if text.startswith(marker):
                return process, text


async def _wait_ready(status_url: str) -> None:
    import httpx

    async with httpx.AsyncClient() as client, asyncio.timeout(120):
        while True:
            try:
                if (await client.get(f"{status_url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    try:
        async with asyncio.timeout(30):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _both(
    fake: Any, measured: list[Any], warm: list[Any], users: dict[int, int]
) -> dict[str, list[float]]:
    """Warm up in ``warm`` (not counted), then /play and /queue once in each ``measured`` guild."""
    await _measure(fake, warm, users, "play", len(warm))
    await _measure(fake, warm, users, "queue", len(warm))
    return {
        "play": await _measure(fake, measured, users, "play", len(measured)),
        "queue": await _measure(fake, measured, users, "queue", len(measured)),
    }


def _extend(
    results: dict[str, dict[str, list[float]]], bot: str, more: dict[str, list[float]]
) -> None:
    for command, values in more.items():
        results.setdefault(bot, {}).setdefault(command, []).extend(values)


async def _measure(
    fake: Any, guilds: list[Any], users: dict[int, int], name: str, samples: int
) -> list[float]:
    """Latency in ms of ``samples`` interactions, one at a time, in distinct guilds."""
    latencies: list[float] = []
    options = {"query": "Bench Song"} if name == "play" else {}
    for i in range(samples):
        guild = guilds[i % len(guilds)]
        text = next(c for c in guild.channels if not c.is_voice)
        started = time.perf_counter()
        record = await fake.slash(
            guild_id=guild.id,
            channel_id=text.id,
            user_id=users[guild.id],
            name=name,
            options=options,
        )
        response = await fake.wait_for_response(record.id, timeout=30)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.deferred:  # the interaction is over when its final answer is shown
            await fake.wait_for(
                lambda r=record: r.followups or (r.original and not r.original.flags & 128), 30
            )
            if record.followups:
                raise RuntimeError(f"/{name} failed: {record.followups[-1].content}")
    return latencies


async def run(guild_count: int, samples: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vectobeat_testkit.discord import FakeDiscord
        from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode

    catalogue = Catalogue()
    catalogue.add("Bench Song", "Bench", 3_600_000)
    tmp = tempfile.mkdtemp(prefix="vectobeat-bot-bench-")
    results: dict[str, dict[str, list[float]]] = {}
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(
            FakeDiscord(
                token=TOKEN,
                application_id=APP_ID,
                interaction_deadline=None,
                rate_limit=100_000,
                recommended_shards=SHARDS,
            )
        )
        nodes = [
            await stack.enter_async_context(
                FakeLavalinkNode(
                    password=LAVALINK_PASSWORD,
                    name=f"{r}-1",
                    region=r,
                    catalogue=catalogue,
                    player_update_interval=PLAYER_UPDATES,
                )
            )
            for r in ("us", "eu")
        ]
        owner = fake.add_user("bench-owner")
        guilds = []
        users: dict[int, int] = {}
        for i in range(guild_count):
            listener = fake.add_user(f"listener-{i}")
            guild = await fake.add_guild(name=f"Bench {i}", owner=owner, members=[(listener, ())])
            voice = next(c for c in guild.channels if c.is_voice)
            await fake.set_voice(guild_id=guild.id, user_id=listener.id, channel_id=voice.id)
            guilds.append(guild)
            users[guild.id] = int(listener.id)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("VECTOBEAT_")}
        floor_env = base_env | {
            "BENCH_API_BASE": fake.api_base,
            "BENCH_GATEWAY_URL": fake.gateway_url,
        }
        bot_env = base_env | {
            "VECTOBEAT_DISCORD_TOKEN": TOKEN,
            "VECTOBEAT_DISCORD_API_BASE": fake.api_base,
            "VECTOBEAT_DISCORD_GATEWAY_URL": fake.gateway_url,
            "VECTOBEAT_LAVALINK_NODES": ",".join(
                f"{n.region}:{n.name}:http://127.0.0.1:{n.port}" for n in nodes
            ),
            "VECTOBEAT_LAVALINK_PASSWORD": LAVALINK_PASSWORD,
            "VECTOBEAT_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "VECTOBEAT_STATUS_PORT": "0",
            "VECTOBEAT_LOG_LEVEL": "WARNING",
        }
        per_round = max(1, samples // ROUNDS)
        for round_no in range(ROUNDS):
            # each round plays in guilds no earlier round used; the two bots alternate so that
            # a noisy neighbour on the machine hits both alike
            measured = guilds[round_no * per_round : (round_no + 1) * per_round]
            warm = guilds[len(guilds) - WARMUP * (round_no + 1) : len(guilds) - WARMUP * round_no]
            bare, _ = await _start(
                [sys.executable, __file__, "--bare-bot"], floor_env, "bare-bot ready", tmp
            )
            try:
                _extend(results, "floor", await _both(fake, measured, warm, users))
            finally:
                await _stop(bare)
            bot, line = await _start(
                [sys.executable, "-m", "vectobeat_bot"], bot_env, "vectobeat-bot status", tmp
            )
            try:
                await _wait_ready(line.split()[-1])
                _extend(results, "vectobeat", await _both(fake, measured, warm, users))
            finally:
                await _stop(bot)
    return _summary(guild_count, samples, results)


def _summary(
    guild_count: int, samples: int, results: dict[str, dict[str, list[float]]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"bench": "bot", "guilds": guild_count, "samples": samples}
    for command, target in TARGETS.items():
        floor = results["floor"][command]
        ours = results["vectobeat"][command]
        row = {
            "floor_p50_ms": round(statistics.median(floor), 3),
            "floor_p99_ms": round(_percentile(floor, 0.99), 3),
            "p50_ms": round(statistics.median(ours), 3),
            "p99_ms": round(_percentile(ours, 0.99), 3),
        }
        row["ratio_p99"] = round(row["p99_ms"] / row["floor_p99_ms"], 3)
        row["target"] = target
        row["ok"] = row["ratio_p99"] <= target
        out[command] = row
    return out


def main() -> None:
    if "--bare-bot" in sys.argv:
        bare_bot()
        return
    parser = argparse.ArgumentParser(prog="python bench/bot_bench.py")
    parser.add_argument("--guilds", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    guilds, samples = (200, 100) if args.quick else (args.guilds, args.samples)
    summary = asyncio.run(run(guilds, samples))
    print(
        f"{'bot':<10} {'command':<8} {'p50 ms':>8} {'p99 ms':>8} {'p99 / floor':>12} {'target':>7}"
    )
    for command in TARGETS:
        row = summary[command]
        print(
            f"{'floor':<10} {command:<8} {row['floor_p50_ms']:>8.2f} {row['floor_p99_ms']:>8.2f} {'1.00':>12} {'':>7}"
        )
        verdict = "ok" if row["ok"] else "MISSED"
        print(
            f"{'vectobeat':<10} {command:<8} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['ratio_p99']:>12.2f} {row['target']:>5.1f}x {verdict}"
        )
    print(
        f"{summary['guilds']} guilds connected, {summary['samples']} interactions per command and bot."
    )
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    main()
