"""No dead settings: every `ServerSettings` field is read by the code that acts on it.

A field counts as used when it is read as ``<…settings>.<field>`` in the bot, the ops CLI or an
adapter, or in a core module (other than `vectobeat_core.settings`) that one of those imports. The
panel, which shows and saves every field, does not count. A new setting nothing acts on fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from vectobeat_core.settings import RETIRED_FIELDS, SETTINGS_FIELDS

ROOT = Path(__file__).resolve().parents[2]
SHELLS = ("apps/bot", "apps/ops", "src/vectobeat_adapters")
CORE = ROOT / "src/vectobeat_core"

# Fields other branches are wiring right now (autoplay, now-playing style, embed colour,
# automation). The lead empties this set when merging them; the test fails while a name here is
# already read, so the set cannot go stale.
BEING_BUILT: frozenset[str] = frozenset()


def python_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from sorted(root.rglob("*.py"))


def settings_reads(tree: ast.AST) -> set[str]:
    """The fields read as ``x.settings.field`` / ``settings.field`` (any name ending settings)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SETTINGS_FIELDS:
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if name.lower().endswith("settings"):
                found.add(node.attr)
    return found


def imported_core_modules(tree: ast.AST) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vectobeat_core."):
            modules.add(str(node.module).removeprefix("vectobeat_core."))
        elif isinstance(node, ast.Import):
            modules |= {
                a.name.removeprefix("vectobeat_core.")
                for a in node.names
                if a.name.startswith("vectobeat_core.")
            }
    return modules


def used_fields() -> set[str]:
    used: set[str] = set()
    core_used: set[str] = set()
    for path in python_files(*(ROOT / shell for shell in SHELLS)):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used |= settings_reads(tree)
        core_used |= imported_core_modules(tree)
    for module in core_used - {"settings"}:
        path = CORE / f"{module.replace('.', '/')}.py"
        if path.exists():
            used |= settings_reads(ast.parse(path.read_text(encoding="utf-8")))
    return used


def test_every_setting_is_acted_on_outside_the_panel() -> None:
    used = used_fields()
    dead = [f for f in SETTINGS_FIELDS if f not in used and f not in BEING_BUILT]
    assert not dead, f"settings nothing outside the panel reads (wire them or remove them): {dead}"


def test_the_being_built_set_names_only_unread_fields() -> None:
    assert set(SETTINGS_FIELDS) >= BEING_BUILT, "a being-built name is not a settings field"
    done = sorted(BEING_BUILT & used_fields())
    assert not done, f"now read somewhere, remove from BEING_BUILT: {done}"


def test_retired_fields_are_gone_from_the_schema() -> None:
    assert not set(RETIRED_FIELDS) & set(SETTINGS_FIELDS)


def test_the_scan_sees_a_read_and_misses_a_field_nobody_reads() -> None:
    tree = ast.parse("held.settings.playback_quality\nsettings.region\nplan.source_access\n")
    assert settings_reads(tree) == {"playback_quality", "region"}
