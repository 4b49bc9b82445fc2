"""``write_atomically``: a file is either its old or its new content, even across a crash.

The bytes go to a temporary file in the same directory, which is flushed and fsynced, then renamed
over the target (atomic on POSIX), and the directory is fsynced so the rename itself is durable.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from vectobeat_core.errors import StorageUnavailable

__all__ = ["write_atomically"]


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably; `StorageUnavailable` on failure."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise StorageUnavailable(f"Cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise StorageUnavailable(f"Cannot write {path}: {exc.strerror or exc}") from None
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # the file is replaced; a directory that cannot be opened cannot be synced
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename already happened
    finally:
        os.close(dir_fd)
