"""Import discord.py quietly and point it at another Discord when configured.

discord.py imports the deprecated stdlib ``audioop`` (voice playback we do not use); under
``-W error`` that import would fail, so it happens here with that one warning silenced. PyNaCl's
absence is not warned about either: voice audio flows through Lavalink, never through the bot.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    import yarl
    from discord import app_commands
    from discord.ext import commands
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

__all__ = [
    "DiscordWebSocket",
    "app_commands",
    "commands",
    "discord",
    "gate_gateway_sessions",
    "point_discord_at",
]

# "PyNaCl (or davey) is not installed, voice will NOT be supported" is true and harmless here: the
# bot never sends audio itself, Lavalink does (the bot only hands Discord's voice data to the node).
discord.VoiceClient.warn_nacl = False
if hasattr(discord.VoiceClient, "warn_dave"):  # discord.py 2.7+
    discord.VoiceClient.warn_dave = False


def point_discord_at(api_base: str | None, gateway_url: str | None) -> None:
    """Use ``api_base`` for REST and ``gateway_url`` for the gateway (testing, self-hosted)."""
    if api_base:
        Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def gate_gateway_sessions() -> None:
    """Ask the client before each gateway session (IDENTIFY or RESUME) of a shard.

    A client with a ``gateway_gate(shard_id) -> bool`` method that answers False gets no session:
    the connection attempt ends as discord.py ends a cancelled one (``Shard.reidentify`` and
    ``Shard.reconnect`` return quietly), so a shard this process gave up (fenced, surrendered,
    or frozen past its lease) is not resumed next to the process that took it over."""
    original = DiscordWebSocket.from_client.__func__  # type: ignore[attr-defined]
    if getattr(original, "_vectobeat_gated", False):
        return

    async def from_client(cls: Any, /, client: Any, **kwargs: Any) -> Any:
        gate = getattr(client, "gateway_gate", None)
        shard_id = kwargs.get("shard_id")
        if gate is not None and shard_id is not None and not gate(shard_id):
            raise asyncio.CancelledError
        return await original(cls, client, **kwargs)

    from_client._vectobeat_gated = True  # type: ignore[attr-defined]
    setattr(DiscordWebSocket, "from_client", classmethod(from_client))  # noqa: B010 - a patch
