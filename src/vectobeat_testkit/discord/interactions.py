"""INTERACTION_CREATE payloads as Discord sends them: slash commands, autocomplete, components."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vectobeat_core.errors import InvalidInput, NotFound
from vectobeat_core.ids import UserId

from .records import InteractionRecord
from .state import FakeGuild, FakeMessage, Json
from .world import World

__all__ = ["Options", "build_autocomplete", "build_component", "build_slash"]

#: Slash options: ``{"name": value}`` (types taken from the registered command) or raw option dicts.
Options = Mapping[str, Any] | Sequence[Json]

APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 2, 3, 4
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    return STRING


def _leaf_schema(command: Json | None, path: Sequence[str]) -> list[Json]:
    options: list[Json] = [] if command is None else list(command.get("options") or [])
    for part in path[1:]:
        sub = next((o for o in options if o.get("name") == part), None)
        options = [] if sub is None else list(sub.get("options") or [])
    return options


def _resolve(world: World, guild: FakeGuild, kind: int, value: Any, resolved: Json) -> None:
    ident = int(value)
    if kind in (USER, MENTIONABLE) and ident in world.users:
        resolved.setdefault("users", {})[str(ident)] = world.users[UserId(ident)].payload()
        member = guild.members.get(UserId(ident))
        if member is not None:
            data = member.payload()
            del data["user"]
            data["permissions"] = str(guild.permissions_of(member.user.id))
            resolved.setdefault("members", {})[str(ident)] = data
    elif kind == CHANNEL and (channel := guild.channel(ident)) is not None:
        data = channel.payload(guild.id)
        data["permissions"] = str(guild.permissions_of(world.bot_user.id))
        resolved.setdefault("channels", {})[str(ident)] = data
    elif kind in (ROLE, MENTIONABLE) and (role := guild.role(ident)) is not None:
        resolved.setdefault("roles", {})[str(ident)] = role.payload()


def _command_data(
    world: World, guild: FakeGuild, name: str, options: Options, focused: str | None
) -> Json:
    path = name.split()
    if not 1 <= len(path) <= 3:
        raise InvalidInput(f"a command name has 1 to 3 parts, not {name!r}")
    command = world.command(guild.id, path[0])
    resolved: Json = {}
    if isinstance(options, Mapping):
        schema = {o["name"]: o for o in _leaf_schema(command, path)}
        leaf: list[Json] = []
        for key, raw in options.items():
            value = raw
            kind = int(schema[key]["type"]) if key in schema else _infer_type(value)
            if kind in (USER, CHANNEL, ROLE, MENTIONABLE):
                _resolve(world, guild, kind, value, resolved)
                value = str(value)
            option: Json = {"name": key, "type": kind, "value": value}
            if key == focused:
                option["focused"] = True
            leaf.append(option)
    else:
        leaf = [dict(option) for option in options]
    nested: list[Json] = leaf
    if len(path) == 3:
        inner = {"type": SUB_COMMAND, "name": path[2], "options": leaf}
        nested = [{"type": SUB_COMMAND_GROUP, "name": path[1], "options": [inner]}]
    elif len(path) == 2:
        nested = [{"type": SUB_COMMAND, "name": path[1], "options": leaf}]
    data: Json = {
        "id": str(command["id"]) if command else str(world.ids.next()),
        "name": path[0],
        "type": 1,
        "options": nested,
    }
    if command and command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def _base(
    world: World, kind: int, *, guild_id: int, channel_id: int, user_id: int, locale: str
) -> tuple[InteractionRecord, FakeGuild]:
    guild = world.guild(guild_id)
    if guild is None:
        raise NotFound(f"no guild {guild_id} in the fake Discord")
    channel = guild.channel(channel_id)
    member = guild.members.get(UserId(user_id))
    if channel is None or member is None:
        raise NotFound(f"guild {guild_id} has no channel {channel_id} or no member {user_id}")
    interaction_id, token = world.ids.next(), world.new_token()
    member_data = member.payload()
    member_data["permissions"] = str(guild.permissions_of(member.user.id))
    channel_data = channel.payload(guild.id)
    channel_data["permissions"] = str(guild.permissions_of(world.bot_user.id))
    payload: Json = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": kind,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "channel_id": str(channel.id),
        "channel": channel_data,
        "member": member_data,
        "token": token,
        "version": 1,
        "app_permissions": str(guild.permissions_of(world.bot_user.id)),
        "locale": locale,
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 10_485_760,
    }
    record = InteractionRecord(
        id=interaction_id,
        token=token,
        type=kind,
        guild_id=guild.id,
        channel_id=channel.id,
        payload=payload,
        created_at=world.clock(),
    )
    world.interactions[interaction_id] = record
    world.interactions_by_token[token] = record
    return record, guild


def build_slash(
    world: World,
    *,
    guild_id: int,
    channel_id: int,
    user_id: int,
    name: str,
    options: Options = (),
    locale: str = "en-US",
) -> InteractionRecord:
    """A type-2 interaction for ``/name`` (``"playlist save"`` for subcommands and groups)."""
    record, guild = _base(
        world,
        APPLICATION_COMMAND,
        guild_id=guild_id,
        channel_id=channel_id,
        user_id=user_id,
        locale=locale,
    )
    record.payload["data"] = _command_data(world, guild, name, options, None)
    return record


def build_autocomplete(
    world: World,
    *,
    guild_id: int,
    channel_id: int,
    user_id: int,
    name: str,
    options: Mapping[str, Any],
    focused: str,
    locale: str = "en-US",
) -> InteractionRecord:
    """A type-4 interaction: the user is typing ``options[focused]`` in ``/name``."""
    record, guild = _base(
        world,
        AUTOCOMPLETE,
        guild_id=guild_id,
        channel_id=channel_id,
        user_id=user_id,
        locale=locale,
    )
    record.payload["data"] = _command_data(world, guild, name, options, focused)
    return record


BUTTON, STRING_SELECT = 2, 3


def _find_component(message: FakeMessage, custom_id: str) -> Json:
    """The component ``custom_id`` of ``message`` (in its action rows), as a user can reach it."""
    for row in message.components:
        for component in row.get("components") or ():
            if component.get("custom_id") == custom_id:
                return dict(component)
    raise InvalidInput(f"message {message.id} has no component with custom_id {custom_id!r}")


def _check_values(component: Json, values: Sequence[str] | None) -> list[str]:
    """The values a user picks in a string select: among its options, within min/max_values."""
    picked = list(values or ())
    allowed = {str(option.get("value")) for option in component.get("options") or ()}
    unknown = [v for v in picked if v not in allowed]
    if unknown:
        raise InvalidInput(f"select {component.get('custom_id')!r} has no option {unknown[0]!r}")
    low = int(component.get("min_values", 1))
    high = int(component.get("max_values", 1))
    if not low <= len(picked) <= high or len(set(picked)) != len(picked):
        raise InvalidInput(
            f"select {component.get('custom_id')!r} takes {low} to {high} distinct values, "
            f"got {len(picked)}"
        )
    return picked


def build_component(
    world: World,
    *,
    message: FakeMessage,
    user_id: int,
    custom_id: str,
    component_type: int | None = None,
    values: Sequence[str] | None = None,
    locale: str = "en-US",
) -> InteractionRecord:
    """A type-3 interaction: the user clicked ``custom_id`` on ``message`` (a bot message), or
    picked ``values`` in the select menu ``custom_id``. As in a Discord client, only a component
    the message shows, not disabled, can be used, and a select only with values among its options
    (``component_type``, if given, must be the component's own type)."""
    if message.guild_id is None:
        raise InvalidInput("component clicks are only simulated in guild channels")
    component = _find_component(message, custom_id)
    if component.get("disabled"):
        raise InvalidInput(f"component {custom_id!r} is disabled; a user cannot use it")
    actual = int(component.get("type", BUTTON))
    if component_type is not None and actual != component_type:
        raise InvalidInput(f"component {custom_id!r} is of type {actual}, not {component_type}")
    if actual == STRING_SELECT:
        values = _check_values(component, values)
    elif values is not None:
        raise InvalidInput(f"component {custom_id!r} is a button; it takes no values")
    record, _ = _base(
        world,
        MESSAGE_COMPONENT,
        guild_id=message.guild_id,
        channel_id=message.channel_id,
        user_id=user_id,
        locale=locale,
    )
    data: Json = {"custom_id": custom_id, "component_type": actual}
    if values is not None:
        data["values"] = list(values)
    record.payload["data"] = data
    record.payload["message"] = message.payload()
    record.source_message = message
    return record
