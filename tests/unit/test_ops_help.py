"""Issue 20 #15: ``--help`` reads like prose (no ``<bool>`` on flags, arguments named ``GUILD``
rather than ``{guild}``, docstrings reflowed to the terminal), ``plans show`` never cuts a word at
80 columns, and the bot's Markdown replies are rendered for a terminal."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.unit.test_ops_cli import COMMANDS
from vectobeat_core.plans import Tier
from vectobeat_ops.cli import app
from vectobeat_ops.discord_text import render_discord
from vectobeat_ops.help_text import reflow

runner = CliRunner()
NARROW = {"COLUMNS": "80", "TERMINAL_WIDTH": "80", "NO_COLOR": "1"}


def _description(output: str) -> list[str]:
    """The lines between the usage line and the first panel, without the frame's padding."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next((i for i, line in enumerate(lines) if line.startswith("╭")), len(lines))
    return [line.strip() for line in lines[start:end]]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "root")
def test_help_reads_like_prose(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env=NARROW)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output, "a flag takes no value"
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert not re.search(r"\{[a-z_]+\}", usage), usage
    description = _description(result.output)
    for line, following in itertools.pairwise(description):
        # a hard-wrapped docstring leaves a short line followed by more of the same paragraph
        assert not (following and line and len(line) < 55 and following[0].islower()), (
            f"{line!r} is cut short before {following!r}"
        )


def test_arguments_are_named_in_capitals() -> None:
    result = runner.invoke(app, ["queue", "inspect", "--help"], env=NARROW)
    assert "queue inspect [OPTIONS] GUILD" in result.output


def test_reflow_joins_source_line_breaks_and_keeps_indented_blocks() -> None:
    assert reflow("one\ntwo\n\nExample: x") == "one two\n\nExample: x"
    assert reflow("codes:\n    0  ok\n    1  bad") == "codes:\n    0  ok\n    1  bad"


def test_plans_show_never_cuts_a_word_at_80_columns() -> None:
    result = runner.invoke(app, ["plans", "show"], env=NARROW)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    words = set(result.output.split())
    for expected in [t.label for t in Tier] + ["capability", "unlimited", "predictive"]:
        assert expected in words, f"{expected} was cut"


def test_replies_render_discord_markdown_and_mentions_by_name() -> None:
    names: dict[str, Any] = {
        "channels": {"12": "music"},
        "users": {"34": "Demo User"},
        "roles": {"56": "DJ"},
    }
    text = render_discord(
        "Now playing **Lofi _Girl_** in <#12> for <@34> (<@&56>), `/skip` [docs](https://e.x/a)\n"
        "> a __quote__ <#99>",
        names,
    )
    assert text.plain == (
        "Now playing Lofi Girl in #music for @Demo User (@DJ), /skip docs\n│ a quote #99"
    )
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles["Lofi Girl"] == "bold" and styles["Girl"] == "italic"
    assert "underline" in styles["docs"] and styles["quote"] == "underline"
    assert not re.search(r"\*\*|<[#@]", text.plain)


def test_the_root_help_lists_version_as_a_flag() -> None:
    output = runner.invoke(app, ["--help"], env=NARROW).output
    assert re.search(r"--version\s+Print the VectoBeat version", output)
