"""Panel benchmark, all under uvicorn in one run.

1. Throughput and p99 of ``GET /api/control-panel/lavalink/nodes`` (signed-in session, 8 nodes
   with health and stats) and the bridge's ``GET /api/bot/server-settings`` (bearer token), next to
   a bare Starlette JSON endpoint (the framework floor), each served by its own uvicorn process with
   the same settings. Targets: nodes >= 0.8x and bridge >= 0.5x of the floor's requests/s. The
   panel uses in-memory stores here, so the figure is the panel's own cost (guard middleware,
   session lookup, routing, JSON), not Redis'.
2. Settings save -> bot applied: bridge ``PUT /api/bot/server-settings`` calls (panel on SQLite +
   Redis); the bot's own ``SettingsSync``, subscribed to the Redis settings channel, applies each
   version (its listeners called). Timed from the save committing in the panel (the panel process
   stamps its publish, which follows the commit) to the bot applying it, in wall-clock time shared
   by both processes; next to a bare Redis publish -> subscriber round trip, target p99 within
   10x. The whole request (PUT sent -> bot applied) is printed too, without a target.

Each target runs ``--rounds`` times, interleaved, and its best round counts (the machine may be
shared). Load comes from ``wrk`` when installed (else httpx with concurrent workers). Prints a table, then
one JSON line last. Run: ``python bench/panel_bench.py [--seconds 4] [--rounds 3] [--connections 64]
[--redis-url redis://127.0.0.1:6379/0] [--saves 300] [--db postgresql+asyncpg://...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vectobeat_testkit.free_port import free_port

BRIDGE_TOKEN = "bench-bridge-token-" + "b" * 32
GUILD = 123_456_789_012_345_678


# --------------------------------------------------------------------------- servers


def _serve(kind: str, port: int, redis_url: str | None, db: str | None, cookie_file: str) -> None:
    """Child process: one uvicorn server (``floor``, ``panel`` or ``panel-redis``)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    if kind == "floor":

        async def hello(request: Request) -> JSONResponse:
            return JSONResponse({"ok": True, "nodes": []})

        app = Starlette(routes=[Route("/json", hello)])
    else:
        app = _panel_app(kind, redis_url, db, cookie_file)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, ws="none",
        lifespan="on", server_header=False,
    )  # fmt: skip


def _panel_app(kind: str, redis_url: str | None, db: str | None, cookie_file: str) -> Any:
    from contextlib import asynccontextmanager

    import anyio

    from vectobeat_adapters.config import AppConfig, Secret
    from vectobeat_adapters.services import memory_services
    from vectobeat_core.health import NodeHealth, NodeStatus
    from vectobeat_core.ids import GuildId, NodeName, UserId
    from vectobeat_core.plans import Tier
    from vectobeat_core.records import GuildRecord
    from vectobeat_panel.app import create_app
    from vectobeat_panel.security import RateLimits
    from vectobeat_panel.sessions import ManagedGuild
    from vectobeat_panel.state import PanelOptions

    regions = ("us", "eu", "apac", "us", "eu", "apac", "us", "eu")
    nodes = ",".join(f"{r}:{r}-{i}:http://127.0.0.1:{2000 + i}:pw" for i, r in enumerate(regions))
    config = AppConfig(
        bot_bridge_token=Secret(BRIDGE_TOKEN),
        session_secret=Secret("bench-session-secret-" + "s" * 32),
        lavalink_nodes=nodes,
        redis_url=redis_url if kind == "panel-redis" else None,
        database_url=db or "sqlite+aiosqlite:///:memory:",
    )
    unlimited = RateLimits(login_per_minute=1e12, api_per_minute=1e12, bridge_per_minute=1e12)
    options = PanelOptions(rate_limits=unlimited)
    services = memory_services() if kind == "panel" else None
    app = create_app(config, services, options=options)
    panel = app.state.panel
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> Any:
        async with inner(app_):
            opened = panel.services
            now = time.time()
            await opened.guilds.upsert(GuildRecord(GuildId(GUILD), "Bench", Tier.GROWTH, True, now))
            for i, region in enumerate(regions):
                name = NodeName(f"{region}-{i}")
                health = NodeHealth(node=name, status=NodeStatus.UP, last_latency_ms=10.0 + i,
                                    last_check_at=now, since=now - 60)  # fmt: skip
                await opened.health.put(health, ttl=3600)
            session = await panel.sessions.create(
                user_id=UserId(1), username="bench", avatar=None,
                guilds=(ManagedGuild(GuildId(GUILD), "Bench", None, True, 0),), now=now, ttl=86400,
            )  # fmt: skip
            published = _stamp_publishes(opened.settings_channel)
            await anyio.Path(cookie_file).write_text(panel.signer.sign(session.id).decode())
            yield
            if kind == "panel-redis":
                await anyio.Path(cookie_file + ".published").write_text(json.dumps(published))

    app.router.lifespan_context = lifespan
    return app


