"""Right to erasure reaches every bot process, whatever it was doing.

1. A bot that still plays in the guild: the panel's compliance desk tells the bots through the
   bridge's change feed, and the real bot process stops the guild's player, drops its session and
   queue, deletes its queue snapshot, its journal entries and its last known settings file, and
   does not write them again (not even at its shutdown flush). Another guild keeps playing and
   keeps its files.
2. A bot that was down (SIGKILLed with journaled queues while its Redis was cut) when the guild
   was erased: at its next start it applies the erasure from the record before it reads its last
   known settings or replays its journal, so nothing of the guild comes back (no player, no queue,
   no file), while the other guild's journal is replayed and its queue restored.
3. Two panel replicas on one SQL database and no Redis, the bot following replica B: an erasure
   run on replica A reaches it within one long poll, from the record B reads.
"""

from __future__ import annotations

import functools
import signal
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import pytest
from tests.e2e.conftest import (
    BotProcess,
    BotWorld,
    E2EGuild,
    bot_world,
    problem_lines,
    running_bot,
    serve_app,
)
from tests.faults.test_queue_durability_faults import private_redis, stored_titles
from tests.smtp_support import settings_for, smtp_server

from vectobeat_adapters.compliance.desk import ComplianceDesk
from vectobeat_adapters.compliance.vault import ArchiveVault
from vectobeat_adapters.config import load_config
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.mail import SmtpMailer
from vectobeat_adapters.queue_journal import JOURNAL_FILE
from vectobeat_adapters.services import Services, open_services
from vectobeat_adapters.telemetry_names import QUEUE_SYNC_DOCUMENT
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.telemetry import erasures_applied
from vectobeat_panel.app import create_app
from vectobeat_panel.settings_flow import announce_erasure
from vectobeat_panel.state import Panel, PanelOptions
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


def stored_queues(world: BotWorld) -> set[int]:
    """Guilds with a queue snapshot in the bot's store (its SQLite database)."""
    with sqlite3.connect(world.tmp / "bot.db") as conn:
        return {row[0] for row in conn.execute("SELECT guild_id FROM vb_queue_snapshots")}


def journaled(world: BotWorld) -> set[int]:
    path = world.tmp / ".vectobeat" / JOURNAL_FILE
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT guild_id FROM journal")}


def settings_files(world: BotWorld) -> set[str]:
    return {p.name for p in (world.tmp / ".vectobeat" / "settings").glob("*.json")}


def bot_files_mentioning(world: BotWorld, guild: E2EGuild) -> list[str]:
    """Files under BOT_DATA_DIR whose name or bytes hold the guild's id (the journal's SQLite
    file is read through SQLite instead: deleted rows may linger in its free pages)."""
    found = []
    for path in (world.tmp / ".vectobeat").rglob("*"):
        if path.is_file() and not path.name.startswith(JOURNAL_FILE):  # noqa: SIM102
            if str(guild.id) in path.name or str(guild.id).encode() in path.read_bytes():
                found.append(str(path))
    return found


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    with anyio.fail_after(within):
        while not check():  # noqa: ASYNC110 - files written by another process
            await anyio.sleep(0.05)


@asynccontextmanager
async def panel_desk(
    services: Services, panel: Panel, smtp_port: int, tmp: Path
) -> AsyncIterator[ComplianceDesk]:
    """A panel replica's compliance desk, running and telling the bots like the panel's own."""
    desk = ComplianceDesk(
        services,
        ArchiveVault(tmp / "exports", Keyring.from_config(Keyring.generate_key())),
        SmtpMailer(lambda: settings_for(smtp_port, "none")),
        link_base="http://panel.example",
        secret=b"e2e-secret",
        on_erased=functools.partial(announce_erasure, panel),
    )
    panel.compliance = desk
    async with anyio.create_task_group() as tasks:
        await tasks.start(desk.run)
        yield desk
        tasks.cancel_scope.cancel()


async def erase(desk: ComplianceDesk, guild: E2EGuild) -> None:
    """A confirmed erasure of ``guild``, run to its end on ``desk``'s replica."""
    opened = await desk.request(
        GuildId(guild.id), "delete", UserId(int(guild.owner.id)), "dpo@example.com"
    )
    await desk.confirm_delete(
        GuildId(guild.id), opened.request_id, guild_name="", token=desk.confirmation_token(opened)
    )
    with anyio.fail_after(20):
        while (found := await desk.services.compliance.get(opened.request_id)) is None or (
            found.status != "sent"
        ):
            assert found is None or found.status != "failed", found.detail
            await anyio.sleep(0.05)


