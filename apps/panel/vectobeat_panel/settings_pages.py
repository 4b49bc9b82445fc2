"""The server settings editor: every field grouped, the plan shown, options above the plan visible
but disabled with the tier that unlocks them; a save shows what was clamped and why, and a save
based on an old version is refused with the current values. Also the JSON twin under
``/api/control-panel/guilds/{id}/settings``."""

from __future__ import annotations

import re
from typing import Any

import attrs
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vectobeat_adapters.i18n import N_, error_text, problem_texts
from vectobeat_adapters.i18n import gettext as _
from vectobeat_core.errors import InvalidInput, InvalidSettings, StaleVersion
from vectobeat_core.jsontypes import MAX_JSON_DEPTH, parse_json
from vectobeat_core.messages import Phrase
from vectobeat_core.plans import (
    ANALYTICS_LEVELS,
    AUTOMATION_LEVELS,
    PLAYBACK_QUALITIES,
    SOURCE_ACCESS_LEVELS,
    Plan,
    PlanCatalogue,
    Tier,
)
from vectobeat_core.regions import Region
from vectobeat_core.settings import (
    ANNOUNCEMENT_STYLES,
    SETTING_HELP,
    SETTING_LABELS,
    SETTINGS_FIELDS,
    WEBHOOK_EVENTS,
    ServerSettings,
    field_requirements,
)
from vectobeat_panel.settings_flow import SaveResult, current_settings, guild_plan, save_settings
from vectobeat_panel.state import manager_of, panel_of, render

__all__ = ["GROUPS", "FieldView", "form_patch", "settings_routes"]

MAX_FIELD_CHARS = 4096


@attrs.frozen
class FieldView:
    """How one settings field is shown: its input kind, label, help and choices."""

    name: str
    kind: str
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    @property
    def label(self) -> str:
        """The setting's name for people (the core's `SETTING_LABELS`), in the reader's
        language."""
        return _(SETTING_LABELS[self.name])

    @property
    def help(self) -> str:
        """What the setting does, in one line (the core's `SETTING_HELP`, also in the docs), in
        the reader's language."""
        return _(SETTING_HELP[self.name])


GROUPS: tuple[tuple[str, tuple[FieldView, ...]], ...] = (
    (
        N_("Queue"),
        (
            FieldView("queue_limit", "number", low=1),
            FieldView("collaborative_queue", "bool"),
            FieldView("member_track_limit", "number", low=0),
            FieldView("dj_role_ids", "roles"),
            FieldView("default_volume", "number", low=0, high=200),
            FieldView("autoplay", "bool"),
            FieldView("stay_connected", "bool"),
            FieldView("vote_skip_percent", "number", low=0, high=100),
        ),
    ),
    (
        N_("Announcements and branding"),
        (
            FieldView("announcement_style", "select", ANNOUNCEMENT_STYLES),
            FieldView("branding_color", "color"),
        ),
    ),
    (
        N_("Routing and quality"),
        (
            FieldView("region", "select", tuple(r.value for r in Region)),
            FieldView("source_access", "select", SOURCE_ACCESS_LEVELS),
            FieldView("playback_quality", "select", PLAYBACK_QUALITIES),
        ),
    ),
    (
        N_("Analytics and automation"),
        (
            FieldView("analytics_mode", "select", ANALYTICS_LEVELS),
            FieldView("automation_level", "select", AUTOMATION_LEVELS),
            FieldView("automation_window_hours", "number", low=0),
        ),
    ),
    (
        N_("Webhook exports"),
        (
            FieldView("webhook_export_url", "url"),
            FieldView("webhook_export_events", "multi", WEBHOOK_EVENTS),
        ),
    ),
)
_VIEWS = {view.name: view for _, views in GROUPS for view in views}
assert set(_VIEWS) == set(SETTINGS_FIELDS), "every settings field must be shown"
_CAPS = {"queue_limit": "queue_cap", "automation_window_hours": "automation_window_hours"}
_NUMBER = re.compile(r"-?[0-9]{1,9}")


def _tier_for(field: str, value: object, catalogue: PlanCatalogue) -> Tier | None:
    try:
        return field_requirements(field, value, catalogue)
    except InvalidInput:
        return None


