"""The Redis layout keeps the order before a shuffle as a compact id string and reads it back."""

from __future__ import annotations

import pytest

from tests.redis_support import make_track
from vectobeat_adapters.redis.queue_layout import (
    MAX_UNSHUFFLED,
    dumps,
    join_snapshot,
    split_snapshot,
)
from vectobeat_core.errors import InvalidSnapshot
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue, PlayerState


def test_the_pre_shuffle_order_is_packed_and_restored() -> None:
    queue = GuildQueue(GuildId(9))
    queue.add_many([make_track(i) for i in range(500)])
    queue.shuffle(3)
    snapshot = queue.snapshot(PlayerState(), 1.0)
    layout = split_snapshot(snapshot)
    assert layout.meta["u"] == "1-500"  # not 500 numbers in every meta write
    entries = {str(k): v.to_json() for k, v in layout.entries.items()}
    assert join_snapshot(dumps(layout.meta), dumps(entries), "test") == snapshot
    huge = {**layout.meta, "u": f"1-{MAX_UNSHUFFLED + 1}"}
    with pytest.raises(InvalidSnapshot, match="entry order"):
        join_snapshot(dumps(huge), dumps(entries), "test")
