"""The HTTP control surface under ``/_fake/``: drive a ``FakeDiscord`` from another process.

Loopback test tool, unauthenticated by design. JSON in, JSON out; ids are strings or ints.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from vectobeat_core.errors import VectoBeatError
from vectobeat_core.ids import GuildId, UserId

from .oauth import UserGuild
from .records import InteractionRecord

if TYPE_CHECKING:
    from .server import FakeDiscord

__all__ = ["control_routes"]

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


def _interaction(record: InteractionRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "token": record.token,
        "response": None if record.response is None else attrs.asdict(record.response),
        "original": None
        if record.original is None or record.original_deleted
        else record.original.payload(),
        "followups": [m.payload() for m in record.followups],
    }


def control_routes(fake: FakeDiscord) -> list[web.RouteDef]:
    """Routes: state, users, guilds, oauth user, interactions, voice, gateway faults, recorded."""

    def guarded(handler: Callable[[dict[str, Any]], Awaitable[Any]]) -> Handler:
        async def run(request: web.Request) -> web.Response:
            body: dict[str, Any] = dict(request.match_info) | dict(request.query)
            if request.can_read_body:
                try:
                    body |= await request.json()
                except ValueError:
                    return _json({"error": "the body is not JSON"}, 400)
            try:
                return _json(await handler(body))
            except VectoBeatError as exc:
                return _json({"error": exc.message}, exc.status)
            except (KeyError, TypeError, ValueError) as exc:
                return _json({"error": f"bad request: {exc!r}"}, 400)

        return run

    async def state(_: dict[str, Any]) -> Any:
        return {
            "api_base": fake.api_base,
            "gateway_url": fake.gateway_url,
            "application_id": str(fake.world.application_id),
            "ready_shards": fake.gateway.ready_shards(),
            "guilds": [
                g.rest_payload(application_id=0)
                | {"channels": [c.payload(g.id) for c in g.channels]}
                for g in fake.world.guilds.values()
            ],
        }

    async def add_user(b: dict[str, Any]) -> Any:
        return fake.add_user(str(b["username"])).payload()

    async def add_guild(b: dict[str, Any]) -> Any:
        owner = fake.world.users[UserId(int(b["owner_id"]))]
        members = [(fake.world.users[UserId(int(u))], tuple(r)) for u, r in b.get("members", [])]
        guild = await fake.add_guild(
            name=str(b["name"]),
            owner=owner,
            text_channels=tuple(b.get("text_channels", ["general"])),
            voice_channels=tuple(b.get("voice_channels", ["Music"])),
            roles=[(str(n), int(p)) for n, p in b.get("roles", [])],
            members=members,
        )
        return guild.payload(application_id=fake.world.application_id)

    async def oauth_user(b: dict[str, Any]) -> Any:
        user = fake.world.users[UserId(int(b["user_id"]))]
        guilds = [
            UserGuild(
                id=GuildId(int(g["id"])),
                name=str(g["name"]),
                owner=bool(g.get("owner")),
                permissions=int(g.get("permissions", 0)),
            )
            for g in b.get("guilds", [])
        ]
        fake.set_oauth_user(user, guilds)
        return {"user_id": str(user.id)}

    async def slash(b: dict[str, Any]) -> Any:
        record = await fake.slash(
            guild_id=int(b["guild_id"]),
            channel_id=int(b["channel_id"]),
            user_id=int(b["user_id"]),
            name=str(b["name"]),
            options=b.get("options", {}),
        )
        return _interaction(record)

    async def autocomplete(b: dict[str, Any]) -> Any:
        record = await fake.autocomplete(
            guild_id=int(b["guild_id"]),
            channel_id=int(b["channel_id"]),
            user_id=int(b["user_id"]),
            name=str(b["name"]),
            options=b.get("options", {}),
            focused=str(b["focused"]),
        )
        return _interaction(record)

    async def click(b: dict[str, Any]) -> Any:
        record = await fake.click(
            message_id=int(b["message_id"]),
            user_id=int(b["user_id"]),
            custom_id=str(b["custom_id"]),
            values=b.get("values"),
        )
        return _interaction(record)

    async def interaction(b: dict[str, Any]) -> Any:
        record = fake.interaction(int(b["interaction_id"]))
        if b.get("wait"):
            await fake.wait_for_response(record.id, float(b["wait"]))
        return _interaction(record)

    async def voice(b: dict[str, Any]) -> Any:
        channel = b.get("channel_id")
        await fake.set_voice(
            guild_id=int(b["guild_id"]),
            user_id=int(b["user_id"]),
            channel_id=None if channel is None else int(channel),
        )
        return {"ok": True}

    async def gateway_fault(b: dict[str, Any]) -> Any:
        shard, action = int(b["shard_id"]), b["action"]
        if action == "reconnect":
            await fake.reconnect(shard)
        elif action == "invalidate":
            await fake.invalidate_session(shard, resumable=bool(b.get("resumable")))
        elif action == "drop":
            await fake.drop_connection(shard)
        elif action == "stall":
            fake.stall_shard(shard)
        else:
            raise ValueError(f"unknown action {action!r}")
        return {"ok": True}

    async def recorded(b: dict[str, Any]) -> Any:
        since = int(b.get("since", 0))
        return [attrs.asdict(entry) for entry in fake.recorded[since:]]

    return [
        web.get("/_fake/state", guarded(state)),
        web.post("/_fake/users", guarded(add_user)),
        web.post("/_fake/guilds", guarded(add_guild)),
        web.post("/_fake/oauth/user", guarded(oauth_user)),
        web.post("/_fake/interactions/slash", guarded(slash)),
        web.post("/_fake/interactions/autocomplete", guarded(autocomplete)),
        web.post("/_fake/interactions/click", guarded(click)),
        web.get("/_fake/interactions/{interaction_id}", guarded(interaction)),
        web.post("/_fake/voice", guarded(voice)),
        web.post("/_fake/gateway/{shard_id}/{action}", guarded(gateway_fault)),
        web.get("/_fake/recorded", guarded(recorded)),
    ]
