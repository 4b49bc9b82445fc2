"""The last resort of a stopping bot: it exits within a deadline, never hangs.

Once stopping starts (SIGTERM/SIGINT), `ExitDeadline.arm` starts a daemon thread. If the process is
still alive ``seconds`` later (a task ignoring cancellation, a thread never joined), the thread logs
``shutdown_stuck`` with every asyncio task's stack and every other thread's frame, then ends the
process with `EXIT_STUCK`. A clean stop never meets it: the thread dies with the process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable

__all__ = ["EXIT_DEADLINE_SECONDS", "EXIT_STUCK", "ExitDeadline", "stuck_report"]

EXIT_DEADLINE_SECONDS = 15.0
"""Seconds from the stop signal to the forced exit (below the 20 s most supervisors wait)."""
EXIT_STUCK = 70
"""The exit status of a stop that missed the deadline (``EX_SOFTWARE``)."""
_FRAMES = 6

_log = logging.getLogger("vectobeat.bot")


def _frames(lines: list[str]) -> str:
    return " <- ".join(line.strip().replace("\n", " ") for line in reversed(lines[-_FRAMES:]))


def stuck_report(loop: asyncio.AbstractEventLoop) -> list[str]:
    """One line per pending task of ``loop`` and per other thread, each with its innermost frames.

    Read from another thread while the loop may be running: a best-effort snapshot."""
    lines = []
    for task in asyncio.all_tasks(loop):
        walked = traceback.StackSummary.extract((f, f.f_lineno) for f in task.get_stack())
        stack = traceback.format_list(walked)  # outermost first, as for threads
        lines.append(f"task {task.get_name()} {task.get_coro()!r}: {_frames(stack)}")
    frames = sys._current_frames()
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.ident not in frames:
            continue
        stack = traceback.format_list(traceback.extract_stack(frames[thread.ident]))
        daemon = " daemon" if thread.daemon else ""
        lines.append(f"thread {thread.name}{daemon}: {_frames(stack)}")
    return lines


class ExitDeadline:
    """Ends the process `EXIT_STUCK` if it is still alive ``seconds`` after `arm`."""

    def __init__(
        self,
        seconds: float = EXIT_DEADLINE_SECONDS,
        *,
        end: Callable[[int], object] = os._exit,
    ) -> None:
        self.seconds = seconds
        self._end = end
        self._thread: threading.Thread | None = None

    def arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start counting (once); ``loop`` is the one whose tasks a report lists."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._watch, args=(loop,), name="exit-deadline", daemon=True
        )
        self._thread.start()

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        threading.Event().wait(self.seconds)
        try:
            report = stuck_report(loop)
        except Exception as exc:
            report = [f"(no report: {exc!r})"]
        _log.error(
            "shutdown_stuck deadline_s=%g exit=%d stuck=%d\n%s",
            self.seconds,
            EXIT_STUCK,
            len(report),
            "\n".join(report),
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        self._end(EXIT_STUCK)
