"""Names of the telemetry-cache documents shared between writers and readers (one place)."""

from __future__ import annotations

__all__ = [
    "ERASURE_TOMBSTONE_DOCUMENT",
    "ERASURE_TOMBSTONE_TTL",
    "NODE_STATS_TTL_SECONDS",
    "QUEUE_SYNC_DOCUMENT",
    "QUEUE_SYNC_TTL",
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
QUEUE_SYNC_TTL = 3600.0
"""How long a synced queue stays readable after the bot's last sync."""
ERASURE_TOMBSTONE_DOCUMENT = "erased-guild:{guild}"
"""A guild's latest erasure (`Erasure`), left by the panel that ran it: a queue synced by a bot
that had not applied it yet is not stored or shown. Not one of `guild_documents`: erasing the
guild's documents leaves it."""
ERASURE_TOMBSTONE_TTL = 2 * QUEUE_SYNC_TTL
"""How long a tombstone stays: it outlives every synced queue stored before it."""
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
