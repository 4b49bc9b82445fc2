"""SQL adapters (SQLAlchemy 2 Core, async): SQLite, MySQL/MariaDB and PostgreSQL, one code base.

``open_database(url)`` opens the engine; ``upgrade_database(url)`` applies the Alembic migrations;
``SqlStores.build(db, keyring, clock)`` makes every repository over one open database, the queue
snapshot store (``SqlQueueStore``, used when no Redis is configured) included.
"""

from __future__ import annotations

import attrs

from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.audit import SqlAuditLog
from vectobeat_adapters.sql.compliance import SqlComplianceStore
from vectobeat_adapters.sql.concierge import SqlConciergeStore
from vectobeat_adapters.sql.contacts import SqlContactStore
from vectobeat_adapters.sql.engine import Database, open_database
from vectobeat_adapters.sql.guilds import SqlGuildRepository
from vectobeat_adapters.sql.migrate import current_revision, upgrade_database
from vectobeat_adapters.sql.playlists import SqlPlaylistStore
from vectobeat_adapters.sql.queue_store import SqlQueueStore
from vectobeat_adapters.sql.settings import SqlSettingsRepository
from vectobeat_adapters.sql.stripe_events import SqlStripeEventStore
from vectobeat_adapters.sql.tokens import SqlTokenStore
from vectobeat_adapters.sql.webhook_log import SqlWebhookDeliveryLog
from vectobeat_core.ports import Clock

__all__ = [
    "Database",
    "SqlAuditLog",
    "SqlComplianceStore",
    "SqlConciergeStore",
    "SqlContactStore",
    "SqlGuildRepository",
    "SqlPlaylistStore",
    "SqlQueueStore",
    "SqlSettingsRepository",
    "SqlStores",
    "SqlStripeEventStore",
    "SqlTokenStore",
    "SqlWebhookDeliveryLog",
    "current_revision",
    "open_database",
    "upgrade_database",
]


@attrs.frozen
class SqlStores:
    """Every SQL-backed port over one open :class:`Database`."""

    settings: SqlSettingsRepository
    audit: SqlAuditLog
    playlists: SqlPlaylistStore
    guilds: SqlGuildRepository
    tokens: SqlTokenStore
    contacts: SqlContactStore
    concierge: SqlConciergeStore
    compliance: SqlComplianceStore
    stripe_events: SqlStripeEventStore
    queues: SqlQueueStore
    webhook_log: SqlWebhookDeliveryLog

    @classmethod
    def build(cls, db: Database, keyring: Keyring, clock: Clock) -> SqlStores:
        return cls(
            settings=SqlSettingsRepository(db),
            audit=SqlAuditLog(db),
            playlists=SqlPlaylistStore(db),
            guilds=SqlGuildRepository(db),
            tokens=SqlTokenStore(db),
            contacts=SqlContactStore(db, keyring),
            concierge=SqlConciergeStore(db),
            compliance=SqlComplianceStore(db, keyring),
            stripe_events=SqlStripeEventStore(db),
            queues=SqlQueueStore(db, clock),
            webhook_log=SqlWebhookDeliveryLog(db),
        )
