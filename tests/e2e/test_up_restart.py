"""Nothing acknowledged is lost on the Quickstart default: ``vectobeat-ops up`` (sandbox, no
``REDIS_URL``, the SQLite file ``./vectobeat.db``) takes ``/play`` three times, is stopped with
Ctrl-C, is started again in the same directory, and ``/queue`` shows the same queue, playing again.
Real processes throughout (``up``, the bot it starts, ``vectobeat-ops sandbox send``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.test_newcomer import (
    STATE,
    eventually,
    sandbox_environment,
    start,
    stop,
    wait_until_up,
)

OPS = [sys.executable, "-m", "vectobeat_ops"]
PLAYED = ("/play lofi", "/play Blue Monday", "/play Windowlicker")
QUEUE = (
    "Now playing Lofi Hip Hop Radio - beats to relax/study to by Lofi Girl (4:00)\n"
    "1. Blue Monday by New Order (7:28)\n"
    "2. Windowlicker by Aphex Twin (6:07)\n"
)


def sandbox(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OPS, "sandbox", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def playing(cwd: Path, env: dict[str, str], guild: str) -> str | None:
    """The title the demo guild's player is playing on some sandbox node, if any."""
    status = sandbox(cwd, env, "status", "--json")
    if status.returncode != 0:
        return None
    for node in json.loads(status.stdout)["nodes"]:
        for player in node["players"]:
            if player["guild_id"] == guild and player["track"]:
                return str(player["track"])
    return None


def test_the_queue_survives_stopping_and_starting_up_again(tmp_path: Path) -> None:
    env = sandbox_environment(PYTHONWARNINGS="ignore::DeprecationWarning")
    assert "REDIS_URL" not in env and "DATABASE_URL" not in env
    first_log, second_log = tmp_path / "up-1.log", tmp_path / "up-2.log"

    process = start([*OPS, "up"], tmp_path, env, first_log)
    try:
        state: dict[str, Any] = wait_until_up(process, tmp_path, first_log, 90)
        for command in PLAYED:
            reply = sandbox(tmp_path, env, "send", command, "--timeout", "45")
            assert reply.returncode == 0, reply.stderr
        before = sandbox(tmp_path, env, "send", "/queue", "--timeout", "30")
        assert before.returncode == 0 and before.stdout.startswith(QUEUE), before.stdout
    finally:
        stop(process, first_log)
    assert not (tmp_path / STATE).exists()
    assert (tmp_path / "vectobeat.db").exists()

    process = start([*OPS, "up"], tmp_path, env, second_log)
    try:
        state = wait_until_up(process, tmp_path, second_log, 90)

        def restored() -> str | None:
            reply = sandbox(tmp_path, env, "send", "/queue", "--timeout", "30")
            return reply.stdout if reply.returncode == 0 and QUEUE in reply.stdout else None

        eventually(restored, 30, "the queue to be restored after the restart")
        title = eventually(
            lambda: playing(tmp_path, env, state["guild"]["id"]), 30, "the restored player"
        )
        assert title.startswith("Lofi Hip Hop Radio")
    finally:
        stop(process, second_log)
