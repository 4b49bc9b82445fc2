"""One health probe of a node: ``GET /version`` and ``GET /v4/stats`` under one short deadline.

A probe fails when the node does not answer in time, answers an error or garbage, or reports a
Lavalink version other than 4.x; its latency is the wall time of both calls.
"""

from __future__ import annotations

import time

import anyio
import attrs

from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_core.errors import InvalidInput, NodeUnavailable
from vectobeat_core.health import ProbeResult
from vectobeat_core.routing import NodeStats

__all__ = ["BUSY_WINDOW_S", "ProbeOutcome", "parse_metrics", "probe_metrics", "probe_node"]


@attrs.frozen
class ProbeOutcome:
    """The probe result for the health state machine, the stats read, and the version seen."""

    result: ProbeResult
    stats: NodeStats | None = None
    version: str | None = None


BUSY_WINDOW_S = 0.5
"""A node heard from this recently when a probe ends is busy, not gone (`ProbeResult.busy`);
short enough that a node that stops answering is still down within the 3 s promise."""


def _busy(node: NodeClient) -> bool:
    return time.monotonic() - node.last_heard < BUSY_WINDOW_S


async def probe_node(node: NodeClient, timeout_s: float) -> ProbeOutcome:
    """Probe ``node`` within ``timeout_s`` (wall seconds); never raises for a bad node."""
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout_s):
            problem = await node.check_version()
            if problem is not None:
                return ProbeOutcome(ProbeResult(False, error=problem), version=node.version)
            payload = await node.request("GET", "/v4/stats", timeout_s=timeout_s)
    except TimeoutError:
        error = f"no answer within {timeout_s:g} s"
        return ProbeOutcome(ProbeResult(False, error=error, busy=_busy(node)))
    except NodeUnavailable as exc:
        return ProbeOutcome(ProbeResult(False, error=str(exc)), version=node.version)
    try:
        stats = NodeStats.from_lavalink(payload)
    except InvalidInput as exc:
        return ProbeOutcome(ProbeResult(False, error=f"garbage stats: {exc}"), version=node.version)
    latency_ms = (time.perf_counter() - started) * 1000.0
    result = ProbeResult(True, latency_ms=latency_ms, busy=_busy(node))
    return ProbeOutcome(result, stats, node.version)


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text exposition -> ``{sample name: value}`` (labels kept in the name)."""
    samples: dict[str, float] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, brace, tail = line.rpartition("}")
        if brace:
            name, fields = head + brace, tail.split()
        else:
            name, *fields = line.split()
        if not fields:
            continue
        try:
            samples[name] = float(fields[0])
        except ValueError:
            continue
    return samples


async def probe_metrics(node: NodeClient, timeout_s: float) -> dict[str, float] | None:
    """The node's ``/metrics`` gauges, ``None`` when metrics are off (404) or unreadable."""
    try:
        with anyio.fail_after(timeout_s):
            text = await node.request("GET", "/metrics", timeout_s=timeout_s, expect_json=False)
    except (TimeoutError, NodeUnavailable):
        return None
    return parse_metrics(str(text))
