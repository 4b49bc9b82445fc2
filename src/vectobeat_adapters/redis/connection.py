"""Opening Redis, and the one place redis-py's errors become ``StorageUnavailable``.

``open_redis(url)`` is an async context manager yielding a :class:`RedisConnection`: a redis.asyncio
client with explicit timeouts and a health-check interval, plus :meth:`RedisConnection.run`, which
every adapter uses for its commands. ``run`` retries an idempotent operation on connection loss with
redis-py's own ``Retry`` (exponential back-off with equal jitter: at most 50 ms, 100 ms, 200 ms, ...)
and reports a non-idempotent one at once, saying it may or may not have been applied. With
``operation_timeout`` set (``STORE_TIMEOUT``) one ``run``, retries included, gives up after it (an
``anyio.fail_after`` guard: the one place Redis waits are bounded). Messages name ``host:port/db``
and never the password. A Sentinel URL (`vectobeat_adapters.redis_url`) opens a client of the
primary its sentinels name: a lost primary is a lost connection like a restart, and the next
connection asks the sentinels again, so after a failover the promoted replica serves (a demoted
primary's ``READONLY`` counts as lost too). With a ``gate`` (a `DependencyWatch`), ``run`` refuses
at once while Redis is known to be down and reports a lost connection to it;
``open_redis(url, check=False)`` opens without requiring Redis to answer."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import attrs
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import EqualJitterBackoff, NoBackoff
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    ConnectionError,
    RedisError,
    ResponseError,
    TimeoutError,
)

from vectobeat_adapters.dependency_watch import DependencyGate
from vectobeat_adapters.redis_url import RedisTarget, describe_url, parse_redis_url
from vectobeat_core.errors import OutcomeUnknown, StorageUnavailable

__all__ = ["RedisConnection", "RedisSettings", "describe_url", "open_redis"]

T = TypeVar("T")
Client = aioredis.Redis


@attrs.frozen
class RedisSettings:
    """Timeouts and retry policy (seconds)."""

    connect_timeout: float = 2.0
    command_timeout: float = 5.0
    health_check_interval: int = 15
    retries: int = 4
    backoff_base: float = 0.05
    backoff_cap: float = 1.0
    max_connections: int = 64
    client_name: str = "vectobeat"
    operation_timeout: float | None = None
    """Seconds one :meth:`RedisConnection.run` may take, retries included; ``None``: unbounded."""

    @classmethod
    def bounded(cls, timeout: float) -> RedisSettings:
        """Settings whose connects, commands and whole operations all end within ``timeout``."""
        return cls(
            connect_timeout=min(cls().connect_timeout, timeout),
            command_timeout=timeout,
            operation_timeout=timeout,
        )


async def _no_cleanup(_error: Exception) -> None:
    """Nothing to undo between tries (redis-py's ``fail`` hook)."""


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError | BusyLoadingError | OSError) and not (
        isinstance(exc, AuthenticationError)
    )


