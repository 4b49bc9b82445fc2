"""``StripeBilling``: Checkout and Customer Portal sessions, and verified, idempotent webhooks.

Uses the official ``stripe`` SDK (async calls over its httpx client; ``api_base`` points it at the
testkit's fake Stripe). One Stripe customer per guild, found by its ``guild_id`` metadata.

A webhook is applied as: verify the signature (with a timestamp tolerance) -> skip an event id
already recorded -> `entitlement_from_event` (core) -> set the guild's tier -> re-clamp its settings
to the new plan at once and store a new settings version -> audit (``plan_changed``,
``settings_clamped``) -> record the event id -> audit ``billing_event``. Every step before the
record is idempotent, so a delivery that failed half-way is completed by Stripe's retry, and a
replayed id changes nothing. Stripe's errors are mapped to our tree in `_stripe_errors`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any, Protocol, Self

import attrs
import stripe

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.services import http_timeout
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.billing import (
    DEFAULT_GRACE_SECONDS,
    EntitlementChange,
    PriceCatalogue,
    downgrade_effects,
    entitlement_from_event,
)
from vectobeat_core.errors import (
    ConfigError,
    InvalidInput,
    NotEnabled,
    NotFound,
    StaleVersion,
    Unavailable,
    VectoBeatError,
)
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSONObject, json_object
from vectobeat_core.plans import PlanCatalogue, Tier
from vectobeat_core.ports import (
    AuditLog,
    GuildRepository,
    SettingsChange,
    SettingsChannel,
    SettingsRepository,
    StripeEventStore,
)
from vectobeat_core.records import MAX_NAME_LENGTH, GuildRecord
from vectobeat_core.settings import Clamp, apply_update, changed_fields

__all__ = [
    "BILLING_ACTOR",
    "BillingStores",
    "RedirectSession",
    "StripeBilling",
    "WebhookOutcome",
]

log = logging.getLogger("vectobeat.billing")

BILLING_ACTOR = "stripe"
"""The actor named in audit events and settings versions written by billing."""
_CLAMP_ATTEMPTS = 3


class BillingStores(Protocol):
    """The stores a webhook touches (`vectobeat_adapters.services.Services` has them all)."""

    @property
    def guilds(self) -> GuildRepository: ...

    @property
    def settings(self) -> SettingsRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def stripe_events(self) -> StripeEventStore: ...

    @property
    def settings_channel(self) -> SettingsChannel: ...

    @property
    def catalogue(self) -> PlanCatalogue: ...


@attrs.frozen
class RedirectSession:
    """A Stripe-hosted page to send the browser to (Checkout or the Customer Portal)."""

    id: str
    url: str


@attrs.frozen
class WebhookOutcome:
    """What one webhook delivery did; ``replay`` means the event id was already processed."""

    event_id: str
    event_type: str
    replay: bool
    change: EntitlementChange | None = None
    old_tier: Tier | None = None
    settings_version: int | None = None
    clamps: tuple[Clamp, ...] = ()


class _HttpxClient(stripe.HTTPXClient):
    """The SDK's httpx client, sending form bodies as ``content=`` (httpx deprecates raw ``data=``)."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return args, kwargs


@contextmanager
def _stripe_errors(action: str) -> Iterator[None]:
    """Translate the SDK's exceptions into our tree (the one place this happens)."""
    try:
        yield
    except stripe.SignatureVerificationError:
        raise InvalidInput(
            "The Stripe-Signature header does not match this payload (or is too old)."
        ) from None
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise NotFound(f"Stripe has no such object while trying to {action}.") from None
        detail = f" ({exc.param})" if exc.param else ""
        raise InvalidInput(f"Stripe refused to {action}: {exc.user_message}{detail}") from None
    except (stripe.AuthenticationError, stripe.PermissionError):
        raise ConfigError(
            f"Stripe rejected the API key while trying to {action}; check STRIPE_SECRET_KEY."
        ) from None
    except stripe.StripeError as exc:
        log.warning("stripe_unavailable", extra={"action": action, "error": type(exc).__name__})
        raise Unavailable(f"Stripe is unavailable ({action}); try again shortly.") from None


