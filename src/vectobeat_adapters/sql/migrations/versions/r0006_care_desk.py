"""The care desk: concierge requests gain hours, contact, schedule, assignee and SLA-alarm time;
account contacts become one per role (billing, technical, escalation) with who entered them.

Existing contacts become the guild's billing contact (their ciphertexts are bound to the guild and
column, not the role, so they move as they are). The downgrade keeps each guild's billing contact.

Revision ID: r0006
Revises: r0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
COPIED = "guild_id, name_enc, email_enc, phone_enc, updated_at"


def upgrade() -> None:
    with op.batch_alter_table("vb_concierge_requests") as batch:
        batch.add_column(sa.Column("hours", sa.Double(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("contact", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("scheduled_at", sa.Double(), nullable=True))
        batch.add_column(sa.Column("assignee_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("assignee_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("sla_alarmed_at", sa.Double(), nullable=True))
    op.create_table(
        "vb_account_contacts",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name_enc", sa.Text(), nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "role", name=op.f("pk_vb_account_contacts")),
        **MYSQL,
    )
    op.execute(
        f"INSERT INTO vb_account_contacts ({COPIED}, role) "  # noqa: S608 - constant text
        f"SELECT {COPIED}, 'billing' FROM vb_contacts"
    )
    op.drop_table("vb_contacts")


def downgrade() -> None:
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
    op.execute(
        f"INSERT INTO vb_contacts ({COPIED}) "  # noqa: S608 - constant text
        f"SELECT {COPIED} FROM vb_account_contacts WHERE role = 'billing'"
    )
    op.drop_table("vb_account_contacts")
    with op.batch_alter_table("vb_concierge_requests") as batch:
        for column in (
            "sla_alarmed_at", "assignee_name", "assignee_id", "scheduled_at", "contact", "hours"
        ):  # fmt: skip
            batch.drop_column(column)
