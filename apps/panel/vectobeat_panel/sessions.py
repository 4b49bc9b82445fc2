"""Server-side panel sessions: revocable, looked up by an opaque id carried in a signed cookie.

The session keeps who the user is and which guilds they manage (read from Discord at login).
Discord's access token is used once at login and never stored, logged, or put in a cookie or URL.
"""

from __future__ import annotations

import secrets
from typing import Protocol

import attrs

from vectobeat_core.ids import GuildId, UserId

__all__ = [
    "FLASH_TTL_SECONDS",
    "ManagedGuild",
    "MemorySessionStore",
    "PendingLogin",
    "Session",
    "SessionStore",
]


@attrs.frozen
class ManagedGuild:
    """A guild the signed-in user manages, as Discord described it at login."""

    id: GuildId
    name: str
    icon: str | None
    owner: bool
    permissions: int


@attrs.frozen
class Session:
    """One signed-in browser. ``csrf`` is the session-bound anti-forgery token."""

    id: str
    user_id: UserId
    username: str
    avatar: str | None
    guilds: tuple[ManagedGuild, ...]
    csrf: str
    created_at: float
    expires_at: float

    @classmethod
    def new(
        cls,
        *,
        user_id: UserId,
        username: str,
        avatar: str | None,
        guilds: tuple[ManagedGuild, ...],
        now: float,
        ttl: float,
    ) -> Session:
        """A fresh session (random id and CSRF token) valid for ``ttl`` seconds from ``now``."""
        return cls(
            id=secrets.token_urlsafe(32),
            user_id=user_id,
            username=username,
            avatar=avatar,
            guilds=guilds,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + ttl,
        )

    def guild(self, guild_id: int) -> ManagedGuild | None:
        """The managed guild with this id, or ``None`` when the user does not manage it."""
        for guild in self.guilds:
            if guild.id == guild_id:
                return guild
        return None


@attrs.frozen(repr=False)
class PendingLogin:
    """An OAuth2 authorization in flight: its ``state`` and PKCE ``verifier`` (never logged)."""

    state: str
    verifier: str
    next_path: str
    expires_at: float

    def __repr__(self) -> str:
        return f"PendingLogin(next_path={self.next_path!r})"


class SessionStore(Protocol):
    """Where sessions and pending logins live; every method is safe to call concurrently."""

    async def create(
        self,
        *,
        user_id: UserId,
        username: str,
        avatar: str | None,
        guilds: tuple[ManagedGuild, ...],
        now: float,
        ttl: float,
    ) -> Session: ...

    async def get(self, session_id: str, *, now: float) -> Session | None: ...

    async def revoke(self, session_id: str) -> None: ...

    async def revoke_user(self, user_id: UserId) -> int: ...

    async def put_pending(self, pending: PendingLogin) -> None: ...

    async def pop_pending(self, state: str, *, now: float) -> PendingLogin | None: ...

    async def put_flash(self, session_id: str, flash: dict[str, str]) -> None:
        """Keep a one-time notice for the session's next page (post/redirect/get)."""

    async def pop_flash(self, session_id: str) -> dict[str, str] | None:
        """The session's one-time notice, gone once read (``None``: there is none)."""


FLASH_TTL_SECONDS = 300.0
"""How long a one-time notice waits for the page after the redirect."""


class MemorySessionStore:
    """Sessions in this process's memory (one panel process; sessions end with it)."""

    def __init__(self, *, max_pending: int = 10_000) -> None:
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, PendingLogin] = {}
        self._flashes: dict[str, dict[str, str]] = {}
        self._max_pending = max_pending

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
        self._sweep(now)
        session = Session.new(
            user_id=user_id, username=username, avatar=avatar, guilds=guilds, now=now, ttl=ttl
        )
        self._sessions[session.id] = session
        return session

    async def get(self, session_id: str, *, now: float) -> Session | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires_at <= now:
            del self._sessions[session_id]
            return None
        return session

    async def revoke(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def revoke_user(self, user_id: UserId) -> int:
        doomed = [sid for sid, s in self._sessions.items() if s.user_id == user_id]
        for sid in doomed:
            del self._sessions[sid]
        return len(doomed)

    async def put_pending(self, pending: PendingLogin) -> None:
        if len(self._pending) >= self._max_pending:
            self._sweep(pending.expires_at - 600.0)
            while len(self._pending) >= self._max_pending:
                self._pending.pop(next(iter(self._pending)))
        self._pending[pending.state] = pending

    async def pop_pending(self, state: str, *, now: float) -> PendingLogin | None:
        pending = self._pending.pop(state, None)
        if pending is None or pending.expires_at <= now:
            return None
        return pending

    async def put_flash(self, session_id: str, flash: dict[str, str]) -> None:
        if session_id in self._sessions:
            self._flashes[session_id] = dict(flash)

    async def pop_flash(self, session_id: str) -> dict[str, str] | None:
        return self._flashes.pop(session_id, None)

    def _sweep(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[sid]
            self._flashes.pop(sid, None)
        for key in [k for k, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[key]
