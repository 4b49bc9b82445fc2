"""Bot benchmark: INTERACTION_CREATE -> interaction response latency with 1,000 guilds connected.

Two bots run at once, each its own process connected to its own fake Discord (this process) that
holds the same 1,000 guilds, each with a member in voice:

* the floor: a bare discord.py ``AutoShardedBot`` answering ``/queue`` and ``/play`` at once;
* VectoBeat: ``python -m vectobeat_bot`` (in-memory queues, no panel bridge, free plan defaults)
  with two fake Lavalink nodes (us, eu; a process of their own) that send each playing player's
  ``playerUpdate`` at Lavalink's default 5-second interval; it probes both nodes every second
  (failover detection), work the floor does not do.

Timing runs from the dispatch of INTERACTION_CREATE to the bot's interaction callback (for
``/play`` VectoBeat's callback is its deferral; the next interaction starts once the deferred answer
is shown). Interactions run one at a time, the bots taking turns every 10 guilds (the one going
first alternating): a shared machine's noise comes in bursts of a few hundred milliseconds, so
only turns this short see the same machine. Measuring one bot for a whole round (a few hundred
interactions) and then the other moved the ratio between 0.9x and 1.7x over identical runs.

``/play`` runs once in each of 900 guilds (by the ``/queue`` phase VectoBeat holds 900 playing
players), then ``/queue`` three times in each: p99 then has 9 (``/play``) and 27 (``/queue``)
samples above it. Each bot first answers 20 of each command in other guilds (warm-up, not
counted). Targets: ``/queue`` p99 within 1.5x the floor, ``/play`` p99 within 3x. The last line
printed is one JSON object with every figure.

The automation engine's share of ``/play`` is timed on its own (the bench guilds are on the free
plan, automation ``off``): the decisions a ``/play`` at level ``full`` makes, the throttle's token
and the duplicate trim against 100 queued tracks and 1,000 recently played, p99 over 20,000 calls.
Target: at most 0.2 ms.

Run: ``python bench/bot_bench.py`` (``--guilds 1000 --samples 900``; ``--quick``: 200 guilds, 100;
``--automation-only``: just the automation figure, in seconds).
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

import attrs

TOKEN = "bench-bot-token"  # noqa: S105 - a fake Discord's token
APP_ID = 1_400_000_000_000_000_001
LAVALINK_PASSWORD = "bench-lavalink"  # noqa: S105 - a fake node's password
TARGETS = {"queue": 1.5, "play": 3.0}
WARMUP = 20
PLAYER_UPDATES = 5.0
"""Seconds between a player's playerUpdate ops: Lavalink's default ``playerUpdateInterval``."""
QUEUE_REPEATS = 3
"""``/queue`` runs this many times in each measured guild (``/play`` needs a fresh guild each time):
2,700 samples put 27 above its p99."""
BLOCK = 10
"""Interactions per turn: the bots take turns this often, well within one burst of machine noise."""
SETTLE = 0.02
"""Seconds of pause before each turn."""
SHARDS = 16
"""Discord allows 120 gateway commands a minute per shard (discord.py sends at most 110) and each
first ``/play`` joins voice (op 4): 900 of them within a minute need 16 shards."""


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


def lavalink_nodes() -> None:
    """The fake Lavalink nodes (run as ``bot_bench.py --lavalink-nodes``), in a process of their
    own: Lavalink is a server of its own, and the floor must not wait on its work."""

    async def serve() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode

        catalogue = Catalogue()
        catalogue.add("Bench Song", "Bench", 3_600_000)
        async with AsyncExitStack() as stack:
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
            spec = ",".join(f"{n.region}:{n.name}:http://127.0.0.1:{n.port}" for n in nodes)
            sys.stdout.write(f"nodes {spec}\n")
            sys.stdout.flush()
            await asyncio.Event().wait()

    asyncio.run(serve())


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


@attrs.define
class Side:
    """One bot under test: its own fake Discord (same guild layout) and its results."""

    label: str
    fake: Any
    guilds: list[Any]
    users: dict[int, int]
    results: dict[str, list[float]] = attrs.field(factory=dict)

    async def interact(self, index: int, name: str) -> float:
        """Latency in ms of one interaction in guild ``index``; waits until it is over."""
        guild = self.guilds[index]
        text = next(c for c in guild.channels if not c.is_voice)
        options = {"query": "Bench Song"} if name == "play" else {}
        started = time.perf_counter()
        record = await self.fake.slash(
            guild_id=guild.id,
            channel_id=text.id,
            user_id=self.users[guild.id],
            name=name,
            options=options,
        )
        response = await self.fake.wait_for_response(record.id, timeout=30)
        latency = (time.perf_counter() - started) * 1000
        if response.deferred:  # the interaction is over when its final answer is shown
            await self.fake.wait_for(
                lambda r=record: r.followups or (r.original and not r.original.flags & 128), 30
            )
            if record.followups:
                raise RuntimeError(f"{self.label} /{name} failed: {record.followups[-1].content}")
        return latency


async def open_world(
    stack: AsyncExitStack, guild_count: int
) -> tuple[Any, list[Any], dict[int, int]]:
    """A fake Discord (open for ``stack``) holding ``guild_count`` guilds, each with a listener in
    voice: the fake, its guilds, and each guild's listener (user id by guild id)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vectobeat_testkit.discord import FakeDiscord

    fake = await stack.enter_async_context(
        FakeDiscord(
            token=TOKEN,
            application_id=APP_ID,
            interaction_deadline=None,
            rate_limit=100_000,
            recommended_shards=SHARDS,
        )
    )
    owner = fake.add_user("bench-owner")
    guilds: list[Any] = []
    listeners: dict[int, int] = {}
    for i in range(guild_count):
        listener = fake.add_user(f"listener-{i}")
        guild = await fake.add_guild(name=f"Bench {i}", owner=owner, members=[(listener, ())])
        voice = next(c for c in guild.channels if c.is_voice)
        await fake.set_voice(guild_id=guild.id, user_id=listener.id, channel_id=voice.id)
        guilds.append(guild)
        listeners[guild.id] = int(listener.id)
    return fake, guilds, listeners


