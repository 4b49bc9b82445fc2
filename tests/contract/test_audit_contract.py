"""AuditLog contract: append-only, newest first, filters by guild and kind (every backend)."""

from __future__ import annotations

import anyio
import pytest

from tests.contract.conftest import Stores
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.ids import GuildId

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
OTHER = GuildId(998_877_665_544_332_211)
T0 = 1_700_000_000.0


def event(kind: AuditKind, guild: GuildId | None, n: int) -> AuditEvent:
    return AuditEvent(
        kind=kind,
        at=T0 + n,
        guild_id=guild,
        actor=None if guild is None else "panel:1",
        summary=f"event number {n}",
        data={"n": n, "nested": {"list": [1, "two", None, 2.5]}},
    )


async def test_empty_log(stores: Stores) -> None:
    assert await stores.audit.recent(GUILD) == []
    assert await stores.audit.recent(None) == []
    await stores.audit.ping()


async def test_events_round_trip_newest_first(stores: Stores) -> None:
    written = [event(AuditKind.SETTINGS_CHANGED, GUILD, n) for n in range(5)]
    for item in written:
        await stores.audit.append(item)
    assert await stores.audit.recent(GUILD) == list(reversed(written))
    assert await stores.audit.recent(GUILD, limit=2) == [written[4], written[3]]


async def test_filters_by_guild_and_kind(stores: Stores) -> None:
    await stores.audit.append(event(AuditKind.NODE_FAILOVER, GUILD, 1))
    await stores.audit.append(event(AuditKind.PLAN_CHANGED, OTHER, 2))
    await stores.audit.append(event(AuditKind.SHARD_FAILOVER, None, 3))
    await stores.audit.append(event(AuditKind.EFFECTIVE_REGION, GUILD, 4))

    assert [e.at for e in await stores.audit.recent(GUILD)] == [T0 + 4, T0 + 1]
    assert [e.at for e in await stores.audit.recent(None)] == [T0 + 4, T0 + 3, T0 + 2, T0 + 1]
    failovers = await stores.audit.recent(
        None, kinds=[AuditKind.NODE_FAILOVER, AuditKind.SHARD_FAILOVER]
    )
    assert [e.kind for e in failovers] == [AuditKind.SHARD_FAILOVER, AuditKind.NODE_FAILOVER]
    assert await stores.audit.recent(OTHER, kinds=[AuditKind.NODE_FAILOVER]) == []


async def test_concurrent_appends_lose_nothing(stores: Stores) -> None:
    async with anyio.create_task_group() as group:
        for n in range(40):
            group.start_soon(stores.audit.append, event(AuditKind.QUEUE_RESTORED, GUILD, n))
    got = await stores.audit.recent(GUILD, limit=1000)
    assert sorted(e.data["n"] for e in got) == list(range(40))  # type: ignore[type-var]
