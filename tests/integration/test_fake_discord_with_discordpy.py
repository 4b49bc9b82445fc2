"""Unmodified discord.py (AutoShardedBot, 2 shards) against the fake Discord, end to end."""

from __future__ import annotations

import asyncio
import json
import math
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
import yarl

from vectobeat_core.errors import InvalidInput
from vectobeat_testkit.discord import FakeDiscord, FakeGuild, point_discordpy_at

with warnings.catch_warnings():
    # discord.py imports the stdlib audioop (deprecated on 3.11+) for voice playback we do not use
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord
    from discord import app_commands
    from discord.ext import commands
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

TOKEN = "bot-token-for-tests"
APP_ID = 1_200_000_000_000_000_042


@pytest.fixture
def restore_discordpy() -> Iterator[None]:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


class VoiceProbe(discord.VoiceProtocol):
    """A voice protocol like pomice's Player: it only needs the two gateway voice events."""

    def __init__(self, client: discord.Client, channel: discord.abc.Connectable) -> None:
        super().__init__(client, channel)
        self.state: dict[str, Any] | None = None
        self.server: dict[str, Any] | None = None
        self.got_server = asyncio.Event()

    async def on_voice_state_update(self, data: Any) -> None:
        self.state = dict(data)

    async def on_voice_server_update(self, data: Any) -> None:
        self.server = dict(data)
        self.got_server.set()

    async def connect(self, *, timeout: float, reconnect: bool, **_: Any) -> None:  # noqa: ASYNC109 - discord.py's signature
        assert isinstance(self.channel, discord.VoiceChannel)
        await self.channel.guild.change_voice_state(channel=self.channel)
        with anyio.fail_after(timeout):
            await self.got_server.wait()

    async def disconnect(self, *, force: bool) -> None:
        assert isinstance(self.channel, discord.VoiceChannel)
        await self.channel.guild.change_voice_state(channel=None)
        self.cleanup()


class Bot(commands.AutoShardedBot):
    def __init__(self, **options: Any) -> None:
        super().__init__(
            **options,
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            enable_debug_events=True,
        )
        self.ready = asyncio.Event()
        self.raw: list[dict[str, Any]] = []
        self.resumed: list[int] = []
        self.messages_seen: asyncio.Queue[discord.Message] = asyncio.Queue()
        self.voice_updates: asyncio.Queue[tuple[discord.Member, Any, Any]] = asyncio.Queue()

    async def next_voice_update(self) -> tuple[discord.Member, Any, Any]:
        with anyio.fail_after(5):
            return await self.voice_updates.get()

    async def next_message(self) -> discord.Message:
        with anyio.fail_after(5):
            return await self.messages_seen.get()

    async def on_message(self, message: discord.Message) -> None:
        self.messages_seen.put_nowait(message)

    async def on_voice_state_update(self, member: discord.Member, before: Any, after: Any) -> None:
        self.voice_updates.put_nowait((member, before, after))

    async def setup_hook(self) -> None:
        music = app_commands.Group(name="playlist", description="Playlists")

        @music.command(name="save", description="Save the queue")
        async def save(interaction: discord.Interaction, name: str, public: bool = False) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send(f"saved {name} public={public}", ephemeral=True)

        @app_commands.command(name="ping", description="Latency")
        async def ping(interaction: discord.Interaction, echo: str) -> None:
            view = discord.ui.View()
            view.add_item(discord.ui.Button(label="Again", custom_id="ping:again"))
            await interaction.response.send_message(f"pong {echo}", view=view)

        @ping.autocomplete("echo")
        async def echo_choices(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=f"{current}-{i}", value=f"{current}{i}") for i in range(3)
            ]

        self.tree.add_command(music)
        self.tree.add_command(ping)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s between IDENTIFYs for Discord's limit; the fake has none."""

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.resumed.append(shard_id)

    async def on_socket_raw_receive(self, msg: str) -> None:
        self.raw.append(json.loads(msg))

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        data: Any = interaction.data or {}
        if (
            interaction.type is discord.InteractionType.component
            and data.get("custom_id") == "ping:again"
        ):
            await interaction.response.edit_message(content="pong again", view=None)


@pytest.fixture
async def running(
    restore_discordpy: None,
) -> AsyncIterator[tuple[FakeDiscord, Bot, list[FakeGuild]]]:
    async with FakeDiscord(token=TOKEN, application_id=APP_ID, recommended_shards=2) as fake:
        owner = fake.add_user("alice")
        guilds = [await fake.add_guild(name=f"Guild {i}", owner=owner) for i in range(4)]
        point_discordpy_at(fake.api_base, fake.gateway_url)
        bot = Bot()
        async with anyio.create_task_group() as tg:
            tg.start_soon(bot.start, TOKEN)
            with anyio.fail_after(10):
                await bot.ready.wait()
            try:
                yield fake, bot, guilds
            finally:
                await bot.close()


