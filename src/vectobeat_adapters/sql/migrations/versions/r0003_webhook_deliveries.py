"""The webhook-export delivery log (the latest attempts per guild).

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    op.create_table(
        "vb_webhook_deliveries",
        sa.Column(
            "attempt_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_vb_webhook_deliveries")),
        **MYSQL,
    )
    op.create_index(
        op.f("ix_vb_webhook_deliveries_guild_id_attempt_id"),
        "vb_webhook_deliveries",
        ["guild_id", "attempt_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_vb_webhook_deliveries_guild_id_attempt_id"), table_name="vb_webhook_deliveries"
    )
    op.drop_table("vb_webhook_deliveries")
