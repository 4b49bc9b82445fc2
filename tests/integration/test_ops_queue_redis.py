"""``queue inspect|export|restore`` against the durable queue stores: a real Redis (``REDIS_URL``),
and without it the SQL database (a migrated SQLite file)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from tests.conftest import service_url
from tests.redis_support import make_track
from typer.testing import CliRunner

from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import open_services
from vectobeat_adapters.sql.migrate import upgrade_database
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.queue import GuildQueue, PlayerState
from vectobeat_ops.cli import app

runner = CliRunner()


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.service("redis")), "sql"])
def env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    monkeypatch.chdir(tmp_path)
    if request.param == "redis":
        values = {"REDIS_URL": service_url("redis"), "DATABASE_URL": "sqlite+aiosqlite:///:memory:"}
    else:
        values = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'vb.db'}"}
        anyio.run(upgrade_database, values["DATABASE_URL"])
    yield values
    for guild in GUILDS:
        anyio.run(_delete, values, guild)


GUILDS = [GuildId(random.randint(10**17, 10**18)) for _ in range(2)]


async def _delete(values: dict[str, str], guild: GuildId) -> None:
    async with open_services(load_config(environ=values), migrate=False) as services:
        await services.queues.delete(guild)


async def _store(values: dict[str, str], guild: GuildId, titles: int) -> None:
    queue = GuildQueue(guild)
    for n in range(titles):
        queue.add(make_track(n))
    queue.next()
    snapshot = queue.snapshot(PlayerState(node=NodeName("eu-1"), region="eu", volume=80), 1.0e9)
    async with open_services(load_config(environ=values), migrate=False) as services:
        await services.queues.save(snapshot)


def test_inspect_json(env: dict[str, str]) -> None:
    anyio.run(_store, env, GUILDS[0], 3)
    result = runner.invoke(app, ["queue", "inspect", str(GUILDS[0]), "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["guild_id"] == str(GUILDS[0])
    assert data["node"] == "eu-1" and data["volume"] == 80
    assert data["current"]["title"].startswith("Track 0 ")
    assert [e["title"].split()[1] for e in data["upcoming"]] == ["1", "2"]


def test_inspect_unknown_guild(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["queue", "inspect", str(GUILDS[1])], env=env)
    assert result.exit_code == 2
    assert f"no queue is stored for guild {GUILDS[1]}" in result.stderr


def test_export_then_restore_round_trip(env: dict[str, str], tmp_path: Path) -> None:
    anyio.run(_store, env, GUILDS[0], 2)
    target = tmp_path / "queues.jsonl"
    exported = runner.invoke(app, ["queue", "export", str(GUILDS[0]), "-o", str(target)], env=env)
    assert exported.exit_code == 0, exported.output
    lines = target.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["g"] == str(GUILDS[0])
    anyio.run(_delete, env, GUILDS[0])
    assert runner.invoke(app, ["queue", "inspect", str(GUILDS[0])], env=env).exit_code == 2
    restored = runner.invoke(app, ["queue", "restore", str(target)], env=env)
    assert restored.exit_code == 0, restored.output
    again = runner.invoke(app, ["queue", "inspect", str(GUILDS[0]), "--json"], env=env)
    assert again.exit_code == 0 and json.loads(again.stdout)["node"] == "eu-1"


def test_restore_rejects_garbage(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "a snapshot"}\n')
    result = runner.invoke(app, ["queue", "restore", str(bad)], env=env)
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.stderr


def test_inspect_a_stopped_queue_says_stopped(env: dict[str, str]) -> None:
    async def store_stopped() -> None:
        queue = GuildQueue(GUILDS[1])  # tracks queued, nothing playing (after /stop)
        queue.add(make_track(7))
        snapshot = queue.snapshot(PlayerState(node=NodeName("eu-1"), region="eu"), 1.0e9)
        async with open_services(load_config(environ=env), migrate=False) as services:
            await services.queues.save(snapshot)

    anyio.run(store_stopped)
    try:
        result = runner.invoke(app, ["queue", "inspect", str(GUILDS[1])], env=env)
        assert result.exit_code == 0, result.output
        assert "stopped" in result.stdout and "nothing playing" in result.stdout
        assert "playing, volume" not in result.stdout
    finally:
        anyio.run(_delete, env, GUILDS[1])
