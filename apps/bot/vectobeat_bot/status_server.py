"""The bot's Status API on its own port: ``/status``, ``/healthz``, ``/readyz``, ``/metrics``.

``/status`` is the core's unified health payload (`build_status`); it needs ``Authorization:
Bearer <STATUS_TOKEN>`` (compared in constant time) unless no token is configured and the server
listens on loopback only. ``/healthz`` says whether the process is alive (its event-loop
heartbeat is recent; 503 otherwise), ``/readyz`` whether it can serve (503 with the reasons
otherwise). ``/metrics`` is Prometheus text from `BotMetrics`, with ``vectobeat_dependency_up``,
``vectobeat_dependency_since_timestamp_seconds`` and ``vectobeat_dependency_changes`` for each
dependency. Served by aiohttp's low-level HTTP server (``aiohttp.web_server``: discord.py already
loads aiohttp, and this server adds about 0.3 MiB where ``aiohttp.web``'s applications, routing and
file responses add 1.4 MiB) inside the bot's event loop on a socket bound before serving (port 0
picks a free one). Every path answers GET and HEAD; other methods get 405, other paths 404.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Protocol

import anyio
import anyio.abc
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import Response
from aiohttp.web_server import Server
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from vectobeat_adapters.metrics import CONTENT_TYPE, node_metric_families
from vectobeat_core.dependencies import DependencyState, DependencyStatus
from vectobeat_core.jsontypes import JSON
from vectobeat_core.routing import NodeView

__all__ = ["BotMetrics", "StatusServer", "StatusSource", "is_loopback"]

_log = logging.getLogger("vectobeat.bot.status")


class StatusSource(Protocol):
    """What the Status API reads from the running bot."""

    def guild_count(self) -> int: ...

    def player_count(self) -> int: ...

    def queue_tracks(self) -> int: ...

    def shard_latencies(self) -> Mapping[int, float]: ...

    def nodes(self) -> Sequence[NodeView]: ...

    def failovers(self) -> int: ...

    def sync_lag_seconds(self) -> float: ...

    def status_payload(self) -> dict[str, JSON]: ...

    def readiness(self) -> tuple[bool, list[str]]: ...

    def liveness(self) -> tuple[bool, str | None]: ...

    def dependencies(self) -> Sequence[DependencyStatus]: ...


class _Collector(Collector):
    def __init__(self, source: StatusSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        src = self._source
        yield GaugeMetricFamily(
            "vectobeat_guilds", "Guilds this process serves.", src.guild_count()
        )
        yield GaugeMetricFamily("vectobeat_players", "Lavalink players.", src.player_count())
        yield GaugeMetricFamily(
            "vectobeat_queue_tracks", "Tracks in all queues (current included).", src.queue_tracks()
        )
        shards = GaugeMetricFamily(
            "vectobeat_shard_latency_seconds", "Gateway heartbeat latency.", labels=["shard"]
        )
        for shard, seconds in sorted(src.shard_latencies().items()):
            shards.add_metric([str(shard)], seconds)
        yield shards
        yield from node_metric_families(src.nodes(), "vectobeat")
        yield CounterMetricFamily(
            "vectobeat_failovers", "Lavalink node failovers.", value=src.failovers()
        )
        yield GaugeMetricFamily(
            "vectobeat_settings_sync_lag_seconds",
            "Seconds since the panel bridge last answered.",
            src.sync_lag_seconds(),
        )
        yield from _dependency_metrics(src.dependencies())


def _dependency_metrics(dependencies: Sequence[DependencyStatus]) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "vectobeat_dependency_up",
        "1 when the dependency is up, 0 when down or degraded.",
        labels=["dependency"],
    )
    since = GaugeMetricFamily(
        "vectobeat_dependency_since_timestamp_seconds",
        "When the dependency's state last changed (Unix time).",
        labels=["dependency"],
    )
    changes = GaugeMetricFamily(
        "vectobeat_dependency_changes",
        "How often the dependency's state changed since the process started.",
        labels=["dependency"],
    )
    for dep in dependencies:
        if dep.state is DependencyState.NOT_CONFIGURED:
            continue
        up.add_metric([dep.name], 1.0 if dep.state is DependencyState.UP else 0.0)
        changes.add_metric([dep.name], float(dep.changes))
        if dep.since is not None:
            since.add_metric([dep.name], dep.since)
    yield up
    yield since
    yield changes


class BotMetrics:
    """The bot's Prometheus registry: live gauges from the `StatusSource`, command counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "vectobeat_commands",
            "Slash commands by name and outcome.",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.promotions = Counter(
            "vectobeat_shard_promotions",
            "Shards this process took over as a hot spare.",
            registry=self.registry,
        )
        self.restores = Counter(
            "vectobeat_queue_restores",
            "Queue restores at start or when the queue store came back, by outcome "
            "(restored; deferred: the store was down; failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.restored_queues = Counter(
            "vectobeat_queues_restored",
            "Guild queues restored from the queue store.",
            registry=self.registry,
        )

    def bind(self, source: StatusSource) -> None:
        self.registry.register(_Collector(source))

    def command(self, name: str, outcome: str) -> None:
        self.commands.labels(command=name, outcome=outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _json(payload: JSON, status: int = 200) -> Response:
    """A compact ``application/json`` answer (the shape the panel's JSON answers have too)."""
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body=body.encode(), status=status, headers={"Content-Type": "application/json"})


