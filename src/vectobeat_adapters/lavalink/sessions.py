"""`SessionFile`: the Lavalink session id of each node, kept on disk across bot restarts.

A restarted bot that connects with the ``Session-Id`` it had resumes that session (Lavalink keeps
a resumable session's players playing for its resume timeout), so nothing stops and no second
player is made. The file is small JSON (``{"eu-1": "<session id>"}``) written atomically (temp
file, fsync, rename); a missing or unreadable file means "nothing to resume".
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import anyio

from vectobeat_core.ids import NodeName

__all__ = ["SESSION_FILE", "SessionFile"]

SESSION_FILE = "lavalink-sessions.json"

_log = logging.getLogger("vectobeat.lavalink.sessions")


class SessionFile:
    """Reads and writes ``{node: session id}`` at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = anyio.Lock()

    def load(self) -> dict[NodeName, str]:
        """The saved session ids (empty when there is no readable file)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            _log.warning("lavalink_sessions_unreadable path=%s error=%s", self.path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            NodeName(name): session
            for name, session in data.items()
            if isinstance(name, str) and isinstance(session, str) and session
        }

    async def save(self, sessions: dict[NodeName, str]) -> None:
        """Replace the file with ``sessions`` (in a worker thread; errors are logged)."""
        text = json.dumps(dict(sorted(sessions.items())), indent=1)
        try:
            async with self._lock:  # one writer at a time: the newest state is written last
                await anyio.to_thread.run_sync(self._write, text)
        except OSError as exc:
            _log.warning("lavalink_sessions_not_saved path=%s error=%s", self.path, exc)

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        with temp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(self.path)