def floor_env(fake: Any) -> dict[str, str]:
    """The bare bot's environment: this process's, pointed at ``fake``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VECTOBEAT_")}
    return base | {"BENCH_API_BASE": fake.api_base, "BENCH_GATEWAY_URL": fake.gateway_url}


def bot_env(fake: Any, nodes: str, tmp: str) -> dict[str, str]:
    """VectoBeat's environment: ``fake``, the fake nodes' line (``nodes <spec>``), SQLite under
    ``tmp``, the Status API on a free port."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VECTOBEAT_")}
    return base | {
        "VECTOBEAT_DISCORD_TOKEN": TOKEN,
        "VECTOBEAT_DISCORD_API_BASE": fake.api_base,
        "VECTOBEAT_DISCORD_GATEWAY_URL": fake.gateway_url,
        "VECTOBEAT_LAVALINK_NODES": nodes.rsplit(maxsplit=1)[-1],
        "VECTOBEAT_LAVALINK_PASSWORD": LAVALINK_PASSWORD,
        "VECTOBEAT_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
        "VECTOBEAT_STATUS_PORT": "0",
        "VECTOBEAT_LOG_LEVEL": "WARNING",
    }


async def _side(stack: AsyncExitStack, label: str, guild_count: int) -> Side:
    """One bot's side: its own fake Discord holding ``guild_count`` guilds."""
    return Side(label, *await open_world(stack, guild_count))


async def _alternate(sides: tuple[Side, Side], name: str, indices: list[int], warm: int) -> None:
    """Run ``name`` in each guild of ``indices``, the bots taking turns every ``BLOCK`` guilds.

    Before each turn: a pause for what the other bot was still doing (a played track starts after
    the answer is shown), then one ``/queue`` in guild ``warm``, not counted, so the measured
    interactions do not pay for waking an idle machine."""
    for k, start in enumerate(range(0, len(indices), BLOCK)):
        for side in sides if k % 2 == 0 else sides[::-1]:
            await asyncio.sleep(SETTLE)
            await side.interact(warm, "queue")
            for index in indices[start : start + BLOCK]:
                latency = await side.interact(index, name)
                side.results.setdefault(name, []).append(latency)


async def run(guild_count: int, samples: int) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="vectobeat-bot-bench-")
    async with AsyncExitStack() as stack:
        floor = await _side(stack, "floor", guild_count)
        ours = await _side(stack, "vectobeat", guild_count)
        node_process, nodes = await _start(
            [sys.executable, __file__, "--lavalink-nodes"], dict(os.environ), "nodes ", tmp
        )
        stack.push_async_callback(_stop, node_process)
        bare, _ = await _start(
            [sys.executable, __file__, "--bare-bot"], floor_env(floor.fake), "bare-bot ready", tmp
        )
        stack.push_async_callback(_stop, bare)
        bot, line = await _start(
            [sys.executable, "-m", "vectobeat_bot"],
            bot_env(ours.fake, nodes, tmp),
            "vectobeat-bot status",
            tmp,
        )
        stack.push_async_callback(_stop, bot)
        await _wait_ready(line.split()[-1])
        sides = (floor, ours)
        warm = list(range(guild_count - WARMUP, guild_count))
        measured = list(range(samples))
        for side in sides:  # warm-up: the first of each command pays for imports and caches
            for name in ("play", "queue"):
                for index in warm:
                    await side.interact(index, name)
        await _alternate(sides, "play", measured, warm[0])
        await _alternate(sides, "queue", measured * QUEUE_REPEATS, warm[0])
    return _summary(guild_count, samples, {side.label: side.results for side in sides})


