"""Slash-command sync across processes: of several bots starting together exactly one syncs, a
restart with the same tree syncs nothing, a changed tree or commands missing on Discord sync once;
on the Redis record every process shares and on the file record of a single process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import discord
import pytest
from discord import app_commands
from tests.redis_support import redis_namespace

from vectobeat_adapters.file_command_sync import FileCommandSync
from vectobeat_adapters.redis.command_sync import RedisCommandSync
from vectobeat_bot.command_sync import SyncOutcome, sync_command_tree
from vectobeat_core.ports import CommandSyncRecord

pytestmark = [pytest.mark.anyio]


class FakeDiscordApp:
    """What Discord holds for the application: the registered commands and the syncs it got."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, int]] = []
        self.syncs = 0


class RecordingTree(app_commands.CommandTree[discord.Client]):
    """A command tree whose sync and fetch go to a ``FakeDiscordApp`` instead of HTTP."""

    def __init__(self, app: FakeDiscordApp, *names: str) -> None:
        super().__init__(discord.Client(intents=discord.Intents.none()))
        self.app = app
        for name in names:
            self.add_command(app_commands.Command(name=name, description=name, callback=_noop))

    async def sync(self, *, guild: Any = None) -> list[app_commands.AppCommand]:
        await anyio.sleep(0.05)  # an HTTP round trip: another process could slip in here
        self.app.syncs += 1
        self.app.registered = [(c.name, 1) for c in self.get_commands()]
        return []

    async def fetch_commands(self, *, guild: Any = None) -> list[app_commands.AppCommand]:
        return [_registered(name, kind) for name, kind in self.app.registered]


async def _noop(interaction: discord.Interaction) -> None:
    del interaction


def _registered(name: str, kind: int) -> app_commands.AppCommand:
    data: Any = {"id": "1", "application_id": "2", "name": name, "description": name, "type": kind}
    return app_commands.AppCommand(data=data, state=None)  # type: ignore[arg-type]


@pytest.fixture(params=["redis", "file"])
async def record_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "file":
        yield lambda: FileCommandSync(tmp_path / "bot-data")
        return
    async with redis_namespace() as (conn, keys):
        yield lambda: RedisCommandSync(conn, keys)


async def start_together(
    app: FakeDiscordApp, records: list[CommandSyncRecord], *names: str
) -> list[SyncOutcome]:
    outcomes: list[SyncOutcome] = []

    async def start(n: int, record: CommandSyncRecord) -> None:
        outcomes.append(await sync_command_tree(RecordingTree(app, *names), record, f"bot-{n}"))

    async with anyio.create_task_group() as tg:
        for n, record in enumerate(records):
            tg.start_soon(start, n, record)
    return sorted(outcomes)


async def test_one_of_several_starters_syncs_and_only_when_the_tree_changed(
    record_factory: Any,
) -> None:
    app = FakeDiscordApp()
    processes = [record_factory() for _ in range(4)]
    first = await start_together(app, processes, "play", "queue")
    assert app.syncs == 1
    assert first == sorted([SyncOutcome.SYNCED] + [SyncOutcome.UNCHANGED] * 3)

    assert await start_together(app, processes, "play", "queue") == [SyncOutcome.UNCHANGED] * 4
    assert app.syncs == 1

    await start_together(app, processes, "play", "queue", "skip")  # a new version's tree
    assert app.syncs == 2 and ("skip", 1) in app.registered


async def test_commands_missing_on_discord_are_synced_even_with_the_same_digest(
    record_factory: Any,
) -> None:
    app = FakeDiscordApp()
    record = record_factory()
    assert await sync_command_tree(RecordingTree(app, "play"), record, "a") is SyncOutcome.SYNCED
    app.registered = []  # removed by hand, or a new application
    assert await sync_command_tree(RecordingTree(app, "play"), record, "a") is SyncOutcome.SYNCED
    assert app.syncs == 2
