"""Messages the bot sends: interaction callbacks, follow-ups, original edits, channel messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

from vectobeat_core.ids import ChannelId, GuildId

from .http_common import DiscordHTTPError, form_error, json_response, read_body
from .records import InteractionRecord, InteractionResponse
from .state import FakeMessage, Json, iso_timestamp
from .world import World

__all__ = ["Messages"]

EPHEMERAL, LOADING = 64, 128
CHAT_INPUT_COMMAND_MESSAGE = 20
UNKNOWN_WEBHOOK = DiscordHTTPError(404, 10015, "Unknown Webhook")
UNKNOWN_MESSAGE = DiscordHTTPError(404, 10008, "Unknown Message")


def validate_message(body: Mapping[str, Any], files: list[str], *, partial: bool = False) -> None:
    """Discord's checks on a message body: length limits and "Cannot send an empty message"."""
    content = body.get("content")
    if content is not None and len(str(content)) > 2000:
        raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    if len(body.get("embeds") or []) > 10:
        raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    if len(body.get("components") or []) > 5 and not int(body.get("flags") or 0) & (1 << 15):
        raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for index, embed in enumerate(body.get("embeds") or []):
        validate_embed(index, embed)
    has = content or body.get("embeds") or body.get("components") or files or body.get("poll")
    if not partial and not has:
        raise DiscordHTTPError(400, 50006, "Cannot send an empty message")


EMBED_LIMITS = {"title": 256, "description": 4096}


