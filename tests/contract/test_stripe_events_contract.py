"""StripeEventStore contract: each event id is recorded exactly once (every backend)."""

from __future__ import annotations

import anyio
import pytest

from tests.contract.conftest import Stores
from vectobeat_core.errors import InvalidInput
from vectobeat_core.jsontypes import JSON

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000.0
PAYLOAD: JSON = {"id": "evt_1", "data": {"object": {"customer": "cus_9", "amount": 1999}}}


async def test_first_delivery_wins_repeats_are_refused(stores: Stores) -> None:
    assert not await stores.stripe_events.seen("evt_1")
    assert await stores.stripe_events.record_once("evt_1", "invoice.paid", PAYLOAD, now=NOW)
    assert await stores.stripe_events.seen("evt_1")
    assert not await stores.stripe_events.record_once("evt_1", "invoice.paid", PAYLOAD, now=NOW)
    assert not await stores.stripe_events.record_once("evt_1", "other.type", {}, now=NOW + 1)
    await stores.stripe_events.ping()


async def test_ids_are_case_sensitive(stores: Stores) -> None:
    assert await stores.stripe_events.record_once("evt_AbC", "a.b", {}, now=NOW)
    assert await stores.stripe_events.record_once("evt_abc", "a.b", {}, now=NOW)
    assert not await stores.stripe_events.seen("EVT_ABC")


async def test_bad_ids_are_refused(stores: Stores) -> None:
    with pytest.raises(InvalidInput):
        await stores.stripe_events.record_once("", "a.b", {}, now=NOW)
    with pytest.raises(InvalidInput):
        await stores.stripe_events.record_once("x" * 256, "a.b", {}, now=NOW)


async def test_non_json_payloads_are_refused(stores: Stores) -> None:
    with pytest.raises(InvalidInput):
        await stores.stripe_events.record_once("evt_nan", "a.b", {"x": float("nan")}, now=NOW)
    assert not await stores.stripe_events.seen("evt_nan")


async def test_concurrent_deliveries_have_exactly_one_winner(stores: Stores) -> None:
    wins: list[bool] = []

    async def deliver() -> None:
        wins.append(await stores.stripe_events.record_once("evt_race", "a.b", PAYLOAD, now=NOW))

    async with anyio.create_task_group() as group:
        for _ in range(25):
            group.start_soon(deliver)
    assert sorted(wins) == [False] * 24 + [True]
