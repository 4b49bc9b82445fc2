"""Who may do what with a guild's music: the DJ and collaborative-queue rules.

* DJ access: Manage Server, Administrator, or one of the guild's DJ roles.
* Playback control (pause, skip, seek, volume, queue edits, ...): everyone while the guild has no
  DJ roles; once it has some, only members with DJ access.
* Adding tracks: everyone while collaborative queueing is on; when it is off, only members with
  DJ access — which, without DJ roles, means Manage Server or Administrator.
* How many tracks one member may have queued: the server's ``member_track_limit`` (0: no limit);
  members with DJ access are exempt.
* Guild configuration (``/dj``, ``/settings``): Manage Server or Administrator.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from vectobeat_core.errors import PermissionDenied
from vectobeat_core.ids import RoleId, UserId
from vectobeat_core.settings import ServerSettings

__all__ = [
    "MemberFacts",
    "has_dj_access",
    "may_add_tracks",
    "may_configure",
    "may_control",
    "member_track_limit",
    "require_add_tracks",
    "require_configure",
    "require_control",
]


def _roles(value: Iterable[RoleId]) -> frozenset[RoleId]:
    return frozenset(value)


@attrs.frozen(slots=True)
class MemberFacts:
    """What the rules need to know about the member running a command."""

    user_id: UserId
    role_ids: frozenset[RoleId] = attrs.field(factory=frozenset, converter=_roles)
    manage_guild: bool = False
    administrator: bool = False


def may_configure(member: MemberFacts) -> bool:
    """Manage Server or Administrator."""
    return member.manage_guild or member.administrator


def has_dj_access(member: MemberFacts, settings: ServerSettings) -> bool:
    """Manage Server, Administrator, or one of the guild's DJ roles."""
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
            f"Only DJs can {action} here: you need a DJ role or the Manage Server permission."
        )


def require_add_tracks(member: MemberFacts, settings: ServerSettings) -> None:
    """Raise `PermissionDenied` unless ``member`` may add tracks to the queue."""
    if not may_add_tracks(member, settings):
        needs = (
            "a DJ role or the Manage Server permission"
            if settings.dj_role_ids
            else ("the Manage Server permission")
        )
        raise PermissionDenied(
            f"Collaborative queueing is off in this server: only DJs can add tracks (you need "
            f"{needs})."
        )


def require_configure(member: MemberFacts, what: str) -> None:
    """Raise `PermissionDenied` unless ``member`` has Manage Server or Administrator."""
    if not may_configure(member):
        raise PermissionDenied(f"You need the Manage Server permission to {what}.")
