"""Queue snapshots in SQL (the durable queue store when no Redis is configured).

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

HUGE_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    op.create_table(
        "vb_queue_snapshots",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("taken_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=True),
        sa.Column("document", HUGE_TEXT, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_vb_queue_snapshots")),
        **MYSQL,
    )
    op.create_index(
        op.f("ix_vb_queue_snapshots_taken_at"), "vb_queue_snapshots", ["taken_at"], unique=False
    )
    op.create_index(
        op.f("ix_vb_queue_snapshots_expires_at"), "vb_queue_snapshots", ["expires_at"], unique=False
    )
    op.create_table(
        "vb_queue_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vb_queue_generation")),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("vb_queue_generation")
    op.drop_index(op.f("ix_vb_queue_snapshots_expires_at"), table_name="vb_queue_snapshots")
    op.drop_index(op.f("ix_vb_queue_snapshots_taken_at"), table_name="vb_queue_snapshots")
    op.drop_table("vb_queue_snapshots")
