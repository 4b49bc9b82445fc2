"""The three processes as an operator runs them: ``vectobeat-bot``, ``vectobeat-panel`` and
``vectobeat-ops nodes watch``, each with ``LOG_FORMAT=json`` against the fakes.

Every line each writes to stderr is one JSON object carrying its process and context (request id
and path in the panel, guild and shard in the bot), and every metric a Grafana dashboard
(docs/grafana) or an alert rule (deploy/prometheus) reads is exported by one of their /metrics.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import attrs
import httpx
import pytest
from tests.e2e.conftest import BRIDGE_TOKEN, LAVALINK_PASSWORD, BotWorld, bot_world, running_bot
from tests.metric_refs import all_expressions, missing

from vectobeat_core.plans import Tier
from vectobeat_testkit.free_port import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(240)]

REQUEST_ID = "e2e-request-0001"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


class LoggedProcess:
    """A child process whose stderr (its log) is kept line by line."""

    def __init__(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> None:
        self.argv, self.env, self.cwd = argv, dict(env), cwd
        self.process: anyio.abc.Process | None = None
        self.stderr = ""

    async def start(self, tg: anyio.abc.TaskGroup) -> None:
        self.process = await anyio.open_process(self.argv, env=self.env, cwd=self.cwd)
        tg.start_soon(self._drain)

    async def _drain(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError):
            async for chunk in self.process.stderr:
                self.stderr += chunk.decode(errors="replace")

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.strip()]

    async def stop(self) -> None:
        if self.process is not None:
            if self.process.returncode is None:
                self.process.terminate()
            with anyio.fail_after(20):
                await self.process.wait()
            await self.process.aclose()


async def poll(url: str, within: float = 40.0) -> httpx.Response:
    """GET ``url`` until it answers 200 (another process: it can only be polled)."""
    async with httpx.AsyncClient() as client:
        with anyio.fail_after(within):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(url)
                    if response.status_code == 200:
                        return response
                await anyio.sleep(0.1)


@attrs.define
class Observed:
    """What the three processes logged and exported."""

    logs: dict[str, str] = attrs.Factory(dict)
    metrics: dict[str, str] = attrs.Factory(dict)
    guild_id: int = 0
    panel_response: httpx.Response | None = None


def _env(world: BotWorld) -> dict[str, str]:
    env = world.env(VECTOBEAT_LOG_FORMAT="json")
    env.pop("VECTOBEAT_DISCORD_TOKEN")  # the panel and the checker do not need the bot token
    return env


async def _panel(world: BotWorld, tg: anyio.abc.TaskGroup) -> tuple[LoggedProcess, str]:
    port = free_port()
    env = _env(world) | {
        "VECTOBEAT_PANEL_HOST": "127.0.0.1",
        "VECTOBEAT_PANEL_PORT": str(port),
        "VECTOBEAT_PANEL_URL": f"http://127.0.0.1:{port}",
        "VECTOBEAT_DATABASE_URL": f"sqlite+aiosqlite:///{world.tmp / 'panel.db'}",
        "VECTOBEAT_SESSION_SECRET": "e2e-session-secret-0123456789abcdef0123",
        "VECTOBEAT_BOT_BRIDGE_TOKEN": BRIDGE_TOKEN,
    }
    panel = LoggedProcess([sys.executable, "-m", "vectobeat_panel"], env, world.tmp)
    await panel.start(tg)
    url = f"http://127.0.0.1:{port}"
    await poll(f"{url}/readyz")
    return panel, url


async def _watch(world: BotWorld, tg: anyio.abc.TaskGroup) -> tuple[LoggedProcess, str]:
    env = _env(world) | {"VECTOBEAT_LAVALINK_PASSWORD": LAVALINK_PASSWORD}
    argv = [sys.executable, "-m", "vectobeat_ops", "nodes", "watch", "--refresh", "0.5"]
    watch = LoggedProcess([*argv, "--metrics-port", "0"], env, world.tmp)
    await watch.start(tg)
    with anyio.fail_after(40):
        while not any(e.get("event") == "watch_http_listening" for e in _parsed(watch)):  # noqa: ASYNC110 - another process's log
            await anyio.sleep(0.1)
    port = next(e["port"] for e in _parsed(watch) if e.get("event") == "watch_http_listening")
    url = f"http://127.0.0.1:{port}"
    await poll(f"{url}/readyz")
    return watch, url


def _parsed(process: LoggedProcess) -> list[dict[str, Any]]:
    """The complete lines so far (a line still being written is left for later)."""
    lines = process.stderr.split("\n")[:-1]
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
async def observed(tmp_path_factory: pytest.TempPathFactory) -> Observed:
    tmp = tmp_path_factory.mktemp("observability")
    seen = Observed()
    async with bot_world(tmp, redis_url=None) as world, anyio.create_task_group() as tg:
        guild = await world.add_guild("logs", Tier.FREE)
        seen.guild_id = guild.id
        panel, panel_url = await _panel(world, tg)
        watch, watch_url = await _watch(world, tg)
        try:
            async with running_bot(world, VECTOBEAT_LOG_FORMAT="json") as bot:
                await world.voice(guild, guild.member)
                answer = await world.run(guild, guild.member, "play", {"query": "Alpha Song"})
                assert "Alpha Song" in answer.content, answer.content
                async with httpx.AsyncClient(base_url=panel_url) as client:
                    seen.panel_response = await client.get(
                        f"/guilds/{guild.id}", headers={"x-request-id": REQUEST_ID}
                    )
                    seen.metrics["panel"] = (await client.get("/metrics")).text
                seen.metrics["bot"] = (await bot.get("/metrics")).text
                seen.metrics["nodes watch"] = (await poll(f"{watch_url}/metrics")).text
            seen.logs["bot"] = bot.logs(limit=None)
        finally:
            await panel.stop()
            await watch.stop()
            tg.cancel_scope.cancel()
        seen.logs["panel"] = panel.stderr
        seen.logs["nodes watch"] = watch.stderr
    return seen


@pytest.mark.parametrize("process", ["bot", "panel", "nodes watch"])
async def test_every_log_line_is_one_json_event(observed: Observed, process: str) -> None:
    lines = [line for line in observed.logs[process].splitlines() if line.strip()]
    assert lines, f"{process} logged nothing"
    expected = {"bot": "bot", "panel": "panel", "nodes watch": "nodes-watch"}[process]
    for line in lines:
        event = json.loads(line)
        assert isinstance(event, dict), line
        assert {"event", "level", "timestamp", "logger"} <= event.keys(), line
        assert event["process"] == expected, line


async def test_the_panel_logs_each_request_with_its_id_path_and_guild(observed: Observed) -> None:
    response = observed.panel_response
    assert response is not None
    assert response.headers["x-request-id"] == REQUEST_ID
    events = [json.loads(line) for line in observed.logs["panel"].splitlines() if line.strip()]
    mine = [e for e in events if e.get("request_id") == REQUEST_ID]
    assert mine, observed.logs["panel"]
    request = next(e for e in mine if e["event"] == "request")
    assert request["path"] == f"/guilds/{observed.guild_id}"
    assert request["guild_id"] == observed.guild_id
    assert request["method"] == "GET"
    assert request["status"] == response.status_code
    assert isinstance(request["duration_ms"], float)


async def test_the_bot_logs_a_command_with_its_guild_and_shard(observed: Observed) -> None:
    events = [json.loads(line) for line in observed.logs["bot"].splitlines() if line.strip()]
    done = [e for e in events if e["event"] == "command_done" and e.get("command") == "play"]
    assert done, observed.logs["bot"][-4000:]
    assert done[0]["guild_id"] == observed.guild_id
    assert done[0]["shard_id"] == 0
    assert done[0]["outcome"] == "ok"
    assert isinstance(done[0]["interaction_id"], int)


async def test_the_checker_logs_each_node_state_with_the_node(observed: Observed) -> None:
    events = [json.loads(line) for line in observed.logs["nodes watch"].splitlines()]
    found = [e for e in events if e["event"].startswith("lavalink_node_status")]
    assert {(e["node"], e["region"]) for e in found} == {("us-1", "us"), ("eu-1", "eu")}, events


@pytest.mark.parametrize("file", sorted(all_expressions()))
async def test_dashboards_and_rules_use_only_exported_metrics(
    observed: Observed, file: str
) -> None:
    expressions = all_expressions()[file]
    assert expressions, f"{file} has no expression"
    absent = missing(expressions, observed.metrics.values())
    assert not absent, f"{file} uses metrics none of bot, panel, nodes watch exports: {absent}"
