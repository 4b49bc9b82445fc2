"""``--help`` as people read it: flags without a ``<bool>`` type, arguments named like ``GUILD``
(not ``{guild}``), docstrings reflowed to the terminal instead of keeping their source line breaks.

`vectobeat_ops.lazy_group` polishes the root group when it is built and each command as it loads.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import typer
from typer.core import TyperArgument, TyperOption

__all__ = ["polish", "reflow"]


class _Flag(TyperOption):
    """An on/off option: it takes no value, so its help shows no value type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _Argument(TyperArgument):
    """A positional argument, named in capitals in the usage line (``GUILD``, ``[FILE]``)."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        shown = name if self.required else f"[{name}]"
        return shown + ("..." if self.nargs != 1 else "")


def reflow(text: str | None) -> str | None:
    """Join the lines of each paragraph (docstrings are wrapped for the source, not the terminal);
    paragraphs whose lines are indented or start with ``\\b`` keep their lines."""
    if not text:
        return text
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        verbatim = paragraph.startswith("\b") or any(line.startswith((" ", "\t")) for line in lines)
        paragraphs.append(paragraph if verbatim else " ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def _polish_params(params: Iterable[Any]) -> None:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and type(param) is TyperOption:
            param.__class__ = _Flag
        elif isinstance(param, TyperArgument) and type(param) is TyperArgument:
            param.__class__ = _Argument
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()


def polish(command: Any) -> None:
    """Polish ``command`` and, for a group, every command below it (its ``--help`` too)."""
    command.help = reflow(inspect.cleandoc(command.help) if command.help else command.help)
    help_option = command.get_help_option(typer.Context(command))
    _polish_params([*command.params, *([help_option] if help_option is not None else [])])
    for sub in getattr(command, "commands", {}).values():
        polish(sub)