def _stamp_publishes(channel: Any) -> dict[int, float]:
    """Wall-clock time of each settings version's publish: the save has just committed then
    (`settings_flow.save_settings` announces right after the transaction). Bench-only."""
    published: dict[int, float] = {}
    original = channel.publish

    async def publish(change: Any) -> int:
        published[change.version] = time.time()
        return int(await original(change))

    channel.publish = publish
    return published


class Server:
    def __init__(self, kind: str, redis_url: str | None = None, db: str | None = None) -> None:
        self.kind = kind
        self.port = free_port()
        self.cookie_file = tempfile.mktemp(prefix="vb-bench-cookie-")  # noqa: S306 (a path for the child)
        args = [sys.executable, __file__, "--serve", kind, "--port", str(self.port),
                "--cookie-file", self.cookie_file]  # fmt: skip
        if redis_url:
            args += ["--redis-url", redis_url]
        if db:
            args += ["--db", db]
        self.proc = subprocess.Popen(args, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} server exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    if self.kind == "floor" or Path(self.cookie_file).exists():
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit(f"{self.kind} server did not start")

    @property
    def cookie(self) -> str:
        return Path(self.cookie_file).read_text()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        Path(self.cookie_file).unlink(missing_ok=True)

    def published(self) -> dict[int, float]:
        """``panel-redis``, once stopped: when each settings version was published."""
        path = Path(self.cookie_file + ".published")
        stamps = {int(k): float(v) for k, v in json.loads(path.read_text()).items()}
        path.unlink()
        return stamps


# --------------------------------------------------------------------------- load


def _wrk(
    url: str, headers: dict[str, str], seconds: float, connections: int
) -> tuple[float, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} non-2xx responses\n{out}")
    return rps, float(p99.group(1)) * scale


async def _httpx_load(
    url: str, headers: dict[str, str], seconds: float, connections: int
) -> tuple[float, float]:
    import httpx

    latencies: list[float] = []
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await client.get(url)
                response.raise_for_status()
                latencies.append((time.perf_counter() - start) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1]


def load(
    url: str, headers: dict[str, str], seconds: float, connections: int
) -> tuple[float, float]:
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, connections)
    return asyncio.run(_httpx_load(url, headers, seconds, connections))


# --------------------------------------------------------------------------- pub/sub latency


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _bare_pubsub(redis_url: str, rounds: int) -> list[float]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    channel = f"vb-bench-{os.getpid()}"
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1.0)
    out: list[float] = []
    for n in range(rounds):
        start = time.perf_counter()
        await client.publish(channel, str(n))
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
            if message is not None:
                break
        out.append((time.perf_counter() - start) * 1000)
    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
    await client.aclose()
    return out


