"""API tokens for a guild's own integrations, and the small read API their holders call.

Create (the secret is shown once), list (label, last four, scopes, created, last used, expiry),
revoke; at most ``min(plan.api_tokens, 10)`` live tokens; stores keep only a hash. The read API
(``/api/v1/guilds/{id}/queue`` and ``/settings``) honours scopes, expiry and revocation; so do
the web controls (``/api/v1/guilds/{id}/queue/control``, `vectobeat_panel.control_pages`:
scopes ``playback:control`` and ``queue:write``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.controls import CONTROL_SCOPES
from vectobeat_core.errors import (
    InvalidInput,
    LimitExceeded,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from vectobeat_core.ids import GuildId
from vectobeat_core.records import MAX_TOKENS_PER_GUILD, ApiToken, IssuedToken
from vectobeat_panel.queue_pages import latest_snapshot, queue_view
from vectobeat_panel.settings_flow import current_settings, guild_plan
from vectobeat_panel.settings_pages import read_json_object
from vectobeat_panel.state import Panel, guild_id_param, manager_of, panel_of, render

__all__ = ["EXPIRY_DAYS", "SCOPES", "api_token", "require_scope", "token_json", "token_routes"]

SCOPES: tuple[str, ...] = ("queue:read", "settings:read", *CONTROL_SCOPES)
EXPIRY_DAYS: tuple[int, ...] = (7, 30, 90, 365)
_LABEL = re.compile(r"[^\x00-\x1f\x7f]{1,60}")


def token_json(token: ApiToken, now: float) -> dict[str, Any]:
    return {
        "id": token.token_id,
        "label": token.name,
        "last_four": token.last_four,
        "scopes": sorted(token.scopes),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "live": token.live(now),
    }


def _validate(
    label: object, scopes: object, expires_in_days: object
) -> tuple[str, list[str], int | None]:
    if not isinstance(label, str) or not _LABEL.fullmatch(label.strip() or "\x00"):
        raise InvalidInput("'label' must be 1 to 60 printable characters.")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise InvalidInput("'scopes' must list one or more of: {scopes}.", scopes=", ".join(SCOPES))
    bad = sorted({s for s in scopes if s not in SCOPES})
    if bad:
        raise InvalidInput(
            "Unknown scope(s) {bad}; choose from {scopes}.",
            bad=", ".join(bad)[:100],
            scopes=", ".join(SCOPES),
        )
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool) or expires_in_days not in EXPIRY_DAYS
    ):
        days = ", ".join(str(d) for d in EXPIRY_DAYS)
        raise InvalidInput(
            "'expires_in_days' must be one of {days}, or null for no expiry.", days=days
        )
    return label.strip(), sorted(set(scopes)), expires_in_days


async def _limit(panel: Panel, guild_id: GuildId) -> int:
    _, plan = await guild_plan(panel, guild_id)
    if plan.api_tokens <= 0:
        tier = panel.services.catalogue.lowest_tier_with(lambda p: p.api_tokens > 0)
        if tier is None:
            raise LimitExceeded(
                "API tokens are not included in your plan ({plan}); no plan includes them.",
                plan=plan.label,
            )
        raise LimitExceeded(
            "API tokens are not included in your plan ({plan}); they need {tier} or higher.",
            plan=plan.label,
            tier=tier.label,
        )
    return min(plan.api_tokens, MAX_TOKENS_PER_GUILD)


async def issue(
    panel: Panel,
    guild_id: GuildId,
    *,
    actor: str,
    label: str,
    scopes: Collection[str],
    expires_in_days: int | None,
) -> IssuedToken:
    limit = await _limit(panel, guild_id)
    now = panel.clock()
    expires_at = None if expires_in_days is None else now + expires_in_days * 86400.0
    issued = await panel.services.tokens.issue(
        guild_id, label, scopes, now=now, expires_at=expires_at, limit=limit
    )
    summary = f"{actor} created API token '{label}' (…{issued.token.last_four})."
    await panel.services.audit.append(
        AuditEvent(
            AuditKind.TOKEN_CREATED,
            now,
            guild_id,
            actor,
            summary[:1000],
            {"token_id": issued.token.token_id, "scopes": sorted(scopes)},
        )
    )
    return issued


async def revoke(panel: Panel, guild_id: GuildId, actor: str, token_id: str) -> None:
    now = panel.clock()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token_id):
        raise NotFound("There is no such token.")
    if not await panel.services.tokens.revoke(guild_id, token_id, now):
        raise NotFound("There is no such live token for this guild.")
    await panel.services.audit.append(
        AuditEvent(
            AuditKind.TOKEN_REVOKED,
            now,
            guild_id,
            actor,
            f"{actor} revoked API token {token_id}.",
            {"token_id": token_id},
        )
    )


async def _page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    session, guild = manager_of(request)
    panel = panel_of(request)
    issued = await panel.sessions.pop_flash(session.id) if error is None else None
    now = panel.clock()
    tokens = [token_json(t, now) for t in await panel.services.tokens.for_guild(guild.id)]
    _, plan = await guild_plan(panel, guild.id)
    context = {
        "guild": guild,
        "plan": plan,
        "tokens": tokens,
        "issued": issued,
        "error": error,
        "scopes": SCOPES,
        "expiry_days": EXPIRY_DAYS,
        "limit": min(plan.api_tokens, MAX_TOKENS_PER_GUILD),
    }
    return render(request, "tokens.html", context, status)


async def tokens_page(request: Request) -> Response:
    return await _page(request)


def _back_to_tokens(guild_id: GuildId) -> Response:
    """Post/redirect/get: a reload shows the page again instead of repeating the action."""
    return RedirectResponse(f"/guilds/{guild_id}/tokens", status_code=303)


async def tokens_create(request: Request) -> Response:
    session, guild = manager_of(request)
    form = await request.form(max_files=0, max_fields=16)
    raw_days = str(form.get("expires_in_days", ""))
    try:
        days: int | None = None if raw_days in ("", "never") else int(raw_days)
    except ValueError:
        days = -1
    try:
        label, scopes, days = _validate(
            form.get("label"), [str(s) for s in form.getlist("scopes")], days
        )
        issued = await issue(
            panel_of(request),
            guild.id,
            actor=f"user:{session.user_id}",
            label=label,
            scopes=scopes,
            expires_in_days=days,
        )
    except (InvalidInput, LimitExceeded) as exc:
        return await _page(request, error=exc.message, status=exc.status)
    # the secret waits in the session for the next page only: never in a URL, shown once
    await panel_of(request).sessions.put_flash(
        session.id, {"label": issued.token.name, "secret": issued.secret}
    )
    return _back_to_tokens(guild.id)


async def tokens_revoke(request: Request) -> Response:
    session, guild = manager_of(request)
    await revoke(
        panel_of(request), guild.id, f"user:{session.user_id}", request.path_params["token_id"]
    )
    return _back_to_tokens(guild.id)


async def tokens_api_list(request: Request) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    now = panel.clock()
    tokens = [token_json(t, now) for t in await panel.services.tokens.for_guild(guild.id)]
    return JSONResponse({"tokens": tokens})


async def tokens_api_create(request: Request) -> Response:
    session, guild = manager_of(request)
    payload = await read_json_object(request)
    unknown = sorted(k for k in payload if k not in ("label", "scopes", "expires_in_days"))
    if unknown:
        raise InvalidInput("Unknown fields: {names}.", names=", ".join(unknown)[:200])
    label, scopes, days = _validate(
        payload.get("label"), payload.get("scopes"), payload.get("expires_in_days")
    )
    panel = panel_of(request)
    issued = await issue(
        panel,
        guild.id,
        actor=f"user:{session.user_id}",
        label=label,
        scopes=scopes,
        expires_in_days=days,
    )
    body = token_json(issued.token, panel.clock())
    body["secret"] = issued.secret
    return JSONResponse(body, status_code=201)


async def tokens_api_revoke(request: Request) -> Response:
    session, guild = manager_of(request)
    await revoke(
        panel_of(request), guild.id, f"user:{session.user_id}", request.path_params["token_id"]
    )
    return Response(status_code=204)


async def _token_holder(request: Request, scope: str) -> GuildId:
    token = await api_token(request)
    require_scope(token, scope)
    return token.guild_id


def require_scope(token: ApiToken, scope: str) -> None:
    """Raise `PermissionDenied` (403) unless ``token`` has ``scope``."""
    if scope not in token.scopes:
        raise PermissionDenied("This API token lacks the '{scope}' scope.", scope=scope)


async def api_token(request: Request) -> ApiToken:
    """The live API token of the request, for the guild in its path; else 401/403."""
    panel = panel_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip() or len(secret) > 200:
        raise NotAuthenticated("Send an API token as 'Authorization: Bearer <token>'.")
    try:
        token = await panel.services.tokens.authenticate(secret.strip(), panel.clock())
    except PermissionDenied:
        raise NotAuthenticated("This API token is unknown, expired or revoked.") from None
    guild_id = guild_id_param(request)
    if token.guild_id != guild_id:
        raise PermissionDenied("This API token belongs to another guild.")
    return token


async def v1_queue(request: Request) -> Response:
    guild_id = await _token_holder(request, "queue:read")
    panel = panel_of(request)
    return JSONResponse(queue_view(await latest_snapshot(panel, guild_id), panel.clock()))


async def v1_settings(request: Request) -> Response:
    guild_id = await _token_holder(request, "settings:read")
    version, settings = await current_settings(panel_of(request), guild_id)
    body = settings.to_json()
    body.pop("webhook_export_url", None)
    return JSONResponse({"version": version, "settings": body})


def token_routes() -> list[Route]:
    base = "/api/control-panel/guilds/{guild_id:snowflake}/tokens"
    return [
        Route("/guilds/{guild_id:snowflake}/tokens", tokens_page, methods=["GET"], name="tokens"),
        Route("/guilds/{guild_id:snowflake}/tokens", tokens_create, methods=["POST"]),
        Route(
            "/guilds/{guild_id:snowflake}/tokens/{token_id}/revoke", tokens_revoke, methods=["POST"]
        ),
        Route(base, tokens_api_list, methods=["GET"], name="api_tokens"),
        Route(base, tokens_api_create, methods=["POST"]),
        Route(base + "/{token_id}", tokens_api_revoke, methods=["DELETE"]),
        Route(
            "/api/v1/guilds/{guild_id:snowflake}/queue", v1_queue, methods=["GET"], name="v1_queue"
        ),
        Route(
            "/api/v1/guilds/{guild_id:snowflake}/settings",
            v1_settings,
            methods=["GET"],
            name="v1_settings",
        ),
    ]
