"""Initial schema: guilds, settings (+history), audit, playlists, tokens, contacts, concierge,
compliance and Stripe events.

Revision ID: r0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

BIG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade() -> None:
    op.create_table(
        "vb_api_tokens",
        sa.Column("token_id", key(32), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", key(64), nullable=False),
        sa.Column("last_four", sa.String(length=4), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=True),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.Column("last_used_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_vb_api_tokens")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_vb_api_tokens_secret_hash")),
        **MYSQL,
    )
    op.create_index(op.f("ix_vb_api_tokens_guild_id"), "vb_api_tokens", ["guild_id"], unique=False)
    op.create_table(
        "vb_audit_events",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("document", BIG_TEXT, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_vb_audit_events")),
        **MYSQL,
    )
    op.create_index(
        op.f("ix_vb_audit_events_guild_id_event_id"),
        "vb_audit_events",
        ["guild_id", "event_id"],
        unique=False,
    )
    op.create_table(
        "vb_compliance_requests",
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("completed_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_vb_compliance_requests")),
        **MYSQL,
    )
    op.create_index(
        op.f("ix_vb_compliance_requests_guild_id"),
        "vb_compliance_requests",
        ["guild_id"],
        unique=False,
    )
    op.create_table(
        "vb_concierge_requests",
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=False),
        sa.Column("resolved_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_vb_concierge_requests")),
        **MYSQL,
    )
    op.create_index(
        op.f("ix_vb_concierge_requests_due_at"), "vb_concierge_requests", ["due_at"], unique=False
    )
    op.create_index(
        op.f("ix_vb_concierge_requests_guild_id"),
        "vb_concierge_requests",
        ["guild_id"],
        unique=False,
    )
    op.create_table(
        "vb_contacts",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name_enc", sa.Text(), nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_vb_contacts")),
        **MYSQL,
    )
    op.create_table(
        "vb_guilds",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("bot_present", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_vb_guilds")),
        **MYSQL,
    )
    op.create_table(
        "vb_playlists",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name_key", key(100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("tracks", BIG_TEXT, nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "name_key", name=op.f("pk_vb_playlists")),
        **MYSQL,
    )
    op.create_table(
        "vb_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", BIG_TEXT, nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_vb_settings")),
        **MYSQL,
    )
    op.create_table(
        "vb_settings_history",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", BIG_TEXT, nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "version", name=op.f("pk_vb_settings_history")),
        **MYSQL,
    )
    op.create_table(
        "vb_stripe_events",
        sa.Column("event_id", key(255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("payload", BIG_TEXT, nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_vb_stripe_events")),
        **MYSQL,
    )
    op.create_table(
        "vb_token_quota",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_vb_token_quota")),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("vb_token_quota")
    op.drop_table("vb_stripe_events")
    op.drop_table("vb_settings_history")
    op.drop_table("vb_settings")
    op.drop_table("vb_playlists")
    op.drop_table("vb_guilds")
    op.drop_table("vb_contacts")
    op.drop_index(op.f("ix_vb_concierge_requests_guild_id"), table_name="vb_concierge_requests")
    op.drop_index(op.f("ix_vb_concierge_requests_due_at"), table_name="vb_concierge_requests")
    op.drop_table("vb_concierge_requests")
    op.drop_index(op.f("ix_vb_compliance_requests_guild_id"), table_name="vb_compliance_requests")
    op.drop_table("vb_compliance_requests")
    op.drop_index(op.f("ix_vb_audit_events_guild_id_event_id"), table_name="vb_audit_events")
    op.drop_table("vb_audit_events")
    op.drop_index(op.f("ix_vb_api_tokens_guild_id"), table_name="vb_api_tokens")
    op.drop_table("vb_api_tokens")
    # ### end Alembic commands ###