async def _save_to_bot(
    server: Server, redis_url: str, rounds: int
) -> tuple[list[float], dict[int, float]]:
    """A bridge ``PUT`` until the bot's own `SettingsSync` (subscribed over Redis) applied it:
    ms from sending the request, and the wall-clock time each version was applied."""
    import anyio
    import httpx

    from vectobeat_adapters.redis import RedisKeys, open_redis
    from vectobeat_adapters.redis.settings_channel import RedisSettingsChannel
    from vectobeat_adapters.services import SystemClock
    from vectobeat_bot.bridge_client import BridgeClient
    from vectobeat_bot.settings_sync import GuildSettings, SettingsSync
    from vectobeat_core.ids import GuildId
    from vectobeat_core.plans import default_catalogue

    out: list[float] = []
    headers = {"authorization": f"Bearer {BRIDGE_TOKEN}"}
    applied: dict[int, anyio.Event] = {}

    applied_at: dict[int, float] = {}

    async def on_applied(held: GuildSettings) -> None:
        applied_at[held.version] = time.time()
        applied.setdefault(held.version, anyio.Event()).set()

    async with (
        open_redis(redis_url) as conn,
        BridgeClient(server.url, BRIDGE_TOKEN) as bridge,
        httpx.AsyncClient(base_url=server.url, headers=headers) as panel_user,
        anyio.create_task_group() as tasks,
    ):
        channel = RedisSettingsChannel(conn, RedisKeys())
        sync = SettingsSync(
            bridge=bridge, channel=channel, catalogue=default_catalogue(), clock=SystemClock()
        )
        sync.listen(on_applied)
        version = (await sync.get(GuildId(GUILD))).version
        tasks.start_soon(sync.run)
        await anyio.sleep(0.5)  # subscribed
        for n in range(rounds):
            start = time.perf_counter()
            response = await panel_user.put(
                f"/api/bot/server-settings?guild_id={GUILD}",
                json={"version": version, "settings": {"default_volume": n % 200}},
            )
            response.raise_for_status()
            version = response.json()["version"]
            with anyio.fail_after(10):
                await applied.setdefault(version, anyio.Event()).wait()
            out.append((time.perf_counter() - start) * 1000)
        tasks.cancel_scope.cancel()
    return out, applied_at


async def _drop_bench_rows(db: str) -> None:
    """Delete what the bench wrote to a caller's database (``--db``): its guild's rows."""
    import sqlalchemy as sa

    from vectobeat_adapters.sql.engine import open_database
    from vectobeat_adapters.sql.schema import (
        audit_events,
        guilds,
        settings_current,
        settings_history,
    )

    async with open_database(db) as database, database.engine.begin() as conn:
        for table in (settings_history, settings_current, audit_events, guilds):
            await conn.execute(sa.delete(table).where(table.c.guild_id == GUILD))