async def synced_queue(services: Services, guild: E2EGuild, title: str) -> int | None:
    """Once the bot synced the guild's queue playing ``title`` to the panel: its
    ``erasures_applied``."""
    document = QUEUE_SYNC_DOCUMENT.format(guild=guild.id)
    with anyio.fail_after(20):
        while True:
            synced = await services.telemetry.get(document)
            if isinstance(synced, dict):
                current = QueueSnapshot.from_json(synced).current
                if current is not None and current.track.title == title:
                    return erasures_applied(synced)
            await anyio.sleep(0.05)


async def play(w: BotWorld, guild: E2EGuild, *titles: str) -> None:
    for title in titles:
        answer = await w.run(guild, guild.member, "play", {"query": title}, timeout=30)
        assert not answer.ephemeral, answer.content


async def test_an_erasure_stops_the_guilds_player_and_removes_its_bot_files(
    tmp_path: Path,
) -> None:
    with smtp_server() as (box, port, _):
        async with (
            bot_world(tmp_path, redis_url=None) as w,
            panel_desk(w.services, w.panel, port, tmp_path) as desk,
        ):
            erased = await w.add_guild("erased", Tier.GROWTH)
            kept = await w.add_guild("kept", Tier.GROWTH)
            async with running_bot(w) as bot:
                for guild in (erased, kept):
                    await w.voice(guild, guild.member)
                    await play(w, guild, "Alpha Song", "Bravo Song")
                    await w.wait_player(guild, "Alpha Song")
                await until(lambda: stored_queues(w) >= {erased.id, kept.id})
                assert {f"{erased.id}.json", f"{kept.id}.json"} <= settings_files(w)

                opened = await desk.request(
                    GuildId(erased.id), "delete", UserId(int(erased.owner.id)), "dpo@example.com"
                )
                await desk.confirm_delete(
                    GuildId(erased.id), opened.request_id, guild_name="",
                    token=desk.confirmation_token(opened),
                )  # fmt: skip
                await until(lambda: erased.id not in stored_queues(w))
                await until(lambda: f"{erased.id}.json" not in settings_files(w))
                await until(lambda: w.player(erased) is None)
                assert erased.id not in journaled(w)
                assert "queue_erased" in bot.logs(limit=None)

                # the bot forgot the queue: /queue of the erased guild shows nothing queued
                answer = await w.run(erased, erased.member, "nowplaying")
                assert answer.ephemeral and "Nothing is playing" in answer.content, answer.content
                # the other guild plays on, its files untouched
                await w.wait_player(kept, "Alpha Song")
                assert kept.id in stored_queues(w)
            # the bot stopped (its shutdown flush writes every dirty guild): still nothing
    assert erased.id not in stored_queues(w) and kept.id in stored_queues(w)
    assert erased.id not in journaled(w)
    assert f"{erased.id}.json" not in settings_files(w)
    assert bot_files_mentioning(w, erased) == []
    assert [m for m in box.mails if "erased the data" in str(m["Subject"])]