@attrs.define
class RedisConnection:
    """A live Redis client and the error policy every adapter shares."""

    client: Client
    where: str
    settings: RedisSettings
    _password: str | None = None
    gate: DependencyGate | None = None
    _retry: Retry = attrs.field(init=False)

    @_retry.default
    def _retry_policy(self) -> Retry:
        """redis-py's own retry, for idempotent operations only (the client's is off: it would
        also repeat writes whose first try may have been applied)."""
        return Retry(
            # redis-py doubles from the first failure on: half the base waits `backoff_base` first
            EqualJitterBackoff(cap=self.settings.backoff_cap, base=self.settings.backoff_base / 2),
            self.settings.retries,
            supported_errors=(ConnectionError, TimeoutError, BusyLoadingError, OSError),
            is_retryable=_transient,
        )

    def _lost(self, error: StorageUnavailable) -> StorageUnavailable:
        if self.gate is not None:
            self.gate.failed(error)
        return error

    def error(self, action: str, exc: BaseException, *, note: str = "") -> StorageUnavailable:
        """The ``StorageUnavailable`` for a failed ``action`` (the password is scrubbed)."""
        detail = (str(exc) or type(exc).__name__).rstrip(". ")
        if self._password:
            detail = detail.replace(self._password, "**********")
        if isinstance(exc, AuthenticationError):
            detail = "authentication failed (check the user and password in REDIS_URL)"
        suffix = f" {note}" if note else ""
        return StorageUnavailable(f"Redis at {self.where}: {action} failed: {detail}.{suffix}")

    async def run(
        self,
        action: str,
        op: Callable[[Client], Awaitable[T]],
        *,
        idempotent: bool = True,
    ) -> T:
        """Run ``op(client)``; retry an idempotent op on connection loss; translate errors."""
        if self.gate is not None:
            self.gate.check()
        limit = self.settings.operation_timeout
        if limit is None:
            return await self._run(action, op, idempotent=idempotent)
        try:
            with anyio.fail_after(limit):
                return await self._run(action, op, idempotent=idempotent)
        except builtins.TimeoutError:  # anyio's deadline (the name above is redis-py's)
            waited = f"Redis at {self.where}: {action} did not answer within {limit:g} s"
            if idempotent:
                raise self._lost(StorageUnavailable(f"{waited}.")) from None
            self._lost(StorageUnavailable(f"{waited}."))
            raise OutcomeUnknown(
                f"The change was not confirmed: {waited}. It may still be applied; "
                "check again in a moment."
            ) from None

    async def _run(
        self, action: str, op: Callable[[Client], Awaitable[T]], *, idempotent: bool
    ) -> T:
        try:
            if idempotent:
                return await self._retry.call_with_retry(lambda: op(self.client), _no_cleanup)
            return await op(self.client)
        except ResponseError as exc:
            raise self.error(action, exc) from None
        except (RedisError, OSError) as exc:
            if not _transient(exc):
                raise self.error(action, exc) from None
            note = (
                f"Gave up after {self.settings.retries} retries."
                if idempotent
                else "It was not retried: it may or may not have been applied."
            )
            raise self._lost(self.error(action, exc, note=note)) from None

    async def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless Redis answers."""
        await self.run("ping", lambda c: c.ping())

    async def probe(self) -> None:
        """One PING past the gate and without retries: for the `DependencyWatch` of this Redis."""
        try:
            await self.client.ping()
        except (RedisError, OSError) as exc:
            raise self.error("ping", exc) from None


def _client(url: str, target: RedisTarget, cfg: RedisSettings) -> tuple[Client, Sentinel | None]:
    options: dict[str, Any] = {
        "socket_connect_timeout": cfg.connect_timeout,
        "socket_timeout": cfg.command_timeout,
        "health_check_interval": cfg.health_check_interval,
        "retry": Retry(NoBackoff(), 0),
        "max_connections": cfg.max_connections,
        "client_name": cfg.client_name,
        "decode_responses": False,
    }
    if not target.is_sentinel:
        return aioredis.Redis.from_url(url, **options), None
    sentinel = Sentinel(
        target.sentinels,
        sentinel_kwargs={
            "socket_connect_timeout": cfg.connect_timeout,
            "socket_timeout": cfg.command_timeout,
            "password": target.sentinel_password,
        },
    )
    client: Client = sentinel.master_for(
        target.service,
        db=target.db,
        username=target.username,
        password=target.password,
        ssl=target.tls,
        **options,
    )
    return client, sentinel


@asynccontextmanager
async def open_redis(
    url: str, settings: RedisSettings | None = None, *, check: bool = True
) -> AsyncIterator[RedisConnection]:
    """Connect to ``url`` (one server or a Sentinel-watched primary), check that Redis answers
    (unless ``check`` is false), and close the pool on exit."""
    target = parse_redis_url(url)
    cfg = settings if settings is not None else RedisSettings()
    client, sentinel = _client(url, target, cfg)
    conn = RedisConnection(client, target.where, cfg, target.password)
    try:
        if check:
            await conn.ping()
        yield conn
    finally:
        await client.aclose()
        if sentinel is not None:
            await sentinel.aclose()
