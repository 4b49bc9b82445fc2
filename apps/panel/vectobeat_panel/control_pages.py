"""Web playback controls: the live queue page's buttons and forms, the same actions as JSON for
the page's script and for API tokens, and the bot's side of the hand-over.

* ``POST /guilds/{id}/queue/control`` — a form (CSRF field); answers with the queue page and the
  bot's answer (works without JavaScript).
* ``POST /api/control-panel/guilds/{id}/queue/control`` — JSON, session + ``X-CSRF-Token``.
* ``POST /api/v1/guilds/{id}/queue/control`` — JSON, an API token with the action's scope
  (``playback:control`` or ``queue:write``, `ControlAction.scope`).
* ``GET /api/bot/playback-controls?cursor=&timeout=`` — the bots' long poll (bridge token).
* ``GET /api/bot/playback-controls/stream?cursor=&timeout=`` — the same as one open stream (bridge
  token): a JSON line per batch, the moment it is submitted, and an empty batch every ``timeout``
  seconds to show the panel is alive. Bots use it so a poll is always parked: no reconnect per
  request on the way to the node, no request of their own competing with the one being applied.
* ``POST /api/bot/playback-controls/result`` — a bot's answer, with the guild's snapshot after it
  (kept like a queue sync, `keep_synced`, with the snapshot's ``erasures_applied``).

Only guild managers (the session's guilds) or the guild's own tokens reach a guild; the bot applies
the slash commands' DJ rules to the signed-in member. Every control is audited
(``playback_control``, with the actor and the outcome) before its answer is shown.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vectobeat_adapters.i18n import current_language
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.controls import ControlCommand, ControlRequest, ControlResult
from vectobeat_core.errors import InvalidInput, Unavailable
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.telemetry import erasures_applied
from vectobeat_panel.bridge import check_bridge_token
from vectobeat_panel.errors import dumps
from vectobeat_panel.queue_pages import keep_synced, render_queue
from vectobeat_panel.settings_pages import read_json_object
from vectobeat_panel.state import Panel, manager_of, panel_of
from vectobeat_panel.tokens import api_token, require_scope

__all__ = ["control_routes", "run_control"]

_log = logging.getLogger("vectobeat.panel.controls")

_FORM_FIELDS = ("action", "position", "position_ms", "volume", "target")
_RESULT_FIELDS = ("id", "outcome", "message", "status", "snapshot")


async def run_control(
    panel: Panel, guild_id: GuildId, command: ControlCommand, actor: str, member: UserId | None
) -> ControlResult:
    """Send ``command`` to the bot, wait for its answer and audit it."""
    request = ControlRequest(
        secrets.token_urlsafe(12), guild_id, command, actor, member, current_language()
    )
    result = await panel.controls.submit(request, panel.options.control_wait)
    summary = f"{actor} {command.action.value}: {result.message}"
    event = AuditEvent(
        AuditKind.PLAYBACK_CONTROL,
        panel.clock(),
        guild_id,
        actor,
        summary[:1000],
        {"command": command.to_json(), "outcome": result.outcome.value},
    )
    try:
        await panel.services.audit.append(event)
    except Unavailable as exc:
        _log.warning("control_not_audited", extra={"guild": guild_id, "error": exc.message})
        return ControlResult(
            result.outcome,
            f"{result.message} (The audit log could not record it: {exc.message})",
            result.status,
        )
    return result


def _answer(result: ControlResult) -> Response:
    body = result.to_json()
    if result.status >= 400:
        body["error"] = result.message  # the shape of every error answer
    return JSONResponse(body, status_code=result.status)


async def control_form(request: Request) -> Response:
    session, guild = manager_of(request)
    form = await request.form(max_files=0, max_fields=16)
    fields = {k: str(v) for k, v in form.items() if k in _FORM_FIELDS and str(v).strip() != ""}
    try:
        command = ControlCommand.parse(fields)
    except InvalidInput as exc:
        notice = {"outcome": "refused", "message": exc.message}
        return await render_queue(request, guild, notice=notice, status=400)
    panel = panel_of(request)
    result = await run_control(panel, guild.id, command, f"user:{session.user_id}", session.user_id)
    return await render_queue(request, guild, notice=result.to_json(), status=result.status)


async def control_api(request: Request) -> Response:
    session, guild = manager_of(request)
    command = ControlCommand.parse(await read_json_object(request))
    panel = panel_of(request)
    actor = f"user:{session.user_id}"
    return _answer(await run_control(panel, guild.id, command, actor, session.user_id))


async def control_v1(request: Request) -> Response:
    token = await api_token(request)
    command = ControlCommand.parse(await read_json_object(request))
    require_scope(token, command.action.scope)
    panel = panel_of(request)
    return _answer(
        await run_control(panel, token.guild_id, command, f"token:{token.token_id}", None)
    )


def _bot(request: Request) -> Panel:
    panel = panel_of(request)
    check_bridge_token(panel, request.headers.get("authorization"))
    return panel


def _number(request: Request, name: str, high: float) -> float:
    raw = request.query_params.get(name, "0") or "0"
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput("'{name}' must be a number.", name=name) from None
    if not 0 <= value <= high:
        raise InvalidInput("'{name}' must be from 0 to {high}.", name=name, high=format(high, "g"))
    return value


def _poll_args(request: Request) -> tuple[Panel, int, float]:
    """The bridge token checked; the poll's cursor and timeout."""
    panel = _bot(request)
    unknown = sorted(k for k in request.query_params if k not in ("cursor", "timeout"))
    if unknown:
        raise InvalidInput("Unknown query parameter(s): {names}.", names=", ".join(unknown)[:200])
    cursor = int(_number(request, "cursor", 2**53))
    return panel, cursor, _number(request, "timeout", panel.options.long_poll_max)


