"""Issue 20 #16: re-running the Quickstart's ``pip install -e`` must not install mypy and setuptools
into pip's build environment each time: an editable build compiles nothing (hatch_build.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def requirements(hook: str) -> list[str]:
    """What hatchling (our build backend) tells a frontend it needs, asked as pip asks it."""
    done = subprocess.run(
        [sys.executable, "-c", f"import json, hatchling.build as b; print(json.dumps(b.{hook}()))"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [str(r) for r in json.loads(done.stdout.strip().splitlines()[-1])]


def test_an_editable_install_needs_no_compiler_toolchain() -> None:
    editable = requirements("get_requires_for_build_editable")
    assert not [r for r in editable if r.startswith(("mypy", "setuptools"))], editable


def test_the_wheel_still_brings_mypyc_to_compile_the_queue() -> None:
    wheel = requirements("get_requires_for_build_wheel")
    assert any(r.startswith("mypy") for r in wheel) and any(
        r.startswith("setuptools") for r in wheel
    ), wheel
