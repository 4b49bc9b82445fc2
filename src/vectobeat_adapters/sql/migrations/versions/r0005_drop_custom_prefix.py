"""Drop the retired ``custom_prefix`` setting from stored settings documents (current and history).

VectoBeat answers slash commands only; the prefix was saved but never used. Documents are JSON
text, rewritten a page at a time by primary key, so any backend and any size migrates the same way.
Reading code skips the field anyway (`vectobeat_core.settings.RETIRED_FIELDS`), so a document this
misses still loads. The downgrade has nothing to restore: the old code reads a missing prefix as
its default ``!``.

Revision ID: r0005
Revises: r0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0003"
branch_labels = None
depends_on = None

RETIRED = "custom_prefix"
PAGE = 500


def _strip(text: str) -> str | None:
    """The document without the retired field, or ``None`` when it has none (or is not JSON)."""
    try:
        document = json.loads(text)
    except ValueError:
        return None  # damaged documents are reported by the reader, not rewritten here
    settings = document.get("settings") if isinstance(document, dict) else None
    if not isinstance(settings, dict) or RETIRED not in settings:
        return None
    del settings[RETIRED]
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def _rewrite(table: sa.TableClause, keys: tuple[str, ...]) -> None:
    bind = op.get_bind()
    columns = [table.c[k] for k in keys]
    last: tuple[object, ...] | None = None
    while True:
        query = sa.select(*columns, table.c.document).order_by(*columns).limit(PAGE)
        if last is not None:
            query = query.where(sa.tuple_(*columns) > sa.tuple_(*last))
        rows = bind.execute(query).all()
        for row in rows:
            stripped = _strip(row.document)
            if stripped is not None:
                match = sa.and_(*(c == row[i] for i, c in enumerate(columns)))
                bind.execute(sa.update(table).where(match).values(document=stripped))
        if len(rows) < PAGE:
            return
        last = tuple(rows[-1][: len(keys)])


def upgrade() -> None:
    current = sa.table("vb_settings", sa.column("guild_id"), sa.column("document"))
    history = sa.table(
        "vb_settings_history", sa.column("guild_id"), sa.column("version"), sa.column("document")
    )
    _rewrite(current, ("guild_id",))
    _rewrite(history, ("guild_id", "version"))


def downgrade() -> None:
    """Nothing to restore: the previous code reads a missing prefix as its default."""