def _batch(cursor: int, requests: list[ControlRequest]) -> dict[str, Any]:
    return {"cursor": cursor, "requests": [r.to_json() for r in requests]}


async def bot_controls(request: Request) -> Response:
    panel, cursor, wait = _poll_args(request)
    return JSONResponse(_batch(*await panel.controls.wait(cursor, wait)))


async def bot_control_stream(request: Request) -> Response:
    panel, cursor, wait = _poll_args(request)
    if wait <= 0:
        raise InvalidInput("'timeout' must be more than 0 for a stream.")

    async def lines() -> AsyncIterator[str]:
        position = cursor
        while not panel.closing.is_set():
            position, requests = await panel.controls.wait(position, wait)
            yield dumps(_batch(position, requests)) + "\n"

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)


async def bot_result(request: Request) -> Response:
    panel = _bot(request)
    payload: dict[str, Any] = await read_json_object(request)
    unknown = sorted(k for k in payload if k not in _RESULT_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields: {names}.", names=", ".join(unknown)[:200])
    request_id = payload.get("id")
    if not isinstance(request_id, str) or not 1 <= len(request_id) <= 64:
        raise InvalidInput("'id' must be the control request's id.")
    result = ControlResult.from_json(payload)
    raw_snapshot = payload.get("snapshot")
    snapshot = None if raw_snapshot is None else QueueSnapshot.from_json(raw_snapshot)
    applied = None if raw_snapshot is None else erasures_applied(raw_snapshot)
    guild_id = panel.controls.waiting(request_id)
    if guild_id is None:
        return JSONResponse({"accepted": False, "reason": "No longer waited for."}, status_code=202)
    if snapshot is not None:
        if snapshot.guild_id != guild_id:
            raise InvalidInput("The snapshot is of another guild than the request.")
        # before the answer: the page shows the new state
        await keep_synced(panel, snapshot, applied)
    accepted = panel.controls.answer(request_id, result) is not None
    return JSONResponse({"accepted": accepted}, status_code=202)


def control_routes() -> list[Route]:
    guild = "/guilds/{guild_id:snowflake}"
    return [
        Route(f"{guild}/queue/control", control_form, methods=["POST"], name="queue_control"),
        Route(f"/api/control-panel{guild}/queue/control", control_api, methods=["POST"]),
        Route(f"/api/v1{guild}/queue/control", control_v1, methods=["POST"], name="v1_control"),
        Route("/api/bot/playback-controls", bot_controls, methods=["GET"]),
        Route("/api/bot/playback-controls/stream", bot_control_stream, methods=["GET"]),
        Route("/api/bot/playback-controls/result", bot_result, methods=["POST"]),
    ]
