"""``vectobeat-ops db upgrade`` / ``db current``: Alembic migrations on the configured database."""

from __future__ import annotations

import typer

from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.engine import normalize_url, open_database
from vectobeat_adapters.sql.migrate import current_revision, head_revision, upgrade_database
from vectobeat_adapters.sql.rotation import rotate_all
from vectobeat_core.errors import ConfigError
from vectobeat_ops.common import (
    EXIT_PROBLEMS,
    JsonFlag,
    load,
    print_json,
    reporting,
    run_async,
    stdout,
)

__all__ = ["app"]

app = typer.Typer(
    help="Database migrations (Alembic) on DATABASE_URL.\n\nExample: vectobeat-ops db upgrade",
    no_args_is_help=True,
)


def _where(url: str) -> str:
    """The database URL without its password, fit for a terminal."""
    return normalize_url(url).render_as_string(hide_password=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the newest schema revision (safe to run again).

    Example: DATABASE_URL=postgresql+asyncpg://vb:pw@db/vectobeat vectobeat-ops db upgrade
    """
    with reporting():
        config = load(ctx)
        where = _where(config.database_url)
        with stdout().status(f"migrating {where} ..."):
            revision = run_async(lambda: upgrade_database(config.database_url))
    stdout().print(f"[green]ok[/]: {where} is at revision {revision} (head).", highlight=False)


@app.command("current")
def current(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show the schema revision of the database and whether it is up to date (exit 1 when it
    is behind). Reads only: a SQLite file that does not exist is reported, not created.

    Example: vectobeat-ops db current --json
    """
    with reporting():
        config = load(ctx)
        where = _where(config.database_url)
        revision = run_async(lambda: current_revision(config.database_url))
        head = head_revision()
    if as_json:
        print_json(
            {"database": where, "revision": revision, "head": head, "up_to_date": revision == head}
        )
    else:
        state = "up to date" if revision == head else "behind: run `vectobeat-ops db upgrade`"
        stdout().print(
            f"{where}: revision {revision or 'none'} (head {head}), {state}.", highlight=False
        )
    if revision != head:
        raise typer.Exit(EXIT_PROBLEMS)


@app.command("rotate-keys")
def rotate_keys(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Re-seal every encrypted column with the first key of ENCRYPTION_KEYS (after adding a new
    key in front); when it reports 0 changed, the old keys can be removed.

    Example: ENCRYPTION_KEYS=k2:NEWKEY,k1:OLDKEY vectobeat-ops db rotate-keys
    """
    with reporting():
        config = load(ctx)
        keyring = Keyring.from_config(
            config.encryption_keys.reveal() if config.encryption_keys else None
        )
        if keyring.primary is None:
            raise ConfigError(
                "ENCRYPTION_KEYS is not set: put the new key first, e.g. "
                "ENCRYPTION_KEYS=k2:NEWKEY,k1:OLDKEY (see docs/operations.md)."
            )
        where = _where(config.database_url)

        async def rotate() -> int:
            async with open_database(config.database_url) as db:
                return await rotate_all(db, keyring)

        with stdout().status(f"re-sealing encrypted columns in {where} ..."):
            changed = run_async(rotate)
    if as_json:
        print_json({"database": where, "primary": keyring.primary, "changed": changed})
        return
    stdout().print(
        f"[green]ok[/]: {changed} value(s) re-sealed with key {keyring.primary}.", highlight=False
    )
