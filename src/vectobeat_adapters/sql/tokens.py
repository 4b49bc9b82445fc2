"""``SqlTokenStore``: API tokens stored as a SHA-256 hash plus the last four characters.

Issuing is atomic per guild: an upsert on ``vb_token_quota`` locks the guild's quota row, then the
live tokens are counted and the new one inserted in the same transaction, so concurrent issuers
cannot exceed the limit.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs
import sqlalchemy as sa

from vectobeat_adapters.apitokens import check_quota, hash_secret, live_token, matches, new_token
from vectobeat_adapters.sql.async_core import AsyncConnection
from vectobeat_adapters.sql.engine import SqlRepository
from vectobeat_adapters.sql.schema import api_tokens, token_quota
from vectobeat_core.ids import GuildId
from vectobeat_core.records import MAX_TOKENS_PER_GUILD, ApiToken, IssuedToken

__all__ = ["SqlTokenStore"]


def _from_row(row: sa.RowMapping) -> ApiToken:
    scopes = str(row["scopes"])
    return ApiToken(
        token_id=str(row["token_id"]),
        guild_id=GuildId(int(row["guild_id"])),
        name=str(row["name"]),
        last_four=str(row["last_four"]),
        scopes=frozenset(scope for scope in scopes.split(",") if scope),
        created_at=float(row["created_at"]),
        expires_at=None if row["expires_at"] is None else float(row["expires_at"]),
        revoked_at=None if row["revoked_at"] is None else float(row["revoked_at"]),
        last_used_at=None if row["last_used_at"] is None else float(row["last_used_at"]),
    )


def _live(guild: GuildId, now: float) -> sa.ColumnElement[bool]:
    return sa.and_(
        api_tokens.c.guild_id == guild,
        api_tokens.c.revoked_at.is_(None),
        sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
    )


class SqlTokenStore(SqlRepository):
    """Implements ``TokenStore`` on ``vb_api_tokens`` (+ ``vb_token_quota`` as the guild lock)."""

    async def issue(
        self,
        guild: GuildId,
        name: str,
        scopes: Collection[str],
        *,
        now: float,
        expires_at: float | None = None,
        limit: int = MAX_TOKENS_PER_GUILD,
    ) -> IssuedToken:
        token, secret = new_token(guild, name, scopes, now, expires_at)
        lock = self._db.upsert(
            token_quota,
            {"guild_id": guild, "issued": 1},
            ["guild_id"],
            {"issued": token_quota.c.issued + 1},
        )

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(lock)
            live = await conn.execute(
                sa.select(api_tokens.c.token_id).where(_live(guild, now)).with_for_update()
            )
            check_quota(len(live.all()), limit)
            await conn.execute(
                api_tokens.insert().values(
                    token_id=token.token_id,
                    guild_id=guild,
                    name=token.name,
                    secret_hash=hash_secret(secret),
                    last_four=token.last_four,
                    scopes=",".join(sorted(token.scopes)),
                    created_at=now,
                    expires_at=expires_at,
                )
            )

        await self._db.run(work)
        return IssuedToken(token, secret)

    async def authenticate(self, secret: str, now: float) -> ApiToken:
        digest = hash_secret(secret)

        async def work(conn: AsyncConnection) -> ApiToken:
            query = sa.select(api_tokens).where(api_tokens.c.secret_hash == digest)
            row = (await conn.execute(query)).first()
            found = None
            if row is not None and matches(secret, str(row._mapping["secret_hash"])):
                found = _from_row(row._mapping)
            token = live_token(found, now)
            await conn.execute(
                api_tokens.update()
                .where(api_tokens.c.token_id == token.token_id)
                .values(last_used_at=now)
            )
            return attrs.evolve(token, last_used_at=now)

        return await self._db.run(work, idempotent=True)

    async def revoke(self, guild: GuildId, token_id: str, now: float) -> bool:
        async def work(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                api_tokens.update()
                .where(
                    api_tokens.c.guild_id == guild,
                    api_tokens.c.token_id == token_id,
                    api_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            return bool(result.rowcount)

        return await self._db.run(work)

    async def for_guild(self, guild: GuildId) -> list[ApiToken]:
        query = (
            sa.select(api_tokens)
            .where(api_tokens.c.guild_id == guild)
            .order_by(api_tokens.c.created_at, api_tokens.c.token_id)
        )
        return [_from_row(row) for row in await self._mappings(query)]

    async def erase_guild(self, guild: GuildId) -> int:
        return await self._erase(guild, api_tokens, token_quota)
