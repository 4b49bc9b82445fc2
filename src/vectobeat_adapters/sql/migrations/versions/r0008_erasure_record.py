"""The erasure record: a deletion's place (``erasure_seq``, unique) and time (``erased_at``) on its
compliance request, and the one-row sequence that hands the places out in commit order. Deletions
that ran before this revision have no place: bots catch up on erasures from here on.

Revision ID: r0008
Revises: r0007
Create Date: 2027-01-12
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    with op.batch_alter_table("vb_compliance_requests") as batch:
        batch.add_column(sa.Column("erasure_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.Double(), nullable=True))
    op.create_index(
        op.f("ix_vb_compliance_requests_erasure_seq"),
        "vb_compliance_requests",
        ["erasure_seq"],
        unique=True,
    )
    op.create_table(
        "vb_erasure_sequence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vb_erasure_sequence")),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("vb_erasure_sequence")
    op.drop_index(op.f("ix_vb_compliance_requests_erasure_seq"), "vb_compliance_requests")
    with op.batch_alter_table("vb_compliance_requests") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("erasure_seq")
