"""Hatchling build hook: the regular wheel ships the guild queue compiled with mypyc.

Editable installs stay pure Python (edits take effect at once; coverage needs the .py files),
and so does a wheel built with VECTOBEAT_PURE_PYTHON=1 or where compiling fails.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.builders.wheel import WheelBuilderConfig
from packaging.requirements import Requirement

MODULES = ("_blocklist", "queue_entry", "queue")
"""The vectobeat_core modules compiled for the platform wheel."""

# Run in a child interpreter so setuptools never touches the hook's process; argv are the paths.
_SETUP = """
import sys
from mypyc.build import mypycify
from setuptools import setup

setup(
    name="vectobeat-mypyc",
    ext_modules=mypycify(sys.argv[1:], opt_level="3"),
    script_args=["build_ext", "--inplace"],
)
"""


class CompileError(Exception):
    """Compiling failed; the message says why, in one line."""


def pure_python_requested() -> bool:
    return os.environ.get("VECTOBEAT_PURE_PYTHON") == "1"


def asked_for_editable_requirements() -> bool:
    """Whether the frontend is asking what an editable build needs (PEP 660's hook is on the stack).

    hatchling asks every hook for its dependencies without saying which build they are for; an
    editable install compiles nothing, so it must not pay for installing mypy and setuptools into
    its isolated build environment (this made every re-run of `pip install -e .` take ~30 s).
    """
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "get_requires_for_build_editable":
            return True
        frame = frame.f_back
    return False


def c_compiler() -> str | None:
    """The path of the C compiler Python builds extensions with, or None if it is missing."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(shlex.split(cc)[0])


def compile_queue(source_dir: Path, out_dir: Path) -> list[Path]:
    """Copy the vectobeat_core package at `source_dir` into `out_dir` and compile MODULES there.

    Returns the extensions built: one per module in `out_dir/vectobeat_core`, plus mypyc's shared
    `<hash>__mypyc` library in `out_dir` itself, so `out_dir` works as an import path entry.
    Raises CompileError when mypyc or a C compiler is missing or the build fails.
    """
    if importlib.util.find_spec("mypyc") is None:
        raise CompileError("mypyc is not installed")
    if c_compiler() is None:
        raise CompileError("no C compiler found")
    package = out_dir / "vectobeat_core"
    shutil.copytree(source_dir, package, ignore=shutil.ignore_patterns("__pycache__"))
    paths = [f"vectobeat_core/{name}.py" for name in MODULES]
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", _SETUP, *paths],
        cwd=out_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        errors = [line for line in lines if "error:" in line.lower()]
        reason = (errors or lines or [f"exit status {done.returncode}"])[0].strip()
        raise CompileError(reason if len(reason) <= 300 else f"{reason[:297]}...")
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    built = [package / f"{name}{suffix}" for name in MODULES]
    missing = [path.name for path in built if not path.is_file()]
    if missing:
        raise CompileError(f"mypyc did not produce {', '.join(missing)}")
    return built + sorted(out_dir.glob(f"*__mypyc{suffix}"))


class MypycBuildHook(BuildHookInterface[WheelBuilderConfig]):
    """Compiles MODULES into the standard wheel; editable and pure builds are left alone."""

    _workdir: tempfile.TemporaryDirectory[str] | None = None

    def dependencies(self) -> list[str]:
        """mypy as the dev extra pins it, setuptools, and attrs (mypy reads its types)."""
        if pure_python_requested() or asked_for_editable_requirements():
            return []
        dev = self.metadata.core.optional_dependencies.get("dev", [])
        mypy = [req for req in dev if Requirement(req).name == "mypy"] or ["mypy"]
        return [*mypy, "setuptools>=50", *self.metadata.core.dependencies]

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "standard" or pure_python_requested():
            return
        # Kept until finalize: force_include reads the files when the wheel is written.
        self._workdir = tempfile.TemporaryDirectory(prefix="vectobeat-mypyc-")
        out_dir = Path(self._workdir.name)
        try:
            built = compile_queue(Path(self.root, "src", "vectobeat_core"), out_dir)
        except CompileError as error:
            print(
                f"WARNING: vectobeat: the guild queue is built as pure Python: {error}",
                file=sys.stderr,
            )
            return
        for path in built:
            build_data["force_include"][str(path)] = path.relative_to(out_dir).as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