def test_point_discordpy_at_sets_rest_and_gateway(restore_discordpy: None) -> None:
    point_discordpy_at("http://127.0.0.1:1/api/v10/", "ws://127.0.0.1:1/gateway")
    assert Route("GET", "/users/@me").url == "http://127.0.0.1:1/api/v10/users/@me"
    assert yarl.URL("ws://127.0.0.1:1/gateway") == DiscordWebSocket.DEFAULT_GATEWAY


@pytest.mark.anyio
async def test_two_shards_receive_their_guilds(
    running: tuple[FakeDiscord, Bot, list[FakeGuild]],
) -> None:
    fake, bot, guilds = running
    assert bot.shard_count == 2
    assert sorted(bot.shards) == [0, 1]
    assert {g.id for g in bot.guilds} == {g.id for g in guilds}
    for guild in guilds:
        seen = bot.get_guild(guild.id)
        assert seen is not None
        assert seen.shard_id == guild.shard_id(2)
        assert seen.owner_id == guild.owner_id
        assert {c.name for c in seen.channels} == {"general", "Music"}
    assert {guild.shard_id(2) for guild in guilds} == {0, 1}
    # the bot's READY / GUILD_CREATE frames were zlib-stream compressed and decoded by discord.py
    assert any(frame.get("t") == "READY" for frame in bot.raw)
    assert fake.gateway.identify_count == 2
    assert all(session.compressor is not None for session in fake.gateway.by_shard.values())


@pytest.mark.anyio
async def test_explicit_shard_ids_connect_through_the_default_gateway(
    restore_discordpy: None,
) -> None:
    """A shard-cluster process (shard_count and shard_ids set) skips /gateway/bot entirely."""
    async with FakeDiscord(token=TOKEN, application_id=APP_ID) as fake:
        owner = fake.add_user("alice")
        guilds = [await fake.add_guild(name=f"Guild {i}", owner=owner) for i in range(4)]
        point_discordpy_at(fake.api_base, fake.gateway_url)
        bot = Bot(shard_count=2, shard_ids=[1])
        async with anyio.create_task_group() as tg:
            tg.start_soon(bot.start, TOKEN)
            with anyio.fail_after(10):
                await bot.ready.wait()
            try:
                assert {g.id for g in bot.guilds} == {g.id for g in guilds if g.shard_id(2) == 1}
                assert fake.gateway.ready_shards() == [1]
            finally:
                await bot.close()


@pytest.mark.anyio
async def test_sync_then_slash_command_is_answered(
    running: tuple[FakeDiscord, Bot, list[FakeGuild]],
) -> None:
    fake, bot, guilds = running
    synced = await bot.tree.sync()
    assert {c.name for c in synced} == {"ping", "playlist"}
    assert fake.recorded[-1].kind == "commands_overwrite"
    guild = guilds[1]
    text = next(c for c in guild.channels if not c.is_voice)
    interaction = await fake.slash(
        guild_id=guild.id,
        channel_id=text.id,
        user_id=guild.owner_id,
        name="ping",
        options={"echo": "hi"},
    )
    response = await fake.wait_for_response(interaction.id, timeout=5)
    assert response.type == 4
    assert response.content == "pong hi"
    assert not response.ephemeral
    button = response.components[0]["components"][0]
    assert button["custom_id"] == "ping:again"
    message = await fake.wait_for_message(interaction.id, timeout=5)
    seen = (
        await bot.next_message()
    )  # Discord echoes the bot's own public messages as MESSAGE_CREATE
    assert seen.id == message.id
    assert seen.content == "pong hi"
    assert seen.author.id == fake.bot_user.id

    click = await fake.click(message_id=message.id, user_id=guild.owner_id, custom_id="ping:again")
    update = await fake.wait_for_response(click.id, timeout=5)
    assert update.type == 7
    assert fake.world.messages[message.id].content == "pong again"
    assert fake.world.messages[message.id].components == ()
    # as in a Discord client, only a component the message shows can be used
    with pytest.raises(InvalidInput, match="no component with custom_id 'ping:again'"):
        await fake.click(message_id=message.id, user_id=guild.owner_id, custom_id="ping:again")


@pytest.mark.anyio
async def test_subcommand_defer_and_followup(
    running: tuple[FakeDiscord, Bot, list[FakeGuild]],
) -> None:
    fake, bot, guilds = running
    await bot.tree.sync()
    guild = guilds[0]
    text = next(c for c in guild.channels if not c.is_voice)
    interaction = await fake.slash(
        guild_id=guild.id,
        channel_id=text.id,
        user_id=guild.owner_id,
        name="playlist save",
        options={"name": "road trip", "public": True},
    )
    response = await fake.wait_for_response(interaction.id, timeout=5)
    assert response.type == 5
    assert response.ephemeral
    (followup,) = await fake.wait_for_followups(interaction.id, 1, timeout=5)
    assert followup.content == "saved road trip public=True"
    assert followup.ephemeral


