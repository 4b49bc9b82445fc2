"""Small parts of the panel: rate limits, safe redirects, the change feed, charts, the entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from limits.aio.storage import MemoryStorage

from tests.unit.test_panel_app import PRO_GUILD, open_harness
from vectobeat_core.ids import GuildId
from vectobeat_panel.auth import safe_next
from vectobeat_panel.changes import ChangeFeed
from vectobeat_panel.chart import NodeHistory, Sample, line_chart
from vectobeat_panel.rate_limits import RateLimiter, RateLimits
from vectobeat_panel.state import PanelOptions


@pytest.mark.anyio
async def test_rate_limiter_counts_per_client_and_frees_up_after_its_window() -> None:
    limiter = RateLimiter(RateLimits(login_per_minute=180, burst_fraction=1 / 60))
    assert limiter.window_seconds("login") == 1
    allowed = [await limiter.allow("login", "1.2.3.4") for _ in range(10)]
    assert allowed.count(True) == 3 and not allowed[-1]
    assert await limiter.allow("login", "5.6.7.8"), "other clients have their own count"
    assert await limiter.allow("api", "1.2.3.4"), "other classes have their own count"
    with anyio.fail_after(30):  # a bound for a stuck test: the window is 1 s
        while not await limiter.allow("login", "1.2.3.4"):  # noqa: ASYNC110 - time must pass
            await anyio.sleep(0.2)


class HangingStorage(MemoryStorage):
    """A shared storage that never answers (a Redis behind a dropped route)."""

    calls = 0

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        self.calls += 1
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


@pytest.mark.anyio
async def test_a_hanging_shared_storage_costs_one_wait_per_retry_interval() -> None:
    now = [0.0]
    limits = RateLimits(login_per_minute=180, burst_fraction=1 / 60, shared_retry_seconds=5.0)
    limiter = RateLimiter(limits, timeout=0.05, clock=lambda: now[0])
    storage = HangingStorage()
    limiter.share(storage)
    allowed = [await limiter.allow("login", "1.2.3.4") for _ in range(4)]
    assert allowed == [True, True, True, False], "counted in memory meanwhile"
    assert storage.calls == 1, "one wait, then memory until the retry time"
    now[0] += 5.0
    await limiter.allow("login", "5.6.7.8")
    assert storage.calls == 2, "retried after the interval"


@pytest.mark.anyio
async def test_login_is_rate_limited() -> None:
    options = PanelOptions(rate_limits=RateLimits(login_per_minute=8, burst_fraction=0.5))
    async with open_harness(options=options) as h:
        statuses = [(await h.client.get("/auth/discord")).status_code for _ in range(8)]
        assert statuses[:4] == [303] * 4 and statuses[-1] == 429
        limited = await h.client.get("/auth/discord")
        assert limited.headers["retry-after"] and "Too many" in limited.text
        api = await h.client.get("/api/openapi.json")
        assert api.status_code == 200, "the API bucket is separate"


@pytest.mark.anyio
async def test_body_limit_without_content_length() -> None:
    async with open_harness(options=PanelOptions(max_body_bytes=1000)) as h:
        csrf = await h.login()

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"x" * 400

        response = await h.client.put(
            f"/api/control-panel/guilds/{PRO_GUILD}/settings",
            content=chunks(),
            headers={"x-csrf-token": csrf, "content-type": "application/json"},
        )
        assert response.status_code == 413
        assert await h.services.settings.get(GuildId(PRO_GUILD)) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "/guilds"),
        ("/guilds/1/settings", "/guilds/1/settings"),
        ("//evil.example", "/guilds"),
        ("https://evil.example", "/guilds"),
        ("/\\evil.example", "/guilds"),
        ("/ok\r\nSet-Cookie: x", "/guilds"),
    ],
)
def test_safe_next_never_leaves_the_site(raw: str | None, expected: str) -> None:
    assert safe_next(raw) == expected


@pytest.mark.anyio
async def test_change_feed_cursor_wait_and_resync() -> None:
    feed = ChangeFeed(keep=3)
    assert (await feed.wait(0, 0)).changes == ()
    feed.append(GuildId(1), 1)
    feed.append(GuildId(1), 1)  # repeats (e.g. from the channel) are ignored
    batch = feed.since(0)
    assert [(c.guild_id, c.version) for c in batch.changes] == [(1, 1)] and batch.cursor == 1
    for version in range(2, 6):
        feed.append(GuildId(2), version)
    assert feed.since(1).resync, "a cursor older than what is kept asks for a reload"
    assert feed.since(99).resync, "a cursor from another process asks for a reload"
    cursor = feed.cursor

    async def publish_later() -> None:
        await anyio.sleep(0.01)
        feed.append(GuildId(3), 1)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(publish_later)
        batch = await feed.wait(cursor, 5)
    assert [(c.guild_id, c.version) for c in batch.changes] == [(3, 1)]


def test_chart_draws_lines_gaps_and_escapes_names() -> None:
    history = NodeHistory(window=3600)
    for minute in range(10):
        history.record("<b>", Sample(1000.0 + minute * 60, minute, None if minute == 5 else 20.0))
    history.record("old", Sample(-5000.0, 1, 1.0))
    series = history.series(now=1600.0)
    assert list(series) == ["<b>"]
    latency = {n: [(s.at, s.latency_ms) for s in v] for n, v in series.items()}
    svg = line_chart("Latency", latency, start=1600.0 - 3600, end=1600.0, unit="ms")
    assert svg.count("<polyline") == 2  # the failed probe splits the line
    assert "&lt;b&gt;" in svg and "<b>" not in svg and "style=" not in svg
    empty = line_chart("Nothing", {}, start=0, end=1, unit="ms")
    assert "no samples" in empty


def test_entry_point_is_wired() -> None:
    from vectobeat_panel import __main__ as entry

    assert callable(entry.main)


@pytest.mark.anyio
async def test_shared_session_store_over_the_cache() -> None:
    from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
    from vectobeat_core.ids import UserId
    from vectobeat_panel.sessions import ManagedGuild, PendingLogin
    from vectobeat_panel.shared_sessions import CacheSessionStore

    class Clock:
        def now(self) -> float:
            return 1000.0

    cache = MemoryTelemetryCache(Clock())
    store = CacheSessionStore(cache, session_ttl=600, login_ttl=60)
    other_replica = CacheSessionStore(cache, session_ttl=600, login_ttl=60)
    guild = ManagedGuild(GuildId(7), "Seven", None, True, 0)
    session = await store.create(
        user_id=UserId(3), username="u", avatar=None, guilds=(guild,), now=1000.0, ttl=600
    )
    seen = await other_replica.get(session.id, now=1001.0)
    assert seen == session and seen.guild(7) == guild
    assert await other_replica.get(session.id, now=1600.0) is None, "expired"
    second = await store.create(
        user_id=UserId(3), username="u", avatar=None, guilds=(), now=1000.0, ttl=600
    )
    assert await other_replica.revoke_user(UserId(3)) == 2
    assert await store.get(second.id, now=1001.0) is None
    await store.put_pending(PendingLogin("st", "verifier", "/guilds", 1060.0))
    assert (await other_replica.pop_pending("st", now=1001.0)) is not None
    assert await store.pop_pending("st", now=1001.0) is None, "a login state works once"
    await store.put_flash(session.id, {"secret": "s3cret"})
    assert await other_replica.pop_flash(session.id) == {"secret": "s3cret"}
    assert await store.pop_flash(session.id) is None, "a notice is shown once"
    await cache.put("panel-session:bad", {"user_id": "x"}, 60)
    assert await store.get("bad", now=1001.0) is None


def test_editor_and_openapi_cover_every_settings_field() -> None:
    from vectobeat_core.settings import SETTINGS_FIELDS
    from vectobeat_panel.openapi import SETTINGS
    from vectobeat_panel.settings_pages import GROUPS

    shown = [view.name for _, views in GROUPS for view in views]
    assert sorted(shown) == sorted(SETTINGS_FIELDS) and len(shown) == len(set(shown))
    assert all(view.help.strip() for _, views in GROUPS for view in views)  # says what it does
    assert set(SETTINGS["properties"]) == set(SETTINGS_FIELDS)
