"""Enterprise care: who may ask for concierge time or the success pod, the hours budget over a
rolling 30 days, each request's SLA deadline and its breach alarm, and who may act as staff.

The bot and the panel both call these, so a request is allowed (or refused, with the same words)
the same way from Discord and from the web.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import attrs

from vectobeat_core.errors import InvalidInput, LimitExceeded, PermissionDenied
from vectobeat_core.health import Alarm
from vectobeat_core.ids import UserId
from vectobeat_core.jsontypes import snowflake
from vectobeat_core.messages import Phrase, Term, message_id
from vectobeat_core.plans import Plan, PlanCatalogue
from vectobeat_core.records import ConciergeKind, ConciergeRequest

__all__ = [
    "CARE_WINDOW_S",
    "HOURS_STEP",
    "MAX_DETAILS_LENGTH",
    "MAX_REQUEST_HOURS",
    "CareAction",
    "ConciergeUsage",
    "account_manager",
    "care_label",
    "check_contact",
    "check_hours",
    "check_request_text",
    "concierge_usage",
    "parse_staff_ids",
    "parse_when",
    "require_action",
    "require_care",
    "require_hours_left",
    "require_staff",
    "sla_alarm",
    "sla_breaches",
    "sla_due_at",
    "sla_resolved_alarm",
]

CARE_WINDOW_S = 30 * 86_400.0
"""The concierge budget is per rolling 30 days."""
HOURS_STEP = 0.25
MAX_REQUEST_HOURS = 24.0
MAX_DETAILS_LENGTH = 2000

CareAction = str
"""``acknowledge``, ``schedule``, ``assign`` or ``resolve``."""
_ACTIONS = ("acknowledge", "schedule", "assign", "resolve")


def care_label(kind: ConciergeKind) -> str:
    return message_id("Concierge") if kind == "concierge" else message_id("Success pod")


def _offers(plan: Plan, kind: ConciergeKind) -> bool:
    return plan.concierge if kind == "concierge" else plan.success_pod


def require_care(plan: Plan, kind: ConciergeKind, catalogue: PlanCatalogue) -> None:
    """The plan offers ``kind`` (concierge: Growth and above; success pod: Scale and above), else
    `LimitExceeded` naming the lowest plan that does."""
    if _offers(plan, kind):
        return
    tier = catalogue.lowest_tier_with(lambda p: _offers(p, kind))
    if tier is None:
        raise LimitExceeded(
            "{what} is part of no plan on this server; this server is on {plan}.",
            what=Term(care_label(kind)),
            plan=plan.label,
        )
    raise LimitExceeded(
        "{what} is part of the {tier} plan and above; this server is on {plan}.",
        what=Term(care_label(kind)),
        tier=tier.label,
        plan=plan.label,
    )


def sla_due_at(plan: Plan, created_at: float) -> float:
    """When a request made at ``created_at`` must be answered (the plan's ``sla_minutes``)."""
    if plan.sla_minutes is None:  # a custom PLANS_FILE may offer care without one
        raise InvalidInput(
            "The {plan} plan has no support SLA (sla_minutes in the plan matrix), so no care "
            "request can be opened; ask the operator.",
            plan=plan.label,
        )
    return created_at + plan.sla_minutes * 60.0


def check_hours(hours: float, kind: ConciergeKind) -> float:
    """Concierge time: a quarter hour to 24 hours, in quarter hours; a success-pod request may
    book none (0)."""
    low = 0.0 if kind == "success_pod" else HOURS_STEP
    if (
        isinstance(hours, bool)
        or not math.isfinite(hours)
        or not low <= hours <= MAX_REQUEST_HOURS
        or not float(hours / HOURS_STEP).is_integer()
    ):
        raise InvalidInput(
            "Hours must be {low} to {high} in quarter hours (e.g. 1.5), not {hours}.",
            low=format(low, "g"),
            high=format(MAX_REQUEST_HOURS, "g"),
            hours=repr(hours),
        )
    return float(hours)


def check_request_text(summary: str, details: str, contact: str) -> tuple[str, str, str]:
    """The summary (1-200 characters), details (up to 2000) and contact (1-200), trimmed."""
    summary, details, contact = summary.strip(), details.strip(), contact.strip()
    if not summary or len(summary) > 200:
        raise InvalidInput("The summary must be 1-200 characters.")
    if len(details) > MAX_DETAILS_LENGTH:
        raise InvalidInput(
            "The details must be at most {most} characters.", most=MAX_DETAILS_LENGTH
        )
    if not contact or len(contact) > 200:
        raise InvalidInput(
            "Say how to reach you (an email, a Discord handle or a phone number, 1-200 characters)."
        )
    return summary, details, contact


@attrs.frozen
class ConciergeUsage:
    """Concierge hours in the rolling window: ``used`` (resolved sessions), ``booked`` (open
    requests), out of the plan's ``budget``."""

    budget: float
    used: float
    booked: float

    @property
    def remaining(self) -> float:
        return max(0.0, self.budget - self.used - self.booked)

    def phrase(self) -> Phrase:
        """The numbers in a sentence, for the shells to translate."""
        return Phrase(
            message_id(
                "{used} of {budget} h used in the last 30 days, {booked} h booked in open "
                "requests, {left} h left."
            ),
            {
                "used": format(self.used, "g"),
                "budget": format(self.budget, "g"),
                "booked": format(self.booked, "g"),
                "left": format(self.remaining, "g"),
            },
        )


def concierge_usage(plan: Plan, requests: Iterable[ConciergeRequest], now: float) -> ConciergeUsage:
    """Resolved concierge requests count for 30 days after they were resolved; open ones count
    until they are resolved. Success-pod requests do not draw on the concierge budget."""
    used = booked = 0.0
    for request in requests:
        if request.kind != "concierge":
            continue
        if request.status != "resolved":
            booked += request.hours
        elif request.resolved_at is not None and now - request.resolved_at < CARE_WINDOW_S:
            used += request.hours
    return ConciergeUsage(float(plan.concierge_hours), used, booked)


def require_hours_left(usage: ConciergeUsage, hours: float) -> None:
    """`LimitExceeded` with the numbers when ``hours`` do not fit the budget left."""
    if hours <= usage.remaining:
        return
    if usage.remaining == 0:
        raise LimitExceeded(
            "This server's concierge hours are spent: {usage} Hours come back 30 days after each "
            "session is resolved.",
            usage=usage.phrase(),
        )
    raise LimitExceeded(
        "You asked for {hours} h but only {left} h are left: {usage}",
        hours=format(hours, "g"),
        left=format(usage.remaining, "g"),
        usage=usage.phrase(),
    )


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"[0-9 +()./-]{3,40}")


