"""Rate-limit benchmark: what counting one panel request costs, per storage, in one run.

The panel's `RateLimiter` (the `limits` library's sliding-window counter) counts each limited
request. Measured here, each hit from one of 1,000 clients: the latency of one hit at a time (p50,
p99) and the hits per second with 32 requests at once, for

1. memory (no ``REDIS_URL``): this process's counters;
2. Redis (a private ``redis-server`` on a free port, through `open_redis` like the panel);
3. Redis Sentinel (a private primary, replica and sentinel; the same client through the sentinel).

Ratios are against memory. No target: the figures say what sharing the counts costs a request
(one Redis round trip). Prints a table, then one JSON line last. ``--hits N`` (default 20,000).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

from vectobeat_adapters.redis import RedisKeys, RedisSettings, open_redis
from vectobeat_adapters.redis.rate_limit_storage import rate_limit_storage
from vectobeat_panel.rate_limits import RateLimiter, RateLimits
from vectobeat_testkit.redis_server import private_redis_server, private_sentinel_group

CONCURRENCY = 32
CLIENTS = 1_000
UNLIMITED = RateLimits(login_per_minute=1e12, api_per_minute=1e12, bridge_per_minute=1e12)


async def _run(limiter: RateLimiter, hits: int, concurrency: int) -> tuple[list[float], float]:
    """Per-hit latencies (µs) of ``hits`` hits, ``concurrency`` at a time, and the hits/s."""
    latencies: list[float] = []
    per_worker = hits // concurrency

    async def worker(n: int) -> None:
        for i in range(per_worker):
            k = (n * per_worker + i) % CLIENTS
            started = time.perf_counter()
            assert await limiter.allow("api", f"10.0.{k // 256}.{k % 256}")
            latencies.append((time.perf_counter() - started) * 1e6)

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for n in range(concurrency):
            tasks.start_soon(worker, n)
    return latencies, len(latencies) / (time.perf_counter() - started)


async def _measure(limiter: RateLimiter, hits: int) -> dict[str, float]:
    one_at_a_time, _ = await _run(limiter, hits // 4, 1)
    _, rate = await _run(limiter, hits, CONCURRENCY)
    cuts = statistics.quantiles(one_at_a_time, n=100)
    return {
        "hits_per_s_at_32": round(rate, 1),
        "p50_us": round(cuts[49], 1),
        "p99_us": round(cuts[98], 1),
    }


@asynccontextmanager
async def _shared(url: str) -> AsyncIterator[RateLimiter]:
    async with open_redis(url, RedisSettings.bounded(3.0)) as conn:
        limiter = RateLimiter(UNLIMITED, timeout=3.0)
        limiter.share(rate_limit_storage(conn, RedisKeys(f"bench-{time.time_ns()}:")))
        try:
            yield limiter
        finally:
            keys = [k async for k in conn.client.scan_iter(match="bench-*vb:ratelimit*")]
            for start in range(0, len(keys), 500):
                await conn.client.delete(*keys[start : start + 500])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hits", type=int, default=20_000)
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    results["memory"] = await _measure(RateLimiter(UNLIMITED), args.hits)
    with tempfile.TemporaryDirectory(prefix="vb-ratelimit-bench-") as name:
        folder = Path(name)
        (folder / "plain").mkdir()
        async with private_redis_server(folder / "plain") as url, _shared(url) as limiter:
            results["redis"] = await _measure(limiter, args.hits)
        async with private_sentinel_group(folder) as group, _shared(group.url) as limiter:
            results["sentinel"] = await _measure(limiter, args.hits)
    base = results["memory"]["p50_us"]
    for figures in results.values():
        figures["p50_ratio_to_memory"] = round(figures["p50_us"] / base, 2)
    print(f"{'storage':<10} {'p50 µs':>9} {'p99 µs':>9} {'p50 vs memory':>14} {'hits/s at 32':>13}")
    for storage, f in results.items():
        print(
            f"{storage:<10} {f['p50_us']:>9} {f['p99_us']:>9} "
            f"{f['p50_ratio_to_memory']:>13}x {f['hits_per_s_at_32']:>13}"
        )
    print(json.dumps({"concurrency": CONCURRENCY, "hits": args.hits, **results}, sort_keys=True))


if __name__ == "__main__":
    anyio.run(main)
