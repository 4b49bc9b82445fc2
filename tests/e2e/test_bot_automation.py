"""The automation engine as a user sees it: a flood of commands is slowed down (one audit event),
a duplicate add is trimmed at ``smart``, an idle player with a queue is restarted at ``full``, and
none of this happens at ``off``."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from tests.e2e.conftest import Answer, BotProcess, BotWorld, E2EGuild, bot_world, running_bot
from tests.webhook_support import SIGNING_SECRET, WebhookReceiver

from vectobeat_adapters.sql.audit import SqlAuditLog
from vectobeat_adapters.sql.engine import open_database
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.settings import ServerSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(300)]

World = tuple[BotWorld, BotProcess, WebhookReceiver]
FLOOD = 70
SLOW_DOWN = re.compile(r"^Slow down: try again in \d+ s\.$")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp: Path = tmp_path_factory.mktemp("bot-automation")
    async with WebhookReceiver() as receiver, bot_world(tmp, redis_url=None) as built:
        smart = ServerSettings(
            automation_level="smart",
            automation_window_hours=24,
            webhook_export_url=receiver.url("/hook"),
            webhook_export_events=("automation_action",),
        )
        full = ServerSettings(automation_level="full", automation_window_hours=24)
        await built.add_guild("flood", Tier.PRO, smart)
        await built.add_guild("smart", Tier.PRO, smart)
        await built.add_guild("full", Tier.SCALE, full)
        await built.add_guild("off", Tier.SCALE, ServerSettings(automation_level="off"))
        env = {
            "VECTOBEAT_AUTOMATION_RESTART_SECONDS": "1",
            "VECTOBEAT_WEBHOOK_SIGNING_SECRET": SIGNING_SECRET,
            "VECTOBEAT_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        }
        async with running_bot(built, **env) as bot:
            yield built, bot, receiver


async def audit_of(w: BotWorld, guild: E2EGuild, kind: AuditKind) -> list[AuditEvent]:
    async with open_database(f"sqlite+aiosqlite:///{w.tmp / 'bot.db'}") as db:
        return await SqlAuditLog(db).recent(GuildId(guild.id), kinds=[kind])


async def wait_audit(w: BotWorld, guild: E2EGuild, kind: AuditKind) -> list[AuditEvent]:
    with anyio.fail_after(15):
        while not (events := await audit_of(w, guild, kind)):  # noqa: ASYNC110 - a SQL poll
            await anyio.sleep(0.1)
    return events


async def flood(w: BotWorld, guild: E2EGuild) -> list[Answer]:
    """``FLOOD`` /queue commands sent at once; their answers."""
    records = [
        await w.fake.slash(
            guild_id=guild.id,
            channel_id=guild.text_channel,
            user_id=int(guild.member.id),
            name="queue",
            options={},
        )
        for _ in range(FLOOD)
    ]
    return [await w.answer(record) for record in records]


async def play(w: BotWorld, guild: E2EGuild, query: str) -> Answer:
    await w.voice(guild, guild.member)
    return await w.run(guild, guild.member, "play", {"query": query})


async def test_a_flood_is_slowed_down_with_one_audit_event(world: World) -> None:
    w, guild = world[0], world[0].guilds["flood"]
    await w.run(guild, guild.owner, "settings show")  # the guild's level is known
    answers = await flood(w, guild)
    throttled = [a for a in answers if a.content.startswith("Slow down")]
    assert throttled, [a.content for a in answers[-3:]]
    assert all(a.ephemeral and SLOW_DOWN.match(a.content) for a in throttled)
    assert len(answers) - len(throttled) >= 50  # the burst the default rule allows
    events = await wait_audit(w, guild, AuditKind.THROTTLED_COMMAND)
    await anyio.sleep(0.5)  # a second event would have been written by now
    events = await audit_of(w, guild, AuditKind.THROTTLED_COMMAND)
    assert len(events) == 1, events
    assert events[0].data["command"] == "queue" and "throttled" in events[0].summary


async def test_a_duplicate_add_is_trimmed_at_smart(world: World) -> None:
    w, guild = world[0], world[0].guilds["smart"]
    first = await play(w, guild, "Alpha Song")
    assert "Now playing **Alpha Song**" in first.content
    again = await play(w, guild, "Alpha Song")
    assert again.ephemeral
    assert "Skipped **Alpha Song** as a duplicate" in again.content
    other = await play(w, guild, "Bravo Song")
    assert "Queued **Bravo Song**" in other.content, other.content
    queued = await w.run(guild, guild.member, "queue")
    assert queued.content.count("Alpha Song") == 1
    events = await wait_audit(w, guild, AuditKind.AUTOMATION_ACTION)
    assert "duplicate" in str(events[0].data["action"])
    receiver = world[2]
    with anyio.fail_after(20):
        while not receiver.got("automation_action"):  # noqa: ASYNC110 - another process
            await anyio.sleep(0.05)
    exported = json.loads(receiver.received[0].body)
    assert exported["guild_id"] == str(guild.id)
    assert "duplicate" in exported["data"]["action"] and "24 h" in exported["data"]["reason"]


async def test_an_idle_player_with_a_queue_is_restarted_at_full_and_not_at_off(
    world: World,
) -> None:
    w = world[0]
    full, off = w.guilds["full"], w.guilds["off"]
    for guild in (full, off):
        await play(w, guild, "Charlie Song")
        await play(w, guild, "Delta Song")
        await w.wait_player(guild, "Charlie Song")
    for guild in (full, off):
        node = next(n for n in w.nodes.values() if guild.id in n.players)
        node.stop_track(guild.id)
    await w.wait_nodes(lambda: w.player(off) is None)
    events = await wait_audit(w, full, AuditKind.AUTOMATION_ACTION)
    assert "restarted the idle player with Charlie Song" in str(events[0].data["action"])
    await w.wait_player(full, "Charlie Song")
    await anyio.sleep(2.5)  # two more restart periods: "off" is still left alone
    assert w.player(off) is None
    assert await audit_of(w, off, AuditKind.AUTOMATION_ACTION) == []


async def wait_action(w: BotWorld, guild: E2EGuild, text: str) -> AuditEvent:
    """The guild's first automation action whose ``action`` contains ``text``."""
    with anyio.fail_after(15):
        while True:
            for event in await audit_of(w, guild, AuditKind.AUTOMATION_ACTION):
                if text in str(event.data["action"]):
                    return event
            await anyio.sleep(0.1)


