"""Run the bot as a REAL process (``python -m vectobeat_bot``) against fakes started in the test.

`BotWorld` holds the fake Discord, one fake Lavalink node per region (us, eu), the panel's app
(with its bot bridge) served by uvicorn on loopback, and optionally Redis for durable queues.
`BotProcess` starts the bot with environment variables pointing at them and waits for ``/readyz``
(never a fixed sleep). `World.run` injects a slash command and returns what the user sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import warnings
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import attrs
import httpx
import uvicorn

from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import Services, memory_services
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_core.settings import ServerSettings, SettingsRecord
from vectobeat_panel.app import create_app
from vectobeat_panel.state import PanelOptions
from vectobeat_testkit.discord import FakeDiscord, FakeGuild, FakeMessage, FakeUser
from vectobeat_testkit.discord.records import InteractionRecord
from vectobeat_testkit.lavalink import Catalogue, CatalogueTrack, FakeLavalinkNode

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from vectobeat_adapters.redis import RedisKeys, open_redis
    from vectobeat_adapters.redis.queue_store import RedisQueueStore
    from vectobeat_adapters.redis.settings_channel import RedisSettingsChannel

TOKEN = "e2e-bot-token"
APP_ID = 1_300_000_000_000_000_001
BRIDGE_TOKEN = "e2e-bridge-token-0123456789abcdef0123456789"
LAVALINK_PASSWORD = "e2e-lavalink-password"
ROOT = Path(__file__).resolve().parents[2]
DJ_PERMISSIONS = 0
MANAGE_GUILD = 1 << 5


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def loopback_socket() -> socket.socket:
    """A listening, non-blocking socket on a free loopback port (bound before anything starts).
    ``IPPROTO_TCP`` explicitly: asyncio sets TCP_NODELAY only on sockets that say so."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def serve_on(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    """Serve an ASGI app under uvicorn on the already bound ``sock`` for the block."""
    server = _Server(
        uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=1
        )
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes no "started" event
                await anyio.sleep(0.01)
        try:
            yield
        finally:
            server.should_exit = True


@contextlib.asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app on a free loopback port for the block; yields its base URL."""
    sock = loopback_socket()
    try:
        async with serve_on(app, sock):
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def song(catalogue: Catalogue, title: str, minutes: int = 10) -> CatalogueTrack:
    return catalogue.add(title, "The Testers", minutes * 60_000)


def build_catalogue() -> Catalogue:
    catalogue = Catalogue()
    for title in ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"):
        song(catalogue, f"{title} Song")
    catalogue.add("Short Tune", "The Testers", 4_000)
    hundred = [catalogue.add(f"Filler {i:03d}", "Bulk", 600_000) for i in range(100)]
    catalogue.add_playlist("https://example.test/list/hundred", "Hundred", hundred)
    extra = catalogue.add("Filler 100", "Bulk", 600_000)
    catalogue.add_playlist(
        "https://example.test/list/hundred-one", "Hundred and one", [*hundred, extra]
    )
    catalogue.fail("https://example.test/broken", "This video is unavailable")
    return catalogue


@attrs.frozen
class Answer:
    """What a Discord user sees as the answer to an interaction."""

    content: str
    ephemeral: bool
    message: FakeMessage | None
    record: InteractionRecord


@attrs.define
class E2EGuild:
    guild: FakeGuild
    owner: FakeUser
    member: FakeUser
    dj: FakeUser
    text_channel: int
    voice_channel: int

    @property
    def id(self) -> int:
        return int(self.guild.id)


