"""``WebhookDeliveryLog`` on memory, SQLite, MariaDB and PostgreSQL: newest first, per guild, the
latest `DELIVERY_LOG_KEEP` kept, every field read back as written."""

from __future__ import annotations

import pytest

from tests.contract.conftest import Stores
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.webhooks import DELIVERY_LOG_KEEP, WebhookDelivery

pytestmark = pytest.mark.anyio

G1, G2 = GuildId(900_000_000_000_000_001), GuildId(900_000_000_000_000_002)


def attempt(guild: GuildId, n: int, **outcome: object) -> WebhookDelivery:
    fields: dict[str, object] = outcome or {"status_code": 200}
    return WebhookDelivery(
        guild,
        f"d{n}",
        "track_started",
        1 + n % 5,
        1_700_000_000.0 + n,
        10.5 + n,
        **fields,  # type: ignore[arg-type]
    )


async def test_attempts_read_back_newest_first_per_guild(stores: Stores) -> None:
    log = stores.webhook_log
    first = attempt(G1, 1, status_code=503)
    second = attempt(G1, 2, error="timeout: no answer within 5 s — “quoted”")
    other = attempt(G2, 3)
    for record in (first, second, other):
        await log.append(record)
    assert await log.recent(G1) == [second, first]
    assert await log.recent(G2) == [other]
    assert await log.recent(G1, 1) == [second]
    assert await log.recent(GuildId(1)) == []


async def test_only_the_latest_attempts_are_kept(stores: Stores) -> None:
    log = stores.webhook_log
    for n in range(DELIVERY_LOG_KEEP + 7):
        await log.append(attempt(G1, n))
    await log.append(attempt(G2, 0))
    kept = await log.recent(G1, DELIVERY_LOG_KEEP + 100)
    assert len(kept) == DELIVERY_LOG_KEEP
    assert kept[0].delivery_id == f"d{DELIVERY_LOG_KEEP + 6}" and kept[-1].delivery_id == "d7"
    assert len(await log.recent(G2)) == 1  # another guild's attempts are not pruned


async def test_not_a_delivery_is_refused(stores: Stores) -> None:
    with pytest.raises(InvalidInput):
        await stores.webhook_log.append("nope")  # type: ignore[arg-type]
    assert await stores.webhook_log.recent(G1) == []


async def test_guilds_lists_every_guild_with_attempts_until_erased(stores: Stores) -> None:
    log = stores.webhook_log
    assert await log.guilds() == []
    for record in (attempt(G2, 1), attempt(G1, 2), attempt(G2, 3, status_code=500)):
        await log.append(record)
    assert await log.guilds() == [G1, G2]
    await log.erase_guild(G1)
    assert await log.guilds() == [G2]
