"""What every ``vectobeat-ops`` command shares: exit codes, the one error mapping, config loading,
JSON and table output.

Exit codes scripts can trust:

    0  ok
    1  problems found (validation errors, unhealthy nodes)
    2  usage or configuration error (bad option, bad .env, unknown guild, not configured)
    3  a dependency is unavailable (database, Redis, Lavalink, the sandbox, a capability not built)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import anyio
import attrs
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from vectobeat_adapters.config import AppConfig, load_config
from vectobeat_core.errors import (
    ConfigError,
    InvalidInput,
    NotBuilt,
    NotFound,
    Unavailable,
    VectoBeatError,
)

__all__ = [
    "EXIT_DEPENDENCY",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "JsonFlag",
    "OpsContext",
    "exit_code_for",
    "fail",
    "load",
    "ops_context",
    "print_json",
    "progress_bar",
    "reporting",
    "run_async",
    "stderr",
    "stdout",
    "table",
]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_DEPENDENCY = 0, 1, 2, 3

T = TypeVar("T")

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")
]


@attrs.frozen
class OpsContext:
    """Global options of one invocation (``--env-file``)."""

    env_file: Path = Path(".env")


def ops_context(ctx: typer.Context) -> OpsContext:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, OpsContext) else OpsContext()


def stdout() -> Console:
    return Console(soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)


def exit_code_for(error: VectoBeatError) -> int:
    """The one mapping from our error tree to exit codes."""
    if isinstance(error, Unavailable | NotBuilt):
        return EXIT_DEPENDENCY
    if isinstance(error, ConfigError | InvalidInput | NotFound):
        return EXIT_USAGE
    return EXIT_PROBLEMS


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    stderr().print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    raise typer.Exit(code)


@contextmanager
def reporting() -> Iterator[None]:
    """Turn a `VectoBeatError` into a clear message and its exit code."""
    try:
        yield
    except VectoBeatError as exc:
        fail(exc.message, exit_code_for(exc))
    except BaseExceptionGroup as group:  # raised through a task group
        leaf = _first_error(group)
        if leaf is None:
            raise
        fail(leaf.message, exit_code_for(leaf))


def _first_error(group: BaseExceptionGroup[BaseException]) -> VectoBeatError | None:
    for exc in group.exceptions:
        if isinstance(exc, VectoBeatError):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_error(exc)
            if found is not None:
                return found
    return None


def load(ctx: typer.Context) -> AppConfig:
    """The configuration: environment over ``--env-file`` (default ``.env``) over defaults."""
    return load_config(dotenv=ops_context(ctx).env_file)


def run_async(func: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine function to completion (errors still pass through `reporting`)."""

    async def main() -> T:
        return await func()

    return anyio.run(main)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (never through rich, so it stays parseable)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def table(title: str, columns: list[str], rows: Sequence[Sequence[str | Text]]) -> Table:
    """A rich table; plain strings are shown as they are (never read as markup), `Text` as styled."""
    view = Table(title=escape(title), title_justify="left")
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
    return view


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr (stdout stays clean for JSON and JSONL); yields ``advance()``."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=stderr(), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)
