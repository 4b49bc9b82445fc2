"""The fake Discord's mutable world, shared by the gateway, REST and OAuth2 handlers."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Sequence

from vectobeat_core.ids import ChannelId, GuildId, RoleId, UserId

from .records import InteractionRecord, Recorder
from .state import (
    DEFAULT_EVERYONE_PERMISSIONS,
    GUILD_TEXT,
    GUILD_VOICE,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    Json,
    Snowflakes,
)

__all__ = ["World"]


class World:
    """Users, guilds, registered commands, interactions and messages of one fake Discord."""

    def __init__(
        self,
        *,
        token: str,
        application_id: int,
        bot_name: str = "VectoBeat",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.clock = clock
        self.ids = Snowflakes()
        self.bot_user = FakeUser(id=UserId(application_id), username=bot_name, bot=True)
        self.users: dict[UserId, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[GuildId, FakeGuild] = {}
        self.commands: dict[GuildId | None, list[Json]] = {None: []}
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.recorder = Recorder()

    def bot_token_ok(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries this application's bot token."""
        if not authorization or not authorization.startswith("Bot "):
            return False
        return hmac.compare_digest(authorization[4:].encode(), self.token.encode())

    def add_user(
        self,
        username: str,
        *,
        user_id: int | None = None,
        global_name: str | None = None,
        email: str | None = None,
    ) -> FakeUser:
        """A new (human) user."""
        user = FakeUser(
            id=UserId(user_id or self.ids.next()),
            username=username,
            global_name=global_name,
            email=email,
        )
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        *,
        name: str,
        owner: FakeUser,
        guild_id: int | None = None,
        text_channels: Sequence[str] = ("general",),
        voice_channels: Sequence[str] = ("Music",),
        roles: Sequence[tuple[str, int]] = (),
        members: Sequence[tuple[FakeUser, Sequence[str]]] = (),
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    ) -> FakeGuild:
        """A guild with the bot and ``owner`` as members.

        ``roles`` are ``(name, permissions)``; ``members`` are ``(user, role names)``.
        """
        gid = GuildId(guild_id or self.ids.next_guild())
        channels = [
            FakeChannel(id=ChannelId(self.ids.next()), name=n, type=GUILD_TEXT, position=i)
            for i, n in enumerate(text_channels)
        ] + [
            FakeChannel(id=ChannelId(self.ids.next()), name=n, type=GUILD_VOICE, position=i)
            for i, n in enumerate(voice_channels)
        ]
        everyone = FakeRole(
            id=RoleId(gid), name="@everyone", permissions=everyone_permissions, position=0
        )
        role_list = [everyone] + [
            FakeRole(id=RoleId(self.ids.next()), name=n, permissions=p, position=i + 1)
            for i, (n, p) in enumerate(roles)
        ]
        by_name = {role.name: role.id for role in role_list}
        guild = FakeGuild(
            id=gid,
            name=name,
            owner_id=owner.id,
            channels=channels,
            roles=role_list,
            members={},
        )
        for user, role_names in [(self.bot_user, ()), (owner, ()), *members]:
            self.users.setdefault(user.id, user)
            guild.members[user.id] = FakeMember(
                user=user, roles=tuple(by_name[r] for r in role_names)
            )
        self.guilds[gid] = guild
        return guild

    def guild(self, guild_id: int) -> FakeGuild | None:
        return self.guilds.get(GuildId(guild_id))

    def channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel] | None:
        """The guild and channel of ``channel_id``, if it exists."""
        for guild in self.guilds.values():
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        return None

    def command(self, guild_id: GuildId | None, name: str) -> Json | None:
        """A registered chat-input command by name (guild commands win over global ones)."""
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        return None

    def new_token(self) -> str:
        return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
