"""``FileCommandSync``: the slash-command tree's last synced digest in a directory (no Redis).

A bot without Redis runs as one process (shard leases need Redis), so the digest lives in
``BOT_DATA_DIR`` as ``commands.digest`` (written atomically); the lock is an exclusive ``flock`` on
``commands.lock`` held from ``try_lock`` to ``unlock``, which also keeps a second process started by
mistake on the same directory from syncing at the same time.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import anyio

__all__ = ["FileCommandSync"]


class FileCommandSync:
    """The ``CommandSyncRecord`` kept in ``folder`` (created when missing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = None

    @property
    def _digest_file(self) -> Path:
        return self.folder / "commands.digest"

    async def try_lock(self, owner: str, ttl: float) -> bool:
        del owner, ttl  # the lock ends with the process that holds it
        if self._fd is not None:
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "commands.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def unlock(self, owner: str) -> None:
        del owner
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    async def synced_digest(self) -> str | None:
        path = anyio.Path(self._digest_file)
        if not await path.exists():
            return None
        return (await path.read_text()).strip() or None

    async def record(self, digest: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        staged = anyio.Path(self._digest_file.with_suffix(".tmp"))
        await staged.write_text(digest + "\n")
        await staged.replace(self._digest_file)
