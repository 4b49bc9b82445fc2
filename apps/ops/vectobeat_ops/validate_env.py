"""``vectobeat-ops validate-env``: check ``.env`` and the environment before starting anything."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from vectobeat_adapters.config import load_config
from vectobeat_core.errors import ConfigError
from vectobeat_ops.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    JsonFlag,
    ops_context,
    print_json,
    reporting,
    run_async,
    stdout,
    table,
)
from vectobeat_ops.envcheck import Problem, check_connections, check_environment, gather_environment

__all__ = ["app"]

app = typer.Typer()


class ComponentChoice(StrEnum):
    BOT = "bot"
    PANEL = "panel"
    OPS = "ops"
    ALL = "all"


@app.command("validate-env")
def validate_env(
    ctx: typer.Context,
    component: Annotated[
        ComponentChoice, typer.Option("--component", "-c", help="Check what this component needs.")
    ] = ComponentChoice.ALL,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect", help="Also connect to the database, Redis and each Lavalink node."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check presence, format, placeholders and (with --connect) reachability of every setting.

    Prints one row per problem with its fix; exits 1 when any error is found.

    Example: vectobeat-ops validate-env --component bot --connect
    """
    with reporting():
        env = gather_environment(os.environ, ops_context(ctx).env_file)
        problems = check_environment(env, component.value)
        if connect:
            problems = [*problems, *_connect(env, problems)]
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        print_json(
            {
                "ok": not errors,
                "component": component.value,
                "connect": connect,
                "problems": [p.to_json() for p in problems],
            }
        )
    else:
        _show(problems, component.value)
    raise typer.Exit(EXIT_PROBLEMS if errors else EXIT_OK)


def _connect(env: dict[str, str], found: list[Problem]) -> list[Problem]:
    """Reachability problems, skipping variables already reported as malformed."""
    skip = frozenset(p.variable for p in found if p.severity == "error")
    try:
        config = load_config(environ=env, dotenv=Path(os.devnull))
    except ConfigError:
        return []  # a malformed number: already in the table
    return run_async(lambda: check_connections(config, skip=skip))


def _show(problems: list[Problem], component: str) -> None:
    console = stdout()
    if not problems:
        console.print(f"[green]ok[/]: the configuration of {component} looks right.")
        return
    rows: list[list[str | Text]] = [
        [
            Text(p.severity, style="red" if p.severity == "error" else "yellow"),
            p.variable,
            p.message,
            p.fix,
        ]
        for p in problems
    ]
    console.print(
        table(f"Configuration problems ({component})", ["", "variable", "problem", "fix"], rows)
    )
    errors = sum(p.severity == "error" for p in problems)
    console.print(f"{errors} error(s), {len(problems) - errors} warning(s).")
