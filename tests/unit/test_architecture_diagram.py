"""``docs/system_architecture.mmd`` draws the code's real arrows.

Each node belongs to the package of the first ``vectobeat_*`` name in its label; a node naming none
is an outside system. A solid arrow between two of our packages must be an import in the code,
and every import between our packages (core, adapters, testkit, bot, panel, ops) must be drawn;
an arrow to or from an outside system must come from a package that talks to it
(`TALKS_TO`, which says how).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "docs" / "system_architecture.mmd"
PACKAGE_ROOTS = [ROOT / "src", *(p for p in (ROOT / "apps").iterdir() if p.is_dir())]
ARROW = re.compile(r"\s*(<-->|-->|-\.->)(?:\|[^|]*\|)?\s*")
NODE = re.compile(r'^\s*([A-Za-z][A-Za-z0-9_]*)\["(.*)"\]\s*$')
PACKAGE = re.compile(r"\b(vectobeat_[a-z]+)\.")

TALKS_TO: dict[str, dict[str, str]] = {
    "discord": {
        "vectobeat_bot": "discord.py: gateway, interactions, REST",
        "vectobeat_panel": "OAuth2 sign-in (vectobeat_panel.oauth)",
        "vectobeat_testkit": "the fake Discord (dashed: it stands in for it)",
    },
    "lavalink": {
        "vectobeat_adapters": "REST + websocket client, health probes",
        "vectobeat_testkit": "the fake Lavalink nodes (dashed)",
    },
    "alarmsinks": {"vectobeat_adapters": "vectobeat_adapters.alarms sinks"},
    "stripeapi": {
        "vectobeat_adapters": "the Stripe SDK (vectobeat_adapters.stripe_billing)",
        "vectobeat_panel": "Stripe's signed webhooks arrive at the panel",
    },
    "monitoring": {"vectobeat_bot": "the Status API (vectobeat_bot.status_server)"},
    "redisserver": {"vectobeat_adapters": "redis-py (vectobeat_adapters.redis)"},
    "sqlserver": {"vectobeat_adapters": "SQLAlchemy (vectobeat_adapters.sql)"},
    "smtpserver": {"vectobeat_adapters": "aiosmtplib (vectobeat_adapters.mail)"},
}


def _diagram() -> tuple[dict[str, str | None], list[tuple[str, str, str]]]:
    """Each node's package (``None``: outside) and each arrow as (from, kind, to)."""
    nodes: dict[str, str | None] = {}
    arrows: list[tuple[str, str, str]] = []
    for raw in DIAGRAM.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("%%", "flowchart", "subgraph", "end")):
            continue
        node = NODE.match(line)
        if node is not None:
            found = PACKAGE.search(node.group(2))
            nodes[node.group(1)] = found.group(1) if found else None
            continue
        parts = ARROW.split(line)
        assert len(parts) >= 3, f"not a node or an arrow: {line!r}"
        for index in range(0, len(parts) - 2, 2):
            arrows.append((parts[index], parts[index + 1], parts[index + 2]))
    return nodes, arrows


def code_imports() -> set[tuple[str, str]]:
    """(package, package it imports) for every import between our packages."""
    edges: set[tuple[str, str]] = set()
    for root in PACKAGE_ROOTS:
        for path in root.rglob("*.py"):
            package = path.relative_to(root).parts[0]
            if not package.startswith("vectobeat_"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    target = name.split(".")[0]
                    if target.startswith("vectobeat_") and target != package:
                        edges.add((package, target))
    return edges


NODES, ARROWS = _diagram()


def test_every_arrow_joins_declared_nodes() -> None:
    assert len(ARROWS) >= 30
    for source, _, target in ARROWS:
        assert source in NODES and target in NODES, f"{source} -> {target}: undeclared node"


def test_solid_arrows_between_packages_are_exactly_the_imports() -> None:
    drawn = {
        (NODES[a], NODES[b])
        for a, kind, b in ARROWS
        if kind == "-->" and NODES[a] and NODES[b] and NODES[a] != NODES[b]
    }
    real = code_imports()
    assert drawn - real == set(), "drawn as an import, but no such import exists"
    assert real - drawn == set(), "imported in the code, but not drawn"


def test_outside_systems_are_reached_only_by_the_packages_that_talk_to_them() -> None:
    drawn: set[tuple[str, str]] = set()
    for a, _, b in ARROWS:
        outside, ours = (a, NODES[b]) if NODES[a] is None else (b, NODES[a])
        if NODES[outside] is not None or ours is None:
            continue
        assert ours in TALKS_TO[outside], f"{ours} does not talk to {outside}"
        drawn.add((outside, ours))
    documented = {(outside, ours) for outside, talkers in TALKS_TO.items() for ours in talkers}
    assert documented == drawn


def test_cross_process_arrows_are_dashed() -> None:
    """Our packages that never import each other (bot and panel, ops and bot) meet over the
    network or as processes: such an arrow must be dashed."""
    real = code_imports()
    for a, kind, b in ARROWS:
        pa, pb = NODES[a], NODES[b]
        if pa and pb and pa != pb and (pa, pb) not in real:
            assert kind == "-.->", f"{a} {kind} {b}: {pa} does not import {pb}; draw it dashed"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a --> b --> c", [("a", "-->", "b"), ("b", "-->", "c")]),
        ("a -.->|HTTP /x| b", [("a", "-.->", "b")]),
        ("a <-->|ws| b", [("a", "<-->", "b")]),
    ],
)
def test_the_arrow_parser(line: str, expected: list[tuple[str, str, str]]) -> None:
    parts = ARROW.split(line)
    assert [(parts[i], parts[i + 1], parts[i + 2]) for i in range(0, len(parts) - 2, 2)] == (
        expected
    )
