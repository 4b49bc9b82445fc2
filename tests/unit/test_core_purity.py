"""The core imports no I/O library and reads neither the environment nor the clock."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import vectobeat_core

FORBIDDEN = (
    "discord", "pomice", "wavelink", "starlette", "uvicorn", "redis", "sqlalchemy", "asyncpg",
    "aiomysql", "aiosqlite", "pymysql", "httpx", "aiohttp", "stripe", "typer", "smtplib",
    "socket", "asyncio", "anyio",
)  # fmt: skip

CORE_DIR = Path(vectobeat_core.__file__).parent


def test_importing_every_core_module_loads_no_io_library() -> None:
    modules = [f"vectobeat_core.{m.name}" for m in pkgutil.iter_modules([str(CORE_DIR)])]
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    bad = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert bad == [], f"vectobeat_core pulled in I/O modules: {bad}"
    assert len(modules) >= 1


def test_core_source_never_reads_environment_or_clock() -> None:
    banned_calls = {
        ("os", "environ"), ("os", "getenv"), ("time", "time"), ("time", "monotonic"),
        ("time", "sleep"), ("datetime", "now"), ("datetime", "utcnow"), ("date", "today"),
    }  # fmt: skip
    offenders: list[str] = []
    for path in CORE_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in banned_calls
            ):
                offenders.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    assert offenders == []