def check_contact(name: str, email: str, phone: str) -> tuple[str, str, str | None]:
    """An account contact's name (1-100), email and optional phone, trimmed; else `InvalidInput`."""
    name, email, phone = name.strip(), email.strip(), phone.strip()
    if not name or len(name) > 100:
        raise InvalidInput("The contact's name must be 1-100 characters.")
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("{email} is not an email address (name@example.com).", email=repr(email))
    if phone and not _PHONE.fullmatch(phone):
        raise InvalidInput(
            "The phone number may hold digits, spaces and + ( ) . / - (3-40 characters)."
        )
    return name, email, phone or None


def parse_staff_ids(text: str | None) -> frozenset[UserId]:
    """``STAFF_USER_IDS``: Discord user ids, comma separated (blank: no staff)."""
    if not text or not text.strip():
        return frozenset()
    return frozenset(
        UserId(snowflake(part.strip(), "STAFF_USER_IDS entry"))
        for part in text.split(",")
        if part.strip()
    )


def require_staff(staff: frozenset[UserId], user: UserId) -> None:
    """Only the operator's configured staff act on requests (not guild admins)."""
    if user not in staff:
        raise PermissionDenied(
            "Only VectoBeat staff can acknowledge, schedule, assign or resolve care requests."
        )


def require_action(request: ConciergeRequest, action: CareAction) -> None:
    """Acknowledge only an open request; nothing happens to a resolved one any more."""
    if action not in _ACTIONS:
        raise InvalidInput(
            "Unknown action {action}: choose one of {choices}.",
            action=repr(action),
            choices=", ".join(_ACTIONS),
        )
    if request.status == "resolved":
        raise InvalidInput("Request #{number} is already resolved.", number=request.request_id)
    if action == "acknowledge" and request.status != "open":
        raise InvalidInput("Request #{number} is already acknowledged.", number=request.request_id)


def parse_when(text: str, now: float) -> float:
    """``YYYY-MM-DD HH:MM`` (UTC, also with ``T``) in the future, within a year: epoch seconds."""
    cleaned = text.strip().replace("T", " ").removesuffix("Z").removesuffix(" UTC")
    try:
        when = datetime.strptime(cleaned, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise InvalidInput(
            "{text} is not a time: write it as YYYY-MM-DD HH:MM in UTC (e.g. 2027-01-31 15:30).",
            text=repr(text),
        ) from None
    if not now < when <= now + 366 * 86_400:
        raise InvalidInput("Schedule the session in the future, at most a year ahead.")
    return when


def sla_breaches(requests: Iterable[ConciergeRequest], now: float) -> list[ConciergeRequest]:
    """Unresolved requests past their deadline whose breach has not been alarmed yet."""
    return [r for r in requests if r.overdue(now) and r.sla_alarmed_at is None]


def sla_alarm(request: ConciergeRequest, now: float) -> Alarm:
    """The breach alarm of ``request`` (one key per request, so PagerDuty can resolve it)."""
    late = max(0, int((now - request.due_at) // 60))
    return Alarm(
        key=f"sla:{request.request_id}",
        severity="critical",
        summary=(
            f"{care_label(request.kind)} request #{request.request_id} of guild "
            f"{request.guild_id} missed its SLA by {late} min ({request.status.replace('_', ' ')}):"
            f" {request.subject}"
        ),
        status="trigger",
        at=now,
    )


def sla_resolved_alarm(request: ConciergeRequest, now: float) -> Alarm:
    return Alarm(
        key=f"sla:{request.request_id}",
        severity="info",
        summary=f"{care_label(request.kind)} request #{request.request_id} is resolved",
        status="resolve",
        at=now,
    )


def account_manager(requests: Iterable[ConciergeRequest]) -> tuple[UserId, str] | None:
    """The guild's account manager: the assignee of its latest assigned success-pod request."""
    assigned = [
        (r.created_at, r.request_id, r.assignee_id, r.assignee_name)
        for r in requests
        if r.kind == "success_pod" and r.assignee_id is not None and r.assignee_name
    ]
    if not assigned:
        return None
    _, _, user, name = max(assigned, key=lambda a: (a[0], a[1]))
    return user, name
