"""A fake Discord (gateway, REST, OAuth2) on loopback that unmodified discord.py connects to.

async with FakeDiscord(token="t", application_id=1234) as fake:
    point_discordpy_at(fake.api_base, fake.gateway_url)
    owner = fake.add_user("alice")
    guild = await fake.add_guild(name="Test", owner=owner)
    ...  # start the bot with token "t", then fake.slash(...), fake.wait_for_response(...)
"""

from __future__ import annotations

from .discordpy import point_discordpy_at
from .oauth import UserGuild
from .records import InteractionRecord, InteractionResponse, Recorded
from .server import FakeDiscord
from .state import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeOverwrite,
    FakeRole,
    FakeUser,
    FakeVoiceState,
)

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "MANAGE_GUILD",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeOverwrite",
    "FakeRole",
    "FakeUser",
    "FakeVoiceState",
    "InteractionRecord",
    "InteractionResponse",
    "Recorded",
    "UserGuild",
    "point_discordpy_at",
]
