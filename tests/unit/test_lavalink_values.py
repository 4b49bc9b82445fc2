"""The Lavalink port's values keep their JSON shape (the Status API and metrics read it)."""

from __future__ import annotations

import json

from vectobeat_core.lavalink import FailoverCounts


def test_failover_counts_json_keeps_its_keys_order_and_values() -> None:
    counts = FailoverCounts(failovers=2, players_moved=7, bad_payloads=1)
    assert json.dumps(counts.to_json()) == (
        '{"failovers": 2, "players_moved": 7, "players_returned": 0, "players_stranded": 0, '
        '"players_rebuilt": 0, "players_adopted": 0, "move_failures": 0, "bad_payloads": 1}'
    )
