"""Encrypted compliance archives on disk: one file per request, AES-256-GCM under the
configured keyring (``ENCRYPTION_KEYS``, rotation as for every sensitive value), bound to the
request's guild and id so a file copied to another request does not decrypt."""

from __future__ import annotations

import base64
from pathlib import Path

import anyio

from vectobeat_adapters.atomic_file import write_atomically
from vectobeat_adapters.crypto import Keyring
from vectobeat_core.errors import NotFound

__all__ = ["ArchiveVault"]


def _context(guild: int, request_id: int) -> str:
    return f"compliance.export:{guild}:{request_id}"


class ArchiveVault:
    """Stores and reads encrypted archives under ``directory``."""

    def __init__(self, directory: Path, keyring: Keyring) -> None:
        self.directory = directory
        self._keys = keyring

    def _path(self, request_id: int) -> Path:
        return self.directory / f"export-{int(request_id)}.vbx"

    async def put(self, guild: int, request_id: int, data: bytes) -> Path:
        token = self._keys.encrypt(
            base64.b64encode(data).decode("ascii"), _context(guild, request_id)
        )
        path = self._path(request_id)
        await anyio.to_thread.run_sync(self._write, path, token.encode("ascii"))
        return path

    def _write(self, path: Path, body: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, body)

    async def get(self, guild: int, request_id: int) -> bytes:
        """The archive's bytes; ``NotFound`` when it is not (or no longer) stored."""
        path = self._path(request_id)
        try:
            token = await anyio.Path(path).read_text(encoding="ascii")
        except FileNotFoundError:
            raise NotFound(f"The export of request {request_id} is no longer stored.") from None
        return base64.b64decode(self._keys.decrypt(token, _context(guild, request_id)))

    async def delete(self, request_id: int) -> bool:
        path = anyio.Path(self._path(request_id))
        if await path.exists():
            await path.unlink()
            return True
        return False
