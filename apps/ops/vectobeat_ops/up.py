"""``vectobeat-ops up``: the panel, the bot and the health checker together, with one command.

Embedded defaults (SQLite file, in-memory stores) unless configured otherwise. Without a
``DISCORD_TOKEN`` it runs the sandbox (`vectobeat_testkit.sandbox`): the fake Discord and a fake
Lavalink cluster, a demo guild with a user in voice, the panel signed in through the fake OAuth2.

Order: check and bind the ports (nothing starts if one is taken), start the sandbox, open the
services, serve the panel in this process, start the bot as a child process, run the health
checker. Ctrl-C or SIGTERM stops all of them, in reverse order; a part that dies stops the rest.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import anyio.abc
import attrs
import httpx
import typer

from vectobeat_adapters.config import AppConfig, load_config
from vectobeat_adapters.logging_setup import configure_logging
from vectobeat_adapters.services import Services, open_services
from vectobeat_core.errors import ConfigError, Unavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.records import GuildRecord
from vectobeat_ops.common import (
    EXIT_USAGE,
    fail,
    ops_context,
    reporting,
    stderr,
    stdout,
    table,
)
from vectobeat_ops.envcheck import check_environment
from vectobeat_ops.nodes import watch_nodes
from vectobeat_ops.sandbox import DEFAULT_STATE_FILE
from vectobeat_testkit.sandbox import Sandbox

__all__ = [
    "DEMO_TIER",
    "PortTaken",
    "app",
    "bind_port",
    "claim_ports",
    "run_stack",
    "seed_demo_guild",
]

app = typer.Typer()

BOT_READY_TIMEOUT = 90.0
T = TypeVar("T")
BOT_STOP_GRACE = 10.0
DEMO_TIER = Tier.GROWTH


class PortTaken(ConfigError):
    """A port ``up`` needs is already in use."""


def bind_port(host: str, port: int, what: str, variable: str) -> socket.socket:
    """A listening socket on ``host:port`` (0 picks a free port), or `PortTaken` saying what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only for sockets that say
    # so; without it every answer written in two parts waited ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PortTaken(
            f"{host}:{port} for the {what} is already in use ({exc.strerror}): stop whatever "
            f"listens there, or choose another port with {variable} (0 picks a free one)."
        ) from None
    sock.set_inheritable(False)
    return sock


def _port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


@attrs.frozen
class Ports:
    panel: socket.socket
    status_port: int


def claim_ports(config: AppConfig) -> Ports:
    """Bind the panel's socket (kept) and check the bot's Status API port (released for the bot)."""
    panel = bind_port(config.panel_host, config.panel_port, "panel", "PANEL_PORT")
    try:
        probe = bind_port(config.status_host, config.status_port, "bot's Status API", "STATUS_PORT")
    except PortTaken:
        panel.close()
        raise
    status_port = _port_of(probe)
    probe.close()
    return Ports(panel, status_port)


