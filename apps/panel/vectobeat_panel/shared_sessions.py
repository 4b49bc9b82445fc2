"""Sessions shared by every panel replica, kept in the telemetry cache (Redis when configured).

Documents: ``panel-session:<id>`` (the session, or ``{"revoked": true}``), ``panel-user:<id>``
(the user's session ids, for "sign out everywhere"), ``panel-login:<state>`` (a pending login) and
``panel-flash:<id>`` (a one-time notice for the session's next page, e.g. a new API token).
Each expires with its TTL, so nothing needs sweeping.
"""

from __future__ import annotations

from typing import Any

from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.ports import TelemetryCache
from vectobeat_panel.sessions import FLASH_TTL_SECONDS, ManagedGuild, PendingLogin, Session

__all__ = ["CacheSessionStore"]

MAX_SESSIONS_PER_USER = 50


def _guild_json(guild: ManagedGuild) -> JSON:
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": guild.icon,
        "owner": guild.owner,
        "permissions": guild.permissions,
    }


def _session_json(session: Session) -> JSON:
    return {
        "user_id": str(session.user_id),
        "username": session.username,
        "avatar": session.avatar,
        "guilds": [_guild_json(g) for g in session.guilds],
        "csrf": session.csrf,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
    }


def _session(session_id: str, doc: Any) -> Session | None:
    """Read a stored session; anything malformed reads as no session."""
    try:
        guilds = tuple(
            ManagedGuild(
                id=GuildId(int(g["id"])),
                name=str(g["name"]),
                icon=g["icon"] if isinstance(g["icon"], str) else None,
                owner=bool(g["owner"]),
                permissions=int(g["permissions"]),
            )
            for g in doc["guilds"]
        )
        return Session(
            id=session_id,
            user_id=UserId(int(doc["user_id"])),
            username=str(doc["username"]),
            avatar=doc["avatar"] if isinstance(doc["avatar"], str) else None,
            guilds=guilds,
            csrf=str(doc["csrf"]),
            created_at=float(doc["created_at"]),
            expires_at=float(doc["expires_at"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _session_ids(known: JSON | None) -> list[str]:
    """The session ids of a ``panel-user:<id>`` document (anything else reads as none)."""
    return [i for i in known if isinstance(i, str)] if isinstance(known, list) else []


class CacheSessionStore:
    """A `SessionStore` over a `TelemetryCache` (shared by replicas when it is Redis)."""

    def __init__(self, cache: TelemetryCache, *, session_ttl: float, login_ttl: float) -> None:
        self._cache = cache
        self._session_ttl = session_ttl
        self._login_ttl = login_ttl

    async def create(
        self,
        *,
        user_id: UserId,
        username: str,
        avatar: str | None,
        guilds: tuple[ManagedGuild, ...],
        now: float,
        ttl: float,
    ) -> Session:
        session = Session.new(
            user_id=user_id, username=username, avatar=avatar, guilds=guilds, now=now, ttl=ttl
        )
        await self._cache.put(f"panel-session:{session.id}", _session_json(session), ttl)
        index = f"panel-user:{user_id}"
        known = _session_ids(await self._cache.get(index))
        ids = [*known[-(MAX_SESSIONS_PER_USER - 1) :], session.id]
        await self._cache.put(index, list(ids), self._session_ttl)
        return session

    async def get(self, session_id: str, *, now: float) -> Session | None:
        doc = await self._cache.get(f"panel-session:{session_id}")
        if not isinstance(doc, dict) or doc.get("revoked"):
            return None
        session = _session(session_id, doc)
        if session is None or session.expires_at <= now:
            return None
        return session

    async def revoke(self, session_id: str) -> None:
        await self._cache.put(f"panel-session:{session_id}", {"revoked": True}, self._session_ttl)

    async def revoke_user(self, user_id: UserId) -> int:
        ids = _session_ids(await self._cache.get(f"panel-user:{user_id}"))
        for session_id in ids:
            await self.revoke(session_id)
        await self._cache.put(f"panel-user:{user_id}", [], self._session_ttl)
        return len(ids)

    async def put_pending(self, pending: PendingLogin) -> None:
        doc: JSON = {
            "verifier": pending.verifier,
            "next_path": pending.next_path,
            "expires_at": pending.expires_at,
        }
        await self._cache.put(f"panel-login:{pending.state}", doc, self._login_ttl)

    async def pop_pending(self, state: str, *, now: float) -> PendingLogin | None:
        name = f"panel-login:{state}"
        doc: Any = await self._cache.get(name)
        if not isinstance(doc, dict) or doc.get("used"):
            return None
        await self._cache.put(name, {"used": True}, self._login_ttl)
        try:
            pending = PendingLogin(
                state, str(doc["verifier"]), str(doc["next_path"]), float(doc["expires_at"])
            )
        except (KeyError, TypeError, ValueError):
            return None
        return pending if pending.expires_at > now else None

    async def put_flash(self, session_id: str, flash: dict[str, str]) -> None:
        await self._cache.put(f"panel-flash:{session_id}", dict(flash), FLASH_TTL_SECONDS)

    async def pop_flash(self, session_id: str) -> dict[str, str] | None:
        name = f"panel-flash:{session_id}"
        doc: Any = await self._cache.get(name)
        if not isinstance(doc, dict):
            return None
        await self._cache.put(name, None, FLASH_TTL_SECONDS)
        return {str(k): str(v) for k, v in doc.items()}
