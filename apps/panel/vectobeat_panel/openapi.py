"""The OpenAPI 3.1 document of every JSON API, served at ``/api/openapi.json``.

Written by hand from the handlers' contracts, except the settings object, whose schema comes from
the core's settings rules (`vectobeat_core.settings.settings_json_schema`); a test checks that its paths and methods are exactly
the app's ``/api/`` routes, and a schemathesis run fuzzes the APIs against it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vectobeat_core.audit import MAX_ACTOR_LENGTH, MAX_SUMMARY_LENGTH, AuditKind
from vectobeat_core.controls import MAX_POSITION, ControlAction, ControlOutcome
from vectobeat_core.jsontypes import MAX_SNOWFLAKE
from vectobeat_core.setting_rules import SNOWFLAKE_SCHEMA
from vectobeat_core.settings import settings_json_schema
from vectobeat_panel.tokens import EXPIRY_DAYS, SCOPES

__all__ = ["document", "openapi_routes"]

Schema = dict[str, Any]

SNOWFLAKE: Schema = SNOWFLAKE_SCHEMA
ERROR: Schema = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
}
SETTINGS: Schema = settings_json_schema()
"""Generated from the core's settings rules (the limits `parse_settings` enforces)."""
SETTINGS_PUT: Schema = {
    "type": "object",
    "required": ["version", "settings"],
    "additionalProperties": False,
    "properties": {"version": {"type": "integer", "minimum": 0}, "settings": SETTINGS},
}
SETTINGS_OUT: Schema = {
    "type": "object",
    "properties": {
        "version": {"type": "integer"},
        "plan": {"type": "string"},
        "settings": SETTINGS,
        "clamps": {"type": "array", "items": {"type": "object"}},
    },
}
AUDIT_EVENT: Schema = {
    "type": "object",
    "required": ["kind", "at", "summary"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": [k.value for k in AuditKind]},
        "at": {"type": "number", "minimum": 0},
        "guild_id": {"oneOf": [SNOWFLAKE, {"type": "null"}]},
        "actor": {"type": ["string", "null"], "maxLength": MAX_ACTOR_LENGTH},
        "summary": {"type": "string", "minLength": 1, "maxLength": MAX_SUMMARY_LENGTH},
        "data": {"type": "object"},
    },
}
JSON_OBJECT: Schema = {"type": "object"}
SYNCED_SNAPSHOT: Schema = {
    "type": "object",
    "description": (
        "A queue snapshot (the bot's snapshot format) and how far the bot had applied the "
        "erasure record for the guild when it took it: not kept when the guild's latest "
        "erasure is placed after that, or the field is left out after an erasure."
    ),
    "properties": {"erasures_applied": {"type": "integer", "minimum": 0}},
}
POSITION: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_POSITION}
CONTROL: Schema = {
    "type": "object",
    "required": ["action"],
    "additionalProperties": False,
    "properties": {
        "action": {"enum": [a.value for a in ControlAction]},
        "position_ms": {"type": "integer", "minimum": 0},
        "position": {"oneOf": [POSITION, {"type": "string", "pattern": "^[0-9:]{1,12}$"}]},
        "target": POSITION,
        "volume": {"type": "integer", "minimum": 0, "maximum": 200},
    },
}
CONTROL_RESULT: Schema = {
    "type": "object",
    "required": ["outcome", "message", "status"],
    "properties": {
        "outcome": {"enum": [o.value for o in ControlOutcome]},
        "message": {"type": "string"},
        "status": {"type": "integer"},
        "error": {"type": "string"},
    },
}
CONTROL_SUMMARY = (
    "A playback control (pause, resume, skip, previous, seek, volume, remove, move, clear, "
    "shuffle) applied by the bot with the DJ rules; 200 once durable, 503 with outcome "
    "'unknown' or 'not_saved' when that cannot be said."
)


def _responses(ok: int, schema: Schema, *extra: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        str(ok): {"description": "OK", "content": {"application/json": {"schema": schema}}}
    }
    for status in (400, 401, 403, 404, 409, 413, 429, *extra):
        out[str(status)] = {
            "description": "Error",
            "content": {"application/json": {"schema": ERROR}},
        }
    return out