def require_extras(with_bot: bool) -> None:
    """``up`` runs the panel here and the bot as a child: their libraries must be installed."""
    needed = ["starlette", "uvicorn", "jinja2", "limits"] + (["discord"] if with_bot else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise Unavailable(
            f"`vectobeat-ops up` needs {', '.join(missing)}: install the full stack with "
            'pip install -e ".[all]" (or vectobeat[all]).'
        )


def _prefixed(values: Mapping[str, str]) -> dict[str, str]:
    """``VECTOBEAT_``-prefixed names win over anything else a child process inherits."""
    return {f"VECTOBEAT_{k}": v for k, v in values.items()}


async def _sign_in(panel_url: str) -> str:
    """Sign in to the panel through the fake OAuth2 as the demo user; the guild names it shows."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=15.0) as client:
        response = await client.get(f"{panel_url}/auth/discord")
        if response.status_code != 200 or not str(response.url).startswith(f"{panel_url}/guilds"):
            raise Unavailable(
                f"signing in to the panel through the fake Discord failed (HTTP "
                f"{response.status_code} at {response.url})"
            )
        guilds = await client.get(f"{panel_url}/api/control-panel/guilds")
        rows = guilds.json().get("guilds", []) if guilds.status_code == 200 else []
        return ", ".join(str(r.get("name")) for r in rows) or "no guild"


async def _wait_for_bot(sandbox: Sandbox, bot: anyio.abc.Process) -> bool:
    """Until the bot is connected and has registered its commands (False: gave up waiting)."""
    with anyio.move_on_after(BOT_READY_TIMEOUT):
        while True:
            if bot.returncode is not None:
                raise Unavailable(f"the bot exited with code {bot.returncode} while starting")
            world = sandbox.discord.world
            if sandbox.discord.gateway.ready_shards() and any(world.commands.values()):
                return True
            await anyio.sleep(0.2)
    return False


async def _stop_process(process: anyio.abc.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    with anyio.move_on_after(BOT_STOP_GRACE, shield=True):
        await process.wait()
        return
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    with anyio.CancelScope(shield=True):
        await process.wait()


@asynccontextmanager
async def _bot_process(env: Mapping[str, str]) -> AsyncIterator[anyio.abc.Process]:
    process = await anyio.open_process(
        [sys.executable, "-m", "vectobeat_bot"],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=None,
        stderr=None,
    )
    try:
        yield process
    finally:
        await _stop_process(process)


async def _watch_signals(
    signals: AsyncIterator[int], scope: anyio.CancelScope, why: list[str]
) -> None:
    """The first Ctrl-C or SIGTERM stops everything; later ones are absorbed while it stops."""
    async for signum in signals:
        if not why:
            why.append(f"{signal.Signals(signum).name}: stopping.")
        scope.cancel()


def _banner(state: Mapping[str, Any], signed_in: str, bot_ready: bool, with_bot: bool) -> None:
    console = stdout()
    nodes = ", ".join(f"{n['name']} ({n['region']})" for n in state["nodes"])
    lines = [
        ["panel", state["panel_url"]],
        ["sign in", f"{state['login_url']}  (as demo-user, through the fake Discord OAuth2)"],
        [
            "demo guild",
            f"{state['guild']['name']} ({state['guild']['id']}), {DEMO_TIER.label} plan; "
            "demo-user is in voice",
        ],
        ["live queue", f"{state['panel_url']}/guilds/{state['guild']['id']}/queue"],
        ["nodes", nodes],
        ["fake Discord", state["discord_control_url"]],
        ["panel check", f"signed in through the fake OAuth2; sees: {signed_in}"],
        [
            "bot",
            "connected"
            if bot_ready
            else ("not started (--no-bot)" if not with_bot else "still starting..."),
        ],
        ["try", 'vectobeat-ops sandbox send "/play lofi"'],
        ["", "vectobeat-ops sandbox kill-node eu-1   (watch the player move)"],
        ["", "vectobeat-ops sandbox status           (what plays where)"],
        ["", "vectobeat-ops sandbox revive-node eu-1"],
        ["stop", "Ctrl-C"],
    ]
    console.print(table("VectoBeat is up (sandbox: no Discord token needed)", ["", ""], lines))


@asynccontextmanager
async def _shielded(manager: contextlib.AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """Enter ``manager``; exit it even while cancelled (bounded), so nothing is left running."""
    value = await manager.__aenter__()
    try:
        yield value
    except BaseException as exc:
        with anyio.CancelScope(shield=True), anyio.move_on_after(BOT_STOP_GRACE + 5):
            await manager.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        with anyio.CancelScope(shield=True), anyio.move_on_after(BOT_STOP_GRACE + 5):
            await manager.__aexit__(None, None, None)


async def _health_checker(config: AppConfig, services: Services, scope: anyio.CancelScope) -> None:
    with scope:
        await watch_nodes(config, store=services.health, telemetry=services.telemetry)


async def seed_demo_guild(services: Services, sandbox: Sandbox) -> None:
    """The demo guild on the Growth plan (live queue sync, region pinning), with the bot in it."""
    guild = sandbox.demo.guild
    await services.guilds.upsert(
        GuildRecord(
            guild_id=GuildId(guild.id),
            name=guild.name,
            tier=DEMO_TIER,
            bot_present=True,
            updated_at=services.clock.now(),
        )
    )


def _panel_url(config: AppConfig, port: int, sandbox_mode: bool) -> str:
    if not sandbox_mode and config.panel_url != AppConfig().panel_url:
        return config.panel_url
    host = config.panel_host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a comparison
    return f"http://{shown}:{port}"


async def run_stack(
    config: AppConfig,
    *,
    ports: Ports,
    env_file: Path,
    state_file: Path,
    with_bot: bool = True,
    sandbox_speed: float = 1.0,
) -> str | None:
    """Run everything until a signal or a failure; returns why it stopped."""
    why: list[str] = []
    # the receiver lives until everything has stopped, so a second Ctrl-C cannot cut the shutdown
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as outer:
            outer.start_soon(_watch_signals, signals, outer.cancel_scope, why)
            try:
                await _run(
                    config,
                    ports=ports,
                    env_file=env_file,
                    state_file=state_file,
                    with_bot=with_bot,
                    sandbox_speed=sandbox_speed,
                    why=why,
                )
            finally:
                outer.cancel_scope.cancel()
    return why[0] if why else None


async def _run(
    config: AppConfig,
    *,
    ports: Ports,
    env_file: Path,
    state_file: Path,
    with_bot: bool,
    sandbox_speed: float,
    why: list[str],
) -> None:
    sandbox_mode = config.discord_token is None
    panel_url = _panel_url(config, _port_of(ports.panel), sandbox_mode)
    overrides: dict[str, str] = {"PANEL_URL": panel_url, "STATUS_PORT": str(ports.status_port)}
    async with AsyncExitStack() as stack:
        stack.callback(ports.panel.close)
        sandbox: Sandbox | None = None
        signed_in = ""
        with stderr().status("starting VectoBeat ...") as progress:
            if sandbox_mode:
                progress.update("starting the sandbox (fake Discord, 4 fake Lavalink nodes) ...")
                sandbox = await stack.enter_async_context(
                    _shielded(Sandbox(panel_url=panel_url, host="127.0.0.1", speed=sandbox_speed))
                )
                overrides |= sandbox.env()
                overrides["BOT_BRIDGE_TOKEN"] = secrets.token_urlsafe(32)
                overrides["SESSION_SECRET"] = secrets.token_urlsafe(32)
            elif config.bot_bridge_token is None:
                overrides["BOT_BRIDGE_TOKEN"] = secrets.token_urlsafe(32)
            effective = load_config(dotenv=env_file, overrides=_prefixed(overrides))
            progress.update("opening the database and stores ...")
            services = await stack.enter_async_context(_shielded(open_services(effective)))
            if sandbox is not None:
                await seed_demo_guild(services, sandbox)
            progress.update("starting the panel ...")
            from vectobeat_ops.panel_server import PanelServer  # noqa: PLC0415 - panel extra

            server = PanelServer(effective, services)
            tasks = await stack.enter_async_context(anyio.create_task_group())
            stack.push_async_callback(server.stop)
            tasks.start_soon(server.serve, ports.panel)
            with anyio.fail_after(30):
                while not server.started:
                    if server.failed:
                        raise Unavailable("the panel did not start (see the log above)")
                    await anyio.sleep(0.05)
            if effective.lavalink_nodes:
                checker_scope = anyio.CancelScope()
                stack.callback(checker_scope.cancel)
                tasks.start_soon(_health_checker, effective, services, checker_scope)
            bot: anyio.abc.Process | None = None
            if with_bot:
                progress.update("starting the bot ...")
                child_env = dict(os.environ) | _prefixed(overrides)
                bot = await stack.enter_async_context(_bot_process(child_env))
            bot_ready = False
            if sandbox is not None:
                if bot is not None:
                    progress.update("waiting for the bot to connect to the fake Discord ...")
                    bot_ready = await _wait_for_bot(sandbox, bot)
                progress.update("signing in to the panel through the fake OAuth2 ...")
                signed_in = await _sign_in(panel_url)
                sandbox.write_state(state_file, {"pid": os.getpid()})
                stack.callback(state_file.unlink, missing_ok=True)
        if sandbox is not None:
            _banner(sandbox.state(), signed_in, bot_ready, with_bot)
        else:
            stdout().print(f"VectoBeat is up: panel {panel_url}; Ctrl-C stops it.", highlight=False)
        if bot is not None:
            code = await bot.wait()
            await anyio.sleep(0.5)  # Ctrl-C reaches the bot and us at once: let the signal win
            why.append(f"the bot stopped unexpectedly (exit code {code}); stopped everything.")
        else:
            await anyio.sleep_forever()


@app.command("up")
def up(
    ctx: typer.Context,
    panel_port: Annotated[
        int | None, typer.Option("--panel-port", help="Override PANEL_PORT (0 picks a free port).")
    ] = None,
    status_port: Annotated[
        int | None,
        typer.Option("--status-port", help="Override STATUS_PORT (0 picks a free port)."),
    ] = None,
    no_bot: Annotated[
        bool, typer.Option("--no-bot", help="Run the panel and the health checker only.")
    ] = False,
    state_file: Annotated[
        Path, typer.Option("--state-file", help="Where the sandbox's addresses are written.")
    ] = DEFAULT_STATE_FILE,
) -> None:
    """Run the panel, the bot and the health checker together until Ctrl-C.

    Without DISCORD_TOKEN it runs the sandbox: a fake Discord, a fake Lavalink cluster (eu, us; two
    nodes each), a demo guild with a user in voice, and prints the URLs. With DISCORD_TOKEN it runs
    production on your configuration (SQLite and in-memory stores unless configured).

    Example: vectobeat-ops up --panel-port 8080
    """
    env_file = ops_context(ctx).env_file
    with reporting():
        overrides: dict[str, str] = {}
        if panel_port is not None:
            overrides["VECTOBEAT_PANEL_PORT"] = str(panel_port)
        if status_port is not None:
            overrides["VECTOBEAT_STATUS_PORT"] = str(status_port)
        config = load_config(dotenv=env_file, overrides=overrides)
        configure_logging(level=config.log_level, log_format=config.log_format, process="up")
        if config.discord_token is not None:
            problems = [
                p for p in check_environment(_env_of(env_file, overrides)) if p.severity == "error"
            ]
            if problems:
                stdout().print(
                    table(
                        "Fix these before `up` (or unset DISCORD_TOKEN for the sandbox)",
                        ["variable", "problem", "fix"],
                        [[p.variable, p.message, p.fix] for p in problems],
                    )
                )
                raise typer.Exit(EXIT_USAGE)
        require_extras(with_bot=not no_bot)
        ports = claim_ports(config)
        reason = anyio.run(
            lambda: run_stack(
                config, ports=ports, env_file=env_file, state_file=state_file, with_bot=not no_bot
            )
        )
    if reason is not None and not reason.startswith(("SIGINT", "SIGTERM")):
        fail(reason, 3)
    stderr().print(f"stopped: {reason or 'done'}", highlight=False)


def _env_of(env_file: Path, overrides: Mapping[str, str]) -> dict[str, str]:
    from vectobeat_ops.envcheck import gather_environment  # noqa: PLC0415 - keeps imports flat

    return gather_environment(os.environ, env_file) | dict(overrides)