def field_context(view: FieldView, plan: Plan, catalogue: PlanCatalogue) -> dict[str, Any]:
    """Choices with their lock state, and a hint about the plan's ceiling for this field."""
    options: list[dict[str, Any]] = []
    for choice in view.choices:
        probe: object = [choice] if view.kind == "multi" else choice
        tier = _tier_for(view.name, probe, catalogue)
        locked = tier is None or tier > plan.tier
        options.append(
            {
                "value": choice,
                "locked": locked,
                "needs": None if not locked else (tier.label if tier else _("no plan")),
            }
        )
    hint = ""
    whole_lock: str | None = None
    if view.name in _CAPS:
        cap = int(getattr(plan, _CAPS[view.name]))
        above = _tier_for(view.name, cap + 1, catalogue)
        hint = _("Up to {cap} on {plan}.").format(cap=cap, plan=plan.label)
        if above is not None:
            hint = _("Up to {cap} on {plan}; more needs {tier}.").format(
                cap=cap, plan=plan.label, tier=above.label
            )
    locking = {"webhook_export_url": "https://example.com/hook", "stay_connected": True}
    if view.name in locking:  # a feature the plan has or has not
        tier = _tier_for(view.name, locking[view.name], catalogue)
        if tier is None or tier > plan.tier:
            whole_lock = tier.label if tier else _("no plan")
    return {"options": options, "hint": hint, "locked": whole_lock}


def display_values(settings: ServerSettings) -> dict[str, Any]:
    values: dict[str, Any] = dict(settings.to_json())
    values["dj_role_ids"] = ", ".join(str(r) for r in settings.dj_role_ids)
    values["webhook_export_url"] = settings.webhook_export_url or ""
    return values


def _number(field: str, raw: str) -> int:
    if not _NUMBER.fullmatch(raw.strip()):
        raise InvalidSettings(
            {field: Phrase(N_("must be a whole number, got {value}."), {"value": repr(raw[:40])})}
        )
    return int(raw.strip())


def form_patch(form: FormData) -> dict[str, object]:
    """Turn the editor's form into a settings patch (types converted, unknown inputs refused)."""
    allowed = set(SETTINGS_FIELDS) | {"csrf_token", "base_version"}
    unknown = sorted(k for k in form if k not in allowed)
    if unknown:
        raise InvalidSettings({k[:40]: N_("is not a settings field") for k in unknown[:10]})
    patch: dict[str, object] = {}
    for field, view in _VIEWS.items():
        if view.kind == "bool":
            patch[field] = form.get(field) in ("on", "true", "1")
            continue
        if view.kind == "multi":
            if field in form or "webhook_export_url" in form:
                patch[field] = [str(v) for v in form.getlist(field)]
            continue
        raw = form.get(field)
        if raw is None:
            continue
        if not isinstance(raw, str) or len(raw) > MAX_FIELD_CHARS:
            raise InvalidSettings({field: N_("is too long or not text.")})
        if view.kind == "number":
            patch[field] = _number(field, raw)
        elif view.kind == "roles":
            patch[field] = [part for part in re.split(r"[\s,]+", raw.strip()) if part]
        elif view.kind == "url":
            patch[field] = raw.strip() or None
        else:
            patch[field] = raw.strip() if view.kind != "text" else raw
    return patch


async def _page(
    request: Request,
    *,
    status: int = 200,
    result: SaveResult | None = None,
    problems: dict[str, str] | None = None,
    message: str | None = None,
    shown: dict[str, Any] | None = None,
) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    version, settings = await current_settings(panel, guild.id)
    _, plan = await guild_plan(panel, guild.id)
    catalogue = panel.services.catalogue
    groups = [
        (title, [(view, field_context(view, plan, catalogue)) for view in views])
        for title, views in GROUPS
    ]
    saved = display_values(settings)
    theirs = {}
    if status == 409 and shown is not None:  # a conflict: where the saved values differ
        theirs = {k: v for k, v in saved.items() if k in shown and _differs(shown[k], v)}
    return render(
        request,
        "settings.html",
        {
            "guild": guild,
            "plan": plan,
            "version": version,
            "theirs": theirs,
            "values": shown if shown is not None else saved,
            "groups": groups,
            "result": result,
            "problems": problems or {},
            "message": message,
            "status_code": status,
        },
        status,
    )


