"""The fake Discord's world: users, guilds (channels, roles, members, voice states), messages.

Value objects are frozen; ``payload()`` renders each exactly as Discord's API v10 sends it
(snowflakes as strings, permissions as decimal strings).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from vectobeat_core.ids import ChannelId, GuildId, RoleId, UserId

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "CONNECT",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "GUILD_TEXT",
    "GUILD_VOICE",
    "MANAGE_GUILD",
    "SPEAK",
    "FakeChannel",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeOverwrite",
    "FakeRole",
    "FakeUser",
    "FakeVoiceState",
    "Json",
    "Snowflakes",
    "iso_timestamp",
]

Json = dict[str, Any]

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | CONNECT | SPEAK | USE_APPLICATION_COMMANDS | (1 << 6) | (1 << 16)
)
GUILD_TEXT = 0
GUILD_VOICE = 2
DISCORD_EPOCH_MS = 1_420_070_400_000
_BASE_MS = 1_700_000_000_000 - DISCORD_EPOCH_MS


def iso_timestamp(seconds: float) -> str:
    """An ISO-8601 timestamp the way Discord writes them."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()


class Snowflakes:
    """Deterministic snowflakes; the n-th guild id lands on shard ``n % count`` (``(id >> 22) % count``)."""

    def __init__(self) -> None:
        self._next = 0
        self._guilds = 0

    def next(self) -> int:
        self._next += 1
        return ((_BASE_MS + self._next) << 22) | (self._next & 0xFFF)

    def next_guild(self) -> int:
        """Guild ids count in their own range (a different worker id), so they alternate shards."""
        self._guilds += 1
        return ((_BASE_MS + 10_000_000 + self._guilds) << 22) | (1 << 17)


@attrs.frozen
class FakeUser:
    id: UserId
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    email: str | None = None

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@attrs.frozen
class FakeRole:
    id: RoleId
    name: str
    permissions: int = 0
    position: int = 1
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@attrs.frozen
class FakeOverwrite:
    """A channel permission overwrite for a role (``type`` 0) or a member (``type`` 1)."""

    target_id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> Json:
        return {
            "id": str(self.target_id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@attrs.frozen
class FakeChannel:
    id: ChannelId
    name: str
    type: int = GUILD_TEXT
    position: int = 0
    parent_id: ChannelId | None = None
    overwrites: tuple[FakeOverwrite, ...] = ()

    @property
    def is_voice(self) -> bool:
        return self.type == GUILD_VOICE

    def payload(self, guild_id: GuildId) -> Json:
        data: Json = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "nsfw": False,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "flags": 0,
        }
        if self.is_voice:
            data.update(bitrate=64000, user_limit=0, rtc_region=None, rate_limit_per_user=0)
            data["last_message_id"] = None
        else:
            data.update(topic=None, last_message_id=None, rate_limit_per_user=0)
        return data


@attrs.frozen
class FakeMember:
    user: FakeUser
    roles: tuple[RoleId, ...] = ()
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"

    def payload(self) -> Json:
        return {
            "user": self.user.payload(),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(role) for role in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }


@attrs.frozen
class FakeVoiceState:
    user_id: UserId
    channel_id: ChannelId | None
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False

    def payload(self) -> Json:
        return {
            "user_id": str(self.user_id),
            "channel_id": None if self.channel_id is None else str(self.channel_id),
            "session_id": self.session_id,
            "deaf": False,
            "mute": False,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_video": False,
            "self_stream": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }


@attrs.define
class FakeGuild:
    """A guild and everything in it; ``roles[0]`` is always @everyone (same id as the guild)."""

    id: GuildId
    name: str
    owner_id: UserId
    channels: list[FakeChannel]
    roles: list[FakeRole]
    members: dict[UserId, FakeMember]
    voice_states: dict[UserId, FakeVoiceState] = attrs.Factory(dict)
    joined_at: str = "2024-01-01T00:00:00+00:00"

    def shard_id(self, shard_count: int) -> int:
        """The shard this guild's events go to, by Discord's formula."""
        return (self.id >> 22) % shard_count

    def channel(self, channel_id: int) -> FakeChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def permissions_of(self, user_id: UserId) -> int:
        """Guild-level permissions: owner and Administrator get everything, else the OR of roles."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        role_ids: Iterable[int] = () if member is None else member.roles
        value = self.roles[0].permissions
        for role_id in role_ids:
            role = self.role(role_id)
            if role is not None:
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def payload(self, *, application_id: int) -> Json:
        """The full GUILD_CREATE payload (also the base of REST ``GET /guilds/{id}``)."""
        return {
            **self.rest_payload(application_id=application_id),
            "joined_at": self.joined_at,
            "large": len(self.members) > 250,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [
                state.payload() for state in self.voice_states.values() if state.channel_id
            ],
            "members": [member.payload() for member in self.members.values()],
            "channels": [channel.payload(self.id) for channel in self.channels],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def rest_payload(self, *, application_id: int) -> Json:
        del application_id
        text = next((c for c in self.channels if not c.is_voice), None)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None if text is None else str(text.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "description": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "nsfw": False,
        }


@attrs.frozen
class FakeMessage:
    """A message the bot sent (channel message, interaction response or follow-up)."""

    id: int
    channel_id: ChannelId
    guild_id: GuildId | None
    author: FakeUser
    content: str = ""
    embeds: tuple[Mapping[str, Any], ...] = ()
    components: tuple[Mapping[str, Any], ...] = ()
    flags: int = 0
    type: int = 0
    timestamp: str = "2024-01-01T00:00:00+00:00"
    edited_timestamp: str | None = None
    application_id: int | None = None
    attachments: tuple[str, ...] = ()

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    def payload(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "type": self.type,
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {"id": str(self.id + i), "filename": name, "size": 0, "url": "", "proxy_url": ""}
                for i, name in enumerate(self.attachments)
            ],
            "embeds": [dict(embed) for embed in self.embeds],
            "components": [dict(component) for component in self.components],
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
            data["webhook_id"] = str(self.application_id)
        return data

    def edited(self, body: Mapping[str, Any], now: float) -> FakeMessage:
        """This message after a PATCH with ``body`` (absent fields keep their value)."""
        changes: dict[str, Any] = {"edited_timestamp": iso_timestamp(now)}
        if "content" in body:
            changes["content"] = body["content"] or ""
        if "embeds" in body:
            changes["embeds"] = tuple(body["embeds"] or ())
        if "components" in body:
            changes["components"] = tuple(body["components"] or ())
        if "flags" in body and body["flags"] is not None:
            changes["flags"] = (self.flags & 64) | (int(body["flags"]) & ~64)
        return attrs.evolve(self, **changes)
