"""``FakeDiscord``: gateway, REST, OAuth2 and the test API on one loopback aiohttp server."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
from aiohttp import web

from vectobeat_core.errors import NotFound
from vectobeat_core.ids import ChannelId, GuildId, UserId
from vectobeat_testkit.serving import AppServer

from .control import control_routes
from .gateway import Gateway
from .http_common import RateLimiter
from .interactions import Options, build_autocomplete, build_component, build_slash
from .messages import Messages
from .oauth import OAuth2, UserGuild
from .records import InteractionRecord, InteractionResponse, Recorded
from .rest import Rest
from .state import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeOverwrite,
    FakeUser,
    FakeVoiceState,
    Json,
)
from .world import World

__all__ = ["FakeDiscord"]

T = TypeVar("T")
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_MESSAGES_INTENT = 1 << 9


class FakeDiscord(AppServer):
    """A fake Discord on ``host:port`` (port 0 picks a free one) that discord.py cannot tell apart.

    ``async with FakeDiscord(token=..., application_id=...) as fake:`` then point the bot at
    ``fake.api_base`` and ``fake.gateway_url`` (see ``point_discordpy_at``).
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",  # noqa: S107 - a fake
        application_id: int = 1_100_000_000_000_000_001,
        bot_name: str = "VectoBeat",
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval_ms: int = 41_250,
        recommended_shards: int = 1,
        client_secret: str = "fake-client-secret",  # noqa: S107 - a fake
        redirect_uris: Sequence[str] = (),
        interaction_deadline: float | None = 3.0,
        rate_limit: int = 50,
        rate_window: float = 1.0,
        voice_endpoint: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = World(
            token=token, application_id=application_id, bot_name=bot_name, clock=clock
        )
        super().__init__(host, port)
        self.interaction_deadline = interaction_deadline
        self.voice_endpoint = voice_endpoint
        self.rate_limiter = RateLimiter(rate_limit, rate_window, clock)
        self.gateway = Gateway(
            self.world,
            heartbeat_interval_ms=heartbeat_interval_ms,
            gateway_url=lambda: self.gateway_url,
            voice_endpoint=lambda: self.voice_endpoint or f"{self.host}:{self.port}",
        )
        self.oauth = OAuth2(self.world, client_secret=client_secret, redirect_uris=redirect_uris)
        self.messages = Messages(
            self.world,
            interaction_deadline=lambda: self.interaction_deadline,
            announce=self._announce_message,
        )
        self.rest = Rest(
            self.world,
            self.messages,
            gateway_url=lambda: self.gateway_url,
            recommended_shards=recommended_shards,
            bearer_me=self.oauth.me,
        )

    async def _announce_message(self, guild_id: GuildId, event: str, data: Json) -> None:
        guild = self.world.guild(guild_id)
        if guild is not None:
            await self.gateway.dispatch_guild(guild, event, data, intent=GUILD_MESSAGES_INTENT)

    # lifecycle

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.rate_limiter.middleware()])
        app.add_routes(
            [web.get("/gateway", self.gateway.handle), web.get("/gateway/", self.gateway.handle)]
        )
        app.add_routes(self.oauth.routes())
        app.add_routes(self.rest.routes())
        app.add_routes(control_routes(self))
        return app

    async def close(self) -> None:
        await self.gateway.close_all()
        await super().close()

    # addresses

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/oauth2/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.api_base}/oauth2/token"

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot_user

    @property
    def recorded(self) -> list[Recorded]:
        """Everything the bot sent, in order."""
        return list(self.world.recorder.entries)

    # world building

    def add_user(self, username: str, **extra: Any) -> FakeUser:
        return self.world.add_user(username, **extra)

    async def add_guild(self, *, name: str, owner: FakeUser, **options: Any) -> FakeGuild:
        """Add a guild (see ``World.add_guild``); a connected shard receives GUILD_CREATE."""
        guild = self.world.add_guild(name=name, owner=owner, **options)
        await self.gateway.dispatch_guild(
            guild, "GUILD_CREATE", guild.payload(application_id=self.world.application_id)
        )
        return guild

    async def add_member(
        self, *, guild_id: int, user: FakeUser, roles: Sequence[str] = ()
    ) -> FakeMember:
        """Add ``user`` to a guild with the named roles; GUILD_MEMBER_ADD if the bot asked for it."""
        guild = self.guild(guild_id)
        by_name = {role.name: role.id for role in guild.roles}
        member = FakeMember(user=user, roles=tuple(by_name[name] for name in roles))
        self.world.users.setdefault(user.id, user)
        guild.members[user.id] = member
        for session in list(self.gateway.by_shard.values()):
            if session.owns(guild) and session.intents & GUILD_MEMBERS_INTENT:
                await session.dispatch(
                    "GUILD_MEMBER_ADD", member.payload() | {"guild_id": str(guild.id)}
                )
        return member

    async def set_overwrites(
        self, *, guild_id: int, channel_id: int, overwrites: Sequence[FakeOverwrite]
    ) -> FakeChannel:
        """Replace a channel's permission overwrites; the owning shard receives CHANNEL_UPDATE."""
        guild = self.guild(guild_id)
        old = guild.channel(channel_id)
        if old is None:
            raise NotFound(f"guild {guild_id} has no channel {channel_id}")
        new = attrs.evolve(old, overwrites=tuple(overwrites))
        guild.channels[guild.channels.index(old)] = new
        await self.gateway.dispatch_guild(guild, "CHANNEL_UPDATE", new.payload(guild.id))
        return new

    def set_oauth_user(self, user: FakeUser, guilds: Sequence[UserGuild] = ()) -> None:
        """The user who approves OAuth2 requests, and their ``/users/@me/guilds``."""
        self.oauth.set_user(user, guilds)

    def guild(self, guild_id: int) -> FakeGuild:
        guild = self.world.guild(guild_id)
        if guild is None:
            raise NotFound(f"no guild {guild_id} in the fake Discord")
        return guild

    # users acting

    async def _inject(self, record: InteractionRecord) -> InteractionRecord:
        await self.gateway.dispatch_guild(
            self.guild(record.guild_id or 0), "INTERACTION_CREATE", record.payload
        )
        return record

    async def slash(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: Options = (),
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user runs ``/name`` (``"playlist save"`` for subcommands) with ``options``."""
        return await self._inject(
            build_slash(
                self.world,
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=user_id,
                name=name,
                options=options,
                locale=locale,
            )
        )

    async def autocomplete(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, Any],
        focused: str,
    ) -> InteractionRecord:
        """A user types in option ``focused`` of ``/name``."""
        return await self._inject(
            build_autocomplete(
                self.world,
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=user_id,
                name=name,
                options=options,
                focused=focused,
            )
        )

    async def click(
        self,
        *,
        message_id: int,
        user_id: int,
        custom_id: str,
        component_type: int | None = None,
        values: Sequence[str] | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user clicks a button (or picks ``values`` in a select) on a bot message; ``locale``
        is the language of their Discord client."""
        message = self.world.messages.get(message_id)
        if message is None:
            raise NotFound(f"no message {message_id} in the fake Discord")
        return await self._inject(
            build_component(
                self.world,
                message=message,
                user_id=user_id,
                custom_id=custom_id,
                component_type=component_type,
                values=values,
                locale=locale,
            )
        )

    async def set_voice(self, *, guild_id: int, user_id: int, channel_id: int | None) -> None:
        """A user joins (``channel_id``) or leaves (``None``) voice; the bot gets VOICE_STATE_UPDATE."""
        guild = self.guild(guild_id)
        channel = None if channel_id is None else guild.channel(channel_id)
        if channel_id is not None and (channel is None or not channel.is_voice):
            raise NotFound(f"guild {guild_id} has no voice channel {channel_id}")
        old = guild.voice_states.get(UserId(user_id))
        state = FakeVoiceState(
            user_id=UserId(user_id),
            channel_id=None if channel_id is None else ChannelId(channel_id),
            session_id=old.session_id if old else f"{self.world.ids.next():x}",
        )
        if channel_id is None:
            guild.voice_states.pop(state.user_id, None)
        else:
            guild.voice_states[state.user_id] = state
        await self.gateway.dispatch_guild(
            guild, "VOICE_STATE_UPDATE", self.gateway.voice_state_event(guild, state)
        )

    # waiting and reading

    def interaction(self, interaction_id: int) -> InteractionRecord:
        record = self.world.interactions.get(interaction_id)
        if record is None:
            raise NotFound(f"no interaction {interaction_id}")
        return record

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:  # noqa: ASYNC109 - tests name their deadline
        """Wait until ``predicate()`` is truthy (re-checked whenever the fake's state changes)."""
        return await self.world.recorder.wait_for(predicate, timeout)

    async def wait_for_response(
        self,
        interaction_id: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - tests name their deadline
    ) -> InteractionResponse:
        """The bot's interaction callback (type, content, embeds, components, flags)."""
        record = self.interaction(interaction_id)
        return await self.wait_for(lambda: record.response, timeout)

    async def wait_for_message(self, interaction_id: int, timeout: float = 10.0) -> FakeMessage:  # noqa: ASYNC109 - tests name their deadline
        """The user-visible answer: the original response once it is no longer "thinking"."""
        record = self.interaction(interaction_id)

        def done() -> FakeMessage | None:
            msg = record.original
            return msg if msg is not None and not msg.flags & 128 else None

        return await self.wait_for(done, timeout)

    async def wait_for_answer(self, interaction_id: int, timeout: float = 10.0) -> FakeMessage:  # noqa: ASYNC109 - tests name their deadline
        """After a deferred response, what the user sees first: the edited original, or a
        follow-up (a bot may answer a deferred command with a follow-up and leave the original
        "thinking" until it is deleted or times out)."""
        record = self.interaction(interaction_id)

        def done() -> FakeMessage | None:
            msg = record.original
            if msg is not None and not msg.flags & 128:
                return msg
            return record.followups[0] if record.followups else None

        return await self.wait_for(done, timeout)

    async def wait_for_followups(
        self,
        interaction_id: int,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - tests name their deadline
    ) -> list[FakeMessage]:
        record = self.interaction(interaction_id)
        return await self.wait_for(
            lambda: record.followups[:] if len(record.followups) >= count else None, timeout
        )

    async def wait_for_shards(self, count: int, timeout: float = 10.0) -> list[int]:  # noqa: ASYNC109 - tests name their deadline
        """Wait until ``count`` shards are identified (READY and their GUILD_CREATEs sent)."""
        return await self.wait_for(
            lambda: s if len(s := self.gateway.ready_shards()) >= count else None, timeout
        )

    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        """Messages currently visible in a channel (bot messages, after edits and deletes)."""
        return [m for m in self.world.messages.values() if m.channel_id == channel_id]

    # gateway faults

    async def reconnect(self, shard_id: int) -> None:
        await self.gateway.reconnect(shard_id)

    async def invalidate_session(self, shard_id: int, *, resumable: bool = False) -> None:
        await self.gateway.invalidate(shard_id, resumable=resumable)

    async def drop_connection(self, shard_id: int) -> None:
        await self.gateway.drop(shard_id)

    def stall_shard(self, shard_id: int) -> None:
        """Silence the shard's connection (no ACKs, no events) with its socket left open."""
        self.gateway.stall(shard_id)

    def force_rate_limit(self, retry_after: float) -> None:
        """The next REST request gets a 429 with ``retry_after`` seconds."""
        self.rate_limiter.forced.append(retry_after)
