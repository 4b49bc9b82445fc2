"""An erasure reaches a bot that still plays in the guild: the panel's compliance desk tells the
bots through the bridge's change feed, and the real bot process stops the guild's player, drops
its session and queue, deletes its queue snapshot, its journal entries and its last known
settings file, and does not write them again (not even at its shutdown flush). Another guild
keeps playing and keeps its files."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from tests.e2e.conftest import BotWorld, E2EGuild, bot_world, running_bot
from tests.smtp_support import settings_for, smtp_server

from vectobeat_adapters.compliance.desk import ComplianceDesk
from vectobeat_adapters.compliance.vault import ArchiveVault
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.mail import SmtpMailer
from vectobeat_adapters.queue_journal import JOURNAL_FILE
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_panel.settings_flow import announce_erasure

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


async def test_an_erasure_stops_the_guilds_player_and_removes_its_bot_files(
    tmp_path: Path,
) -> None:
    with smtp_server() as (box, port, _):
        async with bot_world(tmp_path, redis_url=None) as w, anyio.create_task_group() as tasks:
            erased = await w.add_guild("erased", Tier.GROWTH)
            kept = await w.add_guild("kept", Tier.GROWTH)
            desk = ComplianceDesk(  # the panel's desk, telling the bots like the panel's own
                w.services,
                ArchiveVault(tmp_path / "exports", Keyring.from_config(Keyring.generate_key())),
                SmtpMailer(lambda: settings_for(port, "none")),
                link_base=w.panel_url,
                secret=b"e2e-secret",
                on_erased=functools.partial(announce_erasure, w.panel),
            )
            w.panel.compliance = desk
            await tasks.start(desk.run)
            async with running_bot(w) as bot:
                for guild in (erased, kept):
                    await w.voice(guild, guild.member)
                    for title in ("Alpha Song", "Bravo Song"):
                        answer = await w.run(guild, guild.member, "play", {"query": title})
                        assert not answer.ephemeral, answer.content
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
            tasks.cancel_scope.cancel()
    assert erased.id not in stored_queues(w) and kept.id in stored_queues(w)
    assert erased.id not in journaled(w)
    assert f"{erased.id}.json" not in settings_files(w)
    assert bot_files_mentioning(w, erased) == []
    assert [m for m in box.mails if "erased the data" in str(m["Subject"])]
