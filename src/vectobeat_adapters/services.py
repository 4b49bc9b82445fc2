"""The composition root: ``open_services(config)`` opens every store once per app.

SQL (``DATABASE_URL``; migrations applied on open) holds the panel data; Redis (``REDIS_URL``)
holds queue snapshots, node health, telemetry, shard leases and the settings channel. Without
``REDIS_URL`` queue snapshots stay durable in SQL (``SqlQueueStore``: they survive a restart) and
the rest are the in-memory implementations (one process). Every Redis and SQL operation ends within
``STORE_TIMEOUT`` seconds. Every service has ``ping()``; ``Services.ping_all()`` reports each one,
``Services.ping_backends()`` each backend (sql, redis) for health checks.

``open_services(config, degraded=True)`` (the bot) opens even when Redis or SQL is down: each gets
a `DependencyWatch` in ``Services.watches`` (``"redis"``, ``"sql"``) that gates its calls (they
raise ``StorageUnavailable`` at once while it is down) and reconnects with backoff; the caller
runs every watch (``watch.run``) while it uses the services. Migrations then run on the first
connection, before SQL counts as up.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import attrs

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.dependency_watch import DependencyWatch
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.memory.leases import MemoryLeaseStore
from vectobeat_adapters.memory.panel import (
    MemoryComplianceStore,
    MemoryConciergeStore,
    MemoryContactStore,
    MemoryGuildRepository,
    MemoryStripeEventStore,
)
from vectobeat_adapters.memory.playlists import MemoryPlaylistStore
from vectobeat_adapters.memory.queue_store import MemoryQueueStore
from vectobeat_adapters.memory.settings import MemorySettingsRepository
from vectobeat_adapters.memory.settings_channel import MemorySettingsChannel
from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
from vectobeat_adapters.memory.tokens import MemoryTokenStore
from vectobeat_adapters.memory.webhook_log import MemoryWebhookDeliveryLog
from vectobeat_adapters.sql import SqlStores, open_database
from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.migrate import upgrade
from vectobeat_core.errors import ConfigError, VectoBeatError
from vectobeat_core.plans import PlanCatalogue, default_catalogue, parse_plan_matrix
from vectobeat_core.ports import (
    AuditLog,
    Clock,
    CommandSyncRecord,
    ComplianceStore,
    ConciergeStore,
    ContactStore,
    GuildRepository,
    HealthStore,
    LeaseStore,
    PlaylistStore,
    QueueStore,
    SettingsChannel,
    SettingsRepository,
    StripeEventStore,
    TelemetryCache,
    TokenStore,
    WebhookDeliveryLog,
)

if TYPE_CHECKING:
    from vectobeat_adapters.redis import RedisConnection, RedisKeys

__all__ = [
    "Services",
    "SystemClock",
    "http_timeout",
    "keyring_of",
    "load_catalogue",
    "memory_services",
    "open_services",
    "sla_check_interval",
    "store_timeout",
]


class SystemClock:
    """The wall clock (seconds since the epoch)."""

    def now(self) -> float:
        return time.time()


def keyring_of(config: AppConfig) -> Keyring:
    """The encryption keys of ``ENCRYPTION_KEYS`` (none: writing a sensitive value fails)."""
    return Keyring.from_config(config.encryption_keys.reveal() if config.encryption_keys else None)


def load_catalogue(config: AppConfig) -> PlanCatalogue:
    """The shipped plan matrix, or the operator's ``PLANS_FILE``."""
    if config.plans_file is None:
        return default_catalogue()
    path = Path(config.plans_file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"PLANS_FILE {path} cannot be read: {exc.strerror}") from None
    return parse_plan_matrix(text, str(path))


def _seconds(name: str, value: float) -> float:
    if not 0.1 <= value <= 600:  # also refuses NaN
        raise ConfigError(f"{name} must be from 0.1 to 600 seconds, got {value!r}.")
    return value


def store_timeout(config: AppConfig) -> float:
    """``STORE_TIMEOUT``, checked: the bound of every Redis and SQL operation."""
    return _seconds("STORE_TIMEOUT", config.store_timeout)


