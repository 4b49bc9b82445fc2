"""Stored records of the panel database, as frozen value objects the ports speak in.

Times are seconds since the epoch. Nothing here knows how a record is stored; the adapters convert
rows to these with the named constructors of each adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.messages import message_id
from vectobeat_core.plans import Tier

__all__ = [
    "CONTACT_ROLES",
    "MAX_NAME_LENGTH",
    "MAX_TOKENS_PER_GUILD",
    "ApiToken",
    "ComplianceKind",
    "ComplianceRequest",
    "ComplianceStatus",
    "ConciergeKind",
    "ConciergeRequest",
    "ConciergeStatus",
    "Contact",
    "ContactRole",
    "GuildRecord",
    "IssuedToken",
    "Playlist",
    "playlist_key",
    "status_label",
]

MAX_TOKENS_PER_GUILD = 10
"""How many live (unrevoked, unexpired) API tokens one guild may hold."""

MAX_NAME_LENGTH = 100
"""Longest playlist or guild name stored."""

ConciergeKind = Literal["concierge", "success_pod"]
ConciergeStatus = Literal["open", "in_progress", "resolved"]
ContactRole = Literal["billing", "technical", "escalation"]
CONTACT_ROLES: tuple[ContactRole, ...] = ("billing", "technical", "escalation")
ComplianceKind = Literal["export", "delete"]
ComplianceStatus = Literal["pending", "running", "sent", "failed"]

_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "open": message_id("open"),
        "in_progress": message_id("in progress"),
        "resolved": message_id("resolved"),
        "pending": message_id("pending"),
        "running": message_id("running"),
        "sent": message_id("sent"),
        "failed": message_id("failed"),
    }
)


def status_label(status: str) -> str:
    """How a care or compliance request's status reads for people (a message id: the shells
    translate it); an unknown one as it is."""
    return _STATUS_LABELS.get(status, status)


def _check_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip() or len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{attribute.name} must be 1-{MAX_NAME_LENGTH} characters, not blank")


def playlist_key(name: str) -> str:
    """The case-insensitive identity of a playlist name (``"Chill "`` and ``"chill"`` collide)."""
    return " ".join(name.split()).casefold()


@attrs.frozen
class GuildRecord:
    """A guild the panel knows: its plan tier and whether the bot is in it."""

    guild_id: GuildId
    name: str = attrs.field(validator=_check_name)
    tier: Tier
    bot_present: bool
    updated_at: float


@attrs.frozen
class Playlist:
    """A saved playlist: encoded Lavalink tracks in order; ``name`` as the user typed it."""

    guild_id: GuildId
    name: str = attrs.field(validator=_check_name)
    owner_id: UserId
    tracks: tuple[str, ...]
    created_at: float
    updated_at: float

    @property
    def key(self) -> str:
        return playlist_key(self.name)


@attrs.frozen
class ApiToken:
    """An API token's public facts; the secret itself is never stored (only its hash)."""

    token_id: str
    guild_id: GuildId
    name: str
    last_four: str
    scopes: frozenset[str]
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None

    def live(self, now: float) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@attrs.frozen(repr=False)
class IssuedToken:
    """A freshly issued token: ``secret`` is shown to the user once and never again."""

    token: ApiToken
    secret: str

    def __repr__(self) -> str:
        return f"IssuedToken(token={self.token!r}, secret='****{self.token.last_four}')"


@attrs.frozen(repr=False)
class Contact:
    """One of a guild's account contacts (billing, technical or escalation; personal fields are
    encrypted at rest by the SQL adapter); ``entered_by`` is who saved it."""

    guild_id: GuildId
    name: str
    email: str
    phone: str | None
    updated_at: float
    role: ContactRole = "billing"
    entered_by: UserId | None = None

    def __repr__(self) -> str:
        return (
            f"Contact(guild_id={self.guild_id}, role={self.role!r}, name='***', email='***', "
            "phone='***')"
        )


@attrs.frozen
class ConciergeRequest:
    """A concierge or success-pod request; ``due_at`` comes from the plan's SLA. ``hours`` is the
    time asked for (what staff charged once resolved); ``sla_alarmed_at`` is when its breach was
    alarmed (once, whichever process got there first)."""

    request_id: int
    guild_id: GuildId
    kind: ConciergeKind
    subject: str
    body: str
    requested_by: UserId
    status: ConciergeStatus
    created_at: float
    due_at: float
    resolved_at: float | None = None
    hours: float = 0.0
    contact: str = ""
    scheduled_at: float | None = None
    assignee_id: UserId | None = None
    assignee_name: str | None = None
    sla_alarmed_at: float | None = None

    def overdue(self, now: float) -> bool:
        return self.status != "resolved" and now > self.due_at


@attrs.frozen
class ComplianceRequest:
    """A data export/delete request; the export is mailed to ``email`` (encrypted at rest)."""

    request_id: int
    guild_id: GuildId
    kind: ComplianceKind
    requested_by: UserId
    email: str
    status: ComplianceStatus
    detail: str
    created_at: float
    completed_at: float | None = None
