"""Names of the telemetry-cache documents shared between writers and readers (one place)."""

from __future__ import annotations

__all__ = [
    "NODE_STATS_TTL_SECONDS",
    "QUEUE_SYNC_DOCUMENT",
    "QUEUE_TELEMETRY_DOCUMENT",
    "SETTINGS_APPLIED_DOCUMENT",
    "guild_documents",
    "node_stats_document",
]

NODE_STATS_TTL_SECONDS = 120.0
"""How long a node's last Lavalink stats stay readable after the checker stops refreshing them."""


def node_stats_document(node: str) -> str:
    """The document where the health checker keeps ``node``'s last Lavalink ``/v4/stats``."""
    return f"lavalink-stats:{node}"


QUEUE_SYNC_DOCUMENT = "queue-sync:{guild}"
"""The bot's last synced queue of a guild, as the panel shows it."""
QUEUE_TELEMETRY_DOCUMENT = "queue-telemetry:{guild}"
"""A guild's recent queue events (the bot's queue sync)."""
SETTINGS_APPLIED_DOCUMENT = "settings-applied:{guild}"
"""The settings version the bot last applied in a guild."""


def guild_documents(guild: int) -> tuple[str, ...]:
    """Every telemetry document about ``guild`` (what erasing the guild removes)."""
    return tuple(
        name.format(guild=guild)
        for name in (QUEUE_SYNC_DOCUMENT, QUEUE_TELEMETRY_DOCUMENT, SETTINGS_APPLIED_DOCUMENT)
    )
