"""The bot bridge under ``/api/bot/*``: the bot's bearer token (``BOT_BRIDGE_TOKEN``), compared in
constant time, guards every call.

* ``GET/PUT /api/bot/server-settings?guild_id=`` — read, or write with the version the edit was
  based on (409 with the current version when stale); ``updated_at`` says when it was stored.
* ``GET /api/bot/server-settings/changes?cursor=&timeout=[&erasures=]`` — long poll for bots
  without Redis: settings versions, and erasure notices (``"erased": true`` and ``"erased_at"``)
  for guilds the bots must forget; with ``erasures`` (the bot's place in the erasure record) the
  answer also carries the record's erasures after it (``"erasures"``, read from the shared store after the wait, so a
  bot following this replica learns of an erasure another replica ran; left out when the store
  cannot be read).
* ``GET /api/bot/erasures?since=`` — the erasure record after ``since`` (a bot catching up at
  start, after a reconnect, and while it follows Redis); a full page (`ERASURE_PAGE`): ask again.
* ``POST /api/bot/queue-sync`` — a queue snapshot for dashboards (at most 50 upcoming tracks kept),
  with ``erasures_applied``, how far the bot applied the erasure record: not kept (``"stored":
  false`` and the reason) when the plan has no queue sync, or the guild was erased after that.
* ``POST /api/bot/automation-actions`` — audit/automation events.
* ``POST /api/bot/events`` — guild join/leave and settings-applied notices.
* ``GET /api/bot/membership?guild_id=`` — whether online billing is on, and the guild page's URL
  to upgrade on (``upgrade_url``, ``null`` when billing is off).

The web playback controls' bridge routes (``/api/bot/playback-controls``, its ``/stream`` and
``/result``) are with the controls, in `vectobeat_panel.control_pages`.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vectobeat_adapters.telemetry_names import SETTINGS_APPLIED_DOCUMENT
from vectobeat_core.audit import AuditEvent
from vectobeat_core.erasures import ERASURE_PAGE
from vectobeat_core.errors import InvalidInput, NotAuthenticated, VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON, snowflake
from vectobeat_core.plans import Tier
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.records import GuildRecord
from vectobeat_core.telemetry import erasures_applied
from vectobeat_panel.billing import billing_of
from vectobeat_panel.changes import FeedEntry
from vectobeat_panel.queue_pages import keep_synced
from vectobeat_panel.settings_flow import (
    guild_plan,
    save_settings,
    settings_state,
)
from vectobeat_panel.settings_pages import parse_put, read_json_object
from vectobeat_panel.state import Panel, panel_of

__all__ = ["BRIDGE_ACTOR", "bridge_routes", "check_bridge_token"]

log = logging.getLogger("vectobeat.panel.bridge")

BRIDGE_ACTOR = "bot"
MAX_EVENTS = 100


def check_bridge_token(panel: Panel, header: str | None) -> None:
    """Raise `NotAuthenticated` unless ``header`` is ``Bearer <BOT_BRIDGE_TOKEN>``."""
    expected = panel.config.bot_bridge_token
    if expected is None or not expected.reveal():
        raise NotAuthenticated("The bot bridge is disabled: BOT_BRIDGE_TOKEN is not set.")
    scheme, _, supplied = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        supplied.strip().encode(), expected.reveal().encode()
    ):
        raise NotAuthenticated("A valid bot bridge token is required.")


def _bot(request: Request) -> Panel:
    panel = panel_of(request)
    check_bridge_token(panel, request.headers.get("authorization"))
    return panel


def _only(request: Request, allowed: tuple[str, ...]) -> None:
    unknown = sorted(k for k in request.query_params if k not in allowed)
    if unknown:
        raise InvalidInput("Unknown query parameter(s): {names}.", names=", ".join(unknown)[:200])


def _guild_param(request: Request) -> GuildId:
    _only(request, ("guild_id",))
    raw = request.query_params.get("guild_id")
    if raw is None:
        raise InvalidInput("'guild_id' is required.")
    return GuildId(snowflake(raw, "'guild_id'"))


async def _settings_body(panel: Panel, guild_id: GuildId) -> dict[str, JSON]:
    record = await panel.services.settings.get(guild_id)
    _, plan = await guild_plan(panel, guild_id)
    return settings_state(guild_id, plan=plan, record=record)


async def get_settings(request: Request) -> Response:
    panel = _bot(request)
    return JSONResponse(await _settings_body(panel, _guild_param(request)))


async def put_settings(request: Request) -> Response:
    panel = _bot(request)
    guild_id = _guild_param(request)
    version, patch = parse_put(await read_json_object(request))
    result = await save_settings(
        panel, guild_id, base_version=version, patch=patch, actor=BRIDGE_ACTOR
    )
    body = result.state()  # built from what was just stored: no re-read
    body["clamps"] = [c.to_json() for c in result.clamps]
    return JSONResponse(body)


async def membership(request: Request) -> Response:
    """What /membership links to: the guild page's "Plan & billing" when billing is on."""
    panel = _bot(request)
    guild_id = _guild_param(request)
    try:
        enabled = billing_of(request).enabled
    except InvalidInput:  # unreadable STRIPE_PRICES: billing cannot sell anything
        enabled = False
    url = f"{panel.config.panel_url.rstrip('/')}/guilds/{guild_id}#billing-heading"
    return JSONResponse({"billing": enabled, "upgrade_url": url if enabled else None})


