"""The bot's Status API: bearer token rules, readiness and Prometheus names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from aiohttp.test_utils import RawTestServer

from vectobeat_bot.status_server import BotMetrics, StatusServer, is_loopback
from vectobeat_core.dependencies import DependencyState, DependencyStatus, is_alive
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeView

pytestmark = pytest.mark.anyio


class Source:
    ready = True
    heartbeat_age = 0.1
    deps: Sequence[DependencyStatus] = (
        DependencyStatus("redis", DependencyState.DOWN, 1_700_000_000.0, 3, "refused", True),
        DependencyStatus("sql", DependencyState.UP, 1_699_999_000.0, 1),
        DependencyStatus("panel_bridge", DependencyState.NOT_CONFIGURED),
    )

    def guild_count(self) -> int:
        return 3

    def player_count(self) -> int:
        return 2

    def queue_tracks(self) -> int:
        return 7

    def shard_latencies(self) -> Mapping[int, float]:
        return {0: 0.042}

    def nodes(self) -> Sequence[NodeView]:
        spec = NodeSpec(NodeName("eu-1"), Region.EU, "http://127.0.0.1:2333", "pw", False)
        return [NodeView(spec, NodeStatus.UP, None, 12.0)]

    def failovers(self) -> int:
        return 1

    def sync_lag_seconds(self) -> float:
        return 0.5

    def status_payload(self) -> dict[str, JSON]:
        return {"status": "ok", "guilds": 3}

    def readiness(self) -> tuple[bool, list[str]]:
        return (True, []) if self.ready else (False, ["not connected to Discord yet"])

    def liveness(self) -> tuple[bool, str | None]:
        return is_alive(self.heartbeat_age, 5.0)

    def dependencies(self) -> Sequence[DependencyStatus]:
        return self.deps


@asynccontextmanager
async def client(
    host: str, token: str | None, source: Source | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the server's app, served on loopback whatever ``host`` it is configured for."""
    metrics = BotMetrics()
    src = source or Source()
    metrics.bind(src)
    metrics.command("play", "ok")
    server = StatusServer(src, metrics, host=host, port=0, token=token)
    async with (
        RawTestServer(server.handle, host="127.0.0.1") as served,
        httpx.AsyncClient(base_url=str(served.make_url(""))) as http,
    ):
        yield http


async def test_status_needs_the_token_when_one_is_set() -> None:
    async with client("127.0.0.1", "s3cret-token") as http:
        assert (await http.get("/status")).status_code == 401
        wrong = await http.get("/status", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await http.get("/status", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json() == {"status": "ok", "guilds": 3}


async def test_status_is_open_only_on_loopback_without_a_token() -> None:
    async with client("127.0.0.1", None) as http:
        assert (await http.get("/status")).status_code == 200
    async with client("0.0.0.0", None) as http:  # noqa: S104 - the case under test
        refused = await http.get("/status")
        assert refused.status_code == 401 and "STATUS_TOKEN" in refused.json()["error"]
        assert (await http.get("/healthz")).status_code == 200  # probes stay open


async def test_readyz_follows_readiness() -> None:
    source = Source()
    source.ready = False
    async with client("127.0.0.1", None, source) as http:
        answer = await http.get("/readyz")
        assert answer.status_code == 503
        assert answer.json() == {"ready": False, "reasons": ["not connected to Discord yet"]}


async def test_metrics_names() -> None:
    async with client("127.0.0.1", None) as http:
        text = (await http.get("/metrics")).text
    for line in (
        "vectobeat_guilds 3.0",
        "vectobeat_players 2.0",
        "vectobeat_queue_tracks 7.0",
        'vectobeat_shard_latency_seconds{shard="0"} 0.042',
        'vectobeat_node_up{node="eu-1",region="eu"} 1.0',
        'vectobeat_node_players{node="eu-1",region="eu"} 0.0',
        'vectobeat_node_latency_seconds{node="eu-1",region="eu"} 0.012',
        "vectobeat_failovers_total 1.0",
        "vectobeat_settings_sync_lag_seconds 0.5",
        'vectobeat_commands_total{command="play",outcome="ok"} 1.0',
    ):
        assert line in text, line


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")  # noqa: S104


async def test_healthz_is_503_when_the_heartbeat_stalls() -> None:
    source = Source()
    async with client("127.0.0.1", None, source) as http:
        assert (await http.get("/healthz")).status_code == 200
        source.heartbeat_age = 12.0
        stalled = await http.get("/healthz")
    assert stalled.status_code == 503
    assert stalled.json()["status"] == "stalled" and "12.0 s ago" in stalled.json()["reason"]


async def test_dependency_metrics() -> None:
    async with client("127.0.0.1", None) as http:
        text = (await http.get("/metrics")).text
    for line in (
        'vectobeat_dependency_up{dependency="redis"} 0.0',
        'vectobeat_dependency_up{dependency="sql"} 1.0',
        'vectobeat_dependency_since_timestamp_seconds{dependency="redis"} 1.7e+09',
        'vectobeat_dependency_changes{dependency="redis"} 3.0',
    ):
        assert line in text, line
    assert 'dependency="panel_bridge"' not in text  # not configured: no series


async def test_the_root_lists_what_the_server_answers() -> None:
    async with client("127.0.0.1", None) as http:
        root = await http.get("/")
        assert root.status_code == 200
        assert set(root.json()["endpoints"]) == {"/healthz", "/readyz", "/status", "/metrics"}


async def test_answers_are_compact_json_and_prometheus_text() -> None:
    async with client("127.0.0.1", None) as http:
        health = await http.get("/healthz")
        metrics = await http.get("/metrics")
        head = await http.head("/healthz")
        posted = await http.post("/healthz")
        missing = await http.get("/nope")
    assert health.headers["content-type"] == "application/json"
    assert health.content == b'{"status":"ok"}'
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert head.status_code == 200 and head.content == b""
    assert posted.status_code == 405 and posted.headers["allow"] == "GET,HEAD"
    assert missing.status_code == 404


async def test_serve_binds_reports_the_port_and_stops_when_cancelled() -> None:
    metrics = BotMetrics()
    metrics.bind(Source())
    heard: list[tuple[str, int]] = []
    server = StatusServer(
        Source(), metrics, host="127.0.0.1", port=0, token=None,
        on_listening=lambda host, port: heard.append((host, port)),
    )  # fmt: skip
    async with anyio.create_task_group() as tg:
        port = await tg.start(server.serve)
        assert heard == [("127.0.0.1", port)] and server.port == port
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{port}/readyz")
        assert answer.json() == {"ready": True, "reasons": []}
        tg.cancel_scope.cancel()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"http://127.0.0.1:{port}/healthz")
