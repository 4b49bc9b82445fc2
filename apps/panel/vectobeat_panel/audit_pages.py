"""The audit and automation log of a guild: filter by kind and time, paginated, exportable as
JSONL (``/guilds/{id}/audit.jsonl``), with a JSON twin under ``/api/control-panel``."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import attrs
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vectobeat_adapters.i18n import N_, gettext
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import whole_number
from vectobeat_panel.errors import dumps
from vectobeat_panel.state import Panel, manager_of, panel_of, render
from vectobeat_panel.wording import KIND_LABELS

__all__ = ["KIND_GROUPS", "KIND_LABELS", "AuditQuery", "audit_routes", "parse_query"]

PER_PAGE = 50
MAX_SCAN = 5000
"""How many of a guild's newest events a filter looks through."""

KIND_GROUPS: dict[str, tuple[str, tuple[AuditKind, ...]]] = {
    "automation": (
        N_("Everything the automation engine did"),
        (AuditKind.AUTOMATION_ACTION, AuditKind.THROTTLED_COMMAND),
    ),
}
"""``kind`` filter values that stand for several kinds: value -> (label, kinds)."""


@attrs.frozen
class AuditQuery:
    kinds: tuple[AuditKind, ...] | None
    """``None``: every kind."""
    since: float | None
    until: float | None
    page: int
    per_page: int = PER_PAGE


def _time(name: str, raw: str | None) -> float | None:
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                "'{name}' must be a date and time like 2026-01-31T18:00 or epoch seconds.",
                name=name,
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        value = parsed.timestamp()
    if not math.isfinite(value) or value < 0 or value > 1e11:
        raise InvalidInput("'{name}' is out of range.", name=name)
    return value


def _page_param(name: str, raw: str | None, default: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    return whole_number(raw, f"'{name}'", low=1, high=high)


def parse_query(params: QueryParams) -> AuditQuery:
    """Read kind/since/until/page/per_page; anything else is refused by name."""
    unknown = sorted(k for k in params if k not in ("kind", "since", "until", "page", "per_page"))
    if unknown:
        raise InvalidInput("Unknown filter(s): {names}.", names=", ".join(unknown)[:200])
    raw_kind = params.get("kind") or None
    kinds: tuple[AuditKind, ...] | None = None
    if raw_kind in KIND_GROUPS:
        kinds = KIND_GROUPS[raw_kind][1]
    elif raw_kind is not None:
        try:
            kinds = (AuditKind(raw_kind),)
        except ValueError:
            choices = [*KIND_GROUPS, *(k.value for k in AuditKind)]
            raise InvalidInput(
                "'kind' must be one of {choices}.", choices=", ".join(choices)
            ) from None
    return AuditQuery(
        kinds=kinds,
        since=_time("since", params.get("since")),
        until=_time("until", params.get("until")),
        page=_page_param("page", params.get("page"), 1, 10_000),
        per_page=_page_param("per_page", params.get("per_page"), PER_PAGE, 500),
    )


async def matching(panel: Panel, guild: GuildId, query: AuditQuery) -> list[AuditEvent]:
    kinds = None if query.kinds is None else list(query.kinds)
    events = await panel.services.audit.recent(guild, limit=MAX_SCAN, kinds=kinds)
    return [
        e
        for e in events
        if (query.since is None or e.at >= query.since)
        and (query.until is None or e.at <= query.until)
    ]


def _row(event: AuditEvent) -> dict[str, Any]:
    row = dict(event.to_json())
    row["label"] = gettext(KIND_LABELS[event.kind])
    row["when"] = datetime.fromtimestamp(event.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return row


async def _page_data(request: Request) -> dict[str, Any]:
    _, guild = manager_of(request)
    query = parse_query(request.query_params)
    events = await matching(panel_of(request), guild.id, query)
    pages = max(1, math.ceil(len(events) / query.per_page))
    start = (query.page - 1) * query.per_page
    return {
        "guild": guild,
        "query": query,
        "events": [_row(e) for e in events[start : start + query.per_page]],
        "page": query.page,
        "pages": pages,
        "total": len(events),
    }


async def audit_page(request: Request) -> Response:
    data = await _page_data(request)
    data["kinds"] = [(value, gettext(label)) for value, (label, _) in KIND_GROUPS.items()] + [
        (k.value, gettext(KIND_LABELS[k])) for k in AuditKind
    ]
    data["filters"] = {
        k: v for k, v in request.query_params.items() if k in ("kind", "since", "until")
    }
    return render(request, "audit.html", data)


async def audit_api(request: Request) -> Response:
    data = await _page_data(request)
    return JSONResponse(
        {
            "events": data["events"],
            "page": data["page"],
            "pages": data["pages"],
            "total": data["total"],
        }
    )


async def audit_export(request: Request) -> Response:
    _, guild = manager_of(request)
    query = parse_query(request.query_params)
    events = await matching(panel_of(request), guild.id, query)

    async def lines() -> AsyncIterator[str]:
        for event in events:
            yield dumps(event.to_json()) + "\n"

    filename = f"vectobeat-audit-{guild.id}.jsonl"
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)


def audit_routes() -> list[Route]:
    return [
        Route("/guilds/{guild_id:snowflake}/audit", audit_page, methods=["GET"], name="audit"),
        Route("/guilds/{guild_id:snowflake}/audit.jsonl", audit_export, methods=["GET"]),
        Route(
            "/api/control-panel/guilds/{guild_id:snowflake}/audit",
            audit_api,
            methods=["GET"],
            name="api_audit",
        ),
    ]
