"""Billing rules: price catalogue parsing, Stripe events to entitlements, downgrade re-clamping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.settings import guild_ids, server_settings, tiers
from vectobeat_core.billing import (
    DEFAULT_GRACE_SECONDS,
    HANDLED_EVENTS,
    PriceCatalogue,
    downgrade_effects,
    entitlement_from_event,
)
from vectobeat_core.errors import InvalidInput
from vectobeat_core.plans import Tier, default_catalogue
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings, clamp_to_plan

PRICES = PriceCatalogue.parse("starter=price_s,pro=price_p,growth=price_g,scale=price_sc")
NOW = 1_800_000_000.0
paid_tiers = st.sampled_from([t for t in Tier if t is not Tier.FREE])
price_ids = st.from_regex(r"price_[A-Za-z0-9]{1,20}", fullmatch=True)


def event(kind: str, obj: dict[str, Any], *, created: float = NOW - 10) -> dict[str, Any]:
    return {"id": "evt_1", "type": kind, "created": created, "data": {"object": obj}}


def subscription(guild: int, status: str = "active", *prices: str) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": status,
        "metadata": {"guild_id": str(guild)},
        "items": {"data": [{"price": {"id": p}} for p in (prices or ("price_p",))]},
    }


def checkout(guild: int, tier: object = "pro", **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "cs_1",
        "mode": "subscription",
        "payment_status": "paid",
        "client_reference_id": str(guild),
        "customer": "cus_1",
        "subscription": "sub_1",
        "metadata": {"tier": tier},
    }
    obj.update(extra)
    return obj


def invoice(guild: int | None, *, new_shape: bool = True, price: str = "price_g") -> dict[str, Any]:
    details = {"metadata": {} if guild is None else {"guild_id": str(guild)}, "subscription": "s"}
    line: dict[str, Any] = (
        {"pricing": {"price_details": {"price": price}}} if new_shape else {"price": {"id": price}}
    )
    obj: dict[str, Any] = {"id": "in_1", "customer": "cus_1", "created": NOW - 100}
    obj["lines"] = {"data": [line]}
    if new_shape:
        obj["parent"] = {"subscription_details": details}
    else:
        obj["subscription_details"] = details
    return obj


# --- prices --------------------------------------------------------------------------------------


@given(st.dictionaries(paid_tiers, price_ids, max_size=5))
def test_price_catalogue_round_trips_and_maps_both_ways(chosen: dict[Tier, str]) -> None:
    if len(set(chosen.values())) != len(chosen):
        with pytest.raises(InvalidInput, match="two tiers"):
            PriceCatalogue(tuple(chosen.items()))
        return
    catalogue = PriceCatalogue(tuple(chosen.items()))
    assert PriceCatalogue.parse(catalogue.to_text()) == catalogue
    assert catalogue.tiers == tuple(sorted(chosen))
    for tier, price in chosen.items():
        assert catalogue.price_for(tier) == price
        assert catalogue.tier_for(price) == tier
    assert catalogue.tier_for("price_unknown_zzz") is None or "price_unknown_zzz" in chosen.values()


def test_price_catalogue_parse_is_forgiving_of_spaces_and_empties() -> None:
    assert PriceCatalogue.parse(None).tiers == ()
    assert PriceCatalogue.parse(" , ").tiers == ()
    parsed = PriceCatalogue.parse(" PRO = price_p , starter=price_s,")
    assert parsed.prices == ((Tier.STARTER, "price_s"), (Tier.PRO, "price_p"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pro", "tier=price_id"),
        ("gold=price_1", "Unknown plan tier 'gold'"),
        ("free=price_1", "cannot be sold"),
        ("pro=", "price id for pro"),
        ("pro=price 1", "price id for pro"),
        ("pro=price_1,pro=price_2", "two prices"),
        ("pro=price_1,growth=price_1", "two tiers"),
    ],
)
def test_price_catalogue_rejects_bad_text_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        PriceCatalogue.parse(text)


def test_price_catalogue_rejects_non_text_and_non_tiers() -> None:
    with pytest.raises(InvalidInput, match="must be text"):
        PriceCatalogue.parse(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="cannot be sold"):
        PriceCatalogue((("pro", "price_1"),))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not for sale"):
        PriceCatalogue.parse("pro=price_1").price_for(Tier.GROWTH)


# --- events: subscriptions -----------------------------------------------------------------------


@given(
    guild_ids,
    st.sampled_from(["active", "trialing"]),
    st.lists(paid_tiers.filter(lambda t: t is not Tier.ENTERPRISE), min_size=1),
)
def test_a_paid_subscription_grants_its_highest_known_tier(
    guild: int, status: str, bought: list[Tier]
) -> None:
    prices = [PRICES.price_for(t) for t in bought] + ["price_not_ours"]
    for kind in ("customer.subscription.created", "customer.subscription.updated"):
        change = entitlement_from_event(
            event(kind, subscription(guild, status, *prices)), PRICES, now=NOW
        )
        assert change is not None
        assert change.guild_id == guild
        assert change.tier == max(bought)
        assert change.status == status
        assert change.customer_id == "cus_1"
        assert change.subscription_id == "sub_1"
        assert change.grace_until is None


def test_a_subscription_with_none_of_our_prices_is_invalid() -> None:
    with pytest.raises(InvalidInput, match=r"'data.object.items' names no price"):
        entitlement_from_event(
            event("customer.subscription.updated", subscription(5, "active", "price_x")),
            PRICES,
            now=NOW,
        )


@given(guild_ids, st.sampled_from(["canceled", "unpaid", "incomplete_expired", "paused"]))
def test_ended_subscriptions_fall_to_free(guild: int, status: str) -> None:
    change = entitlement_from_event(
        event("customer.subscription.updated", subscription(guild, status)), PRICES, now=NOW
    )
    assert change is not None and change.tier is Tier.FREE
    assert change.reason == f"subscription {status}"


@given(guild_ids, st.sampled_from(["active", "past_due", "canceled"]))
def test_a_deleted_subscription_is_free_whatever_its_status(guild: int, status: str) -> None:
    change = entitlement_from_event(
        event("customer.subscription.deleted", subscription(guild, status)), PRICES, now=NOW
    )
    assert change is not None
    assert (change.tier, change.reason) == (Tier.FREE, "subscription deleted")


@given(guild_ids, st.floats(0, 30 * 24 * 3600.0), st.floats(1, 30 * 24 * 3600.0))
def test_past_due_keeps_the_tier_only_within_the_grace_period(
    guild: int, elapsed: float, grace: float
) -> None:
    failed_at = NOW - elapsed
    change = entitlement_from_event(
        event(
            "customer.subscription.updated",
            subscription(guild, "past_due", "price_g"),
            created=failed_at,
        ),
        PRICES,
        now=NOW,
        grace_seconds=grace,
    )
    assert change is not None and change.status == "past_due"
    assert change.grace_until == failed_at + grace
    assert change.tier == (Tier.GROWTH if failed_at + grace > NOW else Tier.FREE)


def test_incomplete_subscriptions_and_foreign_objects_change_nothing() -> None:
    assert (
        entitlement_from_event(
            event("customer.subscription.created", subscription(5, "incomplete")), PRICES, now=NOW
        )
        is None
    )
    foreign = subscription(5)
    del foreign["metadata"]
    assert (
        entitlement_from_event(event("customer.subscription.updated", foreign), PRICES, now=NOW)
        is None
    )
    assert entitlement_from_event(event("charge.succeeded", {}), PRICES, now=NOW) is None


def test_subscription_fields_are_validated_by_name() -> None:
    bad_status = subscription(5, "sleeping")
    with pytest.raises(InvalidInput, match=r"'data.object.status' must be one of"):
        entitlement_from_event(event("customer.subscription.updated", bad_status), PRICES, now=NOW)
    bad_guild = subscription(5)
    bad_guild["metadata"] = {"guild_id": "abc"}
    with pytest.raises(InvalidInput, match=r"data.object.metadata.guild_id"):
        entitlement_from_event(event("customer.subscription.updated", bad_guild), PRICES, now=NOW)
    bad_items = subscription(5)
    bad_items["items"] = {"data": "nope"}
    with pytest.raises(InvalidInput, match=r"'data.object.items.data' must be a list"):
        entitlement_from_event(event("customer.subscription.updated", bad_items), PRICES, now=NOW)
    bad_meta = subscription(5)
    bad_meta["metadata"] = ["x"]
    with pytest.raises(InvalidInput, match=r"'data.object.metadata' must be an object"):
        entitlement_from_event(event("customer.subscription.updated", bad_meta), PRICES, now=NOW)
    bad_name = subscription(5)
    bad_name["metadata"]["guild_name"] = " "
    with pytest.raises(InvalidInput, match=r"metadata.guild_name"):
        entitlement_from_event(event("customer.subscription.updated", bad_name), PRICES, now=NOW)
    bad_customer = subscription(5)
    bad_customer["customer"] = {"id": 7}
    with pytest.raises(InvalidInput, match=r"'data.object.customer.id'"):
        entitlement_from_event(
            event("customer.subscription.updated", bad_customer), PRICES, now=NOW
        )
    no_price = subscription(5)
    no_price["items"] = {"data": [{"price": None}]}
    with pytest.raises(InvalidInput, match="names no price"):
        entitlement_from_event(event("customer.subscription.updated", no_price), PRICES, now=NOW)


def test_guild_name_and_expanded_customer_are_read() -> None:
    sub = subscription(5)
    sub["metadata"]["guild_name"] = "Demo Guild"
    sub["customer"] = {"id": "cus_9", "object": "customer"}
    change = entitlement_from_event(event("customer.subscription.updated", sub), PRICES, now=NOW)
    assert change is not None
    assert (change.guild_name, change.customer_id) == ("Demo Guild", "cus_9")


# --- events: envelope, checkout, invoices --------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.update(id=""), "'id'"),
        (lambda e: e.update(type=None), "'type'"),
        (lambda e: e.update(created="yesterday"), "'created'"),
        (lambda e: e.update(created=-1), "'created' must not be negative"),
        (lambda e: e.update(data=[]), "'data' must be an object"),
        (lambda e: e["data"].update(object=None), "'data.object' must be an object"),
    ],
)
def test_the_envelope_is_validated_by_field(mutate: Any, field: str) -> None:
    ev = event("customer.subscription.updated", subscription(5))
    mutate(ev)
    with pytest.raises(InvalidInput, match=field):
        entitlement_from_event(ev, PRICES, now=NOW)
    with pytest.raises(InvalidInput, match="'event' must be an object"):
        entitlement_from_event([], PRICES, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="'now'"):
        entitlement_from_event(
            event("customer.subscription.updated", subscription(5)), PRICES, now=float("nan")
        )


@given(guild_ids, tiers, st.booleans())
def test_a_paid_checkout_grants_the_tier_it_was_started_for(
    guild: int, tier: Tier, by_ref: bool
) -> None:
    obj = checkout(guild, tier.key, payment_status="no_payment_required" if by_ref else "paid")
    if not by_ref:
        obj["metadata"]["guild_id"] = str(guild)
        obj["client_reference_id"] = None
    change = entitlement_from_event(event("checkout.session.completed", obj), PRICES, now=NOW)
    assert change is not None
    assert (change.guild_id, change.tier, change.status) == (guild, tier, "active")
    assert change.subscription_id == "sub_1"


def test_checkouts_that_grant_nothing_yet_return_none() -> None:
    kind = "checkout.session.completed"
    assert (
        entitlement_from_event(event(kind, checkout(5, payment_status="unpaid")), PRICES, now=NOW)
        is None
    )
    assert entitlement_from_event(event(kind, checkout(5, mode="payment")), PRICES, now=NOW) is None
    assert (
        entitlement_from_event(event(kind, checkout(5, client_reference_id=None)), PRICES, now=NOW)
        is None
    )


def test_checkout_tier_is_required_and_checked() -> None:
    kind = "checkout.session.completed"
    missing = checkout(5)
    missing["metadata"] = None
    with pytest.raises(InvalidInput, match=r"'data.object.metadata.tier' is missing"):
        entitlement_from_event(event(kind, missing), PRICES, now=NOW)
    with pytest.raises(InvalidInput, match=r"'data.object.metadata.tier' Unknown plan tier"):
        entitlement_from_event(event(kind, checkout(5, "gold")), PRICES, now=NOW)


@given(guild_ids, st.booleans(), st.floats(0, 20 * 24 * 3600.0))
def test_a_failed_invoice_starts_the_grace_period(
    guild: int, new_shape: bool, elapsed: float
) -> None:
    obj = invoice(guild, new_shape=new_shape)
    obj["created"] = NOW - elapsed
    change = entitlement_from_event(event("invoice.payment_failed", obj), PRICES, now=NOW)
    assert change is not None
    assert change.status == "past_due"
    assert change.grace_until == NOW - elapsed + DEFAULT_GRACE_SECONDS
    assert change.tier == (Tier.GROWTH if elapsed < DEFAULT_GRACE_SECONDS else Tier.FREE)
    assert change.subscription_id == "s"


def test_invoices_without_a_guild_or_our_price() -> None:
    kind = "invoice.payment_failed"
    assert entitlement_from_event(event(kind, invoice(None)), PRICES, now=NOW) is None
    bare = invoice(5)
    del bare["parent"]
    assert entitlement_from_event(event(kind, bare), PRICES, now=NOW) is None
    odd_parent = invoice(5)
    odd_parent["parent"] = "quote"
    assert entitlement_from_event(event(kind, odd_parent), PRICES, now=NOW) is None
    with pytest.raises(InvalidInput, match=r"'data.object.lines' names no price"):
        entitlement_from_event(event(kind, invoice(5, price="price_x")), PRICES, now=NOW)
    no_price = invoice(5, new_shape=False)
    no_price["lines"]["data"][0]["price"] = None
    with pytest.raises(InvalidInput, match="names no price"):
        entitlement_from_event(event(kind, no_price), PRICES, now=NOW)


def test_handled_events_are_the_documented_five() -> None:
    assert len(HANDLED_EVENTS) == 5
    assert "invoice.payment_failed" in HANDLED_EVENTS


# --- downgrade effects ---------------------------------------------------------------------------


@given(tiers, tiers, server_settings())
def test_downgrade_effects_match_clamp_to_plan_and_are_idempotent(
    old: Tier, new: Tier, settings: ServerSettings
) -> None:
    catalogue = default_catalogue()
    fitted, _ = clamp_to_plan(settings, catalogue.plan(old), catalogue)
    result, clamps = downgrade_effects(old, new, fitted, catalogue)
    assert (result, clamps) == clamp_to_plan(fitted, catalogue.plan(new), catalogue)
    assert downgrade_effects(new, new, result, catalogue) == (result, ())
    if new >= old:
        assert clamps == ()


def test_growth_to_pro_unpins_the_region_and_lowers_the_queue_limit() -> None:
    catalogue = default_catalogue()
    growth = catalogue.plan(Tier.GROWTH)
    settings = ServerSettings(region=Region.EU, queue_limit=growth.queue_cap)
    result, clamps = downgrade_effects(Tier.GROWTH, Tier.PRO, settings, catalogue)
    assert result.region is Region.AUTO
    assert result.queue_limit == catalogue.plan(Tier.PRO).queue_cap
    assert {c.field for c in clamps} == {"region", "queue_limit"}
    assert all(c.required_tier is not None and c.required_tier >= Tier.GROWTH for c in clamps)


def test_downgrade_effects_validates_its_inputs() -> None:
    with pytest.raises(InvalidInput, match="Unknown plan tier"):
        downgrade_effects("gold", Tier.PRO, ServerSettings(), default_catalogue())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="needs a PlanCatalogue"):
        downgrade_effects(Tier.PRO, Tier.FREE, ServerSettings(), None)  # type: ignore[arg-type]
