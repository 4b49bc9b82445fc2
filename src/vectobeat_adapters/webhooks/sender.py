"""``WebhookSender``: signed webhook exports, in order per guild, never blocking the caller.

`submit` queues an event for its guild and returns at once; one worker per guild with pending
events delivers them one after another (a slow receiver delays only its own guild), retrying
timeouts, transport errors, 408, 429 and 5xx by `vectobeat_core.webhooks.RetrySchedule`. A guild's
queue holds at most ``max_queued`` events: a new one drops the oldest, counted in ``dropped`` and
logged. `deliver_now` sends one event through the same path and returns its last attempt (the
panel's "Send test event").

Every attempt resolves the host again and checks every address (`resolve.checked_addresses`), then
connects to the checked IP itself with ``Host`` and TLS SNI set to the host name, so a DNS answer
that changes between the check and the connection (rebinding) cannot redirect it. Redirects are
not followed. Each attempt is written to the delivery log.
"""

from __future__ import annotations

import logging
import random
import secrets
import ssl
import time
from collections import deque
from collections.abc import Callable, Collection

import anyio
import anyio.abc
import attrs
import httpx
import tenacity

from vectobeat_adapters.webhooks.resolve import Resolver, WebhookResolveError, checked_addresses
from vectobeat_core.errors import NotEnabled, VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import AnalyticsLevel
from vectobeat_core.ports import Clock, WebhookDeliveryLog
from vectobeat_core.webhook_targets import IPAddress, UnsafeWebhookTarget, parse_target
from vectobeat_core.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_ERROR_CHARS,
    SIGNATURE_HEADER,
    ExportEvent,
    Outcome,
    RetrySchedule,
    WebhookDelivery,
    encode_body,
    export_payload,
    guild_secret,
    retryable,
    sign,
)

__all__ = ["Export", "WebhookSender"]

_log = logging.getLogger("vectobeat.webhooks")
USER_AGENT = "VectoBeat-Webhooks/1"


@attrs.frozen
class _Try:
    """One delivery attempt: its log record, its outcome and any ``Retry-After`` it was told."""

    record: WebhookDelivery
    outcome: Outcome | None
    retry_after: float | None

    @property
    def worth_another(self) -> bool:
        return not self.record.ok and self.outcome is not None and retryable(self.outcome)


@attrs.frozen
class Export:
    """One queued export: the event, where it goes and the analytics mode that shapes it."""

    url: str
    event: ExportEvent
    mode: AnalyticsLevel
    delivery_id: str = attrs.field(factory=lambda: secrets.token_hex(12))


