"""The fake OAuth2 provider: authorization code grant with PKCE (S256) and state, like Discord's.

``GET /oauth2/authorize`` auto-approves for the configured test user (or shows a tiny consent form
when ``auto_approve`` is off), then redirects to the registered ``redirect_uri`` with ``code`` and
``state``. ``POST /api/v10/oauth2/token`` exchanges codes and refresh tokens; Bearer tokens then
read ``/users/@me`` and ``/users/@me/guilds``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
from collections.abc import Sequence
from urllib.parse import urlencode

import attrs
from aiohttp import web

from vectobeat_core.ids import GuildId, UserId

from .http_common import DiscordHTTPError, json_response
from .state import FakeUser, Json
from .world import World

__all__ = ["OAuth2", "UserGuild"]

SCOPES = frozenset(
    {
        "identify",
        "email",
        "guilds",
        "guilds.members.read",
        "guilds.join",
        "connections",
        "bot",
        "applications.commands",
        "openid",
        "role_connections.write",
    }
)
CODE_TTL, TOKEN_TTL = 600.0, 604_800


@attrs.frozen
class UserGuild:
    """One entry of ``/users/@me/guilds`` for a test user."""

    id: GuildId
    name: str
    owner: bool = False
    permissions: int = 0
    icon: str | None = None

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": self.icon,
            "banner": None,
            "owner": self.owner,
            "permissions": str(self.permissions),
            "features": [],
        }


@attrs.frozen
class _Grant:
    user_id: UserId
    scopes: tuple[str, ...]
    redirect_uri: str
    challenge: str | None
    expires_at: float


class OAuth2:
    """Codes, access and refresh tokens for test users of one application."""

    def __init__(self, world: World, *, client_secret: str, redirect_uris: Sequence[str]) -> None:
        self.world = world
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.auto_approve = True
        self.consenting_user: UserId | None = None
        self.user_guilds: dict[UserId, list[UserGuild]] = {}
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, tuple[UserId, tuple[str, ...], float]] = {}
        self._refresh: dict[str, tuple[UserId, tuple[str, ...]]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/oauth2/authorize", self.authorize),
            web.get(r"/api{version:(?:/v[0-9]+)?}/oauth2/authorize", self.authorize),
            web.post("/oauth2/authorize", self.consent),
            web.post(r"/api{version:(?:/v[0-9]+)?}/oauth2/token", self.token),
            web.post(r"/api{version:(?:/v[0-9]+)?}/oauth2/token/revoke", self.revoke),
            web.get(r"/api{version:(?:/v[0-9]+)?}/users/@me/guilds", self.my_guilds),
        ]

    def set_user(self, user: FakeUser, guilds: Sequence[UserGuild] = ()) -> None:
        """Make ``user`` the one who consents, with ``guilds`` as their guild list."""
        self.world.users.setdefault(user.id, user)
        self.consenting_user = user.id
        self.user_guilds[user.id] = list(guilds)

    def _check_request(self, params: dict[str, str]) -> str:
        """Validate what must be valid before redirecting; return the redirect URI."""
        if params.get("client_id") != str(self.world.application_id):
            raise web.HTTPBadRequest(text="Unknown application (invalid client_id).")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            raise web.HTTPBadRequest(text="Invalid OAuth2 redirect_uri.")
        return redirect_uri

    def _redirect(self, redirect_uri: str, **query: str | None) -> web.HTTPFound:
        clean = {k: v for k, v in query.items() if v is not None}
        sep = "&" if "?" in redirect_uri else "?"
        return web.HTTPFound(f"{redirect_uri}{sep}{urlencode(clean)}")

    async def authorize(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        redirect_uri = self._check_request(params)
        state = params.get("state")
        if params.get("response_type") != "code":
            raise self._redirect(
                redirect_uri,
                error="unsupported_response_type",
                state=state,
                error_description="The authorization server does not support obtaining an authorization code using this method.",
            )
        scopes = tuple(params.get("scope", "").split())
        if not scopes or not set(scopes) <= SCOPES:
            raise self._redirect(
                redirect_uri,
                error="invalid_scope",
                state=state,
                error_description="The requested scope is invalid, unknown, or malformed.",
            )
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method != "S256":
            raise self._redirect(
                redirect_uri,
                error="invalid_request",
                state=state,
                error_description="Invalid code_challenge_method (only S256 is supported).",
            )
        if self.auto_approve and params.get("prompt") != "consent":
            raise self._approve(params, redirect_uri)
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Authorize</title>"
            f"<h1>Authorize {html.escape(self.world.bot_user.username)}</h1>"
            f"<p>Scopes: {html.escape(' '.join(scopes))}</p>"
            f'<form method="post" action="/oauth2/authorize">{fields}'
            '<button name="approve" value="1">Authorize</button> '
            '<button name="approve" value="0">Cancel</button></form></html>'
        )
        return web.Response(text=page, content_type="text/html")

    async def consent(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        redirect_uri = self._check_request(form)
        if form.pop("approve", "0") != "1":
            raise self._redirect(
                redirect_uri,
                error="access_denied",
                state=form.get("state"),
                error_description="The resource owner or authorization server denied the request",
            )
        raise self._approve(form, redirect_uri)

    def _approve(self, params: dict[str, str], redirect_uri: str) -> web.HTTPFound:
        if self.consenting_user is None:
            raise web.HTTPBadRequest(text="No test user is configured to log in (OAuth2.set_user).")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            user_id=self.consenting_user,
            scopes=tuple(params.get("scope", "").split()),
            redirect_uri=redirect_uri,
            challenge=params.get("code_challenge"),
            expires_at=self.world.clock() + CODE_TTL,
        )
        return self._redirect(redirect_uri, code=code, state=params.get("state"))

    def _client_ok(self, request: web.Request, form: dict[str, str]) -> bool:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
        return client_id == str(self.world.application_id) and hmac.compare_digest(
            secret.encode(), self.client_secret.encode()
        )

    async def token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return _oauth_error(
                "invalid_request", "Content-Type must be application/x-www-form-urlencoded."
            )
        form = {k: str(v) for k, v in (await request.post()).items()}
        if not self._client_ok(request, form):
            return _oauth_error("invalid_client", "Invalid client credentials.", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or grant.expires_at < self.world.clock():
                return _oauth_error("invalid_grant", 'Invalid "code" in request.')
            if form.get("redirect_uri") != grant.redirect_uri:
                return _oauth_error("invalid_grant", 'Invalid "redirect_uri" in request.')
            if grant.challenge is not None:
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if not verifier or not hmac.compare_digest(expected, grant.challenge):
                    return _oauth_error("invalid_grant", 'Invalid "code_verifier" in request.')
            return json_response(self._issue(grant.user_id, grant.scopes))
        if grant_type == "refresh_token":
            found = self._refresh.pop(form.get("refresh_token", ""), None)
            if found is None:
                return _oauth_error("invalid_grant", 'Invalid "refresh_token" in request.')
            return json_response(self._issue(*found))
        return _oauth_error("unsupported_grant_type", "Unsupported grant type.")

    def _issue(self, user_id: UserId, scopes: tuple[str, ...]) -> Json:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._access[access] = (user_id, scopes, self.world.clock() + TOKEN_TTL)
        self._refresh[refresh] = (user_id, scopes)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "refresh_token": refresh,
            "scope": " ".join(scopes),
        }

    async def revoke(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        if not self._client_ok(request, form):
            return _oauth_error("invalid_client", "Invalid client credentials.", 401)
        token = form.get("token", "")
        self._access.pop(token, None)
        self._refresh.pop(token, None)
        return json_response({})

    def bearer(self, request: web.Request, scope: str) -> UserId:
        """The user behind a Bearer token with ``scope``; Discord's 401 otherwise."""
        auth = request.headers.get("Authorization", "")
        found = self._access.get(auth[7:]) if auth.startswith("Bearer ") else None
        if found is None or found[2] < self.world.clock():
            raise DiscordHTTPError(401, 0, "401: Unauthorized")
        if scope not in found[1]:
            raise DiscordHTTPError(401, 0, "401: Unauthorized")
        return found[0]

    def me(self, request: web.Request) -> Json:
        user_id = self.bearer(request, "identify")
        user = self.world.users[user_id]
        data = user.payload() | {"locale": "en-US", "mfa_enabled": False, "premium_type": 0}
        if "email" in self._access[request.headers["Authorization"][7:]][1]:
            data |= {"email": user.email, "verified": True}
        return data

    async def my_guilds(self, request: web.Request) -> web.Response:
        user_id = self.bearer(request, "guilds")
        return json_response([g.payload() for g in self.user_guilds.get(user_id, [])])


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return json_response({"error": error, "error_description": description}, status)
