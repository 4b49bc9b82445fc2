"""SQLAlchemy Core tables of the database (the Alembic migrations create exactly these): the panel's
data, and the bot's queue snapshots when no Redis is configured.

Times are seconds since the epoch (double precision), as everywhere in VectoBeat. JSON documents
are stored as text (``BigText``: MEDIUMTEXT on MySQL) and read through the core's named
constructors; a queue snapshot, which can hold thousands of tracks, is ``HugeText`` (LONGTEXT on
MySQL). Columns named ``*_enc`` hold ciphertexts from :mod:`vectobeat_adapters.crypto`.

Nothing here names the MySQL dialect up front (about 1 MiB resident), so only processes that use
MySQL load it: the column types above are made when MySQL compiles a statement (type decorators,
not ``with_variant``), and the tables' MySQL options (charset ``utf8mb4``, collation
``utf8mb4_unicode_ci``) are the migrations' alone, which create the tables (table options given
here would load the dialect to check them).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "BigText",
    "HugeText",
    "api_tokens",
    "audit_events",
    "compliance_requests",
    "concierge_budget_locks",
    "concierge_requests",
    "contacts",
    "erasure_sequence",
    "guilds",
    "metadata",
    "playlists",
    "queue_snapshots",
    "settings_current",
    "settings_history",
    "stripe_events",
    "token_quota",
    "webhook_deliveries",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


def _mysql(dialect: Dialect) -> Any:
    """``sqlalchemy.dialects.mysql`` when ``dialect`` is MySQL/MariaDB's (imported already, as
    that dialect is in use), else ``None``."""
    if dialect.name not in ("mysql", "mariadb"):
        return None
    from sqlalchemy.dialects import mysql  # noqa: PLC0415

    return mysql


class _MySqlText(sa.types.TypeDecorator[str]):
    """``Text().with_variant(<mysql_type>(), "mysql", "mariadb")`` (``MEDIUMTEXT``, ``LONGTEXT``),
    its MySQL type made on use."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, mysql_type: str) -> None:
        super().__init__()
        self.mysql_type = mysql_type

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        mysql = _mysql(dialect)
        return self.impl_instance if mysql is None else getattr(mysql, self.mysql_type)()


class _BinaryKey(sa.types.TypeDecorator[str]):
    """``String(n)``; on MySQL a ``VARCHAR(n)`` with binary collation, made on use."""

    impl = sa.String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        mysql = _mysql(dialect)
        if mysql is None:
            return self.impl_instance
        key: sa.types.TypeEngine[str] = mysql.VARCHAR(
            self.length, charset="utf8mb4", collation="utf8mb4_bin"
        )
        return key


BigText = _MySqlText("MEDIUMTEXT")
HugeText = _MySqlText("LONGTEXT")


def Key(length: int) -> sa.types.TypeEngine[str]:
    """An exact-match text key: binary collation on MySQL (case and accents significant)."""
    return _BinaryKey(length)


Snowflake = sa.BigInteger
Time = sa.Double

guilds = sa.Table(
    "vb_guilds",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("bot_present", sa.Boolean, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

settings_current = sa.Table(
    "vb_settings",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", BigText, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

settings_history = sa.Table(
    "vb_settings_history",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", BigText, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

audit_events = sa.Table(
    "vb_audit_events",
    metadata,
    sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("guild_id", Snowflake, nullable=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("document", BigText, nullable=False),
    sa.Index(None, "guild_id", "event_id"),
)

playlists = sa.Table(
    "vb_playlists",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("name_key", Key(100), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("owner_id", Snowflake, nullable=False),
    sa.Column("tracks", BigText, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

api_tokens = sa.Table(
    "vb_api_tokens",
    metadata,
    sa.Column("token_id", Key(32), primary_key=True),
    sa.Column("guild_id", Snowflake, nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("secret_hash", Key(64), nullable=False, unique=True),
    sa.Column("last_four", sa.String(4), nullable=False),
    sa.Column("scopes", sa.String(500), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=True),
    sa.Column("revoked_at", Time, nullable=True),
    sa.Column("last_used_at", Time, nullable=True),
)

token_quota = sa.Table(
    "vb_token_quota",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("issued", sa.Integer, nullable=False),
)

concierge_budget_locks = sa.Table(
    "vb_concierge_budget_locks",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("opened", sa.Integer, nullable=False),
)
"""One row per guild, taken (upserted) before a concierge request is checked against the budget
and inserted: concurrent requests of a guild queue behind it instead of both passing the check."""

contacts = sa.Table(
    "vb_account_contacts",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("name_enc", sa.Text, nullable=False),
    sa.Column("email_enc", sa.Text, nullable=False),
    sa.Column("phone_enc", sa.Text, nullable=True),
    sa.Column("entered_by", Snowflake, nullable=True),
    sa.Column("updated_at", Time, nullable=False),
)

concierge_requests = sa.Table(
    "vb_concierge_requests",
    metadata,
    sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("guild_id", Snowflake, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("requested_by", Snowflake, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("due_at", Time, nullable=False, index=True),
    sa.Column("resolved_at", Time, nullable=True),
    sa.Column("hours", sa.Double, nullable=False, server_default="0"),
    sa.Column("contact", sa.String(200), nullable=False, server_default=""),
    sa.Column("scheduled_at", Time, nullable=True),
    sa.Column("assignee_id", Snowflake, nullable=True),
    sa.Column("assignee_name", sa.String(100), nullable=True),
    sa.Column("sla_alarmed_at", Time, nullable=True),
)

compliance_requests = sa.Table(
    "vb_compliance_requests",
    metadata,
    sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("guild_id", Snowflake, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("requested_by", Snowflake, nullable=False),
    sa.Column("email_enc", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("detail", sa.String(500), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("completed_at", Time, nullable=True),
    sa.Column("erasure_seq", sa.BigInteger, nullable=True, index=True, unique=True),
    sa.Column("erased_at", Time, nullable=True),
)
"""``erasure_seq``/``erased_at``: a deletion's place in the erasure record and when it was placed
(`vectobeat_core.erasures`); ``NULL`` for exports and deletions that have not run."""

erasure_sequence = sa.Table(
    "vb_erasure_sequence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
)
"""One row: the last place given in the erasure record. Bumping it locks the row until the
transaction that places a deletion commits, so places become visible in their order."""

stripe_events = sa.Table(
    "vb_stripe_events",
    metadata,
    sa.Column("event_id", Key(255), primary_key=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("payload", BigText, nullable=False),
    sa.Column("received_at", Time, nullable=False),
)

queue_snapshots = sa.Table(
    "vb_queue_snapshots",
    metadata,
    sa.Column("guild_id", Snowflake, primary_key=True, autoincrement=False),
    sa.Column("taken_at", Time, nullable=False, index=True),
    sa.Column("expires_at", Time, nullable=True, index=True),
    sa.Column("document", HugeText, nullable=False),
)

queue_generation = sa.Table(
    "vb_queue_generation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("token", sa.String(64), nullable=False),
)
"""One row (id 1): a random token made when the queue store's data began; a database restored
from an older dump or emptied has another (or none), so the bot rewrites every guild."""

webhook_deliveries = sa.Table(
    "vb_webhook_deliveries",
    metadata,
    sa.Column("attempt_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("guild_id", Snowflake, nullable=False),
    sa.Column("delivery_id", sa.String(64), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("latency_ms", Time, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(300), nullable=True),
    sa.Index(None, "guild_id", "attempt_id"),
)