async def test_a_voice_close_is_rejoined_at_full_and_not_at_off(world: World) -> None:
    w = world[0]
    full, off = w.guilds["full"], w.guilds["off"]
    nodes = {g.id: next(n for n in w.nodes.values() if g.id in n.players) for g in (full, off)}
    for guild in (full, off):
        assert nodes[guild.id].players[guild.id].voice.get("sessionId")
        nodes[guild.id].websocket_closed(guild.id, code=4006)
    await w.wait_nodes(lambda: not nodes[off.id].players[off.id].voice)
    event = await wait_action(w, full, "re-joined voice channel")
    everything = [e.summary for e in await audit_of(w, full, AuditKind.AUTOMATION_ACTION)]
    assert "voice closed (4006)" in str(event.data["reason"]), everything
    await w.wait_nodes(lambda: bool(nodes[full.id].players[full.id].voice.get("sessionId")))
    await anyio.sleep(2.5)  # two more check periods: "off" stays without voice
    assert not nodes[off.id].players[off.id].voice


async def test_nothing_is_throttled_or_trimmed_at_off(world: World) -> None:
    w, guild = world[0], world[0].guilds["off"]
    answers = await flood(w, guild)
    assert not [a for a in answers if a.content.startswith("Slow down")]
    again = await play(w, guild, "Charlie Song")  # queued already: added again at "off"
    assert not again.ephemeral and "duplicate" not in again.content, again.content
    queued = await w.run(guild, guild.member, "queue")
    assert queued.content.count("Charlie Song") == 2, queued.content
    assert await audit_of(w, guild, AuditKind.THROTTLED_COMMAND) == []
    assert await audit_of(w, guild, AuditKind.AUTOMATION_ACTION) == []
