"""``MemoryTokenStore``: API tokens (hash and last four only), in one process."""

from __future__ import annotations

from collections.abc import Collection

import attrs

from vectobeat_adapters.apitokens import check_quota, hash_secret, live_token, matches, new_token
from vectobeat_adapters.memory._base import MemoryService
from vectobeat_core.ids import GuildId
from vectobeat_core.records import MAX_TOKENS_PER_GUILD, ApiToken, IssuedToken

__all__ = ["MemoryTokenStore"]


class MemoryTokenStore(MemoryService):
    """Implements ``TokenStore``; ``stored_hashes`` exposes what is kept, for tests."""

    def __init__(self) -> None:
        self._tokens: dict[str, ApiToken] = {}
        self._by_hash: dict[str, str] = {}

    @property
    def stored_hashes(self) -> frozenset[str]:
        return frozenset(self._by_hash)

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
        live = sum(1 for t in self._tokens.values() if t.guild_id == guild and t.live(now))
        check_quota(live, limit)
        self._tokens[token.token_id] = token
        self._by_hash[hash_secret(secret)] = token.token_id
        return IssuedToken(token, secret)

    async def authenticate(self, secret: str, now: float) -> ApiToken:
        digest = hash_secret(secret)
        token_id = self._by_hash.get(digest)
        found = None if token_id is None or not matches(secret, digest) else self._tokens[token_id]
        token = attrs.evolve(live_token(found, now), last_used_at=now)
        self._tokens[token.token_id] = token
        return token

    async def revoke(self, guild: GuildId, token_id: str, now: float) -> bool:
        token = self._tokens.get(token_id)
        if token is None or token.guild_id != guild or token.revoked_at is not None:
            return False
        self._tokens[token_id] = attrs.evolve(token, revoked_at=now)
        return True

    async def for_guild(self, guild: GuildId) -> list[ApiToken]:
        found = [t for t in self._tokens.values() if t.guild_id == guild]
        return sorted(found, key=lambda t: (t.created_at, t.token_id))

    async def erase_guild(self, guild: GuildId) -> int:
        ids = [tid for tid, token in self._tokens.items() if token.guild_id == guild]
        for tid in ids:
            del self._tokens[tid]
        self._by_hash = {h: tid for h, tid in self._by_hash.items() if tid not in ids}
        return len(ids)
