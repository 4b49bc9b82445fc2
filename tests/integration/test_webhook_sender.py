"""`WebhookSender` against a real HTTP receiver on 127.0.0.1 (allowed through the allow-list):
signatures, retries on 500, no retry on 4xx, order per guild, a slow guild not blocking another,
a full queue dropping its oldest, and the SSRF rules re-checked at send time (DNS rebinding)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import anyio
import pytest
from tests.webhook_support import SIGNING_SECRET, WebhookReceiver, fixed_resolver

from vectobeat_adapters.memory.webhook_log import MemoryWebhookDeliveryLog
from vectobeat_adapters.services import SystemClock
from vectobeat_adapters.webhooks.resolve import Resolver
from vectobeat_adapters.webhooks.sender import Export, WebhookSender
from vectobeat_core.ids import GuildId
from vectobeat_core.webhooks import ExportEvent, RetrySchedule, encode_body

pytestmark = pytest.mark.anyio

G1, G2 = GuildId(111), GuildId(222)
QUICK = RetrySchedule(attempts=3, base_s=0.01, cap_s=0.05)
CLOCK = SystemClock()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as server:
        yield server


def sender(
    log: MemoryWebhookDeliveryLog,
    *,
    allowed: tuple[str, ...] = ("127.0.0.1",),
    resolver: Resolver | None = None,
    max_queued: int = 100,
    secret: str | None = SIGNING_SECRET,
    timeout_s: float = 5.0,
) -> WebhookSender:
    return WebhookSender(
        log=log,
        clock=CLOCK,
        signing_secret=secret,
        allowed_hosts=allowed,
        resolver=resolver,
        schedule=QUICK,
        timeout_s=timeout_s,
        max_queued=max_queued,
    )


def export(url: str, guild: GuildId, n: int, kind: str = "queue_updated") -> Export:
    return Export(url, ExportEvent(kind, guild, 1000.0 + n, queue_length=n), "basic")  # type: ignore[arg-type]


async def wait_for(condition: Callable[[], bool], limit: float = 10.0) -> None:
    with anyio.fail_after(limit):
        while not condition():  # noqa: ASYNC110 - polls the receiver's record: no event
            await anyio.sleep(0.01)


async def test_delivery_is_signed_and_logged(receiver: WebhookReceiver) -> None:
    log = MemoryWebhookDeliveryLog()
    job = export(receiver.url("/g1"), G1, 3)
    record = await sender(log).deliver_now(job)
    assert record.status_code == 200 and record.attempt == 1
    [got] = receiver.received
    assert got.signed_for(G1, now=CLOCK.now())
    assert not got.signed_for(G2, now=CLOCK.now())  # each guild has its own secret
    payload = json.loads(got.body)
    assert payload["type"] == "queue_updated" and payload["guild_id"] == "111"
    assert payload["data"] == {"queue_length": 3} and payload["id"] == job.delivery_id
    assert got.body == encode_body(payload)
    assert got.headers["X-VectoBeat-Event"] == "queue_updated"
    assert (await log.recent(G1))[0] == record


async def test_500_is_retried_with_backoff_then_succeeds(receiver: WebhookReceiver) -> None:
    log = MemoryWebhookDeliveryLog()
    receiver.statuses["/g1"] = [500, 503]
    record = await sender(log).deliver_now(export(receiver.url("/g1"), G1, 1))
    assert record.ok and record.attempt == 3
    assert [r.outcome for r in await log.recent(G1)] == ["HTTP 200", "HTTP 503", "HTTP 500"]
    assert len({r.delivery_id for r in await log.recent(G1)}) == 1
    bodies = {r.body for r in receiver.received}
    assert len(receiver.received) == 3 and len(bodies) == 1  # the same event each time


async def test_4xx_is_final_but_429_is_retried(receiver: WebhookReceiver) -> None:
    log = MemoryWebhookDeliveryLog()
    receiver.statuses["/bad"] = [404]
    receiver.statuses["/busy"] = [429]
    bad = await sender(log).deliver_now(export(receiver.url("/bad"), G1, 1))
    busy = await sender(log).deliver_now(export(receiver.url("/busy"), G2, 1))
    assert bad.status_code == 404 and bad.attempt == 1 and len(receiver.at("/bad")) == 1
    assert busy.ok and busy.attempt == 2


async def test_retries_are_bounded(receiver: WebhookReceiver) -> None:
    log = MemoryWebhookDeliveryLog()
    receiver.statuses["/down"] = [500] * 10
    record = await sender(log).deliver_now(export(receiver.url("/down"), G1, 1))
    assert record.status_code == 500 and record.attempt == QUICK.attempts
    assert len(receiver.at("/down")) == QUICK.attempts


async def test_a_receiver_that_does_not_answer_in_time_is_retried(
    receiver: WebhookReceiver,
) -> None:
    log = MemoryWebhookDeliveryLog()
    receiver.delay["/hang"] = 30.0
    record = await sender(log, timeout_s=0.2).deliver_now(export(receiver.url("/hang"), G1, 1))
    assert record.error == "timeout: no answer within 0.2 s"
    assert [r.attempt for r in await log.recent(G1)] == [3, 2, 1]


async def test_order_is_kept_per_guild_and_a_slow_guild_blocks_no_other(
    receiver: WebhookReceiver,
) -> None:
    log = MemoryWebhookDeliveryLog()
    receiver.statuses["/g1"] = [500]  # g1's first event needs a retry: later ones must wait
    receiver.delay["/slow"] = 30.0  # g2's receiver hangs
    webhooks = sender(log)
    async with anyio.create_task_group() as tg:
        await tg.start(webhooks.run)
        webhooks.submit(export(receiver.url("/slow"), G2, 0))
        for n in range(5):
            webhooks.submit(export(receiver.url("/g1"), G1, n))
        await wait_for(lambda: len(receiver.at("/g1")) == 6)
        assert await log.recent(G2) == []  # still waiting for its slow receiver
        tg.cancel_scope.cancel()
    lengths = [json.loads(r.body)["data"]["queue_length"] for r in receiver.at("/g1")]
    assert lengths == [0, 0, 1, 2, 3, 4]


async def test_a_full_guild_queue_drops_its_oldest(receiver: WebhookReceiver) -> None:
    log = MemoryWebhookDeliveryLog()
    webhooks = sender(log, max_queued=2)
    async with anyio.create_task_group() as tg:
        await tg.start(webhooks.run)
        for n in range(5):  # queued before the worker runs: 0, 1 and 2 make room for 3 and 4
            webhooks.submit(export(receiver.url("/g1"), G1, n))
        await wait_for(lambda: len(receiver.received) == 2)
        tg.cancel_scope.cancel()
    assert webhooks.dropped == 3
    lengths = [json.loads(r.body)["data"]["queue_length"] for r in receiver.received]
    assert lengths == [3, 4]


async def test_host_is_resolved_and_the_checked_address_is_connected(
    receiver: WebhookReceiver,
) -> None:
    """An allow-listed internal name: the sender connects to the address it checked, with the
    name in the Host header."""
    log = MemoryWebhookDeliveryLog()
    names = {"receiver.internal": ["127.0.0.1"]}
    webhooks = sender(log, allowed=("receiver.internal",), resolver=fixed_resolver(names))
    record = await webhooks.deliver_now(export(receiver.url("/g1", "receiver.internal"), G1, 1))
    assert record.ok
    assert receiver.received[0].headers["Host"] == f"receiver.internal:{receiver.port}"


async def test_rebinding_to_loopback_after_save_is_refused_at_send(
    receiver: WebhookReceiver,
) -> None:
    """Public at save, 127.0.0.1 at send: refused, nothing reaches the receiver, never retried."""
    log = MemoryWebhookDeliveryLog()
    names = {"hooks.example.com": ["93.184.216.34"]}
    webhooks = sender(log, allowed=(), resolver=fixed_resolver(names))
    names["hooks.example.com"] = ["93.184.216.34", "127.0.0.1"]
    url = f"https://hooks.example.com:{receiver.port}/g1"
    record = await webhooks.deliver_now(export(url, G1, 1))
    assert record.error is not None and record.error.startswith("refused")
    assert "127.0.0.1 is a loopback address" in record.error
    assert record.attempt == 1 and receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://0x7f.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[fd00:ec2::254]/",
        "https://100.100.100.200/",
        "https://0.0.0.0/",
    ],
)
async def test_bad_literal_targets_are_refused_at_send(url: str) -> None:
    log = MemoryWebhookDeliveryLog()
    record = await sender(log, allowed=()).deliver_now(export(url, G1, 1))
    assert record.error is not None and record.error.startswith("refused")


async def test_without_a_signing_secret_nothing_is_sent(receiver: WebhookReceiver) -> None:
    log = MemoryWebhookDeliveryLog()
    record = await sender(log, secret=None).deliver_now(export(receiver.url("/g1"), G1, 1))
    assert record.error is not None and "WEBHOOK_SIGNING_SECRET" in record.error
    assert receiver.received == []


async def test_redirects_are_not_followed(receiver: WebhookReceiver) -> None:
    log = MemoryWebhookDeliveryLog()
    receiver.statuses["/moved"] = [302]
    record = await sender(log).deliver_now(export(receiver.url("/moved"), G1, 1))
    assert record.status_code == 302 and len(receiver.received) == 1