def _host_in_url(address: IPAddress) -> str:
    return f"[{address}]" if address.version == 6 else str(address)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class WebhookSender:
    """Delivers `Export`s (see the module docstring). Run `run` in a task group before `submit`."""

    def __init__(
        self,
        *,
        log: WebhookDeliveryLog,
        clock: Clock,
        signing_secret: str | None,
        allowed_hosts: Collection[str] = (),
        resolver: Resolver | None = None,
        schedule: RetrySchedule | None = None,
        timeout_s: float = 5.0,
        resolve_timeout_s: float = 3.0,
        max_queued: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: ssl.SSLContext | None = None,
        rng: random.Random | None = None,
        on_attempt: Callable[[WebhookDelivery], None] | None = None,
    ) -> None:
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self._log_store = log
        self._clock = clock
        self._secret = signing_secret
        self._allowed = frozenset(allowed_hosts)
        self._resolver = resolver
        self.schedule = schedule or RetrySchedule()
        self._timeout_s = timeout_s
        self._resolve_timeout_s = resolve_timeout_s
        self._max_queued = max_queued
        self._transport = transport
        self._tls = tls  # the trust store for receivers' certificates; None: httpx's default
        self._rng = rng or random.SystemRandom()
        self._on_attempt = on_attempt  # told every attempt (the bot's webhook-outage alarm)
        self._queues: dict[GuildId, deque[Export]] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._client: httpx.AsyncClient | None = None
        self.dropped = 0
        self.delivered = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return bool(self._secret)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would defeat the address check
            timeout=self._timeout_s,
            transport=self._transport,
            verify=self._tls if self._tls is not None else True,
            # no reuse: a pooled connection is keyed by IP, and two host names on one IP must
            # each get their own TLS handshake (SNI and certificate check for that name)
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"User-Agent": USER_AGENT},
        )

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Own the per-guild workers until cancelled; then close the HTTP client."""
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self._tg = None
            if self._client is not None:
                with anyio.CancelScope(shield=True):
                    await self._client.aclose()
                self._client = None

    def pending(self, guild_id: GuildId) -> int:
        """Exports of the guild waiting behind the one in flight."""
        return len(self._queues.get(guild_id, ()))

    def submit(self, export: Export) -> None:
        """Queue ``export`` behind its guild's earlier ones; never waits."""
        if self._tg is None:
            raise NotEnabled("The webhook sender is not running.")
        guild = export.event.guild_id
        queue = self._queues.get(guild)
        if queue is None:
            queue = self._queues[guild] = deque()
            self._tg.start_soon(self._drain, guild, queue)
        if len(queue) >= self._max_queued:
            lost = queue.popleft()
            self.dropped += 1
            _log.warning(
                "webhook_export_dropped guild=%s event=%s queued=%d dropped_total=%d",
                guild,
                lost.event.kind,
                len(queue),
                self.dropped,
            )
        queue.append(export)

    async def _drain(self, guild: GuildId, queue: deque[Export]) -> None:
        try:
            while queue:
                export = queue.popleft()
                try:
                    await self._deliver(export, self.schedule, self._http())
                except VectoBeatError as exc:  # the log could not be written: say so, go on
                    _log.warning("webhook_export_failed guild=%s error=%s", guild, exc)
                except Exception:  # a bug here must not stop the bot's other work
                    _log.exception("webhook_export_crashed guild=%s", guild)
        finally:
            if self._queues.get(guild) is queue:
                del self._queues[guild]

    async def deliver_now(self, export: Export, *, attempts: int | None = None) -> WebhookDelivery:
        """Send ``export`` at once (``attempts`` tries at most, default the schedule's) and return
        its last attempt; works without `run` (the panel's test event)."""
        schedule = self.schedule
        if attempts is not None:
            schedule = RetrySchedule(attempts, schedule.base_s, schedule.cap_s)
        async with self._new_client() as client:
            return await self._deliver(export, schedule, client)

    async def _deliver(
        self, export: Export, plan: RetrySchedule, client: httpx.AsyncClient
    ) -> WebhookDelivery:
        """Every attempt of one export until it succeeds, fails for good or runs out of tries
        (the core's `RetrySchedule` says how many and how long between them)."""
        tries: list[_Try] = []

        async def attempt() -> _Try:
            tried = _Try(*await self._attempt(export, len(tries) + 1, client))
            tries.append(tried)
            await self._log_store.append(tried.record)
            if self._on_attempt is not None:
                self._on_attempt(tried.record)
            return tried

        def wait(state: tenacity.RetryCallState) -> float:
            n = state.attempt_number - 1
            return plan.delay(n, self._rng.random(), tries[-1].retry_after)

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_result(lambda tried: tried.worth_another),
            stop=tenacity.stop_after_attempt(plan.attempts),
            wait=wait,
            sleep=anyio.sleep,
            retry_error_callback=lambda _state: tries[-1],  # out of tries: the last one
        )
        last: _Try = await retrying(attempt)
        if last.record.ok:
            self.delivered += 1
            return last.record
        self.failed += 1
        _log.warning(
            "webhook_export_undelivered guild=%s event=%s attempts=%d outcome=%s",
            export.event.guild_id,
            export.event.kind,
            len(tries),
            last.record.outcome,
        )
        return last.record

    async def _attempt(
        self, export: Export, number: int, client: httpx.AsyncClient
    ) -> tuple[WebhookDelivery, Outcome | None, float | None]:
        """One try: its log record, its outcome (``None``: refused, never retried) and the
        receiver's ``Retry-After``."""
        started = time.monotonic()
        status: int | None = None
        outcome: Outcome | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            status, retry_after = await self._post(export, client)
            outcome = status
        except UnsafeWebhookTarget as exc:
            error = f"refused: {exc.message}"
        except NotEnabled as exc:
            error = f"not configured: {exc.message}"
        except WebhookResolveError as exc:
            error, outcome = exc.message, "error"
        except (TimeoutError, httpx.TimeoutException):
            error, outcome = f"timeout: no answer within {self._timeout_s:g} s", "timeout"
        except httpx.HTTPError as exc:
            error, outcome = f"transport error: {type(exc).__name__}", "error"
        event = export.event
        record = WebhookDelivery(
            guild_id=event.guild_id,
            delivery_id=export.delivery_id,
            event=event.kind,
            attempt=number,
            at=self._clock.now(),
            latency_ms=round((time.monotonic() - started) * 1000.0, 1),
            status_code=status,
            error=None if error is None else error[:MAX_ERROR_CHARS],
        )
        return record, outcome, retry_after

    async def _post(self, export: Export, client: httpx.AsyncClient) -> tuple[int, float | None]:
        if not self._secret:
            raise NotEnabled("WEBHOOK_SIGNING_SECRET is not set, so exports are off.")
        target = parse_target(export.url, self._allowed)
        addresses = await checked_addresses(
            target, resolver=self._resolver, timeout_s=self._resolve_timeout_s
        )
        address = addresses[0]
        event = export.event
        body = encode_body(export_payload(event, export.mode, export.delivery_id))
        timestamp = int(self._clock.now())
        headers = {
            "Host": target.authority,
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(guild_secret(self._secret, event.guild_id), timestamp, body),
            EVENT_HEADER: event.kind,
            DELIVERY_HEADER: export.delivery_id,
        }
        url = f"{target.scheme}://{_host_in_url(address)}:{target.port}{target.path}"
        extensions = {"sni_hostname": target.host} if target.literal is None else {}
        with anyio.fail_after(self._timeout_s):
            response = await client.post(url, content=body, headers=headers, extensions=extensions)
        return response.status_code, _retry_after(response)