def _differs(typed: Any, saved: Any) -> bool:
    if isinstance(saved, bool) or isinstance(typed, bool):
        return bool(typed) != bool(saved)
    if isinstance(saved, list | tuple):
        return sorted(map(str, typed or ())) != sorted(map(str, saved))
    return str(typed if typed is not None else "").strip() != str(
        saved if saved is not None else ""
    )


async def settings_page(request: Request) -> Response:
    return await _page(request)


async def settings_save(request: Request) -> Response:
    session, guild = manager_of(request)
    panel = panel_of(request)
    form = await request.form(max_files=0, max_fields=64)
    try:
        base_version = _number("base_version", str(form.get("base_version", "")))
        patch = form_patch(form)
        result = await save_settings(
            panel, guild.id, base_version=base_version, patch=patch, actor=f"user:{session.user_id}"
        )
    except InvalidSettings as exc:
        return await _page(
            request,
            status=400,
            problems=problem_texts(exc),
            message=error_text(exc),
            shown=_submitted(form),
        )
    except StaleVersion as exc:  # keep the edits; show what is saved now beside them
        return await _page(request, status=409, message=error_text(exc), shown=_submitted(form))
    return await _page(request, result=result)


def _submitted(form: FormData) -> dict[str, Any]:
    """The form's values as the user typed them (redisplayed after a refused save)."""
    shown: dict[str, Any] = {k: v for k, v in form.items() if k in _VIEWS and isinstance(v, str)}
    shown["webhook_export_events"] = [str(v) for v in form.getlist("webhook_export_events")]
    for view in _VIEWS.values():
        if view.kind == "bool":
            shown[view.name] = view.name in form
    return shown


def _settings_json(version: int, settings: ServerSettings, plan: Plan) -> dict[str, Any]:
    return {"version": version, "plan": plan.tier.key, "settings": settings.to_json()}


async def settings_api_get(request: Request) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    version, settings = await current_settings(panel, guild.id)
    _, plan = await guild_plan(panel, guild.id)
    return JSONResponse(_settings_json(version, settings, plan))


MAX_BODY_DEPTH = 2 * MAX_JSON_DEPTH
"""How deeply a request body may nest: room for a payload nesting MAX_JSON_DEPTH inside it."""


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or `InvalidInput` saying what is wrong."""
    payload = parse_json(await request.body(), "The request body", max_depth=MAX_BODY_DEPTH)
    if not isinstance(payload, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return payload


def parse_put(payload: dict[str, Any]) -> tuple[int, dict[str, object]]:
    """``{"version": n, "settings": {...}}`` with nothing else."""
    unknown = sorted(str(k) for k in payload if k not in ("version", "settings"))
    if unknown:
        raise InvalidInput("Unknown fields: {names}.", names=", ".join(unknown)[:200])
    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise InvalidInput("'version' must be the whole-number version your edit is based on.")
    settings = payload.get("settings")
    if not isinstance(settings, dict):
        raise InvalidInput("'settings' must be an object of fields to change.")
    return version, settings


async def settings_api_put(request: Request) -> Response:
    session, guild = manager_of(request)
    panel = panel_of(request)
    version, patch = parse_put(await read_json_object(request))
    result = await save_settings(
        panel, guild.id, base_version=version, patch=patch, actor=f"user:{session.user_id}"
    )
    body = _settings_json(result.record.version, result.record.settings, result.plan)
    body["clamps"] = [c.to_json() for c in result.clamps]
    return JSONResponse(body)


def settings_routes() -> list[Route]:
    return [
        Route(
            "/guilds/{guild_id:snowflake}/settings", settings_page, methods=["GET"], name="settings"
        ),
        Route("/guilds/{guild_id:snowflake}/settings", settings_save, methods=["POST"]),
        Route(
            "/api/control-panel/guilds/{guild_id:snowflake}/settings",
            settings_api_get,
            methods=["GET"],
            name="api_settings",
        ),
        Route(
            "/api/control-panel/guilds/{guild_id:snowflake}/settings",
            settings_api_put,
            methods=["PUT"],
        ),
    ]