class StatusServer:
    """The request handler (`handle`) and its server (see the module docstring)."""

    def __init__(
        self,
        source: StatusSource,
        metrics: BotMetrics,
        *,
        host: str,
        port: int,
        token: str | None,
        on_listening: Callable[[str, int], None] | None = None,
    ) -> None:
        self.source = source
        self.metrics = metrics
        self.host = host
        self.port = port
        self._token = token or None
        self._open = self._token is None and is_loopback(host)
        self._on_listening = on_listening
        self._routes: dict[str, Callable[[BaseRequest], Awaitable[Response]]] = {
            "/": self._index,
            "/status": self._status,
            "/healthz": self._healthz,
            "/readyz": self._readyz,
            "/metrics": self._metrics,
        }

    async def handle(self, request: BaseRequest) -> Response:
        """Answer one request (the low-level server's handler)."""
        route = self._routes.get(request.path)
        if route is None:
            return Response(status=404, text="404: Not Found")
        if request.method not in ("GET", "HEAD"):  # HEAD: the same answer, its body not sent
            return Response(
                status=405, text="405: Method Not Allowed", headers={"Allow": "GET,HEAD"}
            )
        return await route(request)

    def _authorized(self, request: BaseRequest) -> bool:
        if self._token is None:
            return self._open
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            supplied.strip().encode(), self._token.encode()
        )

    async def _status(self, request: BaseRequest) -> Response:
        if not self._authorized(request):
            message = (
                "A valid status token is required."
                if self._token is not None
                else "Set STATUS_TOKEN: /status is open only on loopback."
            )
            return _json({"error": message, "status": 401}, 401)
        return _json(self.source.status_payload())

    async def _index(self, _: BaseRequest) -> Response:
        """What this server answers (its root is what `vectobeat-ops up` prints)."""
        return _json(
            {
                "service": "vectobeat-bot status",
                "endpoints": {
                    "/healthz": "the process is alive (200) or stalled (503)",
                    "/readyz": "it can serve (200), or 503 with what is missing",
                    "/status": "the full health document (STATUS_TOKEN, or loopback only)",
                    "/metrics": "Prometheus metrics",
                },
            }
        )

    async def _healthz(self, _: BaseRequest) -> Response:
        alive, reason = self.source.liveness()
        if alive:
            return _json({"status": "ok"})
        return _json({"status": "stalled", "reason": reason}, 503)

    async def _readyz(self, _: BaseRequest) -> Response:
        ready, reasons = self.source.readiness()
        return _json({"ready": ready, "reasons": list(reasons)}, 200 if ready else 503)

    async def _metrics(self, _: BaseRequest) -> Response:
        return Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Bind, report the port (``task_status``), and serve until cancelled."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.setblocking(False)
        self.port = int(sock.getsockname()[1])
        server = Server(self.handle, access_log=None)
        try:
            listener = await asyncio.get_running_loop().create_server(server, sock=sock)
            try:
                if self._on_listening is not None:
                    self._on_listening(self.host, self.port)
                task_status.started(self.port)
                await anyio.sleep_forever()
            finally:
                listener.close()  # no new connections; open ones end within a second
                with anyio.CancelScope(shield=True):
                    await server.shutdown(1.0)
                    await listener.wait_closed()
        finally:
            sock.close()
