"""OffPathRecorder: a stalled health store holds back neither the audit log nor a drain."""

from __future__ import annotations

import logging

import anyio
import pytest

from tests.redis_support import ManualClock
from vectobeat_adapters.lavalink.recorder import OffPathRecorder
from vectobeat_adapters.memory.audit import MemoryAuditLog
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_core.audit import AuditEvent
from vectobeat_core.health import NodeHealth
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.regions import Region

pytestmark = pytest.mark.anyio

NODES = [NodeName(f"node-{n}") for n in range(4)]


class StalledHealthStore(MemoryHealthStore):
    """A health store whose writes never answer (Redis behind a blackhole)."""

    def __init__(self) -> None:
        super().__init__(ManualClock())
        self.puts = 0

    async def put(self, health: NodeHealth, ttl: float) -> None:
        self.puts += 1
        await anyio.sleep_forever()


class RecordingHealthStore(MemoryHealthStore):
    """A health store that keeps every record it is given, in order."""

    def __init__(self) -> None:
        super().__init__(ManualClock())
        self.records: list[NodeHealth] = []

    async def put(self, health: NodeHealth, ttl: float) -> None:
        self.records.append(health)
        await super().put(health, ttl)


class AwaitableAuditLog(MemoryAuditLog):
    """A memory audit log that says when it holds ``wanted`` events."""

    def __init__(self, wanted: int) -> None:
        super().__init__()
        self.wanted = wanted
        self.full = anyio.Event()
        self.count = 0

    async def append(self, event: AuditEvent) -> None:
        await super().append(event)
        self.count += 1
        if self.count >= self.wanted:
            self.full.set()


def a_move(n: int) -> AuditEvent:
    return AuditEvent.node_failover(
        GuildId(1_190_000_000_000_000_000 + n), NODES[0], NODES[1], Region.US, reason="down", at=n
    )


async def keep_probing(recorder: OffPathRecorder) -> None:
    """What the cluster's probe loops do: a fresh health record of every node, again and again."""
    at = 0.0
    while True:
        for node in NODES:
            recorder.health(NodeHealth.initial(node, at))
        at += 1.0
        await anyio.sleep(0.01)


async def test_audit_events_are_written_while_the_health_store_stalls() -> None:
    audit = AwaitableAuditLog(wanted=3)
    store = StalledHealthStore()
    recorder = OffPathRecorder(store, audit, health_ttl_s=30.0, write_timeout_s=0.05)
    async with anyio.create_task_group() as tg:
        tg.start_soon(recorder.run)
        tg.start_soon(keep_probing, recorder)
        for n in range(3):
            recorder.audit(a_move(n))
        with anyio.fail_after(5):
            await audit.full.wait()
        tg.cancel_scope.cancel()
    assert [e.at for e in reversed(await audit.recent(None))] == [0, 1, 2]
    assert store.puts > 0  # a health write was stuck meanwhile


async def test_drain_ends_while_probes_keep_reporting_to_a_stalled_store() -> None:
    audit = MemoryAuditLog()
    recorder = OffPathRecorder(StalledHealthStore(), audit, health_ttl_s=30.0, write_timeout_s=0.05)
    async with anyio.create_task_group() as tg:
        tg.start_soon(keep_probing, recorder)
        await anyio.sleep(0.02)
        recorder.audit(a_move(7))
        with anyio.fail_after(5):
            await recorder.drain()
        tg.cancel_scope.cancel()
    assert [e.at for e in await audit.recent(None)] == [7]


async def test_only_the_newest_health_record_of_a_node_is_written() -> None:
    store = RecordingHealthStore()
    recorder = OffPathRecorder(store, MemoryAuditLog(), health_ttl_s=30.0)
    for at in (1.0, 2.0, 3.0):
        recorder.health(NodeHealth.initial(NODES[0], at))
    recorder.health(NodeHealth.initial(NODES[1], 1.0))
    await recorder.drain()
    assert [(h.node, h.since) for h in store.records] == [(NODES[0], 3.0), (NODES[1], 1.0)]
    assert recorder.pending == 0


async def test_a_timed_out_write_is_logged_as_timed_out(caplog: pytest.LogCaptureFixture) -> None:
    recorder = OffPathRecorder(
        StalledHealthStore(), MemoryAuditLog(), health_ttl_s=30.0, write_timeout_s=0.01
    )
    recorder.health(NodeHealth.initial(NODES[0], 1.0))
    with caplog.at_level(logging.WARNING, logger="vectobeat.lavalink.recorder"):
        await recorder.drain()
    assert "what=health of node-0 error=timed out" in caplog.text
    assert recorder.failures == 1
