"""Who may do what with a guild's music: the DJ and collaborative-queue rules.

* Managing a guild (``can_manage_guild``): its owner, or the Administrator or Manage Server
  permission bit. The panel lists the guilds a user may manage by it; the bot's guild
  configuration uses it too.
* DJ access: whoever manages the guild, or one of the guild's DJ roles.
* Playback control (pause, skip, seek, volume, queue edits, ...): everyone while the guild has no
  DJ roles; once it has some, only members with DJ access.
* Adding tracks: everyone while collaborative queueing is on; when it is off, only members with
  DJ access — which, without DJ roles, means those who manage the guild.
* How many tracks one member may have queued: the server's ``member_track_limit`` (0: no limit);
  members with DJ access are exempt.
* Guild configuration (``/dj``, ``/settings``): those who manage the guild.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from vectobeat_core.errors import PermissionDenied
from vectobeat_core.ids import RoleId, UserId
from vectobeat_core.messages import Term
from vectobeat_core.settings import ServerSettings

__all__ = [
    "ADMINISTRATOR",
    "MANAGE_GUILD",
    "MemberFacts",
    "can_manage_guild",
    "has_dj_access",
    "may_add_tracks",
    "may_configure",
    "may_control",
    "member_track_limit",
    "require_add_tracks",
    "require_configure",
    "require_control",
]


ADMINISTRATOR = 1 << 3
"""Discord's Administrator permission bit."""
MANAGE_GUILD = 1 << 5
"""Discord's Manage Server permission bit."""


def can_manage_guild(*, owner: bool, permissions: int) -> bool:
    """The guild's owner, or a member with the Administrator or Manage Server permission bit."""
    return owner or bool(permissions & (ADMINISTRATOR | MANAGE_GUILD))


def _roles(value: Iterable[RoleId]) -> frozenset[RoleId]:
    return frozenset(value)


@attrs.frozen(slots=True)
class MemberFacts:
    """What the rules need to know about the member running a command."""

    user_id: UserId
    role_ids: frozenset[RoleId] = attrs.field(factory=frozenset, converter=_roles)
    owner: bool = False
    permissions: int = 0
    """Discord permission bits of the member in the channel (``ADMINISTRATOR``, ``MANAGE_GUILD``...)."""


def may_configure(member: MemberFacts) -> bool:
    """Whether ``member`` manages the guild (`can_manage_guild`)."""
    return can_manage_guild(owner=member.owner, permissions=member.permissions)


def has_dj_access(member: MemberFacts, settings: ServerSettings) -> bool:
    """Whoever manages the guild, or a member with one of the guild's DJ roles."""
    return may_configure(member) or not member.role_ids.isdisjoint(settings.dj_role_ids)


def may_control(member: MemberFacts, settings: ServerSettings) -> bool:
    """Everyone when no DJ roles are configured; otherwise members with DJ access."""
    return not settings.dj_role_ids or has_dj_access(member, settings)


def may_add_tracks(member: MemberFacts, settings: ServerSettings) -> bool:
    """Everyone with collaborative queueing on; otherwise only members with DJ access."""
    return settings.collaborative_queue or has_dj_access(member, settings)


def member_track_limit(member: MemberFacts, settings: ServerSettings) -> int | None:
    """How many upcoming tracks ``member`` may have queued; ``None``: no limit (none is set, or
    the member has DJ access)."""
    if not settings.member_track_limit or has_dj_access(member, settings):
        return None
    return settings.member_track_limit


def require_control(member: MemberFacts, settings: ServerSettings, action: str) -> None:
    """Raise `PermissionDenied` (naming ``action``) unless ``member`` may control playback."""
    if not may_control(member, settings):
        raise PermissionDenied(
            "Only DJs can {action} here: you need a DJ role or the Manage Server permission.",
            action=Term(action),
        )


def require_add_tracks(member: MemberFacts, settings: ServerSettings) -> None:
    """Raise `PermissionDenied` unless ``member`` may add tracks to the queue."""
    if not may_add_tracks(member, settings):
        if settings.dj_role_ids:
            raise PermissionDenied(
                "Collaborative queueing is off in this server: only DJs can add tracks (you need "
                "a DJ role or the Manage Server permission)."
            )
        raise PermissionDenied(
            "Collaborative queueing is off in this server: only DJs can add tracks (you need "
            "the Manage Server permission)."
        )


def require_configure(member: MemberFacts, what: str) -> None:
    """Raise `PermissionDenied` unless ``member`` manages the guild."""
    if not may_configure(member):
        raise PermissionDenied("You need the Manage Server permission to {what}.", what=Term(what))
