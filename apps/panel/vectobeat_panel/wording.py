"""How the panel names things for people: one mapping from internal names to labels.

Pages never show a settings key (``queue_limit``), an event kind (``automation_action``) or an
actor id (``user:1174…``): templates pass such text through the ``humanize`` filter, which puts
each known internal name's label in its place, and counts through ``counted`` (``1 track``).
A node's status goes through ``node_status``, a region name through ``region``, a core `Phrase`
(why a value was lowered to the plan, why a guild plays where it does) through ``phrase``.
The JSON APIs and the JSONL export keep the internal names: they are for programs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from vectobeat_adapters.i18n import N_, gettext, phrase_text
from vectobeat_core.audit import AuditKind
from vectobeat_core.health import NodeStatus
from vectobeat_core.records import status_label
from vectobeat_core.settings import SETTING_LABELS, WEBHOOK_EVENTS
from vectobeat_core.wording import counted

__all__ = [
    "CONTACT_LABELS",
    "EVENT_LABELS",
    "KIND_LABELS",
    "LABELS",
    "actor_label",
    "counted",
    "humanize",
    "install_filters",
    "label",
    "node_status_text",
    "region_text",
    "status_text",
]

KIND_LABELS: Mapping[AuditKind, str] = MappingProxyType(
    {
        AuditKind.SETTINGS_CHANGED: N_("Settings saved"),
        AuditKind.SETTINGS_CLAMPED: N_("Settings lowered to the plan"),
        AuditKind.SETTINGS_CONFLICT: N_("Settings edit conflict"),
        AuditKind.EFFECTIVE_REGION: N_("Where playback went"),
        AuditKind.NODE_FAILOVER: N_("Player moved off a failed node"),
        AuditKind.REGION_UNAVAILABLE: N_("Region unavailable"),
        AuditKind.NODE_RETURN: N_("Player returned to its region"),
        AuditKind.SHARD_FAILOVER: N_("Shard taken over"),
        AuditKind.THROTTLED_COMMAND: N_("Command flood slowed down"),
        AuditKind.PLAN_CHANGED: N_("Plan changed"),
        AuditKind.TOKEN_CREATED: N_("API token created"),
        AuditKind.TOKEN_REVOKED: N_("API token revoked"),
        AuditKind.QUEUE_RESTORED: N_("Queue restored"),
        AuditKind.AUTOMATION_ACTION: N_("Automation action"),
        AuditKind.BILLING_EVENT: N_("Billing event"),
        AuditKind.COMPLIANCE_EXPORT: N_("Compliance export"),
        AuditKind.COMPLIANCE_DELETE: N_("Compliance erasure"),
        AuditKind.CONCIERGE_REQUEST: N_("Concierge request"),
        AuditKind.PLAYBACK_CONTROL: N_("Playback control (web)"),
    }
)
"""How the audit log names each kind of event."""

EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        **{kind.value: text for kind, text in KIND_LABELS.items()},
        "queue_finished": N_("Queue finished"),
        "queue_updated": N_("Queue changed"),
        "track_finished": N_("Track finished"),
        "track_started": N_("Track started"),
        "test": N_("Test event"),
    }
)
"""Audit kinds and webhook export events by their names for people."""
assert set(WEBHOOK_EVENTS) <= set(EVENT_LABELS), "every webhook event has a name for people"

ACTOR_LABELS: Mapping[str, str] = MappingProxyType(
    {"bot": N_("the bot"), "automation": N_("the automation engine"), "panel": N_("the panel")}
)
"""Actors that are not people."""

FORM_LABELS: Mapping[str, str] = MappingProxyType({"expires_in_days": N_("Expires")})
"""Other form fields an error message may name (the API token form)."""

CONTACT_LABELS: Mapping[str, str] = MappingProxyType(
    {"billing": N_("billing"), "technical": N_("technical"), "escalation": N_("escalation")}
)
"""The account contacts' roles."""

LABELS: Mapping[str, str] = MappingProxyType(
    {**SETTING_LABELS, **EVENT_LABELS, **FORM_LABELS, **CONTACT_LABELS}
)
"""Every internal name a page may meet in stored text, and its label."""

_SNAKE_NAMES = sorted((name for name in LABELS if "_" in name), key=len, reverse=True)
_INTERNAL = re.compile(r"\buser:(\d{1,20})\b|\b(" + "|".join(map(re.escape, _SNAKE_NAMES)) + r")\b")
"""What `humanize` replaces: actor ids and the names that read as code (``queue_limit``); plain
words that are also names (``region``, ``autoplay``) are left as they are in prose."""


def label(name: str) -> str:
    """The label of a setting or event name (the name itself when it has none)."""
    return gettext(LABELS.get(name, name))


def actor_label(actor: str | None, you: Any = None) -> str:
    """Who did something, for people: the signed-in user's name, "a member (…1234)", "the bot"."""
    if not actor:
        return "—"
    if actor in ACTOR_LABELS:
        return gettext(ACTOR_LABELS[actor])
    kind, _, ident = actor.partition(":")
    if kind == "user" and ident.isdigit():
        if you is not None and str(getattr(you, "user_id", "")) == ident:
            return str(you.username)
        return gettext("a member (…{ending})").format(ending=ident[-4:])
    if kind == "token":
        return gettext("API token …{ending}").format(ending=ident[-4:])
    return actor


def status_text(status: str) -> str:
    """A care or compliance request's status in the reader's language."""
    return gettext(status_label(status))


def node_status_text(status: str) -> str:
    """A Lavalink node's status (``up``, ``down``) in the reader's language."""
    try:
        return gettext(NodeStatus(status).label)
    except ValueError:
        return status


def region_text(region: str) -> str:
    """A region's name (``eu``; a node outside every region reads "unknown" in words)."""
    return gettext("unknown") if region == "unknown" else region


def humanize(text: str, you: Any = None) -> str:
    """``text`` with every internal name (``queue_limit``, ``automation_action``, ``user:<id>``)
    put in words."""

    def swap(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return actor_label(f"user:{match.group(1)}", you)
        return label(match.group(2))

    return _INTERNAL.sub(swap, text)


@pass_context
def _humanize_filter(context: Context, text: object) -> str:
    return humanize("" if text is None else str(text), context.get("session"))


@pass_context
def _actor_filter(context: Context, actor: object) -> str:
    return actor_label(None if actor is None else str(actor), context.get("session"))


def install_filters(filters: dict[str, Any]) -> None:
    """Make ``humanize``, ``actor``, ``label``, ``status``, ``node_status``, ``region``,
    ``phrase`` and ``counted`` available to every template."""
    filters["humanize"] = _humanize_filter
    filters["actor"] = _actor_filter
    filters["label"] = label
    filters["status"] = status_text
    filters["node_status"] = node_status_text
    filters["region"] = region_text
    filters["phrase"] = phrase_text
    filters["counted"] = counted
