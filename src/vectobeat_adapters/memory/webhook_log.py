"""``MemoryWebhookDeliveryLog``: the latest webhook-export attempts per guild, in process memory."""

from __future__ import annotations

from collections import deque

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.webhooks import DELIVERY_LOG_KEEP, WebhookDelivery

__all__ = ["MemoryWebhookDeliveryLog"]


class MemoryWebhookDeliveryLog:
    """Like ``SqlWebhookDeliveryLog``: ``keep`` attempts per guild, newest first."""

    def __init__(self, keep: int = DELIVERY_LOG_KEEP) -> None:
        self._keep = keep
        self._by_guild: dict[GuildId, deque[WebhookDelivery]] = {}

    async def append(self, delivery: WebhookDelivery) -> None:
        if not isinstance(delivery, WebhookDelivery):
            raise InvalidInput(f"append needs a WebhookDelivery, got {type(delivery).__name__}.")
        log = self._by_guild.setdefault(delivery.guild_id, deque(maxlen=self._keep))
        log.appendleft(delivery)

    async def recent(self, guild: GuildId, limit: int = DELIVERY_LOG_KEEP) -> list[WebhookDelivery]:
        return list(self._by_guild.get(guild, ()))[: max(0, limit)]

    async def guilds(self) -> list[GuildId]:
        return sorted(guild for guild, log in self._by_guild.items() if log)

    async def ping(self) -> None:
        return

    async def erase_guild(self, guild: GuildId) -> int:
        return len(self._by_guild.pop(guild, ()))
