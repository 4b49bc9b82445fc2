"""Discord OAuth2 (authorization code + PKCE S256 + state) as the panel's HTTP client.

Endpoints come from ``DISCORD_API_BASE`` (e.g. the testkit's fake) or default to discord.com.
The access token lives only inside :meth:`DiscordOAuth.identify`: it is used to read the user and
their guilds, then revoked; it never reaches a URL, a log line or a cookie.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode, urlsplit

import attrs
import httpx

from vectobeat_core.errors import ConfigError, InvalidInput, NotAuthenticated, Unavailable
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.jsontypes import snowflake
from vectobeat_core.permissions import can_manage_guild
from vectobeat_panel.sessions import ManagedGuild

__all__ = ["DiscordIdentity", "DiscordOAuth", "pkce_pair"]

DISCORD_API = "https://discord.com/api/v10"
SCOPES = "identify guilds"


def pkce_pair() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@attrs.frozen
class DiscordIdentity:
    """Who signed in and the guilds they manage (everything else Discord sent is dropped)."""

    user_id: UserId
    username: str
    avatar: str | None
    managed: tuple[ManagedGuild, ...]


def _snowflake(value: object) -> int:
    if not isinstance(value, str):
        raise Unavailable("Discord sent an unexpected answer (an id that is not a snowflake).")
    try:
        return snowflake(value)
    except InvalidInput:
        raise Unavailable(
            "Discord sent an unexpected answer (an id that is not a snowflake)."
        ) from None


class DiscordOAuth:
    """The panel's OAuth2 client for one Discord application."""

    def __init__(
        self,
        *,
        api_base: str | None,
        client_id: str | None,
        client_secret: str | None,
        redirect_uri: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 3.0,
    ) -> None:
        self.api_base = (api_base or DISCORD_API).rstrip("/")
        parts = urlsplit(self.api_base)
        origin = f"{parts.scheme}://{parts.netloc}"
        self.authorize_endpoint = (
            "https://discord.com/oauth2/authorize"
            if api_base is None
            else f"{origin}/oauth2/authorize"
        )
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._transport = transport
        self._timeout = timeout

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self._client_secret)

    def _require(self) -> tuple[str, str]:
        if not self.client_id or not self._client_secret:
            raise ConfigError(
                "Discord login is not configured: set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET."
            )
        return self.client_id, self._client_secret

    def authorize_url(self, *, state: str, challenge: str) -> str:
        client_id, _ = self._require()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "scope": SCOPES,
                "redirect_uri": self.redirect_uri,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.authorize_endpoint}?{query}"

    def invite_url(self, guild_id: GuildId) -> str | None:
        """The bot invite link for a guild where the bot is missing."""
        if not self.client_id:
            return None
        query = urlencode(
            {
                "client_id": self.client_id,
                "scope": "bot applications.commands",
                "permissions": "3147776",
                "guild_id": str(guild_id),
                "disable_guild_select": "true",
            }
        )
        return f"{self.authorize_endpoint}?{query}"

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport, timeout=self._timeout, follow_redirects=False
        )

    async def identify(self, *, code: str, verifier: str) -> DiscordIdentity:
        """Exchange ``code`` (with the PKCE verifier), read the user and guilds, revoke the token."""
        client_id, client_secret = self._require()
        async with self._client() as client:
            try:
                response = await client.post(
                    f"{self.api_base}/oauth2/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self.redirect_uri,
                        "code_verifier": verifier,
                    },
                    auth=(client_id, client_secret),
                )
                if response.status_code in (400, 401):
                    raise NotAuthenticated("Discord did not accept the sign-in; please try again.")
                response.raise_for_status()
                token = response.json().get("access_token")
                if not isinstance(token, str):
                    raise Unavailable("Discord sent no access token; please try again.")
                headers = {"Authorization": f"Bearer {token}"}
                me = (await client.get(f"{self.api_base}/users/@me", headers=headers)).json()
                listed = await client.get(f"{self.api_base}/users/@me/guilds", headers=headers)
                listed.raise_for_status()
                guilds = listed.json()
                await client.post(
                    f"{self.api_base}/oauth2/token/revoke",
                    data={"token": token, "token_type_hint": "access_token"},
                    auth=(client_id, client_secret),
                )
            except httpx.HTTPError as exc:
                raise Unavailable(
                    "Discord could not be reached for sign-in ({problem}).",
                    problem=type(exc).__name__,
                ) from None
            except ValueError:
                raise Unavailable("Discord sent an answer that is not JSON.") from None
        return _identity(me, guilds)


def _identity(me: object, guilds: object) -> DiscordIdentity:
    if not isinstance(me, dict) or not isinstance(guilds, list):
        raise Unavailable("Discord sent an unexpected answer for the user or their guilds.")
    managed: list[ManagedGuild] = []
    for entry in guilds:
        if not isinstance(entry, dict):
            continue
        try:
            permissions = int(str(entry.get("permissions", "0")))
        except ValueError:
            permissions = 0
        owner = entry.get("owner") is True
        if not can_manage_guild(owner=owner, permissions=permissions):
            continue
        icon = entry.get("icon")
        managed.append(
            ManagedGuild(
                id=GuildId(_snowflake(entry.get("id"))),
                name=str(entry.get("name", "?"))[:100],
                icon=icon if isinstance(icon, str) else None,
                owner=owner,
                permissions=permissions,
            )
        )
    avatar = me.get("avatar")
    return DiscordIdentity(
        user_id=UserId(_snowflake(me.get("id"))),
        username=str(me.get("global_name") or me.get("username") or "?")[:100],
        avatar=avatar if isinstance(avatar, str) else None,
        managed=tuple(managed),
    )