def _redis_answers(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1.0):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cookie-file", default="")
    parser.add_argument(
        "--db", help="DATABASE_URL of the panel in the pub/sub part (default: a SQLite file)"
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("VECTOBEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument(
        "--parts", default="throughput,pubsub", help="which parts to run (comma-separated)"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.serve:
        _serve(args.serve, args.port, args.redis_url, args.db, args.cookie_file)
        return

    results: dict[str, Any] = {"tool": "wrk" if shutil.which("wrk") else "httpx"}
    rows: list[tuple[str, str, str, str]] = []
    if "throughput" in parts:
        _throughput(args, results, rows)
    if "pubsub" in parts:
        _pubsub(args, results, rows)
    print(f"{'measure':<22}{'req/s':>12}{'p99 ms':>10}  ratio (target)")
    for name, rps_text, p99_text, ratio_text in rows:
        print(f"{name:<22}{rps_text:>12}{p99_text:>10}  {ratio_text}")
    print(json.dumps(results, sort_keys=True))


def _throughput(
    args: argparse.Namespace, results: dict[str, Any], rows: list[tuple[str, str, str, str]]
) -> None:
    """Part 1: requests/s and p99 of the panel's endpoints next to the framework floor."""
    floor = Server("floor")
    panel = Server("panel")
    try:
        floor.wait()
        panel.wait()
        cookie = {"cookie": f"vb_session={panel.cookie}"}
        bridge = {"authorization": f"Bearer {BRIDGE_TOKEN}"}
        targets: tuple[tuple[str, str, dict[str, str], float | None], ...] = (
            ("floor", f"{floor.url}/json", {}, None),
            ("nodes", f"{panel.url}/api/control-panel/lavalink/nodes", cookie, 0.8),
            (
                "bridge_settings",
                f"{panel.url}/api/bot/server-settings?guild_id={GUILD}",
                bridge,
                0.5,
            ),
        )
        for _, url, headers, _ in targets:
            load(url, headers, 1, args.connections)  # warm up
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.rounds):  # interleaved rounds, best of each: this machine is shared
            for name, url, headers, _ in targets:
                rps, p99 = load(url, headers, args.seconds, args.connections)
                if name not in best or rps > best[name][0]:
                    best[name] = (rps, p99)
        floor_rps = best["floor"][0]
        for name, _url, _headers, target in targets:
            rps, p99 = best[name]
            ratio = rps / floor_rps
            results[name] = {"rps": round(rps, 1), "p99_ms": round(p99, 3),
                             "ratio_to_floor": round(ratio, 3), "target": target,
                             "meets_target": None if target is None else ratio >= target}  # fmt: skip
            goal = "" if target is None else f">= {target}x"
            rows.append((name, f"{rps:,.0f}", f"{p99:.2f}", f"{ratio:.2f}x {goal}"))
    finally:
        floor.stop()
        panel.stop()


def _pubsub(
    args: argparse.Namespace, results: dict[str, Any], rows: list[tuple[str, str, str, str]]
) -> None:
    """Part 2: settings save -> subscriber, next to a bare Redis pub/sub round trip."""
    if _redis_answers(args.redis_url):
        with tempfile.TemporaryDirectory() as tmp:
            db = args.db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            server = Server("panel-redis", args.redis_url, db)
            try:
                server.wait()
                bare = asyncio.run(_bare_pubsub(args.redis_url, args.saves))
                request, applied_at = asyncio.run(_save_to_bot(server, args.redis_url, args.saves))
            finally:
                server.stop()
                if args.db:
                    asyncio.run(_drop_bench_rows(args.db))
            published = server.published()
        # the target's interval: the save committed in the panel (its publish) -> the bot applied
        save = [(applied_at[v] - published[v]) * 1000 for v in applied_at if v in published]
        ratio = _p(save, 0.99) / _p(bare, 0.99)
        results["pubsub"] = {
            "database": (args.db or "sqlite").split(":", 1)[0],
            "bare_p50_ms": round(statistics.median(bare), 3),
            "bare_p99_ms": round(_p(bare, 0.99), 3),
            "saved_to_bot_p50_ms": round(statistics.median(save), 3),
            "saved_to_bot_p99_ms": round(_p(save, 0.99), 3),
            "request_to_bot_p50_ms": round(statistics.median(request), 3),
            "request_to_bot_p99_ms": round(_p(request, 0.99), 3),
            "p99_ratio": round(ratio, 2),
            "target": 10.0,
            "meets_target": ratio <= 10.0,
        }
        rows.append(("redis pub/sub bare", "", f"{_p(bare, 0.99):.2f}", "p99 floor"))
        rows.append(("saved -> bot applied", "", f"{_p(save, 0.99):.2f}", f"{ratio:.1f}x <= 10x"))
        rows.append(
            ("PUT -> bot applied", "", f"{_p(request, 0.99):.2f}", "whole request, no target")
        )
    else:
        results["pubsub"] = {"skipped": f"Redis not answering at {args.redis_url}"}


if __name__ == "__main__":
    main()
