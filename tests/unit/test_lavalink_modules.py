"""The Lavalink adapter's modules: each imports on its own, none imports another back (not even
under ``TYPE_CHECKING``), and none is over 350 lines."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import vectobeat_adapters.lavalink

PACKAGE = "vectobeat_adapters.lavalink"
PACKAGE_DIR = Path(vectobeat_adapters.lavalink.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]))
MAX_LINES = 350


def _imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports, wherever in the file."""
    tree = ast.parse((PACKAGE_DIR / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module.startswith(PACKAGE + "."):
                found.add(node.module.removeprefix(PACKAGE + ".").split(".")[0])
            elif node.module == PACKAGE:
                found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.removeprefix(PACKAGE + ".").split(".")[0])
    return found - {module}


def test_the_package_has_the_named_parts() -> None:
    parts = {"registry", "player_store", "player_rest", "placement", "failover", "recovery"}
    assert parts <= set(MODULES)


def test_no_module_imports_another_back() -> None:
    graph = {module: _imports(module) for module in MODULES}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle between {exc.args[1]}")
    assert set(order) == set(MODULES)
    assert "cluster" not in graph["failover"]  # the old cycle: failover reached into the cluster


def test_each_module_imports_on_its_own() -> None:
    """In one fresh interpreter, whichever module is asked for first (the package is forgotten
    in between): no import fails half-way."""
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}:\n"
        f"    for loaded in [m for m in sys.modules if m.startswith({PACKAGE!r})]:\n"
        "        del sys.modules[loaded]\n"
        f"    importlib.import_module({PACKAGE!r} + '.' + name)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("module", MODULES)
def test_no_module_is_over_350_lines(module: str) -> None:
    lines = (PACKAGE_DIR / f"{module}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module}.py has {lines} lines; split it"


def test_only_the_bot_wiring_knows_the_concrete_cluster() -> None:
    bot_dir = Path(__file__).parents[2] / "apps" / "bot" / "vectobeat_bot"
    users = sorted(
        str(path.relative_to(bot_dir))
        for path in bot_dir.rglob("*.py")
        if "LavalinkCluster" in path.read_text(encoding="utf-8")
    )
    assert users == ["app.py"]  # everything else depends on the core's `Lavalink` port


def test_the_cycle_check_finds_a_cycle() -> None:
    with pytest.raises(CycleError):
        list(TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())
