"""Test helpers for the Redis and in-memory stores: a private key namespace, a manual clock, tracks,
and a harness that lets TTLs run out on either backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, Self, TypeVar

import anyio
import attrs

from tests.conftest import service_url
from vectobeat_adapters.redis.connection import RedisConnection, open_redis
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_core.ids import UserId
from vectobeat_core.tracks import Track, encode_track

__all__ = ["ManualClock", "TtlHarness", "make_track", "redis_namespace"]

S = TypeVar("S")


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


@asynccontextmanager
async def redis_namespace() -> AsyncIterator[tuple[RedisConnection, RedisKeys]]:
    """A connection to the test Redis and keys under a namespace of our own, deleted afterwards."""
    url = service_url("redis")
    keys = RedisKeys(f"vbtest-{uuid.uuid4().hex[:12]}:")
    async with open_redis(url) as conn:
        try:
            yield conn, keys
        finally:
            doomed = [key async for key in conn.client.scan_iter(match=keys.everything_pattern())]
            for start in range(0, len(doomed), 500):
                await conn.client.delete(*doomed[start : start + 500])


class TtlHarness(Generic[S]):
    """A store plus a way to make time pass (a manual clock, or real short TTLs and polling)."""

    def __init__(self, store: S, clock: ManualClock | None) -> None:
        self.store = store
        self.clock = clock

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        backend: str,
        memory: Callable[[ManualClock], S],
        redis: Callable[[RedisConnection, RedisKeys], S],
    ) -> AsyncIterator[Self]:
        """``backend``'s store: ``"memory"`` on a manual clock, or ``"redis"`` in a namespace."""
        if backend == "memory":
            clock = ManualClock()
            yield cls(memory(clock), clock)
            return
        async with redis_namespace() as (conn, keys):
            yield cls(redis(conn, keys), None)

    async def let_pass(self, seconds: float) -> None:
        """Move the manual clock on, or (real Redis TTLs) wait that long."""
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            await anyio.sleep(seconds)

    async def eventually(self, seconds: float, check: Callable[[], Awaitable[bool]]) -> bool:
        """Let ``seconds`` pass, then poll ``check`` until it holds (Redis) or once (memory)."""
        if self.clock is not None:
            self.clock.advance(seconds)
            return await check()
        for _ in range(500):  # real Redis TTLs: poll for up to ~10 s
            if await check():
                return True
            await anyio.sleep(0.02)
        return False


def make_track(n: int, *, title_size: int = 24) -> Track:
    """A realistic YouTube track (real encoding) numbered ``n``."""
    ident = f"vid{n:08d}"
    track = Track(
        encoded="x",
        title=f"Track {n} " + "t" * title_size,
        author=f"Artist {n % 97}",
        length=180_000 + n,
        identifier=ident,
        is_stream=False,
        is_seekable=True,
        uri=f"https://www.youtube.com/watch?v={ident}",
        artwork_url=f"https://i.ytimg.com/vi/{ident}/hqdefault.jpg",
        isrc=None,
        source="youtube",
        requester=UserId(100_000_000_000_000_000 + n % 7),
    )
    return attrs.evolve(track, encoded=encode_track(track))
