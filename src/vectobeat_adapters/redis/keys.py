"""Every Redis key and channel name VectoBeat uses, in one place.

``namespace`` is prepended to every name (default empty, giving the documented names such as
``lavalink:health:<node>`` and ``vectobeat:settings``); each test run picks its own namespace so
runs never see each other's data and can delete exactly what they wrote.
"""

from __future__ import annotations

import attrs

__all__ = ["RedisKeys"]


@attrs.frozen
class RedisKeys:
    """Key names under one namespace (e.g. ``""`` in production, ``"test-1a2b:"`` in a test run)."""

    namespace: str = ""

    def queue_meta(self, guild: int) -> str:
        """JSON: player state, current entry, version and the order of entry ids."""
        return f"{self.namespace}vb:q:{guild}:meta"

    def queue_entries(self, guild: int) -> str:
        """Hash: entry id -> track JSON."""
        return f"{self.namespace}vb:q:{guild}:entries"

    def queue_index(self) -> str:
        """Sorted set: guild id -> time of its last snapshot write (for restore and eviction)."""
        return f"{self.namespace}vb:q:index"

    def queue_generation(self) -> str:
        """String: a random token set once; gone after a flush (the store lost its data)."""
        return f"{self.namespace}vb:q:generation"

    def queue_meta_pattern(self) -> str:
        return f"{self.namespace}vb:q:*:meta"

    def playlist(self, guild: int) -> str:
        """Hash: case-folded playlist name -> playlist JSON."""
        return f"{self.namespace}vb:pl:{guild}"

    def telemetry(self, name: str) -> str:
        return f"{self.namespace}vb:tm:{name}"

    def health(self, node: str) -> str:
        return f"{self.namespace}lavalink:health:{node}"

    def health_pattern(self) -> str:
        return f"{self.namespace}lavalink:health:*"

    def health_prefix(self) -> str:
        return f"{self.namespace}lavalink:health:"

    def lease(self, shard: int) -> str:
        """Hash: owner, epoch, heartbeat_at, region of one shard's lease."""
        return f"{self.namespace}vb:lease:{shard}"

    def lease_pattern(self) -> str:
        return f"{self.namespace}vb:lease:*"

    def lease_epoch(self, shard: int) -> str:
        """Counter: the highest epoch ever granted for a shard (survives release, so epochs only grow)."""
        return f"{self.namespace}vb:lease-epoch:{shard}"

    def rate_limit_prefix(self) -> str:
        """Prefix of the panel's shared rate-limit counters (the `limits` library names the rest:
        ``<prefix>:LIMITER/<class>/<client>/...``, expiring with their window)."""
        return f"{self.namespace}vb:ratelimit"

    def command_digest(self) -> str:
        """String: the digest of the slash-command tree last synced."""
        return f"{self.namespace}vb:commands:digest"

    def command_sync_lock(self) -> str:
        """String with a TTL: the bot process syncing the slash commands now."""
        return f"{self.namespace}vb:commands:sync-lock"

    def settings_channel(self) -> str:
        return f"{self.namespace}vectobeat:settings"

    def everything_pattern(self) -> str:
        """Matches every key of this namespace (tests delete with it; never used with ``""``)."""
        return f"{self.namespace}*"
