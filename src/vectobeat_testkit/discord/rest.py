"""The fake REST API (v10): what discord.py and the bot call, with Discord's errors and headers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import web

from vectobeat_core.ids import UserId

from .http_common import DiscordHTTPError, form_error, json_response, read_body
from .messages import Messages
from .state import FakeGuild, Json
from .world import World

__all__ = ["API", "Rest"]

#: Matches ``/api``, ``/api/v9`` and ``/api/v10`` (Discord serves all three).
API = r"/api{version:(?:/v[0-9]+)?}"
UNAUTHORIZED = DiscordHTTPError(401, 0, "401: Unauthorized")


class Rest:
    """Bot-token REST endpoints; interaction and webhook endpoints authenticate by their token."""

    def __init__(
        self,
        world: World,
        messages: Messages,
        *,
        gateway_url: Callable[[], str],
        recommended_shards: int,
        bearer_me: Callable[[web.Request], Any],
    ) -> None:
        self.world = world
        self.messages = messages
        self.gateway_url = gateway_url
        self.recommended_shards = recommended_shards
        self.bearer_me = bearer_me
        self.verify_key = secrets.token_hex(32)

    def routes(self) -> list[web.RouteDef]:
        m = self.messages
        return [
            web.get(f"{API}/gateway", self.gateway),
            web.get(f"{API}/gateway/bot", self.gateway_bot),
            web.get(f"{API}/users/@me", self.users_me),
            web.get(f"{API}/users/{{user_id:[0-9]+}}", self.user),
            web.get(f"{API}/applications/@me", self.application),
            web.get(f"{API}/oauth2/applications/@me", self.application),
            web.get(f"{API}/applications/{{app_id}}/commands", self.get_commands),
            web.put(f"{API}/applications/{{app_id}}/commands", self.put_commands),
            web.get(
                f"{API}/applications/{{app_id}}/guilds/{{guild_id}}/commands", self.get_commands
            ),
            web.put(
                f"{API}/applications/{{app_id}}/guilds/{{guild_id}}/commands", self.put_commands
            ),
            web.get(f"{API}/guilds/{{guild_id}}", self.guild),
            web.get(f"{API}/guilds/{{guild_id}}/channels", self.guild_channels),
            web.get(f"{API}/guilds/{{guild_id}}/roles", self.guild_roles),
            web.get(f"{API}/guilds/{{guild_id}}/members", self.guild_members),
            web.get(f"{API}/guilds/{{guild_id}}/members/{{user_id}}", self.guild_member),
            web.get(f"{API}/channels/{{channel_id}}", self.channel),
            web.post(f"{API}/channels/{{channel_id}}/messages", m.create_channel_message),
            web.get(
                f"{API}/channels/{{channel_id}}/messages/{{message_id}}", m.get_channel_message
            ),
            web.patch(
                f"{API}/channels/{{channel_id}}/messages/{{message_id}}", m.edit_channel_message
            ),
            web.delete(
                f"{API}/channels/{{channel_id}}/messages/{{message_id}}", m.delete_channel_message
            ),
            web.post(f"{API}/interactions/{{interaction_id}}/{{token}}/callback", m.callback),
            web.post(f"{API}/webhooks/{{webhook_id}}/{{token}}", m.followup),
            web.get(
                f"{API}/webhooks/{{webhook_id}}/{{token}}/messages/{{message_id}}",
                m.get_webhook_message,
            ),
            web.patch(
                f"{API}/webhooks/{{webhook_id}}/{{token}}/messages/{{message_id}}",
                m.edit_webhook_message,
            ),
            web.delete(
                f"{API}/webhooks/{{webhook_id}}/{{token}}/messages/{{message_id}}",
                m.delete_webhook_message,
            ),
        ]

    def _bot(self, request: web.Request) -> None:
        if not self.world.bot_token_ok(request.headers.get("Authorization")):
            raise UNAUTHORIZED

    def _guild(self, request: web.Request) -> FakeGuild:
        self._bot(request)
        guild = self.world.guild(_int(request.match_info["guild_id"]))
        if guild is None:
            raise DiscordHTTPError(404, 10004, "Unknown Guild")
        return guild

    def _app(self, request: web.Request) -> None:
        self._bot(request)
        if _int(request.match_info["app_id"]) != self.world.application_id:
            raise DiscordHTTPError(403, 50001, "Missing Access")

    async def gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url()})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        self._bot(request)
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return json_response(
            {
                "url": self.gateway_url(),
                "shards": self.recommended_shards,
                "session_start_limit": limit,
            }
        )

    async def users_me(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return json_response(self.bearer_me(request))
        self._bot(request)
        me = self.world.bot_user.payload() | {"verified": True, "mfa_enabled": False}
        return json_response(me)

    async def user(self, request: web.Request) -> web.Response:
        self._bot(request)
        user = self.world.users.get(UserId(_int(request.match_info["user_id"])))
        if user is None:
            raise DiscordHTTPError(404, 10013, "Unknown User")
        return json_response(user.payload())

    def application_payload(self) -> Json:
        owner = next(
            (u for u in self.world.users.values() if not u.bot), self.world.bot_user
        ).payload()
        return {
            "id": str(self.world.application_id),
            "name": self.world.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "bot": self.world.bot_user.payload(),
            "terms_of_service_url": None,
            "privacy_policy_url": None,
            "owner": owner,
            "verify_key": self.verify_key,
            "team": None,
            "flags": 0,
            "tags": [],
            "hook": True,
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "custom_install_url": None,
            "redirect_uris": [],
            "approximate_guild_count": len(self.world.guilds),
            "integration_types_config": {"0": {}},
        }

    async def application(self, request: web.Request) -> web.Response:
        self._bot(request)
        return json_response(self.application_payload())

    async def get_commands(self, request: web.Request) -> web.Response:
        self._app(request)
        scope = self._scope(request)
        return json_response(self.world.commands.get(scope, []))

    def _scope(self, request: web.Request) -> Any:
        if "guild_id" not in request.match_info:
            return None
        guild_id = _int(request.match_info["guild_id"])
        if guild_id not in self.world.guilds:
            raise DiscordHTTPError(403, 50001, "Missing Access")
        return guild_id

    async def put_commands(self, request: web.Request) -> web.Response:
        self._app(request)
        scope = self._scope(request)
        body, _ = await read_body(request)
        wanted = body.get("__list__")
        if not isinstance(wanted, list):
            raise DiscordHTTPError(400, 50035, "Invalid Form Body")
        if len(wanted) > 100:
            raise DiscordHTTPError(
                400, 30032, "Maximum number of application commands reached (100)"
            )
        old = {(c["name"], c.get("type", 1)): c for c in self.world.commands.get(scope, [])}
        stored: list[Json] = []
        for index, command in enumerate(wanted):
            name = command.get("name")
            if not isinstance(name, str) or not 1 <= len(name) <= 32:
                raise _field_error(f"{index}.name", "Must be between 1 and 32 in length.")
            kind = int(command.get("type", 1))
            if kind == 1 and not 1 <= len(str(command.get("description", ""))) <= 100:
                raise _field_error(f"{index}.description", "Must be between 1 and 100 in length.")
            localized = command.get("description_localizations") or {}
            for locale, text in localized.items() if isinstance(localized, dict) else ():
                if not isinstance(text, str) or not 1 <= len(text) <= 100:
                    raise _field_error(
                        f"{index}.description_localizations.{locale}",
                        "Must be between 1 and 100 in length.",
                    )
            previous = old.get((name, kind))
            stored.append(
                {
                    "id": previous["id"] if previous else str(self.world.ids.next()),
                    "application_id": str(self.world.application_id),
                    "version": str(self.world.ids.next()),
                    "default_member_permissions": None,
                    "type": kind,
                    "description": "",
                    "options": [],
                    "nsfw": False,
                    "dm_permission": True,
                    "contexts": None,
                    "integration_types": [0],
                    **command,
                    **({"guild_id": str(scope)} if scope else {}),
                }
            )
        self.world.commands[scope] = stored
        await self.world.recorder.add("commands_overwrite", request.method, request.path, body)
        return json_response(stored)

    async def guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        data = guild.rest_payload(application_id=self.world.application_id)
        if request.query.get("with_counts") == "true":
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return json_response(data)

    async def guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([c.payload(guild.id) for c in guild.channels])

    async def guild_roles(self, request: web.Request) -> web.Response:
        return json_response([r.payload() for r in self._guild(request).roles])

    async def guild_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        limit = max(1, min(1000, _int(request.query.get("limit", "1"))))
        after = _int(request.query.get("after", "0"))
        members = sorted(guild.members.values(), key=lambda m: m.user.id)
        return json_response([m.payload() for m in members if m.user.id > after][:limit])

    async def guild_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.members.get(UserId(_int(request.match_info["user_id"])))
        if member is None:
            raise DiscordHTTPError(404, 10007, "Unknown Member")
        return json_response(member.payload())

    async def channel(self, request: web.Request) -> web.Response:
        self._bot(request)
        found = self.world.channel(_int(request.match_info["channel_id"]))
        if found is None:
            raise DiscordHTTPError(404, 10003, "Unknown Channel")
        guild, channel = found
        return json_response(channel.payload(guild.id))


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DiscordHTTPError(
            400,
            50035,
            "Invalid Form Body",
            {
                "_errors": [
                    {"code": "NUMBER_TYPE_COERCE", "message": f'Value "{text}" is not snowflake.'}
                ]
            },
        ) from None


def _field_error(field: str, message: str) -> DiscordHTTPError:
    return form_error(field, "BASE_TYPE_BAD_LENGTH", message)
