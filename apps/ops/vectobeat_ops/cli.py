"""The ``vectobeat-ops`` Typer application: one sub-app per file, mounted here.

Exit codes (see `vectobeat_ops.common`): 0 ok, 1 problems found, 2 usage or configuration error,
3 a dependency is unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import vectobeat_core
from vectobeat_ops import (
    alarms,
    compliance,
    db,
    nodes,
    plans,
    queue,
    sandbox,
    settings,
    up,
    validate_env,
)
from vectobeat_ops.common import OpsContext

app = typer.Typer(
    name="vectobeat-ops",
    help="Operate VectoBeat: validate configuration, migrate the database, watch nodes, run the "
    "stack. Exit codes: 0 ok, 1 problems found, 2 usage/config error, 3 dependency unavailable."
    "\n\nExample: vectobeat-ops up",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"vectobeat {vectobeat_core.__version__}")
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
    ctx.obj = OpsContext(env_file=env_file)


@app.command()
def version() -> None:
    """Print the VectoBeat version (also: vectobeat-ops --version).

    Example: vectobeat-ops version
    """
    _print_version(True)


app.add_typer(validate_env.app)
app.add_typer(up.app)
app.add_typer(db.app, name="db")
app.add_typer(nodes.app, name="nodes")
app.add_typer(queue.app, name="queue")
app.add_typer(settings.app, name="settings")
app.add_typer(plans.app, name="plans")
app.add_typer(alarms.app, name="alarms")
app.add_typer(compliance.app, name="compliance")
app.add_typer(sandbox.app, name="sandbox")