def _number(request: Request, name: str, default: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput("'{name}' must be a number.", name=name) from None
    if not 0 <= value <= high:
        raise InvalidInput("'{name}' must be from 0 to {high}.", name=name, high=format(high, "g"))
    return value


def _change_json(entry: FeedEntry) -> dict[str, JSON]:
    """A settings version, or (``erased``) a guild the bots must forget."""
    body: dict[str, JSON] = {"guild_id": str(entry.guild_id), "version": entry.version}
    if entry.erased:
        body["erased"] = True
        if entry.erased_at is not None:
            body["erased_at"] = entry.erased_at
    return body


async def _erasures_after(panel: Panel, cursor: int) -> list[JSON]:
    """A page of the erasure record after ``cursor`` (the store every replica shares)."""
    found = await panel.services.compliance.erasures_since(cursor, ERASURE_PAGE)
    return [erasure.to_json() for erasure in found]


async def settings_changes(request: Request) -> Response:
    panel = _bot(request)
    _only(request, ("cursor", "timeout", "erasures"))
    cursor = int(_number(request, "cursor", 0, 2**53))
    limit = panel.options.long_poll_max
    timeout = _number(request, "timeout", min(25.0, limit), limit)
    batch = await panel.changes.wait(cursor, timeout)
    body: dict[str, JSON] = {
        "cursor": batch.cursor,
        "resync": batch.resync,
        "changes": [_change_json(c) for c in batch.changes],
    }
    if "erasures" in request.query_params:
        after = int(_number(request, "erasures", 0, 2**53))
        try:
            body["erasures"] = await _erasures_after(panel, after)
        except VectoBeatError as exc:  # the settings changes still go out; the bot retries
            log.warning("erasure_record_unreadable", extra={"error": exc.message})
    return JSONResponse(body)


async def erasures(request: Request) -> Response:
    """The erasure record after ``since``, one page."""
    panel = _bot(request)
    _only(request, ("since",))
    since = int(_number(request, "since", 0, 2**53))
    return JSONResponse({"erasures": await _erasures_after(panel, since)})


async def queue_sync(request: Request) -> Response:
    panel = _bot(request)
    _only(request, ())
    payload = await read_json_object(request)
    snapshot = QueueSnapshot.from_json(payload)
    reason = await keep_synced(panel, snapshot, erasures_applied(payload))
    if reason is not None:
        return JSONResponse({"stored": False, "reason": reason}, status_code=202)
    return JSONResponse({"stored": True, "version": snapshot.version}, status_code=202)


def _event_list(payload: dict[str, Any]) -> list[Any]:
    if set(payload) == {"events"}:
        events = payload["events"]
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
            raise InvalidInput(
                "'events' must be a list of 1 to {most} audit events.", most=MAX_EVENTS
            )
        return events
    return [payload]


async def automation_actions(request: Request) -> Response:
    panel = _bot(request)
    _only(request, ())
    events = [AuditEvent.from_json(raw) for raw in _event_list(await read_json_object(request))]
    for event in events:
        await panel.services.audit.append(event)
    return JSONResponse({"accepted": len(events)}, status_code=202)


async def bot_events(request: Request) -> Response:
    panel = _bot(request)
    _only(request, ())
    payload = await read_json_object(request)
    kind = payload.get("type")
    allowed = {"type", "guild_id", "name", "version"}
    unknown = sorted(str(k) for k in payload if k not in allowed)
    if unknown:
        raise InvalidInput("Unknown fields: {names}.", names=", ".join(unknown)[:200])
    guild_id = GuildId(snowflake(payload.get("guild_id"), "'guild_id'"))
    now = panel.clock()
    guilds = panel.services.guilds
    if kind == "guild_join":
        name = payload.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            raise InvalidInput("'name' must be the guild's name (1 to 100 characters).")
        existing = await guilds.get(guild_id)
        tier = existing.tier if existing is not None else Tier.FREE
        await guilds.upsert(GuildRecord(guild_id, name.strip(), tier, True, now))
    elif kind == "guild_remove":
        if await guilds.get(guild_id) is not None:
            await guilds.set_bot_present(guild_id, False, now)
    elif kind == "settings_applied":
        version = payload.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput("'version' must be the settings version the bot applied.")
        await panel.services.telemetry.put(
            SETTINGS_APPLIED_DOCUMENT.format(guild=guild_id),
            {"version": version, "at": now},
            86400.0,
        )
    else:
        raise InvalidInput("'type' must be guild_join, guild_remove or settings_applied.")
    return JSONResponse({"accepted": 1}, status_code=202)


def bridge_routes() -> list[Route]:
    return [
        Route("/api/bot/server-settings", get_settings, methods=["GET"], name="bot_settings"),
        Route("/api/bot/server-settings", put_settings, methods=["PUT"]),
        Route("/api/bot/server-settings/changes", settings_changes, methods=["GET"]),
        Route("/api/bot/erasures", erasures, methods=["GET"]),
        Route("/api/bot/queue-sync", queue_sync, methods=["POST"]),
        Route("/api/bot/automation-actions", automation_actions, methods=["POST"]),
        Route("/api/bot/events", bot_events, methods=["POST"]),
        Route("/api/bot/membership", membership, methods=["GET"]),
    ]
