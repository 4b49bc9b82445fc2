"""``promtool check rules`` accepts the alert rules and ``promtool check config`` the scrape
configuration (Debian's ``prometheus`` package; .ci/run installs it when missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.metric_refs import RULES


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("VECTOBEAT_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true":
            pytest.fail("promtool is missing: apt-get install prometheus (.ci/run does)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


@pytest.mark.parametrize("path", sorted(RULES.glob("*.rules.yaml")), ids=lambda p: p.name)
def test_promtool_accepts_the_rules(path: Path) -> None:
    done = subprocess.run(
        [_promtool(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_accepts_the_scrape_config() -> None:
    done = subprocess.run(
        [_promtool(), "check", "config", "--syntax-only", str(RULES / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules.yaml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n")
    done = subprocess.run(
        [_promtool(), "check", "rules", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
