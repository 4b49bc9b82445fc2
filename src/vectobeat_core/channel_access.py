"""What a member (the bot) may do in a channel, computed like Discord from the server's roles and the
channel's permission overwrites, and for each permission VectoBeat needs but lacks: why.

Discord's order: @everyone's server permissions OR the member's roles' (Administrator or owning the
server grants everything); then the channel's @everyone overwrite, the member's roles' overwrites
(denies, then allows), the member's own overwrite. Without View Channel nothing else counts; in a
text channel Embed Links needs Send Messages; in voice, Speak needs Connect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from vectobeat_core.messages import Phrase, Term, message_id

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "TEXT_NEEDS",
    "VOICE_NEEDS",
    "MemberAccess",
    "MissingPermission",
    "Overwrite",
    "channel_permissions",
    "missing_permissions",
]

ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
CONNECT = 1 << 20
SPEAK = 1 << 21
ALL_PERMISSIONS = (1 << 53) - 1

TEXT_NEEDS: tuple[tuple[str, int, str], ...] = (
    ("View Channel", VIEW_CHANNEL, message_id("to see this channel and its commands")),
    ("Send Messages", SEND_MESSAGES, message_id("to post now-playing and announcements")),
    ("Embed Links", EMBED_LINKS, message_id("to show track cards")),
    ("Read Message History", READ_MESSAGE_HISTORY, message_id("to update its now-playing message")),
)
VOICE_NEEDS: tuple[tuple[str, int, str], ...] = (
    ("View Channel", VIEW_CHANNEL, message_id("to see the voice channel")),
    ("Connect", CONNECT, message_id("to join the voice channel")),
    ("Speak", SPEAK, message_id("to play audio")),
)


@attrs.frozen
class Overwrite:
    """One permission overwrite of a channel: for a role (``is_member=False``) or a member."""

    target_id: int
    is_member: bool
    allow: int
    deny: int


@attrs.frozen
class MemberAccess:
    """What the server says about a member: its roles and every role's server permissions
    (the @everyone role's id is the guild's)."""

    guild_id: int
    user_id: int
    owner: bool
    role_ids: frozenset[int]
    role_permissions: Mapping[int, int]
    role_names: Mapping[int, str] = attrs.field(factory=dict)

    def base(self) -> int:
        value = self.role_permissions.get(self.guild_id, 0)
        for role in self.role_ids:
            value |= self.role_permissions.get(role, 0)
        return value

    def almighty(self) -> bool:
        return self.owner or bool(self.base() & ADMINISTRATOR)


@attrs.frozen
class MissingPermission:
    """A permission the bot lacks (Discord's name for it) and why, as a `Phrase`."""

    name: str
    why: Phrase


def _layers(access: MemberAccess, overwrites: Iterable[Overwrite]) -> list[tuple[str, int, int]]:
    """``(who, allow, deny)`` in Discord's order: @everyone, the member's roles, the member."""
    everyone = [o for o in overwrites if not o.is_member and o.target_id == access.guild_id]
    roles = [o for o in overwrites if not o.is_member and o.target_id in access.role_ids]
    member = [o for o in overwrites if o.is_member and o.target_id == access.user_id]
    layers = [("@everyone", o.allow, o.deny) for o in everyone]
    if roles:
        allow = deny = 0
        for o in roles:
            allow |= o.allow
            deny |= o.deny
        layers.append(("roles", allow, deny))
    layers += [("member", o.allow, o.deny) for o in member]
    return layers


def channel_permissions(access: MemberAccess, overwrites: Iterable[Overwrite]) -> int:
    """The member's permission bits in the channel."""
    if access.almighty():
        return ALL_PERMISSIONS
    value = access.base()
    for _, allow, deny in _layers(access, list(overwrites)):
        value = (value & ~deny) | allow
    return value if value & VIEW_CHANNEL else 0  # no View Channel: nothing else counts


def _why(access: MemberAccess, overwrites: list[Overwrite], bit: int) -> Phrase:
    """Which layer took the permission away (the last one that denies it), else no role has it."""
    if access.base() & bit:
        for who, allow, deny in reversed(_layers(access, overwrites)):
            if deny & bit and not allow & bit:
                return _denier(access, overwrites, who, bit)
    return Phrase(message_id("no role of the bot grants it in the server settings"))


def _denier(access: MemberAccess, overwrites: list[Overwrite], who: str, bit: int) -> Phrase:
    if who == "@everyone":
        return Phrase(message_id("this channel's permissions deny it to @everyone"))
    if who == "member":
        return Phrase(message_id("this channel's permissions deny it to the bot itself"))
    names = sorted(
        access.role_names.get(o.target_id, str(o.target_id))
        for o in overwrites
        if not o.is_member and o.target_id in access.role_ids and o.deny & bit
    )
    return Phrase(
        message_id("this channel's permissions deny it to the role {roles}"),
        {"roles": ", ".join(names)},
    )


def missing_permissions(
    access: MemberAccess, overwrites: Iterable[Overwrite], *, voice: bool
) -> list[MissingPermission]:
    """Each permission VectoBeat needs in the channel that the member lacks, with the reason."""
    listed = list(overwrites)
    have = channel_permissions(access, listed)
    needs = VOICE_NEEDS if voice else TEXT_NEEDS
    gate, gate_name, gated = (
        (CONNECT, "Connect", SPEAK) if voice else (SEND_MESSAGES, "Send Messages", EMBED_LINKS)
    )
    if not have & gate:
        have &= ~gated  # moot without its gate
    missing: list[MissingPermission] = []
    for name, bit, purpose in needs:
        if have & bit:
            continue
        if bit != VIEW_CHANNEL and not have & VIEW_CHANNEL:
            why = Phrase(message_id("it needs {permission} first"), {"permission": "View Channel"})
        elif bit == gated and not have & gate:
            why = Phrase(message_id("it needs {permission} first"), {"permission": gate_name})
        else:
            why = _why(access, listed, bit)
        reason = Phrase(
            message_id("{why} (needed {purpose})"), {"why": why, "purpose": Term(purpose)}
        )
        missing.append(MissingPermission(name, reason))
    return missing
