"""Billing: Stripe prices to tiers, Stripe events to entitlement changes, downgrade effects.

Pure functions over foreign payloads (a Stripe event as parsed JSON); the Stripe adapter verifies
the signature and applies what these decide.

* `PriceCatalogue` maps each sold tier to one Stripe price id, parsed from the operator's text
  ``"starter=price_123,pro=price_456"``.
* `entitlement_from_event` reads ``checkout.session.completed``,
  ``customer.subscription.created|updated|deleted`` and ``invoice.payment_failed`` into an
  `EntitlementChange` (or ``None``: not ours, or nothing to change). The guild comes from the
  ``guild_id`` metadata (or a Checkout Session's ``client_reference_id``).
* Grace: ``past_due`` keeps the paid tier until ``grace_until`` (the failure time plus the grace
  period); after that, and for ``canceled``/``unpaid``/``incomplete_expired``/``paused``, the guild
  is on Free. Stripe ends dunning with a ``canceled`` or ``unpaid`` event, which lands on Free.
* `downgrade_effects` re-clamps settings to the new plan with `settings.clamp_to_plan`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias, get_args

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import snowflake
from vectobeat_core.plans import PlanCatalogue, Tier
from vectobeat_core.settings import Clamp, ServerSettings, clamp_to_plan

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "HANDLED_EVENTS",
    "EntitlementChange",
    "PriceCatalogue",
    "SubscriptionStatus",
    "downgrade_effects",
    "entitlement_from_event",
]

DEFAULT_GRACE_SECONDS = 7 * 24 * 3600.0
"""How long a ``past_due`` subscription keeps its tier after the failed payment."""

HANDLED_EVENTS: tuple[str, ...] = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_failed",
)
"""The Stripe event types a webhook endpoint should be subscribed to."""

SubscriptionStatus: TypeAlias = Literal[
    "active",
    "trialing",
    "past_due",
    "canceled",
    "unpaid",
    "incomplete",
    "incomplete_expired",
    "paused",
]
_STATUSES: tuple[str, ...] = get_args(SubscriptionStatus)
_PAID = ("active", "trialing")
_ENDED = ("canceled", "unpaid", "incomplete_expired", "paused")
_PRICE_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
_MAX_NAME = 100


# --- prices ------------------------------------------------------------------------------------


def _check_prices(instance: object, attribute: object, value: tuple[tuple[Tier, str], ...]) -> None:
    tiers: list[Tier] = []
    ids: list[str] = []
    for tier, price in value:
        if not isinstance(tier, Tier) or tier is Tier.FREE:
            raise InvalidInput(f"Stripe prices: {tier!r} cannot be sold; name a paid tier.")
        if not isinstance(price, str) or not _PRICE_ID.fullmatch(price):
            raise InvalidInput(
                f"Stripe prices: the price id for {tier.key} must be 1-255 letters, digits, "
                f"'_' or '-' (like price_123), got {price!r}."
            )
        if tier in tiers:
            raise InvalidInput(f"Stripe prices: tier {tier.key} has two prices.")
        if price in ids:
            raise InvalidInput(f"Stripe prices: price {price} is given for two tiers.")
        tiers.append(tier)
        ids.append(price)


def _in_tier_order(value: Iterable[tuple[Tier, str]]) -> tuple[tuple[Tier, str], ...]:
    return tuple(sorted(value, key=lambda pair: int(pair[0]) if isinstance(pair[0], Tier) else -1))


@attrs.frozen(slots=True)
class PriceCatalogue:
    """The Stripe price of each tier for sale, in tier order (Free is never sold)."""

    prices: tuple[tuple[Tier, str], ...] = attrs.field(
        converter=_in_tier_order, validator=_check_prices
    )

    @classmethod
    def parse(cls, text: str | None) -> PriceCatalogue:
        """Read ``"starter=price_123,pro=price_456"`` (spaces ignored; empty: nothing for sale)."""
        if text is None:
            return cls(())
        if not isinstance(text, str):
            raise InvalidInput(f"Stripe prices must be text, got {type(text).__name__}.")
        pairs: list[tuple[Tier, str]] = []
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            name, sep, price = item.partition("=")
            if not sep:
                raise InvalidInput(
                    f"Stripe prices: {item!r} must be written tier=price_id (like pro=price_123)."
                )
            pairs.append((Tier.parse(name), price.strip()))
        return cls(tuple(pairs))

    @property
    def tiers(self) -> tuple[Tier, ...]:
        """The tiers for sale, lowest first."""
        return tuple(tier for tier, _ in self.prices)

    def price_for(self, tier: Tier) -> str:
        """The price id of ``tier``; `InvalidInput` when that tier is not for sale."""
        for sold, price in self.prices:
            if sold == tier:
                return price
        raise InvalidInput(f"The {Tier.parse(tier).label} plan is not for sale here.")

    def tier_for(self, price_id: str) -> Tier | None:
        """The tier a price id sells; ``None`` for a price that is not one of ours."""
        for tier, price in self.prices:
            if price == price_id:
                return tier
        return None

    def to_text(self) -> str:
        """The text `parse` reads back."""
        return ",".join(f"{tier.key}={price}" for tier, price in self.prices)


# --- events ------------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class EntitlementChange:
    """What a Stripe event means for a guild: the tier it is entitled to now, and why."""

    guild_id: GuildId
    tier: Tier
    status: SubscriptionStatus
    reason: str
    event_id: str
    event_type: str
    at: float
    customer_id: str | None = None
    subscription_id: str | None = None
    grace_until: float | None = None
    guild_name: str | None = None


def _field(path: str, message: str) -> InvalidInput:
    return InvalidInput(f"Stripe event field {path!r} {message}")


def _mapping(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _field(path, f"must be an object, got {type(value).__name__}.")
    return value


def _text(value: object, path: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > 255:
        raise _field(path, f"must be text of 1-255 characters, got {value!r}.")
    return value


def _time(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _field(path, f"must be a number of seconds, got {value!r}.")
    if value < 0:
        raise _field(path, f"must not be negative, got {value!r}.")
    return float(value)


def _ref(value: object, path: str) -> str | None:
    """An expandable reference: an id, an expanded object with an ``id``, or null."""
    if isinstance(value, Mapping):
        return _text(value.get("id"), f"{path}.id")
    return _text(value, path, optional=True)


def _metadata(obj: Mapping[str, object], path: str) -> Mapping[str, object]:
    raw = obj.get("metadata")
    return {} if raw is None else _mapping(raw, path)


def _guild(metadata: Mapping[str, object], fallback: object, path: str) -> GuildId | None:
    raw = metadata.get("guild_id", fallback)
    if raw is None:
        return None
    return GuildId(snowflake(raw, f"Stripe event field {path!r}"))


def _guild_name(metadata: Mapping[str, object], path: str) -> str | None:
    raw = metadata.get("guild_name")
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > _MAX_NAME:
        raise _field(path, f"must be a name of 1-{_MAX_NAME} characters, got {raw!r}.")
    return raw


def _items(obj: Mapping[str, object], key: str, path: str) -> list[Mapping[str, object]]:
    container = _mapping(obj.get(key), path)
    data = container.get("data")
    if not isinstance(data, list):
        raise _field(f"{path}.data", f"must be a list, got {type(data).__name__}.")
    return [_mapping(item, f"{path}.data[{i}]") for i, item in enumerate(data)]


def _highest(found: list[Tier], path: str) -> Tier:
    if not found:
        raise _field(path, "names no price of a VectoBeat plan (check STRIPE_PRICES).")
    return max(found)


def _subscription_tier(sub: Mapping[str, object], prices: PriceCatalogue, path: str) -> Tier:
    found: list[Tier] = []
    for i, item in enumerate(_items(sub, "items", f"{path}.items")):
        price = _ref(item.get("price"), f"{path}.items.data[{i}].price")
        tier = prices.tier_for(price) if price is not None else None
        if tier is not None:
            found.append(tier)
    return _highest(found, f"{path}.items")


def _invoice_tier(invoice: Mapping[str, object], prices: PriceCatalogue, path: str) -> Tier:
    found: list[Tier] = []
    for i, line in enumerate(_items(invoice, "lines", f"{path}.lines")):
        where = f"{path}.lines.data[{i}]"
        pricing = line.get("pricing")
        if isinstance(pricing, Mapping) and isinstance(pricing.get("price_details"), Mapping):
            details = _mapping(pricing["price_details"], f"{where}.pricing.price_details")
            price = _ref(details.get("price"), f"{where}.pricing.price_details.price")
        else:
            price = _ref(line.get("price"), f"{where}.price")
        tier = prices.tier_for(price) if price is not None else None
        if tier is not None:
            found.append(tier)
    return _highest(found, f"{path}.lines")


def _status(value: object, path: str) -> SubscriptionStatus:
    if not isinstance(value, str) or value not in _STATUSES:
        raise _field(path, f"must be one of {', '.join(_STATUSES)}, got {value!r}.")
    return value  # type: ignore[return-value]  # checked against _STATUSES above


def _grace(paid: Tier, since: float, now: float, grace_seconds: float) -> tuple[Tier, float, str]:
    until = since + grace_seconds
    if now < until:
        return paid, until, f"payment failed; {paid.label} is kept during the grace period"
    return Tier.FREE, until, "payment failed and the grace period is over"


def entitlement_from_event(
    event: Mapping[str, object],
    prices: PriceCatalogue,
    *,
    now: float,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> EntitlementChange | None:
    """The entitlement a Stripe event grants, or ``None`` when it changes nothing of ours.

    ``None``: an event type not in `HANDLED_EVENTS`, an object without a guild id (not a
    VectoBeat purchase), a Checkout Session not yet paid or not a subscription, an ``incomplete``
    subscription. Malformed fields raise `InvalidInput` naming the field.
    """
    ev = _mapping(event, "event")
    event_id = _text(ev.get("id"), "id")
    event_type = _text(ev.get("type"), "type")
    assert event_id is not None and event_type is not None
    if event_type not in HANDLED_EVENTS:
        return None
    at = _time(ev.get("created"), "created")
    _time(now, "now")
    _time(grace_seconds, "grace_seconds")
    obj = _mapping(_mapping(ev.get("data"), "data").get("object"), "data.object")
    path = "data.object"

    if event_type == "checkout.session.completed":
        metadata = _metadata(obj, f"{path}.metadata")
        guild = _guild(metadata, obj.get("client_reference_id"), f"{path}.client_reference_id")
        if guild is None or obj.get("mode") != "subscription":
            return None
        if obj.get("payment_status") not in ("paid", "no_payment_required"):
            return None
        if "tier" not in metadata:
            raise _field(f"{path}.metadata.tier", "is missing; VectoBeat sets it at checkout.")
        try:
            tier = Tier.parse(metadata["tier"])
        except InvalidInput as exc:
            raise _field(f"{path}.metadata.tier", exc.message) from None
        return EntitlementChange(
            guild_id=guild, tier=tier, status="active",
            reason=f"checkout completed for {tier.label}",
            customer_id=_ref(obj.get("customer"), f"{path}.customer"),
            subscription_id=_ref(obj.get("subscription"), f"{path}.subscription"),
            guild_name=_guild_name(metadata, f"{path}.metadata.guild_name"), event_id=event_id, event_type=event_type, at=at,
        )  # fmt: skip

    if event_type == "invoice.payment_failed":
        parent = obj.get("parent")
        details: object = None
        if isinstance(parent, Mapping):
            details = parent.get("subscription_details")
        if details is None:
            details = obj.get("subscription_details")
        where = f"{path}.parent.subscription_details"
        meta_holder = _mapping(details, where) if details is not None else {}
        metadata = _metadata(meta_holder, f"{where}.metadata")
        guild = _guild(metadata, None, f"{where}.metadata.guild_id")
        if guild is None:
            return None
        paid = _invoice_tier(obj, prices, path)
        since = _time(obj.get("created", at), f"{path}.created")
        tier, until, reason = _grace(paid, since, now, grace_seconds)
        subscription = meta_holder.get("subscription", obj.get("subscription"))
        return EntitlementChange(
            guild_id=guild, tier=tier, status="past_due", reason=reason,
            customer_id=_ref(obj.get("customer"), f"{path}.customer"),
            subscription_id=_ref(subscription, f"{where}.subscription"),
            grace_until=until, guild_name=_guild_name(metadata, f"{where}.metadata.guild_name"),
            event_id=event_id, event_type=event_type, at=at,
        )  # fmt: skip

    metadata = _metadata(obj, f"{path}.metadata")
    guild = _guild(metadata, None, f"{path}.metadata.guild_id")
    if guild is None:
        return None
    status = _status(obj.get("status"), f"{path}.status")
    grace_until: float | None = None
    if event_type == "customer.subscription.deleted" or status in _ENDED:
        tier, reason = Tier.FREE, f"subscription {status}"
        if event_type == "customer.subscription.deleted":
            reason = "subscription deleted"
    elif status == "incomplete":
        return None
    elif status in _PAID:
        tier = _subscription_tier(obj, prices, path)
        reason = f"subscription {status} on {tier.label}"
    else:  # past_due
        paid = _subscription_tier(obj, prices, path)
        tier, grace_until, reason = _grace(paid, at, now, grace_seconds)
    return EntitlementChange(
        guild_id=guild, tier=tier, status=status, reason=reason,
        customer_id=_ref(obj.get("customer"), f"{path}.customer"),
        subscription_id=_ref(obj.get("id"), f"{path}.id"), grace_until=grace_until,
        guild_name=_guild_name(metadata, f"{path}.metadata.guild_name"), event_id=event_id, event_type=event_type, at=at,
    )  # fmt: skip


# --- effects -----------------------------------------------------------------------------------


def downgrade_effects(
    old_tier: Tier,
    new_tier: Tier,
    current_settings: ServerSettings,
    catalogue: PlanCatalogue,
) -> tuple[ServerSettings, tuple[Clamp, ...]]:
    """The settings a guild keeps after moving from ``old_tier`` to ``new_tier``, and each clamp.

    Re-clamps with `clamp_to_plan` against the new plan (idempotent: settings that fit change
    nothing, so an upgrade returns no clamps). ``old_tier`` must be a tier too.
    """
    Tier.parse(old_tier)
    new = Tier.parse(new_tier)
    if not isinstance(catalogue, PlanCatalogue):
        raise InvalidInput(
            f"downgrade_effects needs a PlanCatalogue, got {type(catalogue).__name__}."
        )
    return clamp_to_plan(current_settings, catalogue.plan(new), catalogue)
