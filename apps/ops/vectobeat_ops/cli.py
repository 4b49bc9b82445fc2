"""The ``vectobeat-ops`` Typer application: one sub-app per file, mounted here lazily.

Each sub-app's module is imported only when its command runs (`vectobeat_ops.lazy_group`), so
``vectobeat-ops --help`` imports none of the bot, the panel, the fakes or SQLAlchemy.

Exit codes (see `vectobeat_ops.common`): 0 ok, 1 problems found, 2 usage or configuration error,
3 a dependency is unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vectobeat_ops.lazy_group import LazyCommand, lazy_group

__all__ = ["COMMANDS", "app"]

COMMANDS: dict[str, LazyCommand] = {
    "validate-env": LazyCommand(
        "vectobeat_ops.validate_env",
        "Check presence, format, placeholders and (with --connect) reachability of every setting.",
        group=False,
    ),
    "up": LazyCommand(
        "vectobeat_ops.up",
        "Run the panel, the bot and the health checker together until Ctrl-C.",
        group=False,
    ),
    "db": LazyCommand("vectobeat_ops.db", "Database migrations (Alembic) on DATABASE_URL."),
    "nodes": LazyCommand(
        "vectobeat_ops.nodes", "Lavalink node health (one round, or the long-running checker)."
    ),
    "queue": LazyCommand(
        "vectobeat_ops.queue", "Durable queue snapshots (inspect, export, restore)."
    ),
    "settings": LazyCommand("vectobeat_ops.settings", "Server settings of a guild."),
    "plans": LazyCommand("vectobeat_ops.plans", "The plan capability matrix."),
    "alarms": LazyCommand(
        "vectobeat_ops.alarms", "Alarm sinks (Discord webhook, PagerDuty, generic webhook)."
    ),
    "compliance": LazyCommand(
        "vectobeat_ops.compliance", "Compliance requests (data exports and erasures)."
    ),
    "sandbox": LazyCommand(
        "vectobeat_ops.sandbox",
        "Drive the sandbox started by `vectobeat-ops up` without DISCORD_TOKEN.",
    ),
}

app = typer.Typer(
    name="vectobeat-ops",
    cls=lazy_group(COMMANDS),
    help="Operate VectoBeat: validate configuration, migrate the database, watch nodes, run the "
    "stack. Exit codes: 0 ok, 1 problems found, 2 usage/config error, 3 dependency unavailable."
    "\n\nExample: vectobeat-ops up",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        from vectobeat_core import __version__  # noqa: PLC0415 - start-up: core on demand

        typer.echo(f"vectobeat {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    env_file: Annotated[
        Path,
        typer.Option("--env-file", help="The .env file to read (the environment wins over it)."),
    ] = Path(".env"),
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the VectoBeat version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """Operate VectoBeat.

    Example: vectobeat-ops --env-file prod.env validate-env --connect
    """
    from vectobeat_ops.common import OpsContext  # noqa: PLC0415 - start-up: only past --help

    ctx.obj = OpsContext(env_file=env_file)


@app.command()
def version() -> None:
    """Print the VectoBeat version (also: vectobeat-ops --version).

    Example: vectobeat-ops version
    """
    _print_version(True)
