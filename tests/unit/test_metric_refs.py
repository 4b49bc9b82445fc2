"""The dashboards and alert rules are well formed, and the metric cross-check
(`tests.metric_refs`) notices a metric nobody exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.metric_refs import (
    DASHBOARDS,
    RULES,
    all_expressions,
    dashboard_expressions,
    exported,
    missing,
    referenced,
)

ROOT = DASHBOARDS.parents[1]
EXPOSITION = """\
# HELP vectobeat_guilds Guilds this process serves.
# TYPE vectobeat_guilds gauge
vectobeat_guilds 3.0
# HELP vectobeat_commands Slash commands.
# TYPE vectobeat_commands counter
# HELP vectobeat_panel_request_duration_seconds Latency.
# TYPE vectobeat_panel_request_duration_seconds histogram
vectobeat_panel_request_duration_seconds_bucket{le="0.1",route="/"} 1.0
vectobeat_panel_request_duration_seconds_bucket{le="+Inf",route="/"} 1.0
vectobeat_panel_request_duration_seconds_count{route="/"} 1.0
vectobeat_panel_request_duration_seconds_sum{route="/"} 0.01
"""


def test_exported_names_include_those_of_labelled_metrics_without_samples() -> None:
    names = exported(EXPOSITION)
    assert {"vectobeat_guilds", "vectobeat_commands_total"} <= names
    assert "vectobeat_panel_request_duration_seconds_bucket" in names


def test_the_checker_names_a_metric_no_process_exports() -> None:
    expressions = [
        "sum(vectobeat_guilds)",
        "histogram_quantile(0.95, sum by (le) (rate(vectobeat_panel_request_duration_seconds_bucket[5m])))",
        'sum(rate(vectobeat_commands_total{outcome="ok"}[5m])) / vectobeat_not_exported_anywhere',
    ]
    assert missing(expressions, [EXPOSITION]) == {"vectobeat_not_exported_anywhere"}
    assert missing(expressions[:2], [EXPOSITION]) == set()


def test_the_checker_reads_a_dashboards_expressions(tmp_path: Path) -> None:
    board = {"panels": [{"targets": [{"expr": "vectobeat_missing_metric", "refId": "A"}]}]}
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board))
    assert missing(dashboard_expressions(path), [EXPOSITION]) == {"vectobeat_missing_metric"}


def test_referenced_ignores_label_values_and_functions() -> None:
    assert referenced(['rate(vectobeat_x_total{job="vectobeat-bot"}[5m])']) == {"vectobeat_x_total"}


@pytest.mark.parametrize("path", sorted(DASHBOARDS.glob("*.json")), ids=lambda p: p.name)
def test_each_dashboard_is_a_grafana_dashboard(path: Path) -> None:
    board = json.loads(path.read_text(encoding="utf-8"))
    assert board["uid"].startswith("vectobeat-") and board["title"].startswith("VectoBeat")
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)) and ids
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"])
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_the_dashboards_cover_what_operators_watch() -> None:
    names = {path.stem for path in DASHBOARDS.glob("*.json")}
    assert names == {"shards", "lavalink-nodes", "queues", "panel", "settings"}


def test_every_alert_names_an_existing_runbook() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in operations.splitlines()
        if line.startswith("## ")
    }
    for path in RULES.glob("*.rules.yaml"):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                runbook = rule["annotations"]["runbook"]
                assert runbook.startswith("docs/operations.md#"), rule["alert"]
                assert runbook.split("#", 1)[1] in anchors, (rule["alert"], runbook)
                assert rule["labels"]["severity"] in {"warning", "critical"}


def test_every_file_has_expressions() -> None:
    files = all_expressions()
    assert "vectobeat.rules.yaml" in files
    assert all(files.values())
