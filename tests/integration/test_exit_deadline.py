"""A stopping bot process exits within its deadline: stuck, it logs what holds it and exits 70."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vectobeat_bot.exit_deadline import EXIT_STUCK

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 120  # seconds before the test gives up on the child (not a speed assertion)

STUCK = """
import asyncio, sys, threading
from vectobeat_adapters.logging_setup import configure_logging
from vectobeat_bot.exit_deadline import ExitDeadline

configure_logging(level="INFO", log_format="json", process="bot")
never = threading.Event()

async def deaf_to_cancel():
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # as a close awaiting a future nobody resolves

async def main():
    ExitDeadline(float(sys.argv[1])).arm(asyncio.get_running_loop())
    if sys.argv[2] == "stuck":  # a task asyncio.run waits on at exit, a thread never joined
        asyncio.ensure_future(deaf_to_cancel())
        threading.Thread(target=never.wait, name="never-joined").start()
        await asyncio.sleep(0)

asyncio.run(main())
"""


def run_child(seconds: float, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", STUCK, str(seconds), mode],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=ROOT,
        check=False,
    )


def test_a_stuck_stop_is_ended_with_a_report_of_what_is_stuck() -> None:
    done = run_child(0.5, "stuck")
    assert done.returncode == EXIT_STUCK, done.stderr
    assert "shutdown_stuck" in done.stderr
    assert "deaf_to_cancel" in done.stderr  # the task asyncio.run waits on, by name
    assert "never-joined" in done.stderr  # and the thread


def test_a_clean_stop_exits_normally_before_the_deadline() -> None:
    done = run_child(HANG_GUARD, "clean")
    assert done.returncode == 0, done.stderr
    assert "shutdown_stuck" not in done.stderr