AUTOMATION_TARGET_MS = 0.2
AUTOMATION_CALLS = 20_000


def automation_overhead(calls: int = AUTOMATION_CALLS) -> dict[str, Any]:
    """p50/p99 of what automation adds to one ``/play`` (throttle token + duplicate trim)."""
    from vectobeat_core.automation import ThrottleRule, take_token, track_key, trim_duplicates
    from vectobeat_core.tracks import Track

    def track(i: int) -> Track:
        return Track(
            f"enc{i}", f"Song {i}", "Bench", 180_000, f"id{i}", False, True, None, None, None,
            "youtube",
        )  # fmt: skip

    queued = [track(i) for i in range(100)]
    played = {track_key(track(i)): 1_000.0 + i for i in range(100, 1_100)}
    candidate = [track(5_000)]
    rule = ThrottleRule()
    state = None
    timings: list[float] = []
    for i in range(calls):
        now = 2_000.0 + i * 0.5  # a steady /play every half second: never throttled
        start = time.perf_counter_ns()
        decision = take_token(rule, state, now)
        trim_duplicates("full", candidate, queued, played, now=now, window_hours=24)
        timings.append((time.perf_counter_ns() - start) / 1e6)
        state = decision.state
    p99 = _percentile(timings, 0.99)
    return {
        "calls": calls,
        "p50_ms": round(statistics.median(timings), 4),
        "p99_ms": round(p99, 4),
        "target_ms": AUTOMATION_TARGET_MS,
        "ok": p99 <= AUTOMATION_TARGET_MS,
    }


def _automation_line(row: dict[str, Any]) -> str:
    verdict = "ok" if row["ok"] else "MISSED"
    return (
        f"automation on /play (throttle + duplicate trim): p50 {row['p50_ms']:.4f} ms, "
        f"p99 {row['p99_ms']:.4f} ms (target <= {row['target_ms']} ms) {verdict}"
    )


def _summary(
    guild_count: int, samples: int, results: dict[str, dict[str, list[float]]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"bench": "bot", "guilds": guild_count, "samples": samples}
    for command, target in TARGETS.items():
        floor = results["floor"][command]
        ours = results["vectobeat"][command]
        row = {
            "floor_p50_ms": round(statistics.median(floor), 3),
            "floor_p95_ms": round(_percentile(floor, 0.95), 3),
            "floor_p99_ms": round(_percentile(floor, 0.99), 3),
            "p50_ms": round(statistics.median(ours), 3),
            "p95_ms": round(_percentile(ours, 0.95), 3),
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
    if "--lavalink-nodes" in sys.argv:
        lavalink_nodes()
        return
    parser = argparse.ArgumentParser(prog="python bench/bot_bench.py")
    parser.add_argument("--guilds", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=900)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--automation-only", action="store_true")
    args = parser.parse_args()
    automation = automation_overhead()
    if args.automation_only:
        print(_automation_line(automation))
        print(json.dumps({"bench": "bot", "automation": automation}, separators=(",", ":")))
        return
    guilds, samples = (200, 100) if args.quick else (args.guilds, args.samples)
    if samples + WARMUP > guilds:
        parser.error(f"--samples {samples} needs at least {samples + WARMUP} guilds")
    summary = asyncio.run(run(guilds, samples))
    summary["automation"] = automation
    print(
        f"{'bot':<10} {'command':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p99 / floor':>12} {'target':>7}"
    )
    for command in TARGETS:
        row = summary[command]
        print(
            f"{'floor':<10} {command:<8} {row['floor_p50_ms']:>8.2f} {row['floor_p95_ms']:>8.2f} "
            f"{row['floor_p99_ms']:>8.2f} {'1.00':>12} {'':>7}"
        )
        verdict = "ok" if row["ok"] else "MISSED"
        print(
            f"{'vectobeat':<10} {command:<8} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['ratio_p99']:>12.2f} {row['target']:>5.1f}x {verdict}"
        )
    print(
        f"{summary['guilds']} guilds connected; per bot {summary['samples']} /play and "
        f"{summary['samples'] * QUEUE_REPEATS} /queue interactions."
    )
    print(_automation_line(automation))
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    main()
