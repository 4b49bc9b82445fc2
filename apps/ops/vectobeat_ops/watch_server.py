"""The HTTP side of ``vectobeat-ops nodes watch --metrics-port``: ``/healthz`` (the process
answers), ``/readyz`` (every node has been probed at least once) and ``/metrics`` (each node's
state as the checker sees it, ``vectobeat_watch_node_*``, and the alarm deliveries that failed)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import anyio
import anyio.abc
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from vectobeat_adapters.lavalink import HealthChecker
from vectobeat_adapters.metrics import CONTENT_TYPE, node_metric_families, render
from vectobeat_core.health import NodeStatus

__all__ = ["WatchServer"]

_log = logging.getLogger("vectobeat.ops.watch")


class _Collector(Collector):
    def __init__(self, server: WatchServer) -> None:
        self._server = server

    def collect(self) -> Iterator[Metric]:
        checker = self._server.checker
        yield from node_metric_families(
            checker.routing_table() if checker else [], "vectobeat_watch"
        )
        yield CounterMetricFamily(
            "vectobeat_watch_alarm_delivery_failures",
            "Alarm deliveries to a sink that failed since the checker started.",
            value=float(len(checker.delivery_failures)) if checker else 0.0,
        )


class WatchServer:
    """Serves the probes and metrics of the `HealthChecker` given to `attach`."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.checker: HealthChecker | None = None
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_Collector(self))

    def attach(self, checker: HealthChecker) -> None:
        self.checker = checker

    def readiness(self) -> tuple[bool, list[str]]:
        if self.checker is None:
            return False, ["the health checker has not started"]
        waiting = [
            f"{view.name}: not probed yet"
            for view in self.checker.routing_table()
            if view.status is NodeStatus.UNKNOWN
        ]
        return not waiting, waiting

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _: web.Request) -> web.Response:
        ready, reasons = self.readiness()
        return web.json_response({"ready": ready, "reasons": reasons}, status=200 if ready else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=render(self.registry), headers={"content-type": CONTENT_TYPE})

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen (port 0 picks one), report the port through ``task_status``, serve until cancelled."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            self.port = int(sock.getsockname()[1])
            await web.SockSite(runner, sock).start()
            _log.info("watch_http_listening", extra={"host": self.host, "port": self.port})
            task_status.started(self.port)
            await anyio.sleep_forever()
        finally:
            await runner.cleanup()
            sock.close()
