"""The guild's "Compliance" page: request a data export or the erasure of the server's data, see
each request's progress (the page polls ``…/compliance/status``), confirm an erasure by typing the
server's name; the signed, expiring download link that export mails carry; and the staff's view of
every guild's requests under ``/staff/compliance`` (filtered by status, kind and guild)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vectobeat_adapters.compliance.desk import ComplianceDesk, DeskOptions
from vectobeat_adapters.compliance.vault import ArchiveVault
from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.i18n import error_text, gettext
from vectobeat_adapters.mail import SmtpMailer, smtp_from_environment
from vectobeat_adapters.services import Services, keyring_of
from vectobeat_adapters.storage_rules import COMPLIANCE_KINDS, COMPLIANCE_STATUSES
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import InvalidInput, NotEnabled, NotFound, StorageUnavailable
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.jsontypes import snowflake
from vectobeat_core.records import ComplianceKind, ComplianceRequest, ComplianceStatus
from vectobeat_panel.bridge import check_bridge_token
from vectobeat_panel.care_pages import staff_only
from vectobeat_panel.settings_pages import read_json_object
from vectobeat_panel.state import Panel, manager_of, panel_of, render
from vectobeat_panel.wording import status_text

__all__ = ["compliance_desk", "compliance_routes", "desk_of", "request_json"]


def compliance_desk(
    config: AppConfig,
    services: Services,
    secret: str,
    on_erased: Callable[[Erasure], Awaitable[None]] | None = None,
) -> ComplianceDesk:
    """The panel's desk: archives under ``COMPLIANCE_DIR``, mail by SMTP (settings re-read on
    every send), links to ``PANEL_URL``; ``on_erased`` tells the bots of an erasure."""
    return ComplianceDesk(
        services,
        ArchiveVault(Path(config.compliance_dir), keyring_of(config)),
        SmtpMailer(smtp_from_environment(config)),
        link_base=config.panel_url,
        secret=secret.encode(),
        options=DeskOptions(
            attachment_max_bytes=config.compliance_attachment_max_bytes,
            link_ttl=config.compliance_link_ttl,
        ),
        on_erased=on_erased,
    )


def desk_of(panel: Panel) -> ComplianceDesk:
    if panel.compliance is None:
        raise StorageUnavailable("The compliance desk is not open yet; try again shortly.")
    return panel.compliance


def request_json(request: ComplianceRequest) -> dict[str, Any]:
    """A request as the status API and the bridge show it (the address is not repeated)."""
    return {
        "request_id": request.request_id,
        "kind": request.kind,
        "status": request.status,
        "detail": request.detail,
        "created_at": request.created_at,
        "completed_at": request.completed_at,
    }


async def _page(
    request: Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    _, guild = manager_of(request)
    desk = desk_of(panel_of(request))
    context: dict[str, Any] = {
        "guild": guild,
        "requests": list(reversed(await desk.requests(guild.id))),
        "notice": notice,
        "error": error,
    }
    return render(request, "compliance.html", context, status)


async def compliance_page(request: Request) -> Response:
    return await _page(request)


async def compliance_request(request: Request) -> Response:
    """Open an export or an erasure request from the page's form."""
    session, guild = manager_of(request)
    form = await request.form(max_files=0, max_fields=8)
    chosen = str(form.get("kind", ""))
    if chosen not in ("export", "delete"):
        return await _page(request, error=gettext("Choose an export or an erasure."), status=400)
    kind: ComplianceKind = "export" if chosen == "export" else "delete"
    try:
        opened = await desk_of(panel_of(request)).request(
            guild.id, kind, session.user_id, str(form.get("email", ""))
        )
    except (InvalidInput, NotEnabled) as exc:
        return await _page(request, error=error_text(exc), status=exc.status)
    if kind == "export":
        notice = gettext("Export {request} is being built; it is mailed when ready.")
    else:
        notice = gettext(
            "Erasure request {request} waits for its confirmation: type the server's name below "
            "(a confirmation token was mailed too)."
        )
    return await _page(request, notice=notice.format(request=opened.request_id))


async def compliance_confirm(request: Request) -> Response:
    """Confirm an erasure by typing the server's name."""
    _, guild = manager_of(request)
    form = await request.form(max_files=0, max_fields=8)
    try:
        request_id = int(str(request.path_params["request_id"]))
        confirmed = await desk_of(panel_of(request)).confirm_delete(
            guild.id,
            request_id,
            guild_name=guild.name,
            typed_name=str(form.get("typed_name", "")),
        )
    except (InvalidInput, NotFound) as exc:
        return await _page(request, error=error_text(exc), status=exc.status)
    notice = gettext("Erasure {request} confirmed; erasing now.").format(
        request=confirmed.request_id
    )
    return await _page(request, notice=notice)


