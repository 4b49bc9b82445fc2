"""The sandbox: the whole outside world of VectoBeat on loopback, for a newcomer with no token.

``Sandbox`` runs the testkit's fake Discord (gateway, REST, OAuth2) and a fake Lavalink cluster of
two regions with two nodes each (``eu-1``, ``eu-2``, ``us-1``, ``us-2``), and builds a demo world:
a user ``demo-user`` who owns ``Demo Guild``, sits in its voice channel ``Music`` and is the one the
fake OAuth2 signs in. ``Sandbox.env()`` is the configuration that points the bot and the panel at
it. A small control API lets another process drive it (``vectobeat-ops sandbox ...``)::

    GET  /state                       addresses, the demo world, each node and its players
    POST /send   {"command": "/play lofi", "timeout": 20}    run a slash command as the demo user
    POST /pick   {"choice": 2, "timeout": 20}                pick a result in the latest /search menu
    POST /nodes/{name}/kill | /nodes/{name}/revive            fail a node / bring it back

``python -m vectobeat_testkit.sandbox`` runs one on its own (``vectobeat-ops up`` embeds it).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web

from vectobeat_core.errors import InvalidInput, NotFound, Unavailable, VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_testkit.discord import (
    ADMINISTRATOR,
    FakeDiscord,
    FakeGuild,
    FakeMessage,
    FakeUser,
    UserGuild,
)
from vectobeat_testkit.lavalink import Catalogue, FakeLavalinkNode
from vectobeat_testkit.serving import serve

__all__ = [
    "DEMO_TRACKS",
    "REGIONS",
    "Sandbox",
    "demo_catalogue",
    "parse_command_line",
    "read_state_file",
    "reply_text",
]

REGIONS = ("eu", "us")
NODES_PER_REGION = 2
DEMO_TRACKS = (
    ("Lofi Hip Hop Radio - beats to relax/study to", "Lofi Girl", 240_000),
    ("Lofi Rain Session", "Chillhop Music", 205_000),
    ("Late Night Lofi", "Dreamy Beats", 187_000),
    ("Blue Monday", "New Order", 448_000),
    ("Windowlicker", "Aphex Twin", 367_000),
    ("Never Gonna Give You Up", "Rick Astley", 213_000),
)
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, NUMBER = 1, 2, 3, 4, 5, 10
THINKING = 1 << 7
DEFERRED = 5


def demo_catalogue() -> Catalogue:
    """Tracks every sandbox node knows: searchable on YouTube and SoundCloud, a playlist too, and
    (made-up, synced) lyrics for the YouTube ones, which `/lyrics` shows."""
    catalogue = Catalogue()
    songs = []
    for index, (title, author, length) in enumerate(DEMO_TRACKS):
        songs.append(catalogue.add(title, author, length, identifier=f"sandbox{index:05d}"))
        catalogue.add(title, author, length, source="soundcloud", identifier=f"sc-sandbox{index}")
        lines = [
            (at, f"{title}, verse line {n + 1}") for n, at in enumerate(range(0, length, 8_000))
        ]
        catalogue.add_lyrics(songs[-1], lines=lines)
    catalogue.add_playlist("https://example.test/playlist?list=sandbox", "Sandbox mix", songs)
    return catalogue


def _option_value(kind: int, text: str, name: str) -> Any:
    if kind in (INTEGER, NUMBER):
        try:
            return int(text) if kind == INTEGER else float(text)
        except ValueError:
            raise InvalidInput(f"option {name!r} needs a number, got {text!r}") from None
    if kind == BOOLEAN:
        return text.lower() in {"1", "true", "yes", "on"}
    return text


_GROUPS = (SUB_COMMAND, SUB_COMMAND_GROUP)


def _fill_in_order(
    path: list[str],
    options: list[Mapping[str, Any]],
    values: dict[str, Any],
    loose: list[str],
) -> None:
    """Give the loose words to the options still empty, required ones first, as a person types
    them: ``/move 1 5`` fills from and to; a text option takes every word the options after it
    do not need (``/play lofi hip hop``)."""
    ordered = sorted(options, key=lambda o: not o.get("required", False))
    free = [o for o in ordered if o["name"] not in values and o.get("type") not in _GROUPS]
    words = list(loose)
    for index, option in enumerate(free):
        if not words:
            break
        kind, name = int(option.get("type", STRING)), str(option["name"])
        needed_after = sum(1 for later in free[index + 1 :] if later.get("required"))
        take = max(1, len(words) - needed_after) if kind == STRING else 1
        values[name] = _option_value(kind, " ".join(words[:take]), name)
        words = words[take:]
    if words:
        raise InvalidInput(f"/{' '.join(path)} takes no more text than it got: {' '.join(words)!r}")


def parse_command_line(line: str, command: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """``"/play lofi"`` -> ``("play", {"query": "lofi"})`` using the registered ``command``.

    Words naming subcommands extend the path; ``name:value`` sets an option; the remaining words
    fill the first string option that is still empty (required options first).
    """
    try:
        words = shlex.split(line.strip().removeprefix("/"))
    except ValueError as exc:
        raise InvalidInput(f"cannot read {line!r}: {exc}") from None
    if not words:
        raise InvalidInput("an empty command: write it like /play lofi")
    path = [words.pop(0).lower()]
    options: list[Mapping[str, Any]] = list((command or {}).get("options") or [])
    while words:
        sub = next(
            (
                o
                for o in options
                if o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) and o["name"] == words[0]
            ),
            None,
        )
        if sub is None:
            break
        path.append(words.pop(0))
        options = list(sub.get("options") or [])
    subcommands = [str(o["name"]) for o in options if o.get("type") in _GROUPS]
    if subcommands:  # Discord runs a group only through one of its subcommands
        choices = ", ".join(f"/{' '.join(path)} {name}" for name in subcommands)
        raise InvalidInput(f"/{' '.join(path)} needs a subcommand: {choices}")
    schema = {str(o["name"]): o for o in options}
    values: dict[str, Any] = {}
    loose: list[str] = []
    for word in words:
        key, sep, text = word.partition(":")
        if sep and key in schema:
            values[key] = _option_value(int(schema[key].get("type", STRING)), text, key)
        else:
            loose.append(word)
    if loose:
        _fill_in_order(path, options, values, loose)
    missing = [
        str(o["name"])
        for o in options
        if o.get("required") and o["name"] not in values and o.get("type") not in _GROUPS
    ]
    if missing:
        shown = " ".join(f"{name}:<value>" for name in missing)
        raise InvalidInput(
            f"/{' '.join(path)} needs {', '.join(missing)}: write /{' '.join(path)} {shown}"
        )
    return " ".join(path), values


def read_state_file(path: Path) -> dict[str, Any]:
    """The state a running sandbox wrote (``Unavailable`` when none runs there)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Unavailable(
            f"no sandbox is running here ({path} does not exist): start one with "
            "`vectobeat-ops up` (without DISCORD_TOKEN)."
        ) from None
    except (OSError, ValueError) as exc:
        raise Unavailable(f"cannot read the sandbox state {path}: {exc}") from None
    if not isinstance(data, dict) or "control_url" not in data:
        raise Unavailable(f"{path} is not a sandbox state file")
    return data


