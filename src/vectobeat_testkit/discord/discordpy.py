"""Point unmodified discord.py at another Discord (the fake, or a self-hosted gateway/REST proxy)."""

from __future__ import annotations

__all__ = ["point_discordpy_at"]


def point_discordpy_at(api_base: str, gateway_url: str) -> None:
    """Make discord.py use ``api_base`` for REST and ``gateway_url`` for the gateway, process-wide.

    discord.py reads its REST base from ``discord.http.Route.BASE`` (every request and webhook
    call is built from it) and connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` whenever it has no
    URL from ``/gateway/bot`` (``Client``, ``AutoShardedClient`` with an explicit ``shard_count``,
    and after a non-resumable INVALID_SESSION); resumes go to READY's ``resume_gateway_url``. It
    appends ``?v=10&encoding=json&compress=zlib-stream`` itself. Call this before ``login``/``start``.

    For fast tests, also pass ``guild_ready_timeout=0.05`` to the client (discord.py waits that long
    after the last GUILD_CREATE before READY) and override ``before_identify_hook`` to return at once
    (discord.py sleeps 5 s between shard IDENTIFYs for Discord's identify limit; the fake has none).
    Under ``-W error``, import discord with DeprecationWarning ignored (it imports ``audioop``).

    ``api_base`` is e.g. ``http://127.0.0.1:8500/api/v10``; ``gateway_url`` ``ws://127.0.0.1:8500/gateway``.
    """
    import yarl  # noqa: PLC0415 - discord.py and yarl are optional (the bot extra)
    from discord.gateway import DiscordWebSocket  # noqa: PLC0415
    from discord.http import Route  # noqa: PLC0415

    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
