"""``vectobeat-ops`` starts fast: the root imports no command module until one is used."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from vectobeat_ops.cli import COMMANDS, app

HEAVY = ("discord", "starlette", "vectobeat_testkit", "sqlalchemy", "vectobeat_bot", "httpx")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in HEAVY}


def test_importing_the_cli_imports_no_heavy_library() -> None:
    assert _heavy(_modules_after("import vectobeat_ops.cli")) == set()


def test_root_help_imports_no_command_module() -> None:
    code = (
        "from vectobeat_ops.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass"
    )
    modules = _modules_after(code)
    assert _heavy(modules) == set()
    assert not {spec.module for spec in COMMANDS.values()} & modules


def test_running_a_command_imports_its_module() -> None:
    modules = _modules_after(
        "from vectobeat_ops.cli import app\n"
        "try:\n    app(['plans', 'show', '--json'])\nexcept SystemExit:\n    pass"
    )
    assert "vectobeat_ops.plans" in modules
    assert "vectobeat_ops.sandbox" not in modules


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_commands_own_short_help(name: str) -> None:
    command: Any = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.get_short_help_str(limit=200) == COMMANDS[name].summary


def test_root_help_lists_every_command_with_its_summary() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name, spec in COMMANDS.items():
        assert name in result.output
        assert spec.summary.split("`")[0] in result.output


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["nonsense"])
    assert result.exit_code == 2
    assert "No such command" in result.output
