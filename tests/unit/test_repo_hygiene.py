"""The repository carries source, not build products: no wheels or archives, no large files.

Issue 19 found a 2.9 MB wheel committed at the root (80% of the packed repo); this keeps the next one out.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 160_000
"""The largest tracked file today is the German catalogue (~128 KB); anything bigger is suspect."""
BUILD_PRODUCTS = (
    ".whl",
    ".tar.gz",
    ".tgz",
    ".zip",
    ".so",
    ".pyd",
    ".egg",
    ".dylib",
    ".dll",
    ".exe",
)


def tracked_files() -> list[str]:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout: nothing is tracked")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in out.split("\0") if name]


def test_no_build_products_are_tracked() -> None:
    products = [name for name in tracked_files() if name.lower().endswith(BUILD_PRODUCTS)]
    assert products == [], f"build products do not belong in the repository: {products}"


def test_no_large_files_are_tracked() -> None:
    sizes = {
        name: (ROOT / name).stat().st_size for name in tracked_files() if (ROOT / name).is_file()
    }
    large = {name: size for name, size in sizes.items() if size > MAX_BYTES}
    assert large == {}, f"files over {MAX_BYTES} bytes: {large}"


def test_wheels_are_ignored() -> None:
    assert "*.whl" in (ROOT / ".gitignore").read_text().splitlines()
