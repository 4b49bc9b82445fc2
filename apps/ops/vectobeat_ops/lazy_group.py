"""A Typer group whose sub-commands are imported only when used.

``vectobeat-ops --help`` lists every command from a table of (module, summary) and imports none
of them; running (or asking for the help of) one command imports just its module. The summary
must equal the loaded command's own short help (``tests/unit/test_ops_lazy.py`` checks it).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, NamedTuple, cast

import typer
import typer.core
import typer.main

from vectobeat_ops.help_text import polish

__all__ = ["LazyCommand", "LazyGroup", "lazy_group"]


class LazyCommand(NamedTuple):
    """Where a command lives (a module with a Typer ``app``) and its one-line summary (no attrs:
    this module is on the start-up path)."""

    module: str
    summary: str
    group: bool = True


def _load(name: str, spec: LazyCommand) -> Any:
    """The command as the root would have it with ``add_typer``: a group of the module's
    commands, or (``group=False``) the module's one command itself."""
    module = importlib.import_module(spec.module)
    mount = typer.Typer(add_completion=False)
    mount.add_typer(module.app, name=name if spec.group else None)
    command = cast(Any, typer.main.get_command(mount)).commands[name]
    polish(command)
    return command


class _Commands(MutableMapping[str, Any]):
    """The group's commands: the eager ones, and the lazy ones imported on first access."""

    def __init__(self, eager: MutableMapping[str, Any], lazy: Mapping[str, LazyCommand]) -> None:
        self._eager = eager
        self._lazy = dict(lazy)

    def __getitem__(self, name: str) -> Any:
        if name not in self._eager and name in self._lazy:
            self._eager[name] = _load(name, self._lazy[name])
        return self._eager[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._eager[name] = command

    def __delitem__(self, name: str) -> None:
        self._eager.pop(name, None)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._eager
        yield from (name for name in self._lazy if name not in self._eager)

    def __len__(self) -> int:
        return len(set(self._eager) | set(self._lazy))

    def summaries(self) -> dict[str, Any]:
        """Every command for a help listing: loaded ones as they are, the rest as a summary."""
        return {
            name: self._eager[name]
            if name in self._eager
            else typer.core.TyperCommand(name, help=self._lazy[name].summary)
            for name in self
        }


class LazyGroup(typer.core.TyperGroup):
    """`typer.core.TyperGroup` with `LAZY` commands (set by `lazy_group`)."""

    LAZY: Mapping[str, LazyCommand] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        polish(self)  # the root and its eager commands; lazy ones are polished as they load
        self.commands = _Commands(self.commands, self.LAZY)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        commands = self.commands
        assert isinstance(commands, _Commands)
        self.commands = commands.summaries()
        try:
            super().format_help(ctx, formatter)
        finally:
            self.commands = commands


def lazy_group(commands: Mapping[str, LazyCommand]) -> type[LazyGroup]:
    """A `LazyGroup` class that adds ``commands`` (name to where it lives) to the Typer group."""
    return type("VectoBeatOpsGroup", (LazyGroup,), {"LAZY": dict(commands)})