@attrs.define
class _Demo:
    user: FakeUser
    guild: FakeGuild
    text_channel: int
    voice_channel: int


class Sandbox:
    """Fake Discord + a fake Lavalink cluster + a demo world + a control API, on loopback."""

    def __init__(
        self,
        *,
        panel_url: str,
        host: str = "127.0.0.1",
        control_port: int = 0,
        speed: float = 1.0,
    ) -> None:
        self.panel_url = panel_url.rstrip("/")
        self.host = host
        self.token = "sandbox." + secrets.token_urlsafe(24)
        self.client_secret = secrets.token_urlsafe(24)
        self.lavalink_password = secrets.token_urlsafe(16)
        self.discord = FakeDiscord(
            token=self.token,
            host=host,
            client_secret=self.client_secret,
            redirect_uris=[f"{self.panel_url}/auth/callback"],
            interaction_deadline=None,
        )
        self.nodes: dict[str, FakeLavalinkNode] = {
            f"{region}-{i}": FakeLavalinkNode(
                password=self.lavalink_password,
                name=f"{region}-{i}",
                region=region,
                host=host,
                catalogue=demo_catalogue(),
                speed=speed,
                player_update_interval=1.0,
                stats_interval=5.0,
                lyrics_plugin=True,
            )
            for region in REGIONS
            for i in range(1, NODES_PER_REGION + 1)
        }
        self._control_port = control_port
        self._runner: web.AppRunner | None = None
        self._demo: _Demo | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Sandbox:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        await self.discord.start()
        for node in self.nodes.values():
            await node.start()
        user = self.discord.add_user("demo-user", global_name="Demo User")
        guild = await self.discord.add_guild(name="Demo Guild", owner=user)
        text = next(c for c in guild.channels if not c.is_voice)
        voice = next(c for c in guild.channels if c.is_voice)
        self.discord.set_oauth_user(
            user, [UserGuild(id=guild.id, name=guild.name, owner=True, permissions=ADMINISTRATOR)]
        )
        await self.discord.set_voice(guild_id=guild.id, user_id=user.id, channel_id=voice.id)
        self._demo = _Demo(user, guild, int(text.id), int(voice.id))
        app = web.Application()
        app.add_routes(
            [
                web.get("/state", self._state_route),
                web.get("/lavalink", self._lavalink_route),
                web.post("/send", self._send_route),
                web.post("/pick", self._pick_route),
                web.post("/nodes/{name}/{action}", self._node_route),
            ]
        )
        self._runner, self._control_port = await serve(app, self.host, self._control_port)

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        for node in self.nodes.values():
            await node.stop()
        await self.discord.close()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def demo(self) -> _Demo:
        if self._demo is None:
            raise Unavailable("the sandbox is not started")
        return self._demo

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self._control_port}"

    def lavalink_nodes(self) -> str:
        """``LAVALINK_NODES`` for the cluster (the shared password comes separately)."""
        return ",".join(f"{n.region}:{n.name}:{n.base_url}" for n in self.nodes.values())

    def env(self) -> dict[str, str]:
        """What the bot and the panel need to live in the sandbox (secrets included)."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.discord.api_base,
            "DISCORD_GATEWAY_URL": self.discord.gateway_url,
            "DISCORD_CLIENT_ID": str(self.discord.world.application_id),
            "DISCORD_CLIENT_SECRET": self.client_secret,
            "LAVALINK_NODES": self.lavalink_nodes(),
            "LAVALINK_PASSWORD": self.lavalink_password,
            "SHARD_COUNT": "1",
            # you are the operator here: the demo user is staff, so the care desk is yours to try
            "STAFF_USER_IDS": str(self.demo.user.id),
        }

    def state(self) -> dict[str, Any]:
        """Addresses, the demo world and each node with its players (no secrets)."""
        demo = self.demo
        return {
            "control_url": self.control_url,
            "panel_url": self.panel_url,
            "discord_api_base": self.discord.api_base,
            "discord_control_url": f"{self.discord.base_url}/_fake/state",
            "login_url": f"{self.panel_url}/auth/discord",
            "guild": {"id": str(demo.guild.id), "name": demo.guild.name},
            "user": {"id": str(demo.user.id), "username": demo.user.username},
            "text_channel_id": str(demo.text_channel),
            "voice_channel_id": str(demo.voice_channel),
            "ready_shards": self.discord.gateway.ready_shards(),
            "nodes": [self._node_state(node) for node in self.nodes.values()],
            "names": self._names(),
        }

    def _names(self) -> dict[str, dict[str, str]]:
        """The demo guild's channels, members and roles by id: what a mention in a reply names."""
        guild = self.demo.guild
        return {
            "channels": {str(c.id): c.name for c in guild.channels},
            "users": {
                str(uid): m.nick or m.user.global_name or m.user.username
                for uid, m in guild.members.items()
            },
            "roles": {str(r.id): r.name for r in guild.roles},
        }

    def _node_state(self, node: FakeLavalinkNode) -> dict[str, Any]:
        players = []
        for guild_id, player in sorted(node.players.items()):
            info = (player.track or {}).get("info") or {}
            players.append(
                {
                    "guild_id": str(guild_id),
                    "track": info.get("title"),
                    "position_ms": player.position,
                    "paused": player.paused,
                }
            )
        return {
            "name": node.name,
            "region": node.region,
            "url": node.base_url,
            "alive": not node.killed,
            "players": players,
        }

    def write_state(self, path: Path, extra: Mapping[str, Any] | None = None) -> None:
        """Write `state()` (plus ``extra``) for ``vectobeat-ops sandbox`` in other processes."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = self.state() | dict(extra or {})
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        temporary.replace(path)

    # -- acting --------------------------------------------------------------------------------

    def node(self, name: str) -> FakeLavalinkNode:
        node = self.nodes.get(name)
        if node is None:
            raise NotFound(f"no sandbox node {name!r}; the nodes are {', '.join(self.nodes)}")
        return node

    async def kill_node(self, name: str) -> None:
        await self.node(name).kill()

    async def revive_node(self, name: str) -> None:
        await self.node(name).revive()

    async def send(self, line: str, timeout: float = 20.0) -> dict[str, Any]:  # noqa: ASYNC109 - a CLI deadline
        """Run a slash command as the demo user in the demo guild; return the bot's reply."""
        demo = self.demo
        name = line.strip().removeprefix("/").split(" ", 1)[0].lower()
        command = await self._registered(demo.guild.id, name, timeout)
        if command is None:
            if not self.discord.gateway.ready_shards():
                raise Unavailable("the bot is not connected to the sandbox's Discord (yet)")
            raise NotFound(f"the bot has no /{name} command")
        path, options = parse_command_line(line, command)
        record = await self.discord.slash(
            guild_id=demo.guild.id,
            channel_id=demo.text_channel,
            user_id=demo.user.id,
            name=path,
            options=options,
        )
        try:
            response = await self.discord.wait_for_response(record.id, timeout)
            if response.type == DEFERRED:
                message = await self.discord.wait_for_answer(record.id, timeout)
                content, embeds, flags = message.content, list(message.embeds), message.flags
                components = list(message.components)
            else:
                content, embeds = response.content, response.embeds
                flags, components = response.flags, response.components
        except TimeoutError:
            raise Unavailable(f"the bot did not answer /{path} within {timeout:g} s") from None
        return {
            "command": f"/{path}",
            "options": options,
            "content": content,
            "embeds": [dict(e) for e in embeds],
            "ephemeral": bool(flags & 64),
            "text": reply_text(content, embeds, components),
            "names": self._names(),
        }

    def _open_menu(self) -> tuple[FakeMessage, Mapping[str, Any]] | None:
        """The newest bot message in the demo text channel with a select menu still enabled."""
        channel = self.demo.text_channel
        for message in sorted(self.discord.world.messages.values(), key=lambda m: -m.id):
            if message.channel_id != channel or message.author.id != self.discord.bot_user.id:
                continue
            for row in message.components:
                for component in row.get("components") or ():
                    if component.get("type") == 3 and not component.get("disabled"):
                        return message, component
        return None

    async def pick(self, choice: int, timeout: float = 20.0) -> dict[str, Any]:  # noqa: ASYNC109 - a CLI deadline
        """Pick result ``choice`` (1-based) in the latest open /search menu as the demo user;
        return the bot's answer (the updated menu message, or its error)."""
        found = self._open_menu()
        if found is None:
            raise NotFound(
                'there is no open /search menu; run sandbox send "/search <words>" first'
            )
        message, menu = found
        options = list(menu.get("options") or ())
        if not 1 <= choice <= len(options):
            raise InvalidInput(f"choose a result from 1 to {len(options)}, not {choice}")
        record = await self.discord.click(
            message_id=message.id,
            user_id=self.demo.user.id,
            custom_id=str(menu["custom_id"]),
            values=[str(options[choice - 1]["value"])],
        )
        world = self.discord.world

        def answered() -> FakeMessage | None:
            if record.followups:
                return record.followups[-1]
            shown = world.messages.get(message.id)
            return shown if shown is not None and shown != message else None

        try:
            shown = await self.discord.wait_for(answered, timeout)
        except TimeoutError:
            raise Unavailable(f"the bot did not answer the pick within {timeout:g} s") from None
        return {
            "choice": choice,
            "content": shown.content,
            "ephemeral": shown.ephemeral,
            "text": reply_text(shown.content, shown.embeds, shown.components),
            "names": self._names(),
        }

    async def _registered(self, guild_id: int, name: str, timeout: float) -> Any:  # noqa: ASYNC109
        """The bot's ``/name`` once it is registered; a bot still starting gets ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            command = self.discord.world.command(GuildId(guild_id), name)
            connected = bool(self.discord.gateway.ready_shards())
            if command is not None or (connected and any(self.discord.world.commands.values())):
                return command
            if loop.time() >= deadline:
                return None
            await asyncio.sleep(0.1)

    # -- control API ---------------------------------------------------------------------------

    async def _state_route(self, _request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _lavalink_route(self, _request: web.Request) -> web.Response:
        """The nodes and their password, for `vectobeat-ops nodes` on this machine (the control
        API listens on loopback only, like the fake nodes themselves)."""
        return web.json_response(
            {"LAVALINK_NODES": self.lavalink_nodes(), "LAVALINK_PASSWORD": self.lavalink_password}
        )

    async def _send_route(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            reply = await self.send(str(body["command"]), float(body.get("timeout", 20.0)))
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        except VectoBeatError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        return web.json_response(reply)

    async def _pick_route(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            choice = body["choice"]
            if isinstance(choice, bool) or not isinstance(choice, int):
                raise TypeError(f"choice must be a whole number, got {choice!r}")
            reply = await self.pick(choice, float(body.get("timeout", 20.0)))
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        except VectoBeatError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        return web.json_response(reply)

    async def _node_route(self, request: web.Request) -> web.Response:
        name, action = request.match_info["name"], request.match_info["action"]
        try:
            if action == "kill":
                await self.kill_node(name)
            elif action == "revive":
                await self.revive_node(name)
            else:
                return web.json_response({"error": f"unknown action {action!r}"}, status=404)
        except VectoBeatError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        return web.json_response(self._node_state(self.node(name)))


def reply_text(
    content: str,
    embeds: Sequence[Mapping[str, Any]],
    components: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The reply as a person reads it: content, then each embed's title, description, fields,
    then each open select menu's choices, numbered as `sandbox pick` takes them."""
    parts = [content] if content else []
    for embed in embeds:
        for key in ("title", "description"):
            if embed.get(key):
                parts.append(str(embed[key]))
        for field in embed.get("fields") or []:
            parts.append(f"{field.get('name', '')}: {field.get('value', '')}")
    for row in components:
        for component in row.get("components") or ():
            if component.get("type") != 3 or component.get("disabled"):
                continue
            parts.append(f"[menu] {component.get('placeholder') or 'Choose'} (sandbox pick N):")
            for number, option in enumerate(component.get("options") or (), start=1):
                about = f" ({option['description']})" if option.get("description") else ""
                parts.append(f"  {number}: {option.get('label', '')}{about}")
    return "\n".join(parts)


async def _serve(panel_url: str, state_file: Path) -> None:  # pragma: no cover - manual tool
    async with Sandbox(panel_url=panel_url) as sandbox:
        sandbox.write_state(state_file)
        print(json.dumps(sandbox.state() | {"env": sandbox.env()}, indent=2), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover - manual tool
    import argparse
    import contextlib

    parser = argparse.ArgumentParser(prog="python -m vectobeat_testkit.sandbox")
    parser.add_argument("--panel-url", default="http://127.0.0.1:8080")
    parser.add_argument("--state-file", type=Path, default=Path(".vectobeat/sandbox.json"))
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.panel_url, args.state_file))
