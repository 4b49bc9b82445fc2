"""Input rules every store applies alike (memory, SQL, Redis), so backends cannot drift."""

from __future__ import annotations

from vectobeat_core.errors import InvalidInput
from vectobeat_core.records import CONTACT_ROLES
from vectobeat_core.settings import SettingsRecord

__all__ = [
    "COMPLIANCE_FINAL",
    "COMPLIANCE_KINDS",
    "COMPLIANCE_STATUSES",
    "CONCIERGE_KINDS",
    "CONCIERGE_STATUSES",
    "check_compliance",
    "check_concierge",
    "check_concierge_fields",
    "check_contact_role",
    "check_erasure",
    "check_event_id",
    "check_put",
]

CONCIERGE_KINDS = ("concierge", "success_pod")
CONCIERGE_STATUSES = ("open", "in_progress", "resolved")
COMPLIANCE_KINDS = ("export", "delete")
COMPLIANCE_STATUSES = ("pending", "running", "sent", "failed")
COMPLIANCE_FINAL = ("sent", "failed")
_MAX_EVENT_ID = 255


def check_put(record: SettingsRecord, base_version: int) -> None:
    """A settings record must be exactly one version past its base."""
    if base_version < 0 or record.version != base_version + 1:
        raise InvalidInput(
            f"settings version {record.version} cannot be written over base {base_version}; "
            "build the record with apply_update"
        )


def check_event_id(event_id: str, event_type: str) -> None:
    """Stripe event ids and types must fit the store."""
    if not event_id or len(event_id) > _MAX_EVENT_ID:
        raise InvalidInput(f"Stripe event id must be 1-{_MAX_EVENT_ID} characters")
    if not event_type or len(event_type) > 100:
        raise InvalidInput("Stripe event type must be 1-100 characters")


def check_concierge(kind: str | None = None, subject: str = "x", status: str | None = None) -> None:
    """A concierge request's kind, subject and status must be known and fit."""
    if kind is not None and kind not in CONCIERGE_KINDS:
        raise InvalidInput(f"request kind must be one of {', '.join(CONCIERGE_KINDS)}")
    if not subject.strip() or len(subject) > 200:
        raise InvalidInput("request subject must be 1-200 characters")
    if status is not None and status not in CONCIERGE_STATUSES:
        raise InvalidInput(f"request status must be one of {', '.join(CONCIERGE_STATUSES)}")


def check_concierge_fields(hours: float, contact: str = "", name: str = "x") -> None:
    """Hours, contact and assignee name of a concierge request must fit the store."""
    if not 0 <= hours <= 1000:  # also refuses NaN
        raise InvalidInput("request hours must be from 0 to 1000")
    if len(contact) > 200:
        raise InvalidInput("request contact must be at most 200 characters")
    if not name.strip() or len(name) > 100:
        raise InvalidInput("assignee name must be 1-100 characters")


def check_contact_role(role: str) -> None:
    """A contact's role must be one of billing, technical, escalation."""
    if role not in CONTACT_ROLES:
        raise InvalidInput(f"contact role must be one of {', '.join(CONTACT_ROLES)}")


def check_compliance(kind: str | None = None, status: str | None = None, detail: str = "") -> None:
    """A compliance request's kind, status and detail must be known and fit."""
    if kind is not None and kind not in COMPLIANCE_KINDS:
        raise InvalidInput(f"compliance request kind must be one of {', '.join(COMPLIANCE_KINDS)}")
    if status is not None and status not in COMPLIANCE_STATUSES:
        raise InvalidInput(
            f"compliance request status must be one of {', '.join(COMPLIANCE_STATUSES)}"
        )
    if len(detail) > 500:
        raise InvalidInput("compliance request detail must be at most 500 characters")


def check_erasure(kind: str) -> None:
    """Only a deletion request has a place in the erasure record."""
    if kind != "delete":
        raise InvalidInput("only a deletion request is placed in the erasure record")
