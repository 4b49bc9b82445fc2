"""Import discord.py quietly and point it at another Discord when configured.

discord.py imports the deprecated stdlib ``audioop`` (voice playback we do not use); under
``-W error`` that import would fail, so it happens here with that one warning silenced. PyNaCl's
absence is not warned about either: voice audio flows through Lavalink, never through the bot.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    import yarl
    from discord import app_commands
    from discord.ext import commands
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

__all__ = ["DiscordWebSocket", "app_commands", "commands", "discord", "point_discord_at"]

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
