"""``LastKnownSettings``: each guild's last applied settings and plan, kept on the bot's disk.

One JSON file per guild under ``<BOT_DATA_DIR>/settings/``, replaced atomically
(`vectobeat_adapters.atomic_file.write_atomically`) each time the bot applies a change. A bot that
restarts while the panel is down serves these instead of the Free defaults, with their age. A file
that cannot be read is reported and left where it is (nothing is deleted).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import anyio.to_thread
import attrs

from vectobeat_adapters.atomic_file import write_atomically
from vectobeat_adapters.slim_lock import SlimLock
from vectobeat_core.errors import InvalidInput, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.settings import ServerSettings, parse_settings

__all__ = ["CachedSettings", "LastKnownSettings"]

_log = logging.getLogger("vectobeat.bot.settings_cache")
FORMAT = 1


@attrs.frozen
class CachedSettings:
    """A guild's settings at ``version`` on ``tier``, as fetched from the panel at ``fetched_at``
    and stored there at ``updated_at`` (``None``: unknown, e.g. a file from before it was kept)."""

    guild_id: GuildId
    version: int
    tier: Tier
    settings: ServerSettings
    fetched_at: float
    updated_at: float | None = None

    def encode(self) -> bytes:
        data: dict[str, object] = {
            "format": FORMAT,
            "guild_id": str(self.guild_id),
            "version": self.version,
            "tier": self.tier.key,
            "settings": self.settings.to_json(),
            "fetched_at": self.fetched_at,
        }
        if self.updated_at is not None:
            data["updated_at"] = self.updated_at
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> CachedSettings:
        """Read one file's content; `InvalidInput` saying what is wrong."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("not JSON") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidInput("not a format {format} settings cache entry", format=FORMAT)
        guild, version, fetched = data.get("guild_id"), data.get("version"), data.get("fetched_at")
        if not isinstance(guild, str) or not guild.isdigit():
            raise InvalidInput("guild_id must be a snowflake string")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise InvalidInput("version must be a whole number of at least 0")
        if isinstance(fetched, bool) or not isinstance(fetched, int | float):
            raise InvalidInput("fetched_at must be a number")
        updated = data.get("updated_at")
        if updated is not None and (
            isinstance(updated, bool) or not isinstance(updated, int | float)
        ):
            raise InvalidInput("updated_at must be a number")
        settings = data.get("settings")
        if not isinstance(settings, dict):
            raise InvalidInput("settings must be an object")
        return cls(
            GuildId(int(guild)),
            version,
            Tier.parse(data.get("tier")),
            parse_settings(settings),
            float(fetched),
            None if updated is None else float(updated),
        )


class LastKnownSettings:
    """The per-guild files under ``folder`` (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._locks: dict[GuildId, SlimLock] = {}

    def _path(self, guild_id: GuildId) -> Path:
        return self.folder / f"{int(guild_id)}.json"

    def is_empty(self) -> bool:
        """Whether no guild has a file here (an unreadable folder counts as not empty)."""
        try:
            return not any(self.folder.glob("*.json"))
        except OSError:
            return False

    def load_all(self) -> dict[GuildId, CachedSettings]:
        """Every readable entry; an unreadable one is logged and kept on disk."""
        found: dict[GuildId, CachedSettings] = {}
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError as exc:
            _log.warning("settings_cache_unreadable folder=%s error=%s", self.folder, exc)
            return found
        for path in paths:
            try:
                entry = CachedSettings.decode(path.read_bytes())
            except (OSError, InvalidInput) as exc:
                _log.warning("settings_cache_entry_skipped file=%s error=%s", path, exc)
                continue
            if path.name != f"{int(entry.guild_id)}.json":
                _log.warning("settings_cache_entry_skipped file=%s error=names another guild", path)
                continue
            found[entry.guild_id] = entry
        return found

    async def remove(self, guild_id: GuildId) -> bool:
        """Delete the guild's file (right to erasure), after any save of it in flight; whether
        there was one. ``StorageUnavailable`` if it cannot be deleted."""
        lock = self._locks.setdefault(guild_id, SlimLock())
        async with lock:
            try:
                await anyio.to_thread.run_sync(self._path(guild_id).unlink)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise StorageUnavailable(
                    "Could not delete the last known settings of guild {guild}: {problem}",
                    guild=guild_id,
                    problem=str(exc),
                ) from None
            return True

    async def save(self, entry: CachedSettings) -> None:
        """Replace the guild's file (in a worker thread: fsync must not stall the event loop).

        Saves of one guild run one at a time, in the order they were asked for."""
        lock = self._locks.setdefault(entry.guild_id, SlimLock())
        async with lock:
            await anyio.to_thread.run_sync(
                write_atomically, self._path(entry.guild_id), entry.encode()
            )