async def compliance_status(request: Request) -> Response:
    """The guild's requests with their progress, newest first, each status also in the reader's
    language (the page polls it)."""
    _, guild = manager_of(request)
    found = await desk_of(panel_of(request)).requests(guild.id)
    shown = [{**request_json(r), "status_text": status_text(r.status)} for r in reversed(found)]
    return JSONResponse({"requests": shown})


async def compliance_download(request: Request) -> Response:
    """The archive a mailed link names, while the link is valid (its signature and expiry)."""
    panel = panel_of(request)
    data = await desk_of(panel).download(
        int(str(request.path_params["request_id"])),
        request.query_params.get("expires", ""),
        request.query_params.get("signature", ""),
        panel.services.clock.now(),
    )
    return Response(
        data,
        media_type="application/zip",
        headers={
            "content-disposition": 'attachment; filename="vectobeat-export.zip"',
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
        },
    )


def _bridge_guild(request: Request) -> tuple[Panel, GuildId]:
    """The bridge's bearer token checked, and the ``guild_id`` query parameter."""
    panel = panel_of(request)
    check_bridge_token(panel, request.headers.get("authorization"))
    raw = request.query_params.get("guild_id")
    if raw is None:
        raise InvalidInput("'guild_id' is required.")
    return panel, GuildId(snowflake(raw, "'guild_id'"))


def _text(body: dict[str, Any], name: str, limit: int = 300) -> str:
    value = body.get(name)
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(
            "'{name}' must be text of at most {limit} characters.", name=name, limit=limit
        )
    return value


async def bridge_requests(request: Request) -> Response:
    """``GET``: the guild's requests; ``POST`` ``{kind, email, user_id}``: open one (the bot has
    checked that the user manages the guild)."""
    panel, guild = _bridge_guild(request)
    desk = desk_of(panel)
    if request.method == "GET":
        found = await desk.requests(guild)
        return JSONResponse({"requests": [request_json(r) for r in reversed(found)]})
    body = await read_json_object(request)
    chosen = _text(body, "kind", 10)
    if chosen not in ("export", "delete"):
        raise InvalidInput("'kind' must be export or delete.")
    kind: ComplianceKind = "export" if chosen == "export" else "delete"
    user = UserId(snowflake(body.get("user_id"), "'user_id'"))
    opened = await desk.request(guild, kind, user, _text(body, "email"))
    return JSONResponse(request_json(opened), status_code=201)


async def bridge_confirm(request: Request) -> Response:
    """``POST`` ``{request_id, token}``: confirm an erasure with its mailed token."""
    panel, guild = _bridge_guild(request)
    body = await read_json_object(request)
    request_id = body.get("request_id")
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise InvalidInput("'request_id' must be a request number.")
    try:
        confirmed = await desk_of(panel).confirm_delete(
            guild, request_id, guild_name="", token=_text(body, "token", 100)
        )
    except NotFound as exc:  # the bot's own input, not a missing bridge route
        raise InvalidInput(exc.message) from None
    return JSONResponse(request_json(confirmed))


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    """A filter from the query string: empty is none, anything else must be one of ``allowed``."""
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(
            "'{name}' must be one of {choices}, not {value}.",
            name=name,
            choices=", ".join(allowed),
            value=repr(value[:40]),
        )
    return value


async def staff_compliance(request: Request) -> Response:
    """Every guild's compliance requests, newest first, for staff only (403 otherwise)."""
    staff_only(request)
    status = _choice(request, "status", COMPLIANCE_STATUSES)
    kind = _choice(request, "kind", COMPLIANCE_KINDS)
    raw_guild = request.query_params.get("guild", "").strip()
    guild = GuildId(snowflake(raw_guild, "'guild'")) if raw_guild else None
    found = await desk_of(panel_of(request)).requests(guild, cast(ComplianceStatus | None, status))
    items = [r for r in reversed(found) if kind in (None, r.kind)]
    filters = {"status": status or "", "kind": kind or "", "guild": raw_guild}
    context = {"items": items, "filters": filters, "statuses": COMPLIANCE_STATUSES}
    return render(request, "staff_compliance.html", context)


def compliance_routes() -> list[Route]:
    base = "/guilds/{guild_id:snowflake}/compliance"
    return [
        Route(base, compliance_page, methods=["GET"], name="compliance"),
        Route(base, compliance_request, methods=["POST"]),
        Route(base + "/status", compliance_status, methods=["GET"]),
        Route(base + "/{request_id:int}/confirm", compliance_confirm, methods=["POST"]),
        Route("/compliance/download/{request_id:int}", compliance_download, methods=["GET"]),
        Route("/staff/compliance", staff_compliance, methods=["GET"], name="staff_compliance"),
        Route("/api/bot/compliance", bridge_requests, methods=["GET", "POST"]),
        Route("/api/bot/compliance/confirm", bridge_confirm, methods=["POST"]),
    ]
