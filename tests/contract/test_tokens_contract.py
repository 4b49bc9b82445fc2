"""TokenStore contract: hash-only storage, authentication, revocation, the per-guild limit."""

from __future__ import annotations

import anyio
import pytest
import sqlalchemy as sa

from tests.contract.conftest import Stores
from vectobeat_adapters.apitokens import hash_secret
from vectobeat_adapters.sql.schema import api_tokens
from vectobeat_core.errors import InvalidInput, LimitExceeded, PermissionDenied
from vectobeat_core.ids import GuildId
from vectobeat_core.records import MAX_TOKENS_PER_GUILD

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
OTHER = GuildId(998_877_665_544_332_211)
NOW = 1_700_000_000.0


async def test_issue_then_authenticate(stores: Stores) -> None:
    issued = await stores.tokens.issue(
        GUILD, "CI deploys", ["queue:read", "settings:write"], now=NOW
    )
    assert issued.secret.startswith("vbt_") and issued.secret.endswith(issued.token.last_four)
    assert issued.secret not in repr(issued)
    token = await stores.tokens.authenticate(issued.secret, NOW + 5)
    assert token.token_id == issued.token.token_id
    assert token.scopes == frozenset({"queue:read", "settings:write"})
    assert token.last_used_at == NOW + 5
    [listed] = await stores.tokens.for_guild(GUILD)
    assert listed.last_used_at == NOW + 5 and listed.name == "CI deploys"
    await stores.tokens.ping()


async def test_wrong_revoked_or_expired_secrets_are_refused(stores: Stores) -> None:
    issued = await stores.tokens.issue(GUILD, "short-lived", [], now=NOW, expires_at=NOW + 60)
    with pytest.raises(PermissionDenied):
        await stores.tokens.authenticate(issued.secret[:-1] + "x", NOW)
    with pytest.raises(PermissionDenied):
        await stores.tokens.authenticate(issued.secret, NOW + 60)
    await stores.tokens.authenticate(issued.secret, NOW + 59)

    assert not await stores.tokens.revoke(OTHER, issued.token.token_id, NOW)
    assert await stores.tokens.revoke(GUILD, issued.token.token_id, NOW + 1)
    assert not await stores.tokens.revoke(GUILD, issued.token.token_id, NOW + 2)
    with pytest.raises(PermissionDenied):
        await stores.tokens.authenticate(issued.secret, NOW + 3)
    [listed] = await stores.tokens.for_guild(GUILD)
    assert listed.revoked_at == NOW + 1


async def test_bad_requests_are_refused(stores: Stores) -> None:
    with pytest.raises(InvalidInput):
        await stores.tokens.issue(GUILD, " ", [], now=NOW)
    with pytest.raises(InvalidInput):
        await stores.tokens.issue(GUILD, "ok", ["has,comma"], now=NOW)
    with pytest.raises(InvalidInput):
        await stores.tokens.issue(GUILD, "ok", [], now=NOW, expires_at=NOW)
    assert await stores.tokens.for_guild(GUILD) == []


async def test_limit_counts_live_tokens_only(stores: Stores) -> None:
    issued = [
        await stores.tokens.issue(GUILD, f"t{n}", [], now=NOW + n)
        for n in range(MAX_TOKENS_PER_GUILD)
    ]
    with pytest.raises(LimitExceeded):
        await stores.tokens.issue(GUILD, "one too many", [], now=NOW + 20)
    await stores.tokens.issue(OTHER, "other guild is separate", [], now=NOW + 20)

    assert await stores.tokens.revoke(GUILD, issued[0].token.token_id, NOW + 21)
    await stores.tokens.issue(GUILD, "replacement", [], now=NOW + 22, expires_at=NOW + 30)
    with pytest.raises(LimitExceeded):
        await stores.tokens.issue(GUILD, "still full", [], now=NOW + 23)
    await stores.tokens.issue(GUILD, "after expiry", [], now=NOW + 31)
    assert len(await stores.tokens.for_guild(GUILD)) == MAX_TOKENS_PER_GUILD + 2


async def test_concurrent_issuers_never_exceed_the_limit(stores: Stores) -> None:
    outcomes: list[str] = []

    async def issue(n: int) -> None:
        try:
            await stores.tokens.issue(GUILD, f"racer {n}", ["a"], now=NOW)
        except LimitExceeded:
            outcomes.append("limited")
        else:
            outcomes.append("issued")

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for n in range(30):
                group.start_soon(issue, n)
    assert outcomes.count("issued") == MAX_TOKENS_PER_GUILD
    assert outcomes.count("limited") == 30 - MAX_TOKENS_PER_GUILD
    assert len(await stores.tokens.for_guild(GUILD)) == MAX_TOKENS_PER_GUILD


async def test_only_a_hash_and_last_four_are_at_rest(sql_stores: Stores) -> None:
    issued = await sql_stores.tokens.issue(GUILD, "audited", ["x"], now=NOW)
    assert sql_stores.db is not None
    async with sql_stores.db.engine.connect() as conn:
        rows = [dict(row._mapping) for row in await conn.execute(sa.select(api_tokens))]
    [row] = rows
    assert row["secret_hash"] == hash_secret(issued.secret)
    assert row["last_four"] == issued.secret[-4:]
    secret_body = issued.secret.split("_", 2)[2]
    assert len(secret_body) >= 40
    assert all(secret_body not in str(value) for value in row.values())
