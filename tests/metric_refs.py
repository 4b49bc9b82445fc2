"""Which metric names the Grafana dashboards (docs/grafana/*.json) and the Prometheus alert rules
(deploy/prometheus/*.yaml) use, and which names a /metrics page exports: the cross-check that a
dashboard or rule names no metric nobody exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "docs" / "grafana"
RULES = ROOT / "deploy" / "prometheus"

_NAME = re.compile(r"\bvectobeat_[a-zA-Z0-9_:]*")
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
}


def dashboard_expressions(path: Path) -> list[str]:
    """Every PromQL ``expr`` of a dashboard's panels (and its templating queries)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"expr", "query"} and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def rule_expressions(path: Path) -> list[str]:
    """Every alert's ``expr`` in a Prometheus rules file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [rule["expr"] for group in data["groups"] for rule in group["rules"]]


def referenced(expressions: Iterable[str]) -> set[str]:
    """The ``vectobeat_*`` series names the expressions read."""
    return {name for expr in expressions for name in _NAME.findall(expr)}


def exported(exposition: str) -> set[str]:
    """Every series name a /metrics page can carry, including those of labelled metrics that
    have no sample yet (a counter's ``_total``, a histogram's ``_bucket``...)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def missing(expressions: Iterable[str], expositions: Iterable[str]) -> set[str]:
    """Names the expressions use that none of the /metrics pages exports."""
    available: set[str] = set()
    for text in expositions:
        available |= exported(text)
    return referenced(expressions) - available


def all_expressions() -> dict[str, list[str]]:
    """Each dashboard and rules file (by file name) with its expressions."""
    files: dict[str, list[str]] = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        files[path.name] = dashboard_expressions(path)
    for path in sorted(RULES.glob("*.rules.yaml")):
        files[path.name] = rule_expressions(path)
    return files
