"""The shells ask ports what they need instead of testing which adapter they were given: no
``isinstance(..., <adapter class>)`` in ``apps/``, with no exception (the Lavalink event types
the bot matches on are core values, `vectobeat_core.lavalink`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported(tree: ast.Module) -> dict[str, str]:
    """Each name imported from our adapters, with its module."""
    return {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("vectobeat_adapters")
        for alias in node.names
    }


def _class_names(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.Tuple):
        for item in node.elts:
            yield from _class_names(item)
    elif isinstance(node, ast.BinOp):
        yield from _class_names(node.left)
        yield from _class_names(node.right)


def _adapter_isinstance(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    adapters = _imported(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
        ):
            for name in _class_names(node.args[1]):
                module = adapters.get(name)
                if module is not None:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {name} ({module})")
    return found


def test_no_app_tests_for_an_adapter_class() -> None:
    found = [
        hit for path in sorted((ROOT / "apps").rglob("*.py")) for hit in _adapter_isinstance(path)
    ]
    assert found == [], "ask the port instead: " + "; ".join(found)


def test_the_scan_finds_such_a_test(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    source = (
        "from vectobeat_adapters.sql.settings import SqlSettingsRepository\n"
        "ok = isinstance(object(), int | SqlSettingsRepository)\n"
    )
    sample.write_text(source, encoding="utf-8")
    assert _adapter_isinstance(sample, tmp_path) == [
        "sample.py:2 SqlSettingsRepository (vectobeat_adapters.sql.settings)"
    ]
