"""When a shard's gateway connection was last alive, read from discord.py's keep-alive handler:
an answered heartbeat is alive now, an unanswered one dates the stall, a process that sent nothing
for two intervals was frozen, and missing or odd attributes never count as a stall."""

from __future__ import annotations

import time
from typing import Any

import attrs

from vectobeat_bot.shard_liveness import ShardLiveness
from vectobeat_core.ids import ShardId

NOW = 1_000_000.0
INTERVAL = 1.0
S = ShardId(3)


@attrs.define
class KeepAlive:
    _last_send: float
    _last_ack: float
    _last_recv: float
    interval: float | None = INTERVAL


@attrs.define
class Ws:
    _keep_alive: Any
    open: bool = True


@attrs.define
class Parent:
    ws: Ws | None


@attrs.define
class Info:
    _parent: Parent


class Client:
    def __init__(self) -> None:
        self.ws: Ws | None = None

    def get_shard(self, shard_id: int) -> Info:
        return Info(Parent(self.ws))


def liveness(keep_alive: Any, *, open_: bool = True) -> tuple[ShardLiveness, Client]:
    client = Client()
    client.ws = Ws(keep_alive, open_)
    alive = ShardLiveness(client, lambda: NOW)  # type: ignore[arg-type]
    alive.connected(S)
    return alive, client


def ago(seconds: float) -> float:
    return time.perf_counter() - seconds


def test_a_shard_still_starting_counts_as_alive() -> None:
    assert ShardLiveness(Client(), lambda: NOW).alive_at(S) is None  # type: ignore[arg-type]


def test_an_answered_heartbeat_is_alive_now() -> None:
    alive, _ = liveness(KeepAlive(ago(0.5), ago(0.4), ago(0.4)))
    assert alive.alive_at(S) == NOW


def test_an_unanswered_heartbeat_dates_the_stall_at_the_first_unanswered_one() -> None:
    # last ACK 5 s ago; heartbeats kept going out (the latest 0.2 s ago), none answered
    alive, _ = liveness(KeepAlive(ago(0.2), ago(5.0), ago(5.0)))
    seen = alive.alive_at(S)
    assert seen is not None and NOW - 4.2 <= seen <= NOW - 3.9  # the one sent 1 s after the ACK


def test_a_process_that_sent_nothing_for_two_intervals_was_frozen() -> None:
    alive, _ = liveness(KeepAlive(ago(10.0), ago(9.9), ago(9.9)))
    seen = alive.alive_at(S)
    assert seen is not None and seen <= NOW - 9.8


def test_between_connections_the_last_sign_of_life_is_kept() -> None:
    alive, client = liveness(KeepAlive(ago(0.2), ago(5.0), ago(5.0)))
    stalled = alive.alive_at(S)
    client.ws = None  # reconnecting
    assert alive.alive_at(S) == stalled
    alive.forget(S)
    assert alive.alive_at(S) is None


def test_missing_attributes_never_count_as_a_stall() -> None:
    alive, _ = liveness(object())
    assert alive.alive_at(S) is None
