"""The care pages: a guild's Concierge and Success pod (requests, usage, timelines), its Account
contacts (the owner's), and the staff desk under ``/staff/care`` (every request; acknowledge,
schedule, assign, resolve; the guild's contacts).

The workflows and rules are `CareDesk`'s (the bot uses the same); these handlers read forms and
check who may see what: guild managers their guild's requests, the guild owner the contacts they
entered, staff (``STAFF_USER_IDS``) everything. A refused form is shown again with its message and
the HTTP status of the error (400 bad input, 403 not allowed, 404 unknown), keeping what was typed.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from vectobeat_adapters.care_desk import Actor, CareDesk
from vectobeat_adapters.i18n import N_, error_text
from vectobeat_adapters.i18n import gettext as _
from vectobeat_core.errors import InvalidInput, PermissionDenied, VectoBeatError
from vectobeat_core.ids import UserId
from vectobeat_core.jsontypes import snowflake
from vectobeat_core.messages import Term
from vectobeat_core.records import CONTACT_ROLES, ConciergeKind, ConciergeRequest, ContactRole
from vectobeat_panel.sessions import ManagedGuild, Session
from vectobeat_panel.settings_flow import guild_plan
from vectobeat_panel.state import current_session, manager_of, panel_of, render
from vectobeat_panel.wording import label

__all__ = ["care_routes", "desk_of", "staff_only"]

KIND_OF_PATH: dict[str, ConciergeKind] = {"concierge": "concierge", "success": "success_pod"}
FORM_FIELDS = ("summary", "details", "contact", "hours")
MAX_TIMELINES = 20
DONE = {
    "acknowledge": N_("Acknowledged."),
    "schedule": N_("Scheduled."),
    "assign": N_("Assigned."),
    "resolve": N_("Resolved."),
}
"""Fixed confirmations for the ``?done=`` an action redirects with (shown translated)."""


def desk_of(request: Request) -> CareDesk:
    panel = panel_of(request)
    return CareDesk.of(panel.services, panel.config)


def _last_segment(request: Request) -> str:
    return request.url.path.rstrip("/").rsplit("/", 1)[-1]


def _actor(session: Session) -> Actor:
    return Actor(session.user_id, session.username)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _hours(raw: str, default: float | None) -> float | None:
    if not raw.strip():
        if default is None:
            return None
        return default
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(
            "Hours must be a number such as 1.5, not {value}.", value=repr(raw[:20])
        ) from None


async def _timelines(desk: CareDesk, requests: list[ConciergeRequest]) -> list[dict[str, Any]]:
    return [
        {"request": r, "timeline": await desk.timeline(r) if i < MAX_TIMELINES else []}
        for i, r in enumerate(requests)
    ]


# --- a guild's concierge and success pod ---------------------------------------------------


async def _care_page(
    request: Request,
    *,
    error: VectoBeatError | None = None,
    form: dict[str, str] | None = None,
    opened: ConciergeRequest | None = None,
) -> Response:
    session, guild = manager_of(request)
    page = _last_segment(request)
    kind = KIND_OF_PATH[page]
    desk = desk_of(request)
    _, plan = await guild_plan(panel_of(request), guild.id)
    offered = plan.concierge if kind == "concierge" else plan.success_pod
    requests = await desk.for_guild(guild.id, kind)
    context: dict[str, Any] = {
        "guild": guild,
        "kind": kind,
        "page": page,
        "plan": plan,
        "offered": offered,
        "usage": await desk.usage(guild.id, plan) if kind == "concierge" and offered else None,
        "manager": await desk.account_manager(guild.id) if kind == "success_pod" else None,
        "items": await _timelines(desk, requests),
        "error": error_text(error) if error else None,
        "form": form or {},
        "opened": opened,
        "is_staff": desk.is_staff(session.user_id),
    }
    return render(request, "care.html", context, error.status if error else 200)


async def care_page(request: Request) -> Response:
    return await _care_page(request)


async def care_submit(request: Request) -> Response:
    session, guild = manager_of(request)
    kind = KIND_OF_PATH[_last_segment(request)]
    form = await request.form()
    typed = {name: _text(form, name) for name in FORM_FIELDS}
    try:
        _, plan = await guild_plan(panel_of(request), guild.id)
        hours = _hours(typed["hours"], 0.0 if kind == "success_pod" else None)
        if hours is None:
            raise InvalidInput("Say how many hours you need (e.g. 1.5).")
        opened = await desk_of(request).open(
            guild.id, plan, kind, _actor(session), summary=typed["summary"],
            details=typed["details"], contact=typed["contact"], hours=hours,
        )  # fmt: skip
    except VectoBeatError as exc:
        if exc.status >= 500:
            raise
        return await _care_page(request, error=exc, form=typed)
    return await _care_page(request, opened=opened)


# --- account contacts ---------------------------------------------------------------------


def _contacts_owner(request: Request) -> tuple[Session, ManagedGuild, CareDesk]:
    """The guild owner (or staff) of the guild in the path, else 403."""
    session, guild = manager_of(request)
    desk = desk_of(request)
    if not guild.owner and not desk.is_staff(session.user_id):
        raise PermissionDenied("Only the server owner keeps its account contacts.")
    return session, guild, desk


async def _contacts_page(
    request: Request, *, error: VectoBeatError | None = None, saved: str | None = None
) -> Response:
    session, guild, desk = _contacts_owner(request)
    contacts = {c.role: c for c in await desk.visible_contacts(guild.id, session.user_id)}
    context = {
        "guild": guild,
        "roles": CONTACT_ROLES,
        "contacts": contacts,
        "error": error_text(error) if error else None,
        "saved": saved,
    }
    return render(request, "contacts.html", context, error.status if error else 200)


async def contacts_page(request: Request) -> Response:
    return await _contacts_page(request)


async def contacts_submit(request: Request) -> Response:
    session, guild, desk = _contacts_owner(request)
    form = await request.form()
    role = _text(form, "role")
    try:
        if role not in CONTACT_ROLES:
            raise InvalidInput("Choose one of {roles}.", roles=", ".join(CONTACT_ROLES))
        chosen: ContactRole = next(r for r in CONTACT_ROLES if r == role)
        if _text(form, "action") == "delete":
            await desk.contacts.delete(guild.id, chosen)
            removed = _("The {role} contact was removed.").format(role=label(chosen))
            return await _contacts_page(request, saved=removed)
        await desk.save_contact(
            guild.id, chosen, _actor(session), name=_text(form, "name"),
            email=_text(form, "email"), phone=_text(form, "phone"),
        )  # fmt: skip
    except VectoBeatError as exc:
        if exc.status >= 500:
            raise
        return await _contacts_page(request, error=exc)
    saved = _("The {role} contact was saved.").format(role=label(chosen))
    return await _contacts_page(request, saved=saved)


# --- the staff desk -----------------------------------------------------------------------


def staff_only(request: Request) -> tuple[Session, CareDesk]:
    """The signed-in staff member (``STAFF_USER_IDS``) and the care desk, else 403."""
    session = current_session(request)
    desk = desk_of(request)
    if not desk.is_staff(session.user_id):
        raise PermissionDenied("This desk is for VectoBeat staff (STAFF_USER_IDS) only.")
    return session, desk


async def staff_queue(request: Request) -> Response:
    _, desk = staff_only(request)
    requests = await desk.queue()
    now = desk.clock.now()
    context = {"items": requests, "now": now}
    return render(request, "staff_care.html", context)


def _request_id(request: Request) -> int:
    try:
        return snowflake(request.path_params.get("request_id"), "The request number")
    except InvalidInput:
        raise InvalidInput("There is no such request number.") from None


def _done(action: str) -> str | None:
    """The confirmation of a staff action, in the reader's language."""
    return _(DONE[action]) if action in DONE else None