def http_timeout(config: AppConfig) -> float:
    """``HTTP_TIMEOUT``, checked: the bound of a panel request's calls to Discord and Stripe."""
    return _seconds("HTTP_TIMEOUT", config.http_timeout)


def sla_check_interval(config: AppConfig) -> float:
    """``SLA_CHECK_SECONDS``, checked: how often the bot looks for breached care SLAs."""
    return _seconds("SLA_CHECK_SECONDS", config.sla_check_seconds)


@attrs.frozen
class Services:
    """Every store of one app, opened once; SQL for panel data, Redis (else SQL or memory) for bot
    state."""

    settings: SettingsRepository
    audit: AuditLog
    guilds: GuildRepository
    tokens: TokenStore
    playlists: PlaylistStore
    contacts: ContactStore
    concierge: ConciergeStore
    compliance: ComplianceStore
    stripe_events: StripeEventStore
    queues: QueueStore
    health: HealthStore
    telemetry: TelemetryCache
    leases: LeaseStore
    settings_channel: SettingsChannel
    webhook_log: WebhookDeliveryLog
    catalogue: PlanCatalogue
    clock: Clock
    redis_configured: bool
    watches: Mapping[str, DependencyWatch] = attrs.field(factory=dict)
    """The `DependencyWatch` of each store opened in degraded mode (``redis``, ``sql``)."""
    command_sync: CommandSyncRecord | None = None
    """The shared slash-command sync record (Redis); ``None``: the bot keeps it in a file."""
    queues_in_process: bool = False
    """The queue store is this process's memory (`memory_services`): nothing outlives the
    process, so the bot keeps no local journal for it."""
    redis: tuple[RedisConnection, RedisKeys] | None = None
    """The Redis connection and key names the stores use (``None`` without ``REDIS_URL``); the
    panel's shared rate limits count through it."""

    async def ping_backends(self) -> dict[str, str]:
        """``{"sql": ..., "redis": ...}``: ``"ok"``, ``"not configured"`` (in memory) or what went
        wrong; one ping per backend, both at once (a health check waits one timeout, not 14)."""
        sql = isinstance(self.settings, SqlRepository)
        report = {
            "sql": "ok" if sql else "not configured",
            "redis": "ok" if self.redis_configured else "not configured",
        }

        async def ping(name: str, store: SettingsRepository | TelemetryCache) -> None:
            try:
                await store.ping()
            except VectoBeatError as exc:
                report[name] = exc.message

        async with anyio.create_task_group() as tasks:
            if sql:
                tasks.start_soon(ping, "sql", self.settings)
            if self.redis_configured:
                tasks.start_soon(ping, "redis", self.telemetry)
        return report

    async def ping_all(self) -> dict[str, str]:
        """``{"name": "ok" | message}`` for every service."""
        names = (
            "settings", "audit", "guilds", "tokens", "playlists", "contacts", "concierge",
            "compliance", "stripe_events", "queues", "health", "telemetry", "leases",
            "settings_channel", "webhook_log",
        )  # fmt: skip
        report: dict[str, str] = {}
        for name in names:
            try:
                await getattr(self, name).ping()
            except VectoBeatError as exc:
                report[name] = exc.message
            else:
                report[name] = "ok"
        return report


def memory_services(
    *, clock: Clock | None = None, catalogue: PlanCatalogue | None = None
) -> Services:
    """Every port in memory (one process, nothing to open): for tests, benches and sandboxes."""
    wall: Clock = clock if clock is not None else SystemClock()
    return Services(
        settings=MemorySettingsRepository(),
        audit=MemoryAuditLog(),
        guilds=MemoryGuildRepository(),
        tokens=MemoryTokenStore(),
        playlists=MemoryPlaylistStore(),
        contacts=MemoryContactStore(),
        concierge=MemoryConciergeStore(),
        compliance=MemoryComplianceStore(),
        stripe_events=MemoryStripeEventStore(),
        queues=MemoryQueueStore(wall),
        health=MemoryHealthStore(wall),
        telemetry=MemoryTelemetryCache(wall),
        leases=MemoryLeaseStore(),
        settings_channel=MemorySettingsChannel(),
        webhook_log=MemoryWebhookDeliveryLog(),
        catalogue=catalogue if catalogue is not None else default_catalogue(),
        clock=wall,
        redis_configured=False,
        queues_in_process=True,
    )