def _op(
    summary: str,
    security: str | None,
    *,
    ok: int = 200,
    schema: Schema = JSON_OBJECT,
    params: list[dict[str, Any]] | None = None,
    body: Schema | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": _responses(ok, schema)}
    if security == "session":
        operation["security"] = [{"session": []}]
    elif security == "session+csrf":
        operation["security"] = [{"session": [], "csrf": []}]
    elif security is not None:
        operation["security"] = [{security: []}]
    else:
        operation["security"] = []
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def _path(name: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: Schema, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


GUILD = _path("guild_id", {"type": "integer", "minimum": 1, "maximum": MAX_SNOWFLAKE})
TOKEN_ID = _path("token_id", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"})
BOT_GUILD = _query("guild_id", SNOWFLAKE, required=True)


def document() -> dict[str, Any]:
    """The OpenAPI document (a fresh dict each call)."""
    cp = "/api/control-panel/guilds/{guild_id}"
    paths: dict[str, dict[str, Any]] = {
        "/api/openapi.json": {"get": _op("This document.", None)},
        "/api/health": {"get": _op("Whether the panel and its stores answer.", None)},
        "/api/control-panel/guilds": {"get": _op("Guilds the signed-in user manages.", "session")},
        "/api/control-panel/lavalink/nodes": {
            "get": _op(
                "Per node: name, region, status, players, latency, last check, last failover.",
                "session",
            )
        },
        f"{cp}/settings": {
            "get": _op("A guild's settings.", "session", schema=SETTINGS_OUT, params=[GUILD]),
            "put": _op(
                "Save settings based on a version (409 when stale); clamps are reported.",
                "session+csrf",
                schema=SETTINGS_OUT,
                params=[GUILD],
                body=SETTINGS_PUT,
            ),
        },
        f"{cp}/routing": {
            "get": _op(
                "Requested vs effective region, where it plays now and why, plan rule, nodes by region.",
                "session",
                params=[GUILD],
            )
        },
        f"{cp}/queue": {"get": _op("The live queue.", "session", params=[GUILD])},
        f"{cp}/audit": {
            "get": _op(
                "Audit log, filtered and paginated.",
                "session",
                params=[
                    GUILD,
                    _query("kind", {"enum": [k.value for k in AuditKind]}),
                    _query("since", {"type": "string"}),
                    _query("until", {"type": "string"}),
                    _query("page", {"type": "integer", "minimum": 1, "maximum": 10000}),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 500}),
                ],
            )
        },
        f"{cp}/tokens": {
            "get": _op("API tokens of the guild (never their secrets).", "session", params=[GUILD]),
            "post": _op(
                "Create an API token; the secret is in this response only.",
                "session+csrf",
                ok=201,
                params=[GUILD],
                body={
                    "type": "object",
                    "required": ["label", "scopes"],
                    "additionalProperties": False,
                    "properties": {
                        "label": {"type": "string", "minLength": 1, "maxLength": 60},
                        "scopes": {"type": "array", "items": {"enum": list(SCOPES)}, "minItems": 1},
                        "expires_in_days": {"enum": [*EXPIRY_DAYS, None]},
                    },
                },
            ),
        },
        f"{cp}/tokens/{{token_id}}": {
            "delete": _op("Revoke an API token.", "session+csrf", ok=204, params=[GUILD, TOKEN_ID])
        },
        f"{cp}/queue/control": {
            "post": _op(
                CONTROL_SUMMARY, "session+csrf", schema=CONTROL_RESULT, params=[GUILD], body=CONTROL
            )
        },
        "/api/v1/guilds/{guild_id}/queue/control": {
            "post": _op(
                CONTROL_SUMMARY + " Scope playback:control, or queue:write for queue edits.",
                "apiToken",
                schema=CONTROL_RESULT,
                params=[GUILD],
                body=CONTROL,
            )
        },
        "/api/bot/playback-controls": {
            "get": _op(
                "Long poll: web playback controls after `cursor` for the bot to apply.",
                "bot",
                params=[
                    _query("cursor", {"type": "integer", "minimum": 0}),
                    _query("timeout", {"type": "number", "minimum": 0, "maximum": 30}),
                ],
            )
        },
        "/api/bot/playback-controls/stream": {
            "get": _op(
                "The long poll as one open stream (application/x-ndjson): a line "
                '`{"cursor": n, "requests": [...]}` per batch as it is submitted, an empty batch '
                "every `timeout` seconds while idle.",
                "bot",
                params=[
                    _query("cursor", {"type": "integer", "minimum": 0}),
                    _query("timeout", {"type": "number", "exclusiveMinimum": 0, "maximum": 30}),
                ],
            )
        },
        "/api/bot/playback-controls/result": {
            "post": _op(
                "The bot's answer to a playback control, with the guild's queue snapshot.",
                "bot",
                ok=202,
                body={
                    "type": "object",
                    "required": ["id", "outcome", "message"],
                    "properties": {
                        "id": {"type": "string", "minLength": 1, "maxLength": 64},
                        "outcome": {"enum": [o.value for o in ControlOutcome]},
                        "message": {"type": "string", "minLength": 1, "maxLength": 2000},
                        "status": {"type": "integer"},
                        "snapshot": SYNCED_SNAPSHOT,
                    },
                },
            )
        },
        "/api/v1/guilds/{guild_id}/queue": {
            "get": _op("The guild's queue (scope queue:read).", "apiToken", params=[GUILD])
        },
        "/api/v1/guilds/{guild_id}/settings": {
            "get": _op("The guild's settings (scope settings:read).", "apiToken", params=[GUILD])
        },
        "/api/bot/server-settings": {
            "get": _op(
                "Settings for the bot, with `updated_at` (when stored; null: never).",
                "bot",
                schema=SETTINGS_OUT,
                params=[BOT_GUILD],
            ),
            "put": _op(
                "Bot-side edit with its base version (409 when stale).",
                "bot",
                schema=SETTINGS_OUT,
                params=[BOT_GUILD],
                body=SETTINGS_PUT,
            ),
        },
        "/api/bot/server-settings/changes": {
            "get": _op(
                "Long poll: settings versions saved after `cursor`, and erasure notices "
                '(`"erased": true` and `erased_at`: forget the guild); with `erasures` (the bot\'s place in the '
                "erasure record) also `erasures`: the record's erasures after it.",
                "bot",
                params=[
                    _query("cursor", {"type": "integer", "minimum": 0}),
                    _query("timeout", {"type": "number", "minimum": 0, "maximum": 30}),
                    _query("erasures", {"type": "integer", "minimum": 0}),
                ],
            )
        },
        "/api/bot/erasures": {
            "get": _op(
                "The erasure record after `since`, oldest first: `erasures`, each with `seq`, "
                "`guild_id` and `erased_at`; a full page (100): ask again after its last `seq`.",
                "bot",
                params=[_query("since", {"type": "integer", "minimum": 0})],
            )
        },
        "/api/bot/queue-sync": {
            "post": _op(
                "A queue snapshot for dashboards; 'stored': false with the reason when it is "
                "not kept (no queue sync in the plan, or sent before the bot applied the "
                "guild's erasure).",
                "bot",
                ok=202,
                body=SYNCED_SNAPSHOT,
            )
        },
        "/api/bot/automation-actions": {
            "post": _op(
                "Audit/automation events (one, or {events: [...]}).",
                "bot",
                ok=202,
                body={
                    "oneOf": [
                        AUDIT_EVENT,
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {"events": {"type": "array", "items": AUDIT_EVENT}},
                        },
                    ]
                },
            )
        },
        "/api/bot/events": {
            "post": _op(
                "Guild join/leave and settings-applied notices.",
                "bot",
                ok=202,
                body={
                    "type": "object",
                    "required": ["type", "guild_id"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"enum": ["guild_join", "guild_remove", "settings_applied"]},
                        "guild_id": SNOWFLAKE,
                        "name": {"type": "string", "minLength": 1, "maxLength": 100},
                        "version": {"type": "integer", "minimum": 1},
                    },
                },
            )
        },
        "/api/bot/membership": {
            "get": _op(
                "Whether online billing is on, and the guild page's URL to upgrade on.",
                "bot",
                params=[BOT_GUILD],
                schema={
                    "type": "object",
                    "required": ["billing", "upgrade_url"],
                    "properties": {
                        "billing": {"type": "boolean"},
                        "upgrade_url": {"type": ["string", "null"]},
                    },
                },
            )
        },
        "/api/bot/compliance": {
            "get": _op("The guild's compliance requests.", "bot", params=[BOT_GUILD]),
            "post": _op(
                "Open a compliance request (export or erasure) for a member who manages the guild.",
                "bot",
                ok=201,
                params=[BOT_GUILD],
                body={
                    "type": "object",
                    "required": ["kind", "email", "user_id"],
                    "properties": {
                        "kind": {"enum": ["export", "delete"]},
                        "email": {"type": "string", "maxLength": 300},
                        "user_id": SNOWFLAKE,
                    },
                },
            ),
        },
        "/api/bot/compliance/confirm": {
            "post": _op(
                "Confirm an erasure with the token mailed to its requester.",
                "bot",
                params=[BOT_GUILD],
                body={
                    "type": "object",
                    "required": ["request_id", "token"],
                    "properties": {
                        "request_id": {"type": "integer", "minimum": 1},
                        "token": {"type": "string", "minLength": 1, "maxLength": 100},
                    },
                },
            )
        },
        "/api/webhooks/stripe": {
            "post": _op(
                "Stripe webhook (signature-verified, idempotent by event id).",
                "stripeSignature",
                body=JSON_OBJECT,
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "VectoBeat control panel", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "vb_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
                "bot": {"type": "http", "scheme": "bearer"},
                "apiToken": {"type": "http", "scheme": "bearer"},
                "stripeSignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"},
            }
        },
    }


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document())


def openapi_routes() -> list[Route]:
    return [Route("/api/openapi.json", openapi_json, methods=["GET"], name="openapi")]
