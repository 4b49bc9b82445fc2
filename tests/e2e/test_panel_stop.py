"""Issue 20 #16, production side: ``vectobeat-panel`` stops at once on SIGTERM although a bot's
long poll is waiting (uvicorn would wait for it to time out; a rolling deploy would hang on it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from tests.e2e.test_newcomer import eventually, sandbox_environment

from vectobeat_testkit.free_port import free_port

BRIDGE_TOKEN = "b" * 40
STOP_BOUND_S = 15.0
"""Well under the 30 s the long poll asks to wait."""


def test_sigterm_ends_a_waiting_long_poll_and_stops(tmp_path: Path) -> None:
    port = free_port()
    env = sandbox_environment(
        PANEL_PORT=str(port), BOT_BRIDGE_TOKEN=BRIDGE_TOKEN, SESSION_SECRET="s" * 40
    )
    log = tmp_path / "panel.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "vectobeat_panel"], cwd=tmp_path, env=env,
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool | None:
            try:
                return True if httpx.get(f"{base}/api/health", timeout=2).status_code else None
            except httpx.HTTPError:
                return None

        eventually(up, 30, "the panel to serve")
        answers: list[int] = []
        bearer = {"authorization": f"Bearer {BRIDGE_TOKEN}"}
        poll = f"{base}/api/bot/server-settings/changes?cursor=0&timeout=30"

        def long_poll() -> None:
            answers.append(httpx.get(poll, headers=bearer, timeout=60).status_code)

        waiter = threading.Thread(target=long_poll, daemon=True)
        waiter.start()
        time.sleep(1.0)  # the poll is waiting now (nothing changes)
        assert answers == []
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_BOUND_S)
        waiter.join(timeout=5)
        assert answers == [200], "the waiting poll was answered before the panel stopped"
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    # uvicorn stops gracefully, then re-raises the signal it caught, as an unhandled SIGTERM would
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()
    assert "Traceback" not in log.read_text()
