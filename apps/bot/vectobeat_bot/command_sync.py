"""Slash-command sync from one process at a time, and only when the tree changed.

Several bot processes start together; each used to bulk-overwrite the commands, which gets an
application rate-limited. Now a process first takes the shared sync lock (`CommandSyncRecord`:
Redis for every process of a deployment, else a file in ``BOT_DATA_DIR``); the others wait their
turn (``LOCK_WAIT_SECONDS`` at most, then skip). The holder syncs only when the tree's digest differs from the one recorded at the last sync, or when
Discord's registered command names differ from the tree's (commands removed by hand, a new
application), then records the digest. A record that cannot be read skips the sync with a warning:
Discord keeps the commands of the last sync.
"""

from __future__ import annotations

import hashlib
import json
import logging
from enum import StrEnum
from typing import Any

import anyio

from vectobeat_bot.discord_compat import app_commands
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.ports import CommandSyncRecord

__all__ = [
    "LOCK_TTL_SECONDS",
    "LOCK_WAIT_SECONDS",
    "SyncOutcome",
    "sync_command_tree",
    "tree_digest",
    "tree_payload",
]

_log = logging.getLogger("vectobeat.bot.commands")

LOCK_TTL_SECONDS = 120.0
"""How long a sync lock lasts if its holder dies before releasing it."""
LOCK_WAIT_SECONDS = 30.0
"""How long a process waits for another's sync before it skips its own check."""
_LOCK_POLL_SECONDS = 0.2


class SyncOutcome(StrEnum):
    SYNCED = "synced"
    UNCHANGED = "unchanged"
    BUSY = "busy"
    SKIPPED = "skipped"


async def tree_payload(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """The global commands as the bulk overwrite sends them (with the translator's
    localizations, so a new translation is a change), in a stable order."""
    translator = tree.translator
    commands = [
        await command.get_translated_payload(tree, translator)
        if translator is not None
        else command.to_dict(tree)
        for command in tree.get_commands()
    ]
    return sorted(commands, key=lambda c: (str(c.get("name")), int(c.get("type") or 1)))


def tree_digest(payload: list[dict[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of ``payload``."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def sync_command_tree(
    tree: app_commands.CommandTree[Any], record: CommandSyncRecord, owner: str
) -> SyncOutcome:
    """Sync ``tree`` if this process wins the lock and the tree changed (see the module doc)."""
    payload = await tree_payload(tree)
    digest = tree_digest(payload)
    locked = False
    try:
        with anyio.move_on_after(LOCK_WAIT_SECONDS):
            while not await record.try_lock(owner, LOCK_TTL_SECONDS):  # noqa: ASYNC110 - shared lock
                await anyio.sleep(_LOCK_POLL_SECONDS)
            locked = True
        if not locked:
            _log.warning("command_sync_busy: another process held the sync lock too long")
            return SyncOutcome.BUSY
    except VectoBeatError as exc:
        _log.warning("command_sync_skipped: the sync record is unavailable error=%s", exc)
        return SyncOutcome.SKIPPED
    try:
        stored = await record.synced_digest()
        registered = {(c.name, c.type.value) for c in await tree.fetch_commands()}
        wanted = {(str(c["name"]), int(c.get("type") or 1)) for c in payload}
        if stored == digest and registered == wanted:
            _log.info("command_sync_unchanged digest=%s", digest[:12])
            return SyncOutcome.UNCHANGED
        await tree.sync()
        await record.record(digest)
        _log.info("command_sync_done commands=%d digest=%s", len(payload), digest[:12])
        return SyncOutcome.SYNCED
    except VectoBeatError as exc:
        _log.warning("command_sync_skipped: the sync record is unavailable error=%s", exc)
        return SyncOutcome.SKIPPED
    finally:
        try:
            await record.unlock(owner)
        except VectoBeatError as exc:  # the lock expires on its own
            _log.warning("command_sync_unlock_failed error=%s", exc)