@asynccontextmanager
async def open_services(
    config: AppConfig,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    degraded: bool = False,
) -> AsyncIterator[Services]:
    """Open SQL (and Redis when configured) for the block; close everything after.

    ``degraded``: a store that is down does not stop the opening (see the module docstring)."""
    wall: Clock = clock if clock is not None else SystemClock()
    catalogue = load_catalogue(config)
    keyring = keyring_of(config)
    async with AsyncExitStack() as stack:
        watches: dict[str, DependencyWatch] = {}
        timeout = store_timeout(config)
        db = await stack.enter_async_context(
            open_database(config.database_url, operation_timeout=timeout)
        )
        if degraded:
            watches["sql"] = db.gate = DependencyWatch(
                "sql",
                db.probe,
                wall,
                prepare=partial(upgrade, db) if migrate else None,
                required=not config.redis_url,  # without Redis it holds the queues
            )
        elif migrate:
            await upgrade(db)
        sql = SqlStores.build(db, keyring, wall)
        queues: QueueStore
        health: HealthStore
        telemetry: TelemetryCache
        leases: LeaseStore
        channel: SettingsChannel
        redis: tuple[RedisConnection, RedisKeys] | None = None
        command_sync: CommandSyncRecord | None = None
        if config.redis_url:
            # redis is an optional extra: imported only when REDIS_URL asks for it
            from vectobeat_adapters.redis import RedisKeys, RedisSettings, open_redis  # noqa: PLC0415
            from vectobeat_adapters.redis.command_sync import RedisCommandSync  # noqa: PLC0415
            from vectobeat_adapters.redis.health_store import RedisHealthStore  # noqa: PLC0415
            from vectobeat_adapters.redis.leases import RedisLeaseStore  # noqa: PLC0415
            from vectobeat_adapters.redis.queue_store import RedisQueueStore  # noqa: PLC0415
            from vectobeat_adapters.redis.settings_channel import RedisSettingsChannel  # noqa: PLC0415
            from vectobeat_adapters.redis.telemetry import RedisTelemetryCache  # noqa: PLC0415

            conn = await stack.enter_async_context(
                open_redis(config.redis_url, RedisSettings.bounded(timeout), check=not degraded)
            )
            if degraded:
                watches["redis"] = conn.gate = DependencyWatch(
                    "redis", conn.probe, wall, required=True
                )
            keys = RedisKeys()
            redis = (conn, keys)
            queues = RedisQueueStore(conn, keys)
            health = RedisHealthStore(conn, keys)
            telemetry = RedisTelemetryCache(conn, keys)
            leases = RedisLeaseStore(conn, keys)
            channel = RedisSettingsChannel(conn, keys)
            command_sync = RedisCommandSync(conn, keys)
        else:
            queues = sql.queues
            health = MemoryHealthStore(wall)
            telemetry = MemoryTelemetryCache(wall)
            leases = MemoryLeaseStore()
            channel = MemorySettingsChannel()
        yield Services(
            settings=sql.settings,
            audit=sql.audit,
            guilds=sql.guilds,
            tokens=sql.tokens,
            playlists=sql.playlists,
            contacts=sql.contacts,
            concierge=sql.concierge,
            compliance=sql.compliance,
            stripe_events=sql.stripe_events,
            queues=queues,
            health=health,
            telemetry=telemetry,
            leases=leases,
            command_sync=command_sync,
            settings_channel=channel,
            webhook_log=sql.webhook_log,
            catalogue=catalogue,
            clock=wall,
            redis_configured=bool(config.redis_url),
            watches=watches,
            redis=redis,
        )
