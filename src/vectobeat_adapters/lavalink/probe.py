"""One health probe of a node: ``GET /version`` and ``GET /v4/stats`` under one short deadline.

A probe fails when the node does not answer in time, answers an error or garbage, or reports a
Lavalink version other than 4.x; its latency is the wall time of both calls.
"""

from __future__ import annotations

import contextlib
import time

import anyio
import attrs

from vectobeat_adapters.lavalink.node import NodeClient
from vectobeat_core.errors import InvalidInput, NodeUnavailable
from vectobeat_core.health import ProbeResult
from vectobeat_core.routing import NodeStats

__all__ = [
    "BUSY_WINDOW_S",
    "ProbeOutcome",
    "ResumeCheck",
    "parse_metrics",
    "probe_metrics",
    "probe_node",
    "probe_resuming",
]


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


@attrs.frozen
class ResumeCheck:
    """Whether a node keeps a session through a disconnect (``resumes`` ``None``: never got as far
    as asking), and the short reason when it does not."""

    resumes: bool | None
    detail: str | None = None

    def label(self) -> str:
        """``yes``, ``no (HTTP 404)`` or ``unknown (why)``, for the ``nodes check`` table."""
        if self.resumes is True:
            return "yes"
        word = "no" if self.resumes is False else "unknown"
        return f"{word} ({self.detail})" if self.detail else word


async def probe_resuming(node: NodeClient, timeout_s: float) -> ResumeCheck:
    """Open ``node``'s websocket, wait for ``ready`` (the client then asks to resume the session
    with ``PATCH /v4/sessions/{id}``), report the answer, and close within ``timeout_s``.

    A session that agreed to resume is switched back to not resuming before closing, so the check
    leaves no session held on the node. Never raises for a bad node.
    """
    ready = False
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(node.run)
        with anyio.move_on_after(timeout_s):
            await node.wait_ready()
            ready = True
        if ready and node.resume_problem is None and node.session_id is not None:
            with anyio.move_on_after(timeout_s), contextlib.suppress(NodeUnavailable):
                await node.request(
                    "PATCH", f"/v4/sessions/{node.session_id}", body={"resuming": False}
                )
        tasks.cancel_scope.cancel()
    if not ready:
        why = node.problem or f"no websocket ready within {timeout_s:g} s"
        return ResumeCheck(None, why)
    if node.resume_problem is None:
        return ResumeCheck(True)
    if node.resume_http_status is not None:
        return ResumeCheck(False, f"HTTP {node.resume_http_status}")
    return ResumeCheck(False, node.resume_problem)
