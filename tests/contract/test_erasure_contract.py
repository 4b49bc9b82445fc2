"""Right to erasure: ``erase_guild`` on every port that holds a guild's data removes all of that
guild's data and nothing of another guild's, on every backend (memory, SQLite, MariaDB,
PostgreSQL; Redis for playlists and telemetry). Erasing twice is harmless."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.conftest import Stores
from tests.contract.test_audit_contract import event
from tests.contract.test_playlists_contract import playlist
from tests.contract.test_settings_contract import record
from tests.contract.test_webhook_log_contract import attempt
from tests.redis_support import redis_namespace
from vectobeat_adapters.memory.playlists import MemoryPlaylistStore
from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
from vectobeat_adapters.redis.playlists import RedisPlaylistStore
from vectobeat_adapters.redis.telemetry import RedisTelemetryCache
from vectobeat_adapters.services import SystemClock
from vectobeat_adapters.telemetry_names import guild_documents
from vectobeat_core.audit import AuditKind
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.ports import PlaylistStore, TelemetryCache
from vectobeat_core.records import Contact

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
OTHER = GuildId(998_877_665_544_332_211)
USER = UserId(111_222_333_444_555_666)
NOW = 1_700_000_000.0


async def fill(stores: Stores, guild: GuildId) -> None:
    """Some data of ``guild`` in every SQL-side store."""
    await stores.settings.put(record(guild, 1), 0)
    await stores.settings.put(record(guild, 2), 1)
    for n in range(3):
        await stores.audit.append(event(AuditKind.SETTINGS_CHANGED, guild, n))
    await stores.playlists.create(playlist("Mix", guild))
    await stores.tokens.issue(guild, "ci", ["queue:read"], now=NOW)
    await stores.contacts.put(Contact(guild, "Ada", "ada@example.org", "+44 1", NOW))
    await stores.concierge.open(
        guild, "concierge", subject="Help", body="Regions", requested_by=USER,
        now=NOW, due_at=NOW + 60,
    )  # fmt: skip
    for n in range(2):
        await stores.webhook_log.append(attempt(guild, n))


async def held(stores: Stores, guild: GuildId) -> dict[str, int]:
    """How much of ``guild``'s data each store still returns."""
    return {
        "settings": len(await stores.settings.history(guild, 100)),
        "audit": len(await stores.audit.recent(guild, 100)),
        "playlists": len(await stores.playlists.for_guild(guild)),
        "tokens": len(await stores.tokens.for_guild(guild)),
        "contacts": len(await stores.contacts.for_guild(guild)),
        "concierge": len(await stores.concierge.find(guild)),
        "webhook_log": len(await stores.webhook_log.recent(guild, 100)),
    }


async def test_erasing_a_guild_empties_every_store_of_it_and_only_it(stores: Stores) -> None:
    await fill(stores, GUILD)
    await fill(stores, OTHER)
    before = await held(stores, OTHER)
    assert all(before.values()), before
    erased = {
        "settings": await stores.settings.erase_guild(GUILD),
        "audit": await stores.audit.erase_guild(GUILD),
        "playlists": await stores.playlists.erase_guild(GUILD),
        "tokens": await stores.tokens.erase_guild(GUILD),
        "contacts": await stores.contacts.erase_guild(GUILD),
        "concierge": await stores.concierge.erase_guild(GUILD),
        "webhook_log": await stores.webhook_log.erase_guild(GUILD),
    }
    assert erased["settings"] >= 2 and erased["audit"] == 3 and erased["webhook_log"] == 2
    assert erased["playlists"] == erased["contacts"] == erased["concierge"] == 1
    assert erased["tokens"] >= 1
    assert set((await held(stores, GUILD)).values()) == {0}
    assert await stores.settings.get(GUILD) is None
    assert await held(stores, OTHER) == before
    # a second erasure finds nothing and a new write works as for a new guild
    assert await stores.audit.erase_guild(GUILD) == 0
    await stores.settings.put(record(GUILD, 1), 0)
    assert await stores.settings.get(GUILD) is not None


@pytest.fixture(params=["memory", "redis"])
async def bot_side(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[PlaylistStore, TelemetryCache]]:
    if request.param == "memory":
        yield MemoryPlaylistStore(), MemoryTelemetryCache(SystemClock())
        return
    async with redis_namespace() as (conn, keys):
        yield RedisPlaylistStore(conn, keys), RedisTelemetryCache(conn, keys)


async def test_erasing_playlists_and_telemetry_of_a_guild(
    bot_side: tuple[PlaylistStore, TelemetryCache],
) -> None:
    playlists, telemetry = bot_side
    for guild in (GUILD, OTHER):
        for name in ("A", "B"):
            await playlists.create(playlist(name, guild))
        for document in guild_documents(guild):
            await telemetry.put(document, {"guild": str(guild)}, 60)
    assert await playlists.erase_guild(GUILD) == 2
    assert await telemetry.erase_guild(GUILD) == len(guild_documents(GUILD))
    assert await playlists.for_guild(GUILD) == []
    assert [await telemetry.get(d) for d in guild_documents(GUILD)] == [None] * 3
    assert len(await playlists.for_guild(OTHER)) == 2
    assert all([await telemetry.get(d) for d in guild_documents(OTHER)])
    assert await playlists.erase_guild(GUILD) == 0 and await telemetry.erase_guild(GUILD) == 0
