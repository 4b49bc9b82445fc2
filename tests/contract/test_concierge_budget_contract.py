"""The concierge hours budget holds under concurrency on memory, SQLite, MariaDB and PostgreSQL:
many requests of one guild at the same moment never book more than the plan's hours, and each
refused one says the hours are spent; another guild's budget is its own. Erasing a guild leaves
nothing of it, not even its budget lock row."""

from __future__ import annotations

import anyio
import pytest
import sqlalchemy as sa

from tests.contract.conftest import Stores
from tests.redis_support import ManualClock
from vectobeat_adapters.care_desk import Actor, CareDesk
from vectobeat_adapters.sql.schema import concierge_budget_locks
from vectobeat_core.errors import LimitExceeded
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier, default_catalogue

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

ADMIN = Actor(UserId(7), "Olivia")
REQUESTS = 8
G1, G2 = GuildId(910_000_000_000_000_001), GuildId(910_000_000_000_000_002)


async def test_concurrent_requests_never_book_more_than_the_budget(stores: Stores) -> None:
    catalogue = default_catalogue()
    desk = CareDesk(
        stores.concierge, stores.contacts, stores.audit, ManualClock(), catalogue, frozenset()
    )
    plan = catalogue.plan(Tier.GROWTH)
    budget = plan.concierge_hours
    assert budget >= 1
    opened: list[GuildId] = []
    refused: list[str] = []

    async def ask(guild: GuildId, n: int) -> None:
        try:
            await desk.open(
                guild, plan, "concierge", ADMIN, summary=f"Help {n}", details="",
                contact="o@example.org", hours=1,
            )  # fmt: skip
        except LimitExceeded as exc:
            refused.append(exc.message)
        else:
            opened.append(guild)

    async with anyio.create_task_group() as tasks:
        for n in range(REQUESTS):
            tasks.start_soon(ask, G1, n)
            tasks.start_soon(ask, G2, n)

    for guild in (G1, G2):
        assert opened.count(guild) == budget
        usage = await desk.usage(guild, plan)
        assert usage.booked == budget and usage.remaining == 0
        assert len(await stores.concierge.find(guild)) == budget
    assert len(refused) == 2 * (REQUESTS - int(budget))
    assert all("hours are spent" in message for message in refused)


async def test_erasing_a_guild_counts_its_requests_and_leaves_a_fresh_budget(
    stores: Stores,
) -> None:
    catalogue = default_catalogue()
    desk = CareDesk(
        stores.concierge, stores.contacts, stores.audit, ManualClock(), catalogue, frozenset()
    )
    plan = catalogue.plan(Tier.GROWTH)
    for n in range(2):
        await desk.open(
            G1, plan, "concierge", ADMIN, summary=f"Help {n}", details="",
            contact="o@example.org", hours=1,
        )  # fmt: skip
    assert await stores.concierge.erase_guild(G1) == 2
    assert (await desk.usage(G1, plan)).remaining == plan.concierge_hours
    if stores.db is not None:  # nothing of the guild is left, not even its lock row
        async with stores.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(concierge_budget_locks).where(concierge_budget_locks.c.guild_id == G1)
            )
            assert rows.all() == []