async def _staff_request_page(
    request: Request, *, error: VectoBeatError | None = None, done: str | None = None
) -> Response:
    _, desk = staff_only(request)
    item = await desk.request_of(_request_id(request))
    context = {
        "item": item,
        "timeline": await desk.timeline(item),
        "contacts": await desk.contacts.for_guild(item.guild_id),
        "error": error_text(error) if error else None,
        "done": _done(request.query_params.get("done", "")) if done is None else done,
        "now": desk.clock.now(),
    }
    return render(request, "staff_request.html", context, error.status if error else 200)


async def staff_request(request: Request) -> Response:
    return await _staff_request_page(request)


async def staff_action(request: Request) -> Response:
    session, desk = staff_only(request)
    request_id = _request_id(request)
    action = _last_segment(request)
    form = await request.form()
    actor = _actor(session)
    try:
        if action == "acknowledge":
            await desk.acknowledge(request_id, actor)
        elif action == "schedule":
            await desk.schedule(request_id, actor, _text(form, "when"))
        elif action == "assign":
            raw = _text(form, "manager_id").strip()
            manager_id = UserId(snowflake(raw, Term("The manager's id")))
            name = _text(form, "manager_name").strip()
            await desk.assign(request_id, actor, Actor(manager_id, name))
        else:
            await desk.resolve(request_id, actor, _hours(_text(form, "hours"), None))
    except VectoBeatError as exc:
        if exc.status >= 500:
            raise
        return await _staff_request_page(request, error=exc)
    return RedirectResponse(f"/staff/care/{request_id}?done={action}", status_code=303)


def care_routes() -> list[Route]:
    guild = "/guilds/{guild_id:snowflake}"
    routes = [
        Route(f"{guild}/contacts", contacts_page, methods=["GET"], name="contacts"),
        Route(f"{guild}/contacts", contacts_submit, methods=["POST"]),
        Route("/staff/care", staff_queue, methods=["GET"], name="staff_care"),
        Route("/staff/care/{request_id:snowflake}", staff_request, methods=["GET"]),
    ]
    for page in KIND_OF_PATH:
        routes.append(Route(f"{guild}/{page}", care_page, methods=["GET"]))
        routes.append(Route(f"{guild}/{page}", care_submit, methods=["POST"]))
    routes += [
        Route(f"/staff/care/{{request_id:snowflake}}/{action}", staff_action, methods=["POST"])
        for action in DONE
    ]
    return routes
