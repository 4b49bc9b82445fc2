"""The panel's Prometheus metrics (one registry per app, so tests can run several panels)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["PanelMetrics"]


class PanelMetrics:
    """Requests by route template, their latency, and settings changes announced to bots."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "vectobeat_panel_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "vectobeat_panel_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route"],
            registry=self.registry,
        )
        self.settings_published = Counter(
            "vectobeat_panel_settings_published",
            "Settings changes announced to the bots, by outcome (published or failed).",
            ["outcome"],
            registry=self.registry,
        )

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)
