"""Alembic environment: runs on the connection ``migrate.py`` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from vectobeat_adapters.sql.schema import metadata

VERSION_TABLE = "vb_alembic_version"


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError(
        "VectoBeat migrations run through vectobeat_adapters.sql.migrate.upgrade_database(url)"
    )
run_on(_connection)