def validate_embed(index: int, embed: Mapping[str, Any]) -> None:
    """Discord's embed limits (title, description, fields, footer, author, 6000 in total)."""
    where = f"embeds.{index}"
    total = 0
    for key, limit in EMBED_LIMITS.items():
        text = str(embed.get(key) or "")
        total += len(text)
        if len(text) > limit:
            raise form_error(
                f"{where}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
            )
    fields = list(embed.get("fields") or [])
    if len(fields) > 25:
        raise form_error(
            f"{where}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
        )
    for number, field in enumerate(fields):
        for key, limit in (("name", 256), ("value", 1024)):
            text = str(field.get(key) or "")
            total += len(text)
            if not 1 <= len(text) <= limit:
                raise form_error(
                    f"{where}.fields.{number}.{key}",
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between 1 and {limit} in length.",
                )
    for key, inner, limit in (("footer", "text", 2048), ("author", "name", 256)):
        text = str((embed.get(key) or {}).get(inner) or "")
        total += len(text)
        if len(text) > limit:
            raise form_error(
                f"{where}.{key}.{inner}",
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {limit} or fewer in length.",
            )
    if total > 6000:
        raise form_error(
            where, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


class Messages:
    """Handlers for everything that creates or edits a message."""

    def __init__(
        self,
        world: World,
        *,
        interaction_deadline: Callable[[], float | None],
        announce: Callable[[GuildId, str, Json], Awaitable[None]],
    ) -> None:
        self.world = world
        self.interaction_deadline = interaction_deadline
        self.announce = announce

    async def _announce(self, event: str, message: FakeMessage) -> None:
        """MESSAGE_CREATE/UPDATE/DELETE to the guild's shard, as Discord does (not for ephemeral)."""
        if message.guild_id is None or message.ephemeral:
            return
        if event == "MESSAGE_DELETE":
            data: Json = {
                "id": str(message.id),
                "channel_id": str(message.channel_id),
                "guild_id": str(message.guild_id),
            }
        else:
            data = message.payload()
            guild = self.world.guild(message.guild_id)
            member = None if guild is None else guild.members.get(message.author.id)
            if member is not None:
                data["member"] = {k: v for k, v in member.payload().items() if k != "user"}
        await self.announce(message.guild_id, event, data)

    def _new_message(
        self,
        channel_id: ChannelId,
        guild_id: GuildId | None,
        body: Mapping[str, Any],
        files: list[str],
        *,
        kind: int = 0,
        flags: int | None = None,
        webhook: bool = False,
    ) -> FakeMessage:
        message = FakeMessage(
            id=self.world.ids.next(),
            channel_id=channel_id,
            guild_id=guild_id,
            author=self.world.bot_user,
            content=str(body.get("content") or ""),
            embeds=tuple(body.get("embeds") or ()),
            components=tuple(body.get("components") or ()),
            flags=int(body.get("flags") or 0) if flags is None else flags,
            type=kind,
            timestamp=iso_timestamp(self.world.clock()),
            application_id=self.world.application_id if webhook else None,
            attachments=tuple(files),
        )
        self.world.messages[message.id] = message
        return message

    def _interaction(self, request: web.Request) -> InteractionRecord:
        record = self.world.interactions.get(int(request.match_info["interaction_id"]))
        token = request.match_info["token"]
        if record is None or record.token != token:
            raise DiscordHTTPError(404, 10062, "Unknown interaction")
        deadline = self.interaction_deadline()
        if deadline is not None and self.world.clock() - record.created_at > deadline:
            raise DiscordHTTPError(404, 10062, "Unknown interaction")
        return record

    async def callback(self, request: web.Request) -> web.Response:
        record = self._interaction(request)
        if record.response is not None:
            raise DiscordHTTPError(400, 40060, "Interaction has already been acknowledged.")
        body, files = await read_body(request)
        kind, data = body.get("type"), dict(body.get("data") or {})
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[record.type]
        if kind not in allowed:
            raise form_error(
                "type",
                "INTERACTION_CALLBACK_TYPE_INVALID",
                "Invalid interaction callback type for this interaction.",
            )
        message: FakeMessage | None = None
        loading = False
        if kind == 4:
            validate_message(data, files)
            flags = int(data.get("flags") or 0)
            msg_type = CHAT_INPUT_COMMAND_MESSAGE if record.type == 2 else 19
            message = self._new_message(
                record.channel_id,
                record.guild_id,
                data,
                files,
                kind=msg_type,
                flags=flags,
                webhook=True,
            )
        elif kind == 5:
            loading = True
            flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
            message = self._new_message(
                record.channel_id,
                record.guild_id,
                {},
                [],
                kind=CHAT_INPUT_COMMAND_MESSAGE,
                flags=flags,
                webhook=True,
            )
        elif kind in (6, 7):
            source = record.source_message
            if source is None:
                raise form_error(
                    "type",
                    "INTERACTION_CALLBACK_TYPE_INVALID",
                    "This interaction has no message to update.",
                )
            message = source
            if kind == 7:
                validate_message(data, files, partial=True)
                message = source.edited(data, self.world.clock())
                self.world.messages[message.id] = message
        elif kind == 8 and len(data.get("choices") or []) > 25:
            raise form_error(
                "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        record.response = InteractionResponse(type=int(kind), data=data)
        record.original = message
        if message is not None and kind in (4, 5):
            await self._announce("MESSAGE_CREATE", message)
        elif message is not None and kind == 7:
            await self._announce("MESSAGE_UPDATE", message)
        await self.world.recorder.add(
            "interaction_callback",
            "POST",
            request.path,
            body,
            interaction_id=record.id,
            channel_id=record.channel_id,
            message_id=None if message is None else message.id,
        )
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        result: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "activity_instance_id": None,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": loading,
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
        }
        resource: dict[str, Any] = {"type": kind}
        if message is not None and kind in (4, 5, 7):
            resource["message"] = message.payload()
        result["resource"] = resource
        return json_response(result)

    def _webhook(self, request: web.Request) -> InteractionRecord:
        if int(request.match_info["webhook_id"]) != self.world.application_id:
            raise UNKNOWN_WEBHOOK
        record = self.world.interactions_by_token.get(request.match_info["token"])
        if record is None or record.response is None:
            raise UNKNOWN_WEBHOOK
        return record

    def _target(self, record: InteractionRecord, message_id: str) -> FakeMessage:
        if message_id == "@original":
            if record.original is None or record.original_deleted:
                raise UNKNOWN_MESSAGE
            return record.original
        wanted = int(message_id)
        found = next((m for m in record.followups if m.id == wanted), None)
        if found is None and record.original is not None and record.original.id == wanted:
            found = record.original
        if found is None:
            raise UNKNOWN_MESSAGE
        return found

    async def followup(self, request: web.Request) -> web.Response:
        record = self._webhook(request)
        body, files = await read_body(request)
        validate_message(body, files)
        message = self._new_message(record.channel_id, record.guild_id, body, files, webhook=True)
        record.followups.append(message)
        await self._announce("MESSAGE_CREATE", message)
        await self.world.recorder.add(
            "followup",
            "POST",
            request.path,
            body,
            interaction_id=record.id,
            channel_id=record.channel_id,
            message_id=message.id,
        )
        if request.query.get("wait", "").lower() in ("1", "true"):
            return json_response(message.payload())
        return web.Response(status=204)

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook(request)
        return json_response(self._target(record, request.match_info["message_id"]).payload())

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook(request)
        target = self._target(record, request.match_info["message_id"])
        body, files = await read_body(request)
        validate_message(body, files, partial=True)
        edited = target.edited(body, self.world.clock())
        edited = attrs.evolve(edited, flags=edited.flags & ~LOADING)
        self.world.messages[edited.id] = edited
        is_original = record.original is not None and record.original.id == edited.id
        if is_original:
            record.original = edited
        record.followups = [edited if m.id == edited.id else m for m in record.followups]
        await self._announce("MESSAGE_UPDATE", edited)
        await self.world.recorder.add(
            "edit_original" if is_original else "edit_followup",
            "PATCH",
            request.path,
            body,
            interaction_id=record.id,
            channel_id=record.channel_id,
            message_id=edited.id,
        )
        return json_response(edited.payload())

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook(request)
        target = self._target(record, request.match_info["message_id"])
        self.world.messages.pop(target.id, None)
        is_original = record.original is not None and record.original.id == target.id
        if is_original:
            record.original_deleted = True
        record.followups = [m for m in record.followups if m.id != target.id]
        await self._announce("MESSAGE_DELETE", target)
        await self.world.recorder.add(
            "delete_original" if is_original else "delete_followup",
            "DELETE",
            request.path,
            {},
            interaction_id=record.id,
            channel_id=record.channel_id,
            message_id=target.id,
        )
        return web.Response(status=204)

    def _channel(self, request: web.Request) -> tuple[GuildId, ChannelId]:
        if not self.world.bot_token_ok(request.headers.get("Authorization")):
            raise DiscordHTTPError(401, 0, "401: Unauthorized")
        found = self.world.channel(int(request.match_info["channel_id"]))
        if found is None:
            raise DiscordHTTPError(404, 10003, "Unknown Channel")
        return found[0].id, found[1].id

    def _channel_message(self, request: web.Request) -> FakeMessage:
        _, channel_id = self._channel(request)
        message = self.world.messages.get(int(request.match_info["message_id"]))
        if message is None or message.channel_id != channel_id:
            raise UNKNOWN_MESSAGE
        return message

    async def create_channel_message(self, request: web.Request) -> web.Response:
        guild_id, channel_id = self._channel(request)
        body, files = await read_body(request)
        validate_message(body, files)
        message = self._new_message(channel_id, guild_id, body, files)
        await self._announce("MESSAGE_CREATE", message)
        await self.world.recorder.add(
            "channel_message",
            "POST",
            request.path,
            body,
            channel_id=channel_id,
            message_id=message.id,
        )
        return json_response(message.payload())

    async def get_channel_message(self, request: web.Request) -> web.Response:
        return json_response(self._channel_message(request).payload())

    async def edit_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        body, files = await read_body(request)
        validate_message(body, files, partial=True)
        edited = message.edited(body, self.world.clock())
        self.world.messages[edited.id] = edited
        await self._announce("MESSAGE_UPDATE", edited)
        await self.world.recorder.add(
            "edit_message",
            "PATCH",
            request.path,
            body,
            channel_id=edited.channel_id,
            message_id=edited.id,
        )
        return json_response(edited.payload())

    async def delete_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        del self.world.messages[message.id]
        await self._announce("MESSAGE_DELETE", message)
        await self.world.recorder.add(
            "delete_message",
            "DELETE",
            request.path,
            {},
            channel_id=message.channel_id,
            message_id=message.id,
        )
        return web.Response(status=204)
