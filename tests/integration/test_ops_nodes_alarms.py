"""``nodes check`` against fake Lavalink nodes and ``alarms test`` against a local webhook."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from typer.testing import CliRunner, Result

from vectobeat_adapters.config import load_config
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.services import SystemClock
from vectobeat_core.ids import NodeName
from vectobeat_ops.cli import app
from vectobeat_ops.nodes import watch_nodes
from vectobeat_testkit.lavalink import FakeLavalinkNode, parse_profiles

runner = CliRunner()
PASSWORD = "integration-password"


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("LAVALINK_NODES", "LAVALINK_PASSWORD", "ALARM_WEBHOOK_URL", "REDIS_URL"):
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(f"VECTOBEAT_{key}", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def nodes() -> AsyncIterator[list[FakeLavalinkNode]]:
    started = [
        await FakeLavalinkNode(password=PASSWORD, name=name, region="eu").start()
        for name in ("eu-1", "eu-2")
    ]
    yield started
    for node in started:
        await node.stop()


async def invoke(args: list[str], env: dict[str, str]) -> Result:
    """Run the CLI in a worker thread so the fakes keep serving in this event loop."""
    return await anyio.to_thread.run_sync(lambda: runner.invoke(app, args, env=env))


def node_env(nodes: list[FakeLavalinkNode]) -> dict[str, str]:
    listing = ",".join(f"eu:{n.name}:{n.base_url}" for n in nodes)
    return {"LAVALINK_NODES": listing, "LAVALINK_PASSWORD": PASSWORD}


@pytest.mark.anyio
async def test_nodes_check_all_up(nodes: list[FakeLavalinkNode]) -> None:
    result = await invoke(["nodes", "check", "--json"], node_env(nodes))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert [(n["name"], n["status"], n["probe"]) for n in data["nodes"]] == [
        ("eu-1", "up", "ok"),
        ("eu-2", "up", "ok"),
    ]
    assert all(n["latency_ms"] is not None for n in data["nodes"])


@pytest.mark.anyio
async def test_nodes_check_reports_a_dead_node_and_exits_1(nodes: list[FakeLavalinkNode]) -> None:
    await nodes[1].kill()
    result = await invoke(["nodes", "check", "--json"], node_env(nodes))
    assert result.exit_code == 1
    rows = {n["name"]: n for n in json.loads(result.stdout)["nodes"]}
    assert rows["eu-1"]["probe"] == "ok"
    assert rows["eu-2"]["probe"] == "failed" and "unreachable" in rows["eu-2"]["error"]
    table = await invoke(["nodes", "check"], node_env(nodes))
    assert table.exit_code == 1 and "eu-2" in table.stdout


@pytest.mark.anyio
async def test_nodes_check_wrong_password(nodes: list[FakeLavalinkNode]) -> None:
    env = node_env(nodes) | {"LAVALINK_PASSWORD": "wrong-password"}
    result = await invoke(["nodes", "check", "--json"], env)
    assert result.exit_code == 1
    assert all(n["probe"] == "failed" for n in json.loads(result.stdout)["nodes"])


@pytest.mark.anyio
async def test_validate_env_connect_reaches_nodes(nodes: list[FakeLavalinkNode]) -> None:
    await nodes[0].kill()
    result = await invoke(
        ["validate-env", "--component", "ops", "--connect", "--json"], node_env(nodes)
    )
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["variable"] == "LAVALINK_NODES" and "node eu-1" in problem["message"]


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"ok": True})

    async def broken(_request: web.Request) -> web.Response:
        return web.json_response({"error": "nope"}, status=400)

    application = web.Application()
    application.add_routes([web.post("/hook", hook), web.post("/broken", broken)])
    runner_ = web.AppRunner(application, access_log=None)
    await runner_.setup()
    site = web.TCPSite(runner_, "127.0.0.1", 0)
    await site.start()
    port = runner_.addresses[0][1]
    yield f"http://127.0.0.1:{port}", received
    await runner_.cleanup()


@pytest.mark.anyio
async def test_alarms_test_delivers_trigger_and_resolve(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    base, received = webhook
    result = await invoke(["alarms", "test", "--json"], {"ALARM_WEBHOOK_URL": f"{base}/hook"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sinks"] == [
        {"sink": "webhook", "result": "delivered", "error": ""}
    ]
    assert len(received) == 2
    assert "test alarm" in json.dumps(received[0]).lower()


@pytest.mark.anyio
async def test_alarms_test_reports_a_failing_sink(
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    base, _ = webhook
    result = await invoke(["alarms", "test", "--json"], {"ALARM_WEBHOOK_URL": f"{base}/broken"})
    assert result.exit_code == 1
    (row,) = json.loads(result.stdout)["sinks"]
    assert row["result"] == "failed" and row["error"]


@pytest.mark.anyio
async def test_watch_records_health_and_alarms_when_a_node_dies(
    nodes: list[FakeLavalinkNode], webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    base, received = webhook
    config = load_config(
        environ=node_env(nodes) | {"ALARM_WEBHOOK_URL": f"{base}/hook"}, dotenv=Path(os.devnull)
    )
    store = MemoryHealthStore(SystemClock())
    rounds: list[list[dict[str, Any]]] = []
    tick = [anyio.Event()]

    def record(rows: list[dict[str, Any]]) -> None:
        rounds.append(rows)
        tick[0].set()
        tick[0] = anyio.Event()

    def statuses() -> dict[str, str]:
        return {row["name"]: row["status"] for row in rounds[-1]} if rounds else {}

    async def wait_until(predicate: Callable[[], bool]) -> None:
        """Re-checked after every round of the checker (each 0.1 s)."""
        with anyio.fail_after(15):
            while not predicate():
                await tick[0].wait()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(partial(watch_nodes, config, store=store, on_round=record, refresh_s=0.1))
        await wait_until(lambda: statuses() == {"eu-1": "up", "eu-2": "up"})
        await nodes[1].kill()
        await wait_until(lambda: statuses().get("eu-2") == "down" and bool(received))
        stored = await store.get(NodeName("eu-2"))
        assert stored is not None and stored.status.value == "down"
        assert "eu-2" in json.dumps(received[0])
        await nodes[1].revive()
        await wait_until(lambda: statuses().get("eu-2") == "up" and len(received) >= 2)
        tasks.cancel_scope.cancel()


@pytest.mark.anyio
async def test_nodes_watch_piped_prints_a_line_per_round_and_stops_cleanly_on_sigterm(
    nodes: list[FakeLavalinkNode], tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys

    env = {**os.environ, **node_env(nodes), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/vb.db"}
    env.pop("REDIS_URL", None)
    process = await anyio.open_process(
        [sys.executable, "-m", "vectobeat_ops", "nodes", "watch", "--refresh", "0.3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    async with process:
        assert process.stdout is not None
        seen = b""
        with anyio.fail_after(30):
            while b"eu-1=up" not in seen or b"eu-2=up" not in seen:
                seen += await process.stdout.receive()  # lines arrive while it runs
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(15):
            code = await process.wait()
    assert code == 0
    assert seen.startswith(b"nodes ")


@pytest.mark.anyio
async def test_nodes_check_resume_shows_a_node_that_does_not_resume() -> None:
    good = await FakeLavalinkNode(password=PASSWORD, name="eu-1", region="eu").start()
    refusing = await FakeLavalinkNode(
        password=PASSWORD, name="eu-2", region="eu", profile=parse_profiles("no-resume")
    ).start()
    try:
        env = node_env([good, refusing])
        result = await invoke(["nodes", "check", "--resume", "--json"], env)
        assert result.exit_code == 0, result.output
        rows = {n["name"]: n for n in json.loads(result.stdout)["nodes"]}
        assert rows["eu-1"]["resumes"] is True and rows["eu-1"]["resumes_sessions"] == "yes"
        assert rows["eu-2"]["resumes"] is False
        assert rows["eu-2"]["resumes_sessions"] == "no (HTTP 404)"
        shown = await invoke(["nodes", "check", "--resume"], env | {"COLUMNS": "200"})
        assert "resumes sessions" in shown.stdout and "no (HTTP 404)" in shown.stdout
        plain = json.loads((await invoke(["nodes", "check", "--json"], env)).stdout)
        assert all("resumes" not in n for n in plain["nodes"])
    finally:
        await good.stop()
        await refusing.stop()


@pytest.mark.anyio
async def test_nodes_check_resume_counts_a_node_without_websocket_as_a_problem(
    nodes: list[FakeLavalinkNode],
) -> None:
    env = node_env(nodes) | {"LAVALINK_PASSWORD": "wrong-password"}
    result = await invoke(["nodes", "check", "--resume", "--json"], env)
    assert result.exit_code == 1
    rows = json.loads(result.stdout)["nodes"]
    assert all(n["resumes"] is None for n in rows)
    assert all(n["resumes_sessions"].startswith("unknown") for n in rows)