async def test_a_bot_down_at_the_erasure_applies_it_before_serving_its_files(
    tmp_path: Path,
) -> None:
    with smtp_server() as (_, port, _):
        async with private_redis(tmp_path) as url:
            with FaultProxy(int(url.rsplit(":", 1)[1].split("/")[0])).in_thread() as proxy:
                env = {"VECTOBEAT_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"}
                async with (
                    bot_world(tmp_path, redis_url=url) as w,
                    panel_desk(w.services, w.panel, port, tmp_path) as desk,
                    anyio.create_task_group() as tasks,
                ):
                    erased = await w.add_guild("erased", Tier.GROWTH)
                    kept = await w.add_guild("kept", Tier.GROWTH)
                    first = BotProcess(w.env(**env), w.tmp)
                    await first.start(tasks)
                    for guild in (erased, kept):
                        await w.voice(guild, guild.member)
                        await play(w, guild, "Alpha Song")
                        await w.wait_player(guild, "Alpha Song")
                    assert {f"{erased.id}.json", f"{kept.id}.json"} <= settings_files(w)
                    proxy.cut()  # the queue store is down: the next adds are journaled
                    for guild in (erased, kept):
                        await play(w, guild, "Bravo Song")
                    assert journaled(w) == {erased.id, kept.id}
                    assert await first.stop(signal.SIGKILL) == -signal.SIGKILL

                    await erase(desk, erased)  # while the bot is down
                    proxy.heal()
                    second = BotProcess(w.env(**env), w.tmp)
                    await second.start(tasks)  # ready: journal replayed, queues restored
                    logs = second.logs(limit=None)
                    assert f"{erased.id}.json" not in settings_files(w)
                    assert f"{kept.id}.json" in settings_files(w)
                    assert journaled(w) == set()
                    stored = await stored_titles(url, [erased, kept])
                    assert stored == {erased.id: [], kept.id: ["Alpha Song", "Bravo Song"]}, logs
                    assert w.player(erased) is None  # its resumed player was destroyed
                    await w.wait_player(kept, "Alpha Song")
                    # applied before the last known settings were read (only the kept guild's
                    # file was there to read) and before the journal was replayed
                    applied = logs.index(f"erasure_applied guild={erased.id}")
                    assert applied < logs.index("last_known_settings_loaded count=1")
                    assert applied < logs.index("queue_journal_replayed_at_start")
                    answer = await w.run(erased, erased.member, "nowplaying")
                    assert answer.ephemeral and "Nothing is playing" in answer.content
                    status = (await second.get("/status")).json()
                    assert status["dependencies"]["erasure_record"]["state"] == "up"
                    assert await second.stop() == 0, second.logs()
                    assert not problem_lines(second.logs(limit=None)), second.logs()
                    assert bot_files_mentioning(w, erased) == []

                    # restarted once more: the erasure is not applied a second time
                    third = BotProcess(w.env(**env), w.tmp)
                    await third.start(tasks)
                    assert "erasure_applied" not in third.logs(limit=None)
                    await w.wait_player(kept, "Alpha Song")
                    assert await third.stop() == 0, third.logs()
                    tasks.cancel_scope.cancel()


async def test_an_erasure_on_one_panel_replica_reaches_a_bot_following_another(
    tmp_path: Path,
) -> None:
    shared = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'panels.db'}",
        "ENCRYPTION_KEYS": f"k1:{Keyring.generate_key()}",
    }
    config = load_config({}, dotenv=tmp_path / "none.env", overrides=shared)
    with smtp_server() as (_, port, _):
        async with (
            open_services(config) as on_a,
            open_services(config) as on_b,  # another process's connections to the same database
            bot_world(tmp_path, redis_url=None, services=on_a, panel_config=shared) as w,
            panel_desk(on_a, w.panel, port, tmp_path) as desk_a,
        ):
            replica_b = create_app(w.panel.config, on_b, options=PanelOptions(long_poll_max=30.0))
            async with serve_app(replica_b) as url_b:
                erased = await w.add_guild("erased", Tier.GROWTH)
                kept = await w.add_guild("kept", Tier.GROWTH)
                async with running_bot(w, VECTOBEAT_PANEL_URL=url_b) as bot:
                    for guild in (erased, kept):
                        await w.voice(guild, guild.member)
                        await play(w, guild, "Alpha Song")
                        await w.wait_player(guild, "Alpha Song")
                    assert {f"{erased.id}.json", f"{kept.id}.json"} <= settings_files(w)
                    await erase(desk_a, erased)  # replica A's feed has it, B's never will
                    # one long poll (25 s) and a margin: B's answer carries A's erasure
                    await until(lambda: f"{erased.id}.json" not in settings_files(w), 40)
                    await until(lambda: w.player(erased) is None)
                    await until(lambda: erased.id not in stored_queues(w))
                    assert f"erasure_applied guild={erased.id} seq=1" in bot.logs(limit=None)
                    await w.wait_player(kept, "Alpha Song")
                    assert f"{kept.id}.json" in settings_files(w)
                    # the guild uses the bot anew: its queue is synced to B with the place in
                    # the record the bot applied (a snapshot from before would be refused)
                    await play(w, erased, "Charlie Song")
                    applied = await synced_queue(on_b, erased, "Charlie Song")
                    assert applied is not None and applied >= 1
