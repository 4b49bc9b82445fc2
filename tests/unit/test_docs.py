"""Docs that stay true: the configuration reference is fresh, the diagram names only things that
exist, and the README's Quickstart is the two lines a newcomer and CI run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from vectobeat_adapters.config import FIELDS, markdown_reference
from vectobeat_core.health import mermaid_state_diagram

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PACKAGE_ROOTS = [ROOT / "src", *(p for p in (ROOT / "apps").iterdir() if p.is_dir())]
FIRST_LINE = (
    'python3 -m venv .venv && .venv/bin/pip install -q -e ".[all]" && .venv/bin/vectobeat-ops up'
)


def test_configuration_reference_is_fresh() -> None:
    written = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert written == markdown_reference(), (
        "docs/configuration.md is stale: run "
        "`python -m vectobeat_adapters.config --markdown > docs/configuration.md`"
    )


def test_health_state_diagram_is_generated_from_the_transition_table() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- health-states:begin -->\n```mermaid\n(.*?)```\n<!-- health-states:end -->",
        text,
        re.S,
    )
    assert found is not None, "docs/architecture.md lost its health state diagram"
    assert found.group(1) == mermaid_state_diagram(), (
        "the health state diagram in docs/architecture.md is stale: paste "
        "vectobeat_core.health.mermaid_state_diagram() between the health-states markers"
    )


def _module_file(dotted: str) -> Path | None:
    parts = dotted.split(".")
    for root in PACKAGE_ROOTS:
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _defines(module: Path, name: str) -> bool:
    """Whether ``module`` defines or imports ``name`` at top level (without importing it)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == name
        ):
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, ast.ImportFrom | ast.Import) and any(
            (alias.asname or alias.name).split(".")[0] == name for alias in node.names
        ):
            return True
    return False


def resolves(dotted: str) -> bool:
    """``pkg.module`` or ``pkg.module.Name`` exists in the source tree."""
    if _module_file(dotted) is not None:
        return True
    module, _, name = dotted.rpartition(".")
    path = _module_file(module)
    return path is not None and _defines(path, name)


DIAGRAM = (DOCS / "system_architecture.mmd").read_text(encoding="utf-8")
CODE_NAMES = sorted(set(re.findall(r"\bvectobeat_[a-z_]+(?:\.[A-Za-z_][A-Za-z0-9_]*)*", DIAGRAM)))
SETTINGS = sorted(set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", DIAGRAM)))


def test_the_diagram_names_code_and_settings() -> None:
    assert len(CODE_NAMES) >= 15
    assert len(SETTINGS) >= 5


@pytest.mark.parametrize("dotted", CODE_NAMES)
def test_every_component_in_the_diagram_exists_in_code(dotted: str) -> None:
    assert resolves(dotted), f"docs/system_architecture.mmd names {dotted}, which does not exist"


@pytest.mark.parametrize("variable", SETTINGS)
def test_every_setting_in_the_diagram_exists_in_config(variable: str) -> None:
    assert variable in {field.env for field in FIELDS}


def test_resolver_rejects_what_does_not_exist() -> None:
    assert resolves("vectobeat_core.queue.GuildQueue")
    assert not resolves("vectobeat_core.queue.NoSuchThing")
    assert not resolves("vectobeat_nothing.module")


def _quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_readme_quickstart_is_exactly_two_lines() -> None:
    commands = _quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert commands[0] == FIRST_LINE


def test_readme_test_line_is_the_one_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert _quickstart_commands()[1] == lines[-1]


def test_readme_says_what_vectobeat_is_in_two_sentences() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    intro = readme.split("\n\n", 2)[1]
    assert len(re.findall(r"[.!?](?:\s|$)", intro)) == 2


@pytest.mark.parametrize("doc", ["architecture.md", "operations.md"])
def test_docs_mention_only_existing_commands(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    from typer.main import get_command

    from vectobeat_ops.cli import app

    root = get_command(app)
    for match in re.findall(r"vectobeat-ops ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", text):
        words = match.split()
        command = getattr(root, "commands", {}).get(words[0])
        assert command is not None, (
            f"{doc} mentions `vectobeat-ops {words[0]}`, which does not exist"
        )
        subs = getattr(command, "commands", None)
        if subs and len(words) > 1:
            assert words[1] in subs, f"{doc} mentions `vectobeat-ops {match}`, which does not exist"


@pytest.mark.parametrize("doc", ["architecture.md", "operations.md"])
def test_docs_code_references_exist(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    for dotted in set(re.findall(r"`(vectobeat_[a-z_]+(?:\.[A-Za-z_][A-Za-z0-9_]*)*)", text)):
        assert resolves(dotted), f"{doc} names `{dotted}`, which does not exist"
