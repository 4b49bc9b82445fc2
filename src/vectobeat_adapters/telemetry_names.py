"""Names of the telemetry-cache documents shared between writers and readers (one place)."""

from __future__ import annotations

__all__ = ["NODE_STATS_TTL_SECONDS", "node_stats_document"]

NODE_STATS_TTL_SECONDS = 120.0
"""How long a node's last Lavalink stats stay readable after the checker stops refreshing them."""


def node_stats_document(node: str) -> str:
    """The document where the health checker keeps ``node``'s last Lavalink ``/v4/stats``."""
    return f"lavalink-stats:{node}"
