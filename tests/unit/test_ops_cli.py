"""The ops CLI: every command documents an example, read commands print valid JSON, bad input
gets a clear message and the exit code scripts can trust (0 ok, 1 problems, 2 usage, 3 dependency)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import typer
from typer.testing import CliRunner

from vectobeat_adapters.config import load_config
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.services import open_services
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.records import ComplianceKind, GuildRecord
from vectobeat_ops.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every command in an empty directory with no VectoBeat variables set."""
    import os

    for key in list(os.environ):
        if key.startswith("VECTOBEAT_") and key != "VECTOBEAT_REQUIRE_SERVICES":
            monkeypatch.delenv(key)
    for key in ("DISCORD_TOKEN", "DATABASE_URL", "REDIS_URL", "LAVALINK_NODES", "PANEL_PORT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path (typer's groups have ``commands``)."""
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


COMMANDS = list(walk(typer.main.get_command(app)))


def test_the_cli_has_every_command_of_the_issue() -> None:
    names = {" ".join(p) for p in COMMANDS}
    for expected in (
        "validate-env", "db upgrade", "db current", "nodes check", "nodes watch", "queue inspect",
        "queue export", "settings show", "plans show", "alarms test", "up", "sandbox send",
        "sandbox pick", "sandbox kill-node", "sandbox revive-node",
    ):  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Example: .*vectobeat-ops", result.output)
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    assert re.search(r"Example: .*vectobeat-ops ", command.help or "")


def test_plans_show_json_is_the_matrix() -> None:
    result = runner.invoke(app, ["plans", "show", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data["tiers"]) == ["free", "starter", "pro", "growth", "scale", "enterprise"]
    assert data["tiers"]["growth"]["region_pinning"] is True


def test_plans_show_table() -> None:
    result = runner.invoke(app, ["plans", "show"])
    assert result.exit_code == 0
    assert "Enterprise" in result.stdout or "Enterpri" in result.stdout


def test_validate_env_json_reports_problems_and_exits_1() -> None:
    result = runner.invoke(
        app,
        ["validate-env", "--component", "bot", "--json"],
        env={"LAVALINK_NODES": "eu:eu-1:localhost:2333", "BOT_BRIDGE_TOKEN": "changeme"},
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    variables = {p["variable"]: p for p in data["problems"]}
    assert variables["DISCORD_TOKEN"]["message"] == "is not set"
    assert "placeholder" in variables["BOT_BRIDGE_TOKEN"]["message"]
    assert "entry 1" in variables["LAVALINK_NODES"]["message"]
    assert all(p["fix"] for p in data["problems"])


def test_validate_env_table_shows_the_fix(clean_env: Path) -> None:
    (clean_env / ".env").write_text("SESSION_SECRET=your-secret-here\n")
    result = runner.invoke(app, ["validate-env", "--component", "panel"])
    assert result.exit_code == 1
    assert "SESSION_SECRET" in result.stdout
    assert "placeholder" in result.stdout


def test_validate_env_ok_exits_0() -> None:
    result = runner.invoke(app, ["validate-env", "--component", "ops", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "component": "ops",
        "connect": False,
        "ok": True,
        "problems": [],
    }


def test_validate_env_connect_reports_an_unreachable_database(clean_env: Path) -> None:
    missing = clean_env / "no-such-dir" / "vb.db"
    result = runner.invoke(
        app,
        ["validate-env", "--component", "ops", "--connect", "--json"],
        env={"DATABASE_URL": f"sqlite+aiosqlite:///{missing}"},
    )
    assert result.exit_code == 1
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["variable"] == "DATABASE_URL"
    assert "unreachable" in problem["message"]
    assert "db upgrade" in problem["fix"]


def test_validate_env_connect_to_a_closed_port() -> None:
    result = runner.invoke(
        app,
        ["validate-env", "--component", "ops", "--connect", "--json"],
        env={"DATABASE_URL": "postgresql+asyncpg://vb:pw@127.0.0.1:9/vectobeat"},
    )
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["variable"] == "DATABASE_URL" and "unreachable" in problem["message"]


def test_unreadable_env_file_is_a_config_error(clean_env: Path) -> None:
    (clean_env / ".env").write_bytes(b"DISCORD_TOKEN=\xff\xfe\n")
    result = runner.invoke(app, ["plans", "show"])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_env_file_that_is_a_directory_is_a_config_error(clean_env: Path) -> None:
    (clean_env / "conf").mkdir()
    result = runner.invoke(app, ["--env-file", "conf", "validate-env"])
    assert result.exit_code == 2
    assert "cannot read conf" in result.stderr


def test_malformed_env_line_is_a_config_error(clean_env: Path) -> None:
    (clean_env / ".env").write_text("this is not a setting\n")
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 2
    assert ".env:1" in result.stderr


def test_db_upgrade_then_current_json(clean_env: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'vb.db'}"}
    before = runner.invoke(app, ["db", "current", "--json"], env=env)
    assert before.exit_code == 1  # behind: a problem found
    assert json.loads(before.stdout)["revision"] is None
    assert not (clean_env / "vb.db").exists()  # a read-only command created nothing
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    done = runner.invoke(app, ["db", "current", "--json"], env=env)
    assert done.exit_code == 0
    after = json.loads(done.stdout)
    assert after["up_to_date"] is True and after["revision"] == after["head"]


def test_db_on_a_missing_directory_is_unavailable(clean_env: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'nope' / 'vb.db'}"}
    result = runner.invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 3
    assert "does not exist" in result.stderr


def test_db_password_is_never_printed() -> None:
    result = runner.invoke(
        app,
        ["db", "current"],
        env={"DATABASE_URL": "postgresql+asyncpg://vb:hunter2@127.0.0.1:9/x"},
    )
    assert result.exit_code == 3
    assert "hunter2" not in result.output


def test_settings_show_unknown_guild(clean_env: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'vb.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(app, ["settings", "show", "123456789012345678"], env=env)
    assert result.exit_code == 2
    assert "guild 123456789012345678 is unknown" in result.stderr


def test_settings_show_rejects_a_non_id() -> None:
    result = runner.invoke(app, ["settings", "show", "my-guild"])
    assert result.exit_code == 2
    assert "not a guild id" in result.stderr


def test_settings_show_json_for_a_known_guild(clean_env: Path) -> None:
    url = f"sqlite+aiosqlite:///{clean_env / 'vb.db'}"

    async def seed() -> None:
        async with open_services(load_config(environ={"DATABASE_URL": url})) as services:
            await services.guilds.upsert(
                GuildRecord(GuildId(42424242424242), "Seeded", Tier.PRO, True, 1.0)
            )

    anyio.run(seed)
    result = runner.invoke(
        app, ["settings", "show", "42424242424242", "--json"], env={"DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "Seeded" and data["plan"] == "pro" and data["version"] == 0


def test_queue_on_an_unmigrated_database_says_to_migrate(clean_env: Path) -> None:
    url = f"sqlite+aiosqlite:///{clean_env / 'fresh.db'}"
    result = runner.invoke(
        app, ["queue", "inspect", "123456789012345678"], env={"DATABASE_URL": url}
    )
    assert result.exit_code == 3, result.output
    assert "not migrated" in result.stderr and "db upgrade" in result.stderr


def test_queue_with_unreachable_redis_is_unavailable() -> None:
    result = runner.invoke(
        app,
        ["queue", "inspect", "123456789012345678", "--json"],
        env={"REDIS_URL": "redis://127.0.0.1:9/0", "DATABASE_URL": "sqlite+aiosqlite:///:memory:"},
    )
    assert result.exit_code == 3
    assert "Redis at 127.0.0.1:9" in result.stderr
    assert result.stdout == ""


def test_nodes_check_without_nodes_is_a_config_error() -> None:
    result = runner.invoke(app, ["nodes", "check", "--json"])
    assert result.exit_code == 2
    assert "LAVALINK_NODES is not set" in result.stderr


def test_alarms_test_without_sinks_is_a_config_error() -> None:
    result = runner.invoke(app, ["alarms", "test"])
    assert result.exit_code == 2
    assert "No alarm sink is configured" in result.stderr


def test_sandbox_commands_without_a_sandbox_say_how_to_start_one() -> None:
    for args in (
        ["sandbox", "send", "/play lofi"],
        ["sandbox", "pick", "2"],
        ["sandbox", "kill-node", "eu-1"],
        ["sandbox", "status", "--json"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 3
        assert "vectobeat-ops up" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["sandbox", "pick", "0"]).exit_code == 2  # results count from 1
    assert runner.invoke(app, ["validate-env", "--component", "robot"]).exit_code == 2
    assert runner.invoke(app, ["nodes", "frobnicate"]).exit_code == 2


def test_db_rotate_keys(clean_env: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'vb.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    missing = runner.invoke(app, ["db", "rotate-keys"], env=env)
    assert missing.exit_code == 2 and "ENCRYPTION_KEYS is not set" in missing.stderr
    key = "k1:" + "A" * 43 + "="
    result = runner.invoke(app, ["db", "rotate-keys", "--json"], env=env | {"ENCRYPTION_KEYS": key})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "database": f"sqlite+aiosqlite:///{clean_env / 'vb.db'}",
        "primary": "k1",
        "changed": 0,
    }


def test_up_without_the_stack_extras_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from vectobeat_ops import up

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "discord" else real(name)
    )
    result = runner.invoke(app, ["up", "--panel-port", "0", "--status-port", "0"])
    assert result.exit_code == 3
    assert "needs discord" in result.stderr and ".[all]" in result.stderr
    up.require_extras(with_bot=False)  # the panel alone needs no discord.py


def test_version_flag_and_command_print_the_version() -> None:
    import vectobeat_core

    for args in (["--version"], ["version"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0
        assert result.stdout.strip() == f"vectobeat {vectobeat_core.__version__}"


@pytest.mark.parametrize(("queued", "shown"), [(1, "nothing up next"), (3, "Up next (2 tracks)")])
def test_queue_inspect_says_what_is_up_next(clean_env: Path, queued: int, shown: str) -> None:
    from vectobeat_core.queue import GuildQueue, PlayerState
    from vectobeat_core.tracks import Track

    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'q.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0

    async def seed() -> None:
        queue = GuildQueue(GuildId(123456789012345678), capacity=10)
        for n in range(queued):
            track = Track(
                encoded=f"QAAA{n:04d}", title=f"Song {n}", author="Band", length=180_000,
                identifier=f"id{n}", is_stream=False, is_seekable=True, uri=None,
                artwork_url=None, isrc=None, source="http",
            )  # fmt: skip
            queue.add(track)
        queue.next()
        async with open_services(load_config(environ=env)) as services:
            await services.queues.save(queue.snapshot(PlayerState(), 1.0))

    anyio.run(seed)
    result = runner.invoke(app, ["queue", "inspect", "123456789012345678"], env=env)
    assert result.exit_code == 0, result.output
    assert shown in result.stdout


def test_compliance_list_is_the_operators_view_of_every_request(clean_env: Path) -> None:
    url = f"sqlite+aiosqlite:///{clean_env / 'vb.db'}"
    env = {"DATABASE_URL": url, "ENCRYPTION_KEYS": Keyring.generate_key()}

    async def seed() -> None:
        async with open_services(load_config(environ=env)) as services:
            wanted: tuple[tuple[int, ComplianceKind], ...] = (
                (111111111111111111, "export"),
                (222222222222222222, "delete"),
            )
            for guild, kind in wanted:
                await services.compliance.open(
                    GuildId(guild), kind, requested_by=UserId(7), email="dpo@x.org", now=1.0
                )

    anyio.run(seed)
    every = runner.invoke(app, ["compliance", "list", "--json"], env=env)
    assert every.exit_code == 0, every.output
    rows = json.loads(every.stdout)
    assert [(r["guild_id"], r["kind"], r["email"]) for r in rows] == [
        ("111111111111111111", "export", "dpo@x.org"),
        ("222222222222222222", "delete", "dpo@x.org"),
    ]
    one = runner.invoke(
        app, ["compliance", "list", "--guild", "222222222222222222", "--json"], env=env
    )
    assert [r["kind"] for r in json.loads(one.stdout)] == ["delete"]
    shown = runner.invoke(app, ["compliance", "list"], env=env)
    assert shown.exit_code == 0 and "Compliance requests" in shown.stdout
    bad = runner.invoke(app, ["compliance", "list", "--status", "done"], env=env)
    assert bad.exit_code == 2 and "--status must be one of" in bad.output
