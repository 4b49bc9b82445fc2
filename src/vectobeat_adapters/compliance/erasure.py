"""Right to erasure: a guild's data removed from every store that holds it.

The stores are enumerated here, once: settings (current and history), the audit log (actor ids
included), playlists, API tokens, the account contact, concierge and success-pod requests, the
webhook delivery log, telemetry documents (synced queue, queue events, applied settings) and the
queue snapshot. The compliance requests themselves stay: they are the record of the erasure.
First the erasure is left as the guild's tombstone (`leave_tombstone`), so a queue a bot synced
before it applied the erasure is not stored or shown again once the stores are erased.
"""

from __future__ import annotations

from vectobeat_adapters.compliance.tombstones import leave_tombstone
from vectobeat_adapters.services import Services
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import InvalidInput

__all__ = ["ERASED_STORES", "erase_guild_everywhere"]

ERASED_STORES = (
    "settings",
    "audit",
    "playlists",
    "tokens",
    "contacts",
    "concierge",
    "webhook_log",
    "telemetry",
    "queues",
)


async def erase_guild_everywhere(services: Services, erasure: Erasure) -> dict[str, int]:
    """Erase ``erasure``'s guild from every store in `ERASED_STORES`, after leaving its
    tombstone; how many items each removed."""
    guild = erasure.guild_id
    await leave_tombstone(services.telemetry, erasure)
    erased = {
        "settings": await services.settings.erase_guild(guild),
        "audit": await services.audit.erase_guild(guild),
        "playlists": await services.playlists.erase_guild(guild),
        "tokens": await services.tokens.erase_guild(guild),
        "contacts": await services.contacts.erase_guild(guild),
        "concierge": await services.concierge.erase_guild(guild),
        "webhook_log": await services.webhook_log.erase_guild(guild),
        "telemetry": await services.telemetry.erase_guild(guild),
    }
    try:
        had_queue = await services.queues.load(guild) is not None
    except InvalidInput:  # an unreadable snapshot is still the guild's data: delete it too
        had_queue = True
    await services.queues.delete(guild)
    erased["queues"] = int(had_queue)
    return erased