@attrs.define
class BotWorld:
    fake: FakeDiscord
    nodes: dict[str, FakeLavalinkNode]
    catalogue: Catalogue
    services: Services
    panel_url: str
    redis_url: str | None
    tmp: Path
    panel: Any
    guilds: dict[str, E2EGuild] = attrs.Factory(dict)

    async def add_guild(
        self, key: str, tier: Tier, settings: ServerSettings | None = None, *, dj_role: bool = False
    ) -> E2EGuild:
        """A guild with an owner, a plain member and a DJ-role member, on ``tier``."""
        fake = self.fake
        owner = fake.add_user(f"{key}-owner")
        member = fake.add_user(f"{key}-member")
        dj = fake.add_user(f"{key}-dj")
        guild = await fake.add_guild(
            name=f"E2E {key}",
            owner=owner,
            roles=[("DJ", DJ_PERMISSIONS)],
            members=[(member, ()), (dj, ("DJ",))],
        )
        now = 1_700_000_000.0
        await self.services.guilds.upsert(
            GuildRecord(GuildId(guild.id), guild.name, tier, True, now)
        )
        if settings is not None or dj_role:
            chosen = settings or ServerSettings()
            if dj_role:
                role = next(r for r in guild.roles if r.name == "DJ")
                chosen = attrs.evolve(chosen, dj_role_ids=(role.id,))
            record = SettingsRecord(GuildId(guild.id), 1, chosen, now, "e2e")
            await self.services.settings.put(record, 0)
        text = next(c for c in guild.channels if not c.is_voice)
        voice = next(c for c in guild.channels if c.is_voice)
        made = E2EGuild(guild, owner, member, dj, int(text.id), int(voice.id))
        self.guilds[key] = made
        return made

    def env(self, **extra: str) -> dict[str, str]:
        nodes = ",".join(
            f"{region}:{node.name}:http://127.0.0.1:{node.port}"
            for region, node in self.nodes.items()
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("VECTOBEAT_")}
        env.update(
            {
                "VECTOBEAT_DISCORD_TOKEN": TOKEN,
                "VECTOBEAT_DISCORD_API_BASE": self.fake.api_base,
                "VECTOBEAT_DISCORD_GATEWAY_URL": self.fake.gateway_url,
                "VECTOBEAT_LAVALINK_NODES": nodes,
                "VECTOBEAT_LAVALINK_PASSWORD": LAVALINK_PASSWORD,
                "VECTOBEAT_DATABASE_URL": f"sqlite+aiosqlite:///{self.tmp / 'bot.db'}",
                "VECTOBEAT_PANEL_URL": self.panel_url,
                "VECTOBEAT_BOT_BRIDGE_TOKEN": BRIDGE_TOKEN,
                "VECTOBEAT_STATUS_HOST": "127.0.0.1",
                "VECTOBEAT_STATUS_PORT": "0",
                "VECTOBEAT_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.redis_url is not None:
            env["VECTOBEAT_REDIS_URL"] = self.redis_url
        env.update(extra)
        return env

    async def voice(self, guild: E2EGuild, user: FakeUser, *, join: bool = True) -> None:
        await self.fake.set_voice(
            guild_id=guild.id,
            user_id=int(user.id),
            channel_id=guild.voice_channel if join else None,
        )

    async def run(
        self,
        guild: E2EGuild,
        user: FakeUser,
        name: str,
        options: Mapping[str, Any] | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> Answer:
        """``/name options`` by ``user``; the answer once the bot has given it."""
        record = await self.fake.slash(
            guild_id=guild.id,
            channel_id=guild.text_channel,
            user_id=int(user.id),
            name=name,
            options=dict(options or {}),
        )
        return await self.answer(record, timeout)

    async def answer(self, record: InteractionRecord, timeout: float = 15.0) -> Answer:  # noqa: ASYNC109
        def seen() -> Answer | None:
            response = record.response
            if response is None:
                return None
            if record.followups:
                last = record.followups[-1]
                return Answer(last.content, bool(last.flags & 64), last, record)
            if not response.deferred:
                return Answer(response.content, response.ephemeral, record.original, record)
            original = record.original
            if original is not None and not original.flags & 128 and not record.original_deleted:
                return Answer(original.content, bool(original.flags & 64), original, record)
            return None

        return await self.fake.wait_for(seen, timeout)

    def player(self, guild: E2EGuild) -> tuple[str, Any] | None:
        """(node name, player) of the guild on whichever fake node has it."""
        for node in self.nodes.values():
            found = node.players.get(guild.id)
            if found is not None and found.track is not None:
                return node.name, found
        return None

    async def wait_nodes(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109 - tests name their deadline
        """Wait until ``predicate()`` holds, re-checked whenever any fake node changes."""
        with anyio.fail_after(timeout):
            async with anyio.create_task_group() as tg:

                async def watch(node: FakeLavalinkNode) -> None:
                    await node.wait_for(predicate)
                    tg.cancel_scope.cancel()

                for node in self.nodes.values():
                    tg.start_soon(watch, node)

    async def wait_player(
        self,
        guild: E2EGuild,
        title: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - tests name their deadline
    ) -> tuple[str, Any]:
        """(node name, player) once the guild plays ``title`` (any track when ``None``)."""

        def found() -> bool:
            got = self.player(guild)
            return got is not None and (title is None or got[1].track["info"]["title"] == title)

        await self.wait_nodes(found, timeout)
        got = self.player(guild)
        assert got is not None
        return got


def problem_lines(logs: str) -> list[str]:
    """Log lines at ERROR or above, or carrying a traceback: JSON events (``LOG_FORMAT=json``,
    the default off a terminal) by their ``level`` and ``exception``, console lines by text."""
    problems = []
    for line in logs.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if isinstance(event, dict):
            if event.get("level") in {"error", "critical"} or "exception" in event:
                problems.append(line)
        elif " ERROR " in line or "Traceback" in line or "[error" in line:
            problems.append(line)
    return problems


class BotProcess:
    """``python -m vectobeat_bot`` as a child process; ``status_url`` once it is listening."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.process: anyio.abc.Process | None = None
        self.status_url: str | None = None
        self.stderr: list[str] = []

    async def start(
        self,
        tg: anyio.abc.TaskGroup,
        timeout: float = 40.0,  # noqa: ASYNC109
        *,
        ready: bool = True,
    ) -> None:
        """Start the process and wait for its Status API (and for ``/readyz`` unless not ``ready``)."""
        self.process = await anyio.open_process(
            [sys.executable, "-m", "vectobeat_bot"], env=self.env, cwd=self.cwd
        )
        tg.start_soon(self._drain_stderr)
        assert self.process.stdout is not None
        buffer = b""
        with anyio.fail_after(timeout):
            while self.status_url is None:
                try:
                    chunk = await self.process.stdout.receive()
                except anyio.EndOfStream:
                    raise AssertionError(f"the bot exited early:\n{self.logs()}") from None
                buffer += chunk
                for line in buffer.decode(errors="replace").splitlines():
                    if line.startswith("vectobeat-bot status "):
                        self.status_url = line.split()[-1]
            if ready:
                await self.wait_ready()

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        with contextlib.suppress(
            anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError
        ):
            async for chunk in self.process.stderr:
                self.stderr.append(chunk.decode(errors="replace"))

    def logs(self, limit: int | None = 6000) -> str:
        text = "".join(self.stderr)
        return text if limit is None else text[-limit:]

    async def wait_ready(self) -> None:
        assert self.status_url is not None
        async with httpx.AsyncClient() as client:
            while True:  # another process: its readiness can only be polled
                if self.process is not None and self.process.returncode is not None:
                    raise AssertionError(f"the bot exited:\n{self.logs()}")
                try:
                    response = await client.get(f"{self.status_url}/readyz")
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await anyio.sleep(0.05)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        assert self.status_url is not None
        async with httpx.AsyncClient() as client:
            return await client.get(f"{self.status_url}{path}", **kwargs)

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0) -> int:  # noqa: ASYNC109
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        with anyio.fail_after(timeout):
            code = await self.process.wait()
        await self.process.aclose()
        return code


async def clear_snapshots(url: str, guilds: list[int]) -> None:
    async with open_redis(url) as conn:
        store = RedisQueueStore(conn, RedisKeys())
        for guild in guilds:
            await store.delete(GuildId(guild))


@contextlib.asynccontextmanager
async def bot_world(
    tmp: Path,
    *,
    redis_url: str | None,
    services: Services | None = None,
    panel_config: Mapping[str, str] | None = None,
    heartbeat_interval_ms: int = 41_250,
) -> AsyncIterator[BotWorld]:
    """The fakes and the panel, without the bot; ``services`` (default: in memory) are the
    panel's, ``panel_config`` extra settings of the panel, ``heartbeat_interval_ms`` the fake
    gateway's (short for shard-stall tests)."""
    catalogue = build_catalogue()
    async with contextlib.AsyncExitStack() as stack:
        fake = await stack.enter_async_context(
            FakeDiscord(
                token=TOKEN, application_id=APP_ID, heartbeat_interval_ms=heartbeat_interval_ms
            )
        )
        nodes = {}
        for region in ("us", "eu"):
            nodes[region] = await stack.enter_async_context(
                FakeLavalinkNode(
                    password=LAVALINK_PASSWORD,
                    name=f"{region}-1",
                    region=region,
                    catalogue=catalogue,
                    player_update_interval=0.5,
                    stats_interval=1.0,
                )
            )
        services = services or memory_services()
        if redis_url is not None:
            conn = await stack.enter_async_context(open_redis(redis_url))
            services = attrs.evolve(
                services, settings_channel=RedisSettingsChannel(conn, RedisKeys())
            )
        config = load_config(
            {},
            dotenv=tmp / "none.env",
            overrides={
                "BOT_BRIDGE_TOKEN": BRIDGE_TOKEN,
                "PANEL_URL": "http://127.0.0.1:1",
                **(panel_config or {}),
            },
        )
        app = create_app(config, services, options=PanelOptions(long_poll_max=30.0))
        panel_url = await stack.enter_async_context(serve_app(app))
        yield BotWorld(fake, nodes, catalogue, services, panel_url, redis_url, tmp, app.state.panel)


@contextlib.asynccontextmanager
async def running_bot(world: BotWorld, **env: str) -> AsyncIterator[BotProcess]:
    """Start the bot process for the block; SIGTERM it afterwards."""
    if world.redis_url is not None:
        await clear_snapshots(world.redis_url, [g.id for g in world.guilds.values()])
    bot = BotProcess(world.env(**env), world.tmp)
    async with anyio.create_task_group() as tg:
        try:
            await bot.start(tg)
            yield bot
        finally:
            if bot.process is not None and bot.process.returncode is None:
                await bot.stop()
            tg.cancel_scope.cancel()
    assert not problem_lines(bot.logs(limit=None)), bot.logs()
