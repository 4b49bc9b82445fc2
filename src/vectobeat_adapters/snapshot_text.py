"""A queue snapshot as one JSON text: how the memory and SQL queue stores keep a snapshot whole.

The codec is the core's own (``QueueSnapshot.to_json``/``from_json``); this module only adds the
text around it and the one way a stored text is judged: not JSON, not a valid snapshot, or the
snapshot of another guild all raise ``InvalidSnapshot`` naming where the text is stored.
"""

from __future__ import annotations

import json

from vectobeat_core.errors import InvalidSnapshot
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import QueueSnapshot

__all__ = ["snapshot_from_text", "snapshot_to_text"]


def snapshot_to_text(snapshot: QueueSnapshot) -> str:
    """The compact JSON text of ``snapshot``, ASCII only (``\\u`` escapes), so any database
    charset takes it, even a title holding a lone surrogate."""
    return json.dumps(snapshot.to_json(), separators=(",", ":"))


def snapshot_from_text(text: str | bytes, guild: GuildId, where: str) -> QueueSnapshot:
    """Read the snapshot stored for ``guild`` at ``where``; anything else raises ``InvalidSnapshot``."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidSnapshot(f"{where} does not hold JSON.") from None
    try:
        snapshot = QueueSnapshot.from_json(value)
    except InvalidSnapshot as exc:
        raise InvalidSnapshot(f"{where}: {exc.message}") from None
    if snapshot.guild_id != guild:
        raise InvalidSnapshot(f"{where} holds the snapshot of guild {snapshot.guild_id}.")
    return snapshot
