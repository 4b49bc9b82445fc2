"""The concierge budget lock: one row per guild, taken before a request is checked against the
hours budget and inserted, so two requests at the same moment cannot both pass the check.

Revision ID: r0007
Revises: r0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    op.create_table(
        "vb_concierge_budget_locks",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_vb_concierge_budget_locks")),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("vb_concierge_budget_locks")
