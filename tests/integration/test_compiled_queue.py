"""The queue as the platform wheel ships it: compiled with mypyc by hatch_build.py, it passes
the same unit tests as the interpreted one (and its snapshots' JSON is the same, byte for byte)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT_TESTS = [
    "tests/unit/test_queue.py",
    "tests/unit/test_queue_stateful.py",
    "tests/unit/test_tracks.py",
    "tests/unit/test_json_golden.py",  # snapshots hold the compiled QueueEntry (jsonform.register)
]

pytestmark = pytest.mark.timeout(900)


def load_build_hook() -> ModuleType:
    """hatch_build.py is not part of the package: load it by path, as hatchling does."""
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An import path whose vectobeat_core has the three modules compiled as the wheel has them."""
    hook = load_build_hook()
    if hook.c_compiler() is None:
        message = "no C compiler to build the mypyc queue with (apt-get install -y gcc)"
        if os.environ.get("VECTOBEAT_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    out_dir = tmp_path_factory.mktemp("compiled")
    built = hook.compile_queue(ROOT / "src" / "vectobeat_core", out_dir)
    assert len(built) == len(hook.MODULES) + 1  # one per module and mypyc's shared library
    return out_dir


def run_python(compiled: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """This interpreter with the compiled package first on the path, shadowing the editable one."""
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_ADDOPTS"}
    env["PYTHONPATH"] = os.pathsep.join([str(compiled), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_compiled_modules_shadow_the_sources(compiled: Path) -> None:
    done = run_python(
        compiled,
        "-c",
        "import vectobeat_core._blocklist as b, vectobeat_core.queue_entry as e, "
        "vectobeat_core.queue as q; print(b.__file__); print(e.__file__); print(q.__file__)",
    )
    assert done.returncode == 0, done.stderr
    files = [Path(line) for line in done.stdout.splitlines()]
    assert len(files) == 3
    assert all(path.suffix == ".so" and path.is_relative_to(compiled) for path in files), files


def test_compiled_queue_passes_the_unit_tests(compiled: Path) -> None:
    # No coverage (it cannot trace compiled code) and no inherited addopts; warnings stay errors.
    done = run_python(
        compiled,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:cov",
        "-o",
        "addopts=",
        "--strict-markers",
        *UNIT_TESTS,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
