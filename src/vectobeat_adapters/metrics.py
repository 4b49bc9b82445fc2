"""Prometheus metrics shared by the processes: the node families the bot and ``nodes watch``
both export (one definition), and the text exposition content type.

Needs ``prometheus-client`` (in the bot, panel and ops extras).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from vectobeat_core.health import NodeStatus
from vectobeat_core.routing import NodeView

__all__ = ["CONTENT_TYPE", "node_metric_families", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def node_metric_families(views: Sequence[NodeView], prefix: str) -> Iterator[Metric]:
    """``<prefix>_node_up``, ``_node_players`` and ``_node_latency_seconds`` per node and region."""
    up = GaugeMetricFamily(
        f"{prefix}_node_up", "1 when the node is routable.", labels=["node", "region"]
    )
    players = GaugeMetricFamily(
        f"{prefix}_node_players", "Players on the node.", labels=["node", "region"]
    )
    latency = GaugeMetricFamily(
        f"{prefix}_node_latency_seconds", "Last probe latency.", labels=["node", "region"]
    )
    for view in views:
        labels = [view.name, view.spec.region.value]
        up.add_metric(labels, 1.0 if view.status is NodeStatus.UP else 0.0)
        players.add_metric(labels, float(view.stats.players if view.stats else 0))
        if view.latency_ms is not None:
            latency.add_metric(labels, view.latency_ms / 1000.0)
    yield up
    yield players
    yield latency


def render(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(registry)