@pytest.mark.anyio
async def test_autocomplete(running: tuple[FakeDiscord, Bot, list[FakeGuild]]) -> None:
    fake, bot, guilds = running
    await bot.tree.sync()
    guild = guilds[2]
    text = next(c for c in guild.channels if not c.is_voice)
    interaction = await fake.autocomplete(
        guild_id=guild.id,
        channel_id=text.id,
        user_id=guild.owner_id,
        name="ping",
        options={"echo": "ab"},
        focused="echo",
    )
    response = await fake.wait_for_response(interaction.id, timeout=5)
    assert response.type == 8
    assert [c["value"] for c in response.choices] == ["ab0", "ab1", "ab2"]


@pytest.mark.anyio
async def test_bot_joins_voice_and_gets_voice_server(
    running: tuple[FakeDiscord, Bot, list[FakeGuild]],
) -> None:
    fake, bot, guilds = running
    guild = bot.get_guild(guilds[3].id)
    assert guild is not None
    channel = guild.voice_channels[0]
    probe = await channel.connect(cls=VoiceProbe, timeout=5)
    assert isinstance(probe, VoiceProbe)
    assert probe.server is not None
    assert probe.server["guild_id"] == str(guild.id)
    assert probe.server["token"]
    assert probe.server["endpoint"]
    assert probe.state is not None
    assert probe.state["channel_id"] == str(channel.id)
    assert fake.guild(guild.id).voice_states[fake.bot_user.id].channel_id == channel.id
    sent = [r for r in fake.recorded if r.kind == "gateway" and r.method == "op4"]
    assert int(sent[-1].body["channel_id"]) == channel.id


@pytest.mark.anyio
async def test_user_joining_voice_reaches_the_bot(
    running: tuple[FakeDiscord, Bot, list[FakeGuild]],
) -> None:
    fake, bot, guilds = running
    user = fake.add_user("bob")
    await fake.add_member(guild_id=guilds[0].id, user=user)
    voice = next(c for c in guilds[0].channels if c.is_voice)
    await fake.set_voice(guild_id=guilds[0].id, user_id=user.id, channel_id=voice.id)
    member, before, after = await bot.next_voice_update()
    assert member.id == user.id
    assert before.channel is None
    assert after.channel is not None
    assert after.channel.id == voice.id
    await fake.set_voice(guild_id=guilds[0].id, user_id=user.id, channel_id=None)
    member, before, after = await bot.next_voice_update()
    assert before.channel is not None
    assert after.channel is None


@pytest.mark.anyio
async def test_reconnect_resumes_and_invalid_session_reidentifies(
    running: tuple[FakeDiscord, Bot, list[FakeGuild]],
) -> None:
    fake, bot, guilds = running
    await fake.reconnect(0)
    await fake.wait_for(lambda: fake.gateway.by_shard[0].resumed_count == 1, timeout=5)
    before = fake.gateway.identify_count
    await fake.invalidate_session(1)
    await fake.wait_for(lambda: fake.gateway.identify_count == before + 1, timeout=10)
    await fake.wait_for_shards(2, timeout=10)
    # still answering on both shards
    await bot.tree.sync()
    for guild in guilds[:2]:
        text = next(c for c in guild.channels if not c.is_voice)
        interaction = await fake.slash(
            guild_id=guild.id,
            channel_id=text.id,
            user_id=guild.owner_id,
            name="ping",
            options={"echo": "x"},
        )
        assert (await fake.wait_for_response(interaction.id, timeout=5)).content == "pong x"


@pytest.mark.anyio
async def test_heartbeat_acks_give_discordpy_a_true_latency(
    restore_discordpy: None, caplog: pytest.LogCaptureFixture
) -> None:
    """An ACK faster than discord.py's keep-alive thread records its send would be measured
    against the previous heartbeat: a latency of a whole interval, as Discord never shows."""
    async with FakeDiscord(token=TOKEN, application_id=APP_ID, heartbeat_interval_ms=250) as fake:
        owner = fake.add_user("alice")
        await fake.add_guild(name="Guild", owner=owner)
        point_discordpy_at(fake.api_base, fake.gateway_url)
        bot = Bot()
        seen: list[float] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(bot.start, TOKEN)
            try:
                with anyio.fail_after(10):
                    await bot.ready.wait()
                    while fake.gateway.heartbeats < 16:
                        seen.extend(lat for _, lat in bot.latencies if math.isfinite(lat))
                        await anyio.sleep(0.01)
                # each ACK takes the fake's round trip; a race would read a whole 0.25 s interval
                assert seen
                assert max(seen) < 0.2, max(seen)
                assert "Can't keep up" not in caplog.text
            finally:
                await bot.close()
