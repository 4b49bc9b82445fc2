"""API token minting and hashing, shared by every ``TokenStore`` implementation.

A token reads ``vbt_<id>_<secret>``: ``id`` is a public per-token identifier, ``secret`` 32 random
bytes. Stores keep only ``sha256(token)`` (hex) and the last four characters, so a leaked database
reveals no usable token. Lookups go by hash; the final comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection

from vectobeat_core.errors import InvalidInput, LimitExceeded, PermissionDenied
from vectobeat_core.ids import GuildId
from vectobeat_core.records import ApiToken

__all__ = [
    "PREFIX",
    "check_quota",
    "hash_secret",
    "live_token",
    "matches",
    "mint",
    "new_token",
    "normalize_scopes",
]

PREFIX = "vbt"
_MAX_NAME = 100
_MAX_SCOPES_TEXT = 500


def mint() -> tuple[str, str]:
    """A fresh ``(token_id, secret)``; the secret embeds the id."""
    token_id = secrets.token_hex(8)
    return token_id, f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """The stored form of a token: hex SHA-256 of the whole secret string."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_hash: str) -> bool:
    """Constant-time check of ``secret`` against a stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def normalize_scopes(scopes: Collection[str]) -> frozenset[str]:
    """Validate scope names (``[a-z0-9:._-]``, no commas) and return them as a set."""
    result = frozenset(scope.strip() for scope in scopes)
    for scope in result:
        if not scope or not all(c.isalnum() or c in ":._-" for c in scope):
            raise InvalidInput(f"token scope {scope!r} must be letters, digits or : . _ -")
    if len(",".join(sorted(result))) > _MAX_SCOPES_TEXT:
        raise InvalidInput("too many token scopes")
    return result


def new_token(
    guild: GuildId, name: str, scopes: Collection[str], now: float, expires_at: float | None
) -> tuple[ApiToken, str]:
    """Validate the request and mint: the public record plus the one-time secret."""
    clean = name.strip()
    if not clean or len(clean) > _MAX_NAME:
        raise InvalidInput(f"token name must be 1-{_MAX_NAME} characters")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("token expiry must be in the future")
    token_id, secret = mint()
    token = ApiToken(
        token_id=token_id,
        guild_id=guild,
        name=clean,
        last_four=secret[-4:],
        scopes=normalize_scopes(scopes),
        created_at=now,
        expires_at=expires_at,
    )
    return token, secret


def check_quota(live: int, limit: int) -> None:
    """Refuse a new token while the guild already has ``limit`` (or more) live ones."""
    if live >= limit:
        raise LimitExceeded(f"this server already has {limit} active API tokens; revoke one first")


def live_token(token: ApiToken | None, now: float) -> ApiToken:
    """``token`` when it was found and is live at ``now``; else ``PermissionDenied``, alike for an
    unknown, revoked or expired token."""
    if token is None or not token.live(now):
        raise PermissionDenied("this API token is not valid (unknown, revoked or expired)")
    return token