def _text(event: JSONObject, key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"Stripe event field {key!r} must be text, got {value!r}.")
    return value


def _stored_payload(event: JSONObject, change: EntitlementChange | None) -> JSONObject:
    """What is kept of an event: its facts, never the customer's details (emails, addresses)."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    kept: JSONObject = {
        "created": event.get("created"),
        "livemode": event.get("livemode"),
        "object_id": obj.get("id") if isinstance(obj, dict) else None,
    }
    if change is not None:
        kept.update(
            guild_id=str(change.guild_id), tier=change.tier.key, status=change.status,
            customer_id=change.customer_id, subscription_id=change.subscription_id,
        )  # fmt: skip
    return json_object(kept, "Stripe event summary")


class StripeBilling:
    """Stripe Checkout, Customer Portal and webhooks for VectoBeat plans.

    Each API call opens its own HTTP client unless the instance is entered
    (``async with billing:``) to keep one open; `verify` and `apply_webhook` need no connection.
    """

    def __init__(
        self,
        secret_key: str | None,
        webhook_secret: str | None,
        api_base: str | None,
        prices: PriceCatalogue,
        *,
        tolerance: int = stripe.Webhook.DEFAULT_TOLERANCE,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        max_network_retries: int = 2,
        timeout: float = 3.0,
    ) -> None:
        if not isinstance(prices, PriceCatalogue):
            raise InvalidInput(
                f"StripeBilling needs a PriceCatalogue, got {type(prices).__name__}."
            )
        self._secret_key = secret_key or None
        self._webhook_secret = webhook_secret or None
        self._api_base = api_base.rstrip("/") if api_base else None
        self.prices = prices
        self._tolerance = tolerance
        self._grace = grace_seconds
        self._retries = max_network_retries
        self._timeout = timeout
        self._http: stripe.HTTPXClient | None = None
        self._client: stripe.StripeClient | None = None

    def __repr__(self) -> str:
        return f"StripeBilling(api_base={self._api_base!r}, prices={self.prices.to_text()!r})"

    @property
    def enabled(self) -> bool:
        """Whether Checkout and the Customer Portal can be used (``STRIPE_SECRET_KEY`` is set)."""
        return self._secret_key is not None

    @classmethod
    def from_config(cls, config: AppConfig) -> StripeBilling:
        """Billing as configured (``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``,
        ``STRIPE_API_BASE``, ``STRIPE_PRICES``)."""
        key, hook = config.stripe_secret_key, config.stripe_webhook_secret
        return cls(
            key.reveal() if key else None,
            hook.reveal() if hook else None,
            config.stripe_api_base,
            PriceCatalogue.parse(config.stripe_prices),
            timeout=http_timeout(config),
        )

    # --- lifecycle -------------------------------------------------------------------------

    def _new_client(self) -> tuple[stripe.HTTPXClient, stripe.StripeClient]:
        if self._secret_key is None:
            raise NotEnabled(
                "Billing is not enabled on this server (the operator has not set STRIPE_SECRET_KEY)."
            )
        http = _HttpxClient(timeout=self._timeout)
        client = stripe.StripeClient(
            self._secret_key,
            base_addresses={} if self._api_base is None else {"api": self._api_base},
            http_client=http,
            max_network_retries=self._retries,
        )
        return http, client

    async def __aenter__(self) -> Self:
        """Keep one HTTP client open for many calls (one owner at a time)."""
        if self._client is not None:
            raise ConfigError("This StripeBilling is already open.")
        self._http, self._client = self._new_client()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK

    @asynccontextmanager
    async def _api(self) -> AsyncIterator[stripe.StripeClient]:
        """The open client, or one opened for this call and closed after it."""
        if self._client is not None:
            yield self._client
            return
        http, client = self._new_client()
        try:
            yield client
        finally:
            await http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK

    # --- Checkout and the Customer Portal --------------------------------------------------

    async def find_customer(self, guild_id: GuildId) -> str | None:
        """The Stripe customer of ``guild_id`` (by its ``guild_id`` metadata), if any."""
        async with self._api() as api:
            return await self._find_customer(api, guild_id)

    async def _find_customer(self, api: stripe.StripeClient, guild_id: GuildId) -> str | None:
        query = f"metadata['guild_id']:'{int(guild_id)}'"
        with _stripe_errors("find the guild's customer"):
            found = await api.v1.customers.search_async(params={"query": query, "limit": 1})
        for customer in found.data:
            return customer.id
        return None

    async def _customer_for(
        self, api: stripe.StripeClient, guild_id: GuildId, guild_name: str
    ) -> str:
        existing = await self._find_customer(api, guild_id)
        if existing is not None:
            return existing
        with _stripe_errors("create the guild's customer"):
            created = await api.v1.customers.create_async(
                params={
                    "name": guild_name,
                    "metadata": {"guild_id": str(guild_id), "guild_name": guild_name},
                }
            )
        return created.id

    async def checkout_session(
        self,
        guild_id: GuildId,
        tier: Tier,
        *,
        guild_name: str,
        success_url: str,
        cancel_url: str,
    ) -> RedirectSession:
        """A Checkout Session (mode subscription) selling ``tier`` to ``guild_id``."""
        price = self.prices.price_for(tier)
        name = guild_name.strip()[:MAX_NAME_LENGTH] or f"Guild {guild_id}"
        meta = {"guild_id": str(guild_id), "guild_name": name}
        async with self._api() as api:
            customer = await self._customer_for(api, guild_id, name)
            with _stripe_errors("start checkout"):
                session = await api.v1.checkout.sessions.create_async(
                    params={
                        "mode": "subscription",
                        "customer": customer,
                        "client_reference_id": str(guild_id),
                        "line_items": [{"price": price, "quantity": 1}],
                        "success_url": success_url,
                        "cancel_url": cancel_url,
                        "metadata": {**meta, "tier": tier.key},
                        "subscription_data": {"metadata": meta},
                    }
                )
        if not session.url:
            raise Unavailable("Stripe returned a Checkout Session without a URL.")
        log.info("checkout_started", extra={"guild_id": guild_id, "tier": tier.key})
        return RedirectSession(session.id, session.url)

    async def portal_session(self, guild_id: GuildId, *, return_url: str) -> RedirectSession:
        """A Customer Portal session for the guild's customer; `NotFound` before any purchase."""
        async with self._api() as api:
            customer = await self._find_customer(api, guild_id)
            if customer is None:
                raise NotFound("This guild has no billing account yet; choose a plan first.")
            with _stripe_errors("open the billing portal"):
                session = await api.v1.billing_portal.sessions.create_async(
                    params={"customer": customer, "return_url": return_url}
                )
        return RedirectSession(session.id, session.url)

    # --- webhooks --------------------------------------------------------------------------

    def verify(self, payload: bytes, signature: str | None) -> JSONObject:
        """The event in ``payload`` if ``signature`` is Stripe's for it; else `InvalidInput`."""
        if self._webhook_secret is None:
            raise NotEnabled(
                "Stripe webhooks are not enabled on this server (STRIPE_WEBHOOK_SECRET is not set)."
            )
        if not isinstance(payload, bytes | bytearray):
            raise InvalidInput("A Stripe webhook payload must be the raw request body (bytes).")
        try:
            with _stripe_errors("verify a webhook"):
                stripe.Webhook.construct_event(
                    bytes(payload), signature, self._webhook_secret, self._tolerance
                )
            document = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("A Stripe webhook payload must be a JSON object.") from None
        return json_object(document, "Stripe event")

    async def apply_webhook(
        self, payload: bytes, signature: str | None, stores: BillingStores, now: float
    ) -> WebhookOutcome:
        """Verify, deduplicate and apply one webhook delivery (see the module docstring)."""
        event = self.verify(payload, signature)
        event_id, event_type = _text(event, "id"), _text(event, "type")
        if await stores.stripe_events.seen(event_id):
            return WebhookOutcome(event_id, event_type, replay=True)
        change = entitlement_from_event(event, self.prices, now=now, grace_seconds=self._grace)
        outcome = WebhookOutcome(event_id, event_type, replay=False, change=change)
        if change is not None:
            outcome = await self._provision(outcome, change, stores, now)
        first = await stores.stripe_events.record_once(
            event_id, event_type, _stored_payload(event, change), now=now
        )
        if not first:  # a concurrent delivery of the same event won the race
            return attrs.evolve(outcome, replay=True)
        if change is not None:
            summary = f"Stripe {event_type}: {change.reason}."
            data: JSONObject = {"event_id": event_id, "event_type": event_type}
            data.update(_stored_payload(event, change))
            await stores.audit.append(
                AuditEvent(
                    AuditKind.BILLING_EVENT, now, change.guild_id, BILLING_ACTOR, summary, data
                )
            )
        log.info(
            "stripe_webhook",
            extra={"event_type": event_type, "guild_id": change.guild_id if change else None},
        )
        return outcome

    async def _provision(
        self,
        outcome: WebhookOutcome,
        change: EntitlementChange,
        stores: BillingStores,
        now: float,
    ) -> WebhookOutcome:
        guild, new = change.guild_id, change.tier
        record = await stores.guilds.get(guild)
        old = record.tier if record is not None else Tier.FREE
        if record is None:
            name = change.guild_name or f"Guild {guild}"
            await stores.guilds.upsert(GuildRecord(guild, name, new, False, now))
        elif record.tier != new:
            await stores.guilds.set_tier(guild, new, now)
        if old != new:
            await stores.audit.append(AuditEvent.plan_changed(guild, old, new, now, BILLING_ACTOR))
            log.info("plan_changed", extra={"guild_id": guild, "old": old.key, "new": new.key})
        version, clamps = await self._reclamp(guild, old, new, stores, now)
        return attrs.evolve(outcome, old_tier=old, settings_version=version, clamps=clamps)

    async def _reclamp(
        self, guild: GuildId, old: Tier, new: Tier, stores: BillingStores, now: float
    ) -> tuple[int | None, tuple[Clamp, ...]]:
        """Clamp the stored settings to ``new``'s plan now; a new version only if something changed."""
        stale: StaleVersion | None = None
        for _ in range(_CLAMP_ATTEMPTS):
            current = await stores.settings.get(guild)
            if current is None:  # the defaults fit every plan
                return None, ()
            fitted, clamps = downgrade_effects(old, new, current.settings, stores.catalogue)
            if not clamps:
                return None, ()
            record = apply_update(
                current, current.version, fitted, now=now, actor=BILLING_ACTOR, guild_id=guild
            )
            try:
                await stores.settings.put(record, current.version)
            except StaleVersion as exc:  # an edit landed in between: clamp the newer version
                stale = exc
                continue
            await stores.audit.append(
                AuditEvent.settings_changed(
                    guild, record.version, changed_fields(current.settings, fitted),
                    BILLING_ACTOR, now,
                )
            )  # fmt: skip
            await stores.audit.append(
                AuditEvent.settings_clamped(guild, new, clamps, now, BILLING_ACTOR)
            )
            try:
                await stores.settings_channel.publish(SettingsChange(guild, record.version))
            except VectoBeatError as exc:
                log.warning("settings_publish_failed", extra={"guild_id": guild, "error": str(exc)})
            return record.version, clamps
        assert stale is not None
        raise stale
