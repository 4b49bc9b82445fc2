"""The bot as a real process against the fake Discord and two fake Lavalink nodes (us, eu).

Assertions are on what a Discord user sees (the messages the fake recorded) and on the fake
nodes' player state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from tests.e2e.conftest import BotProcess, BotWorld, E2EGuild, bot_world, running_bot

from vectobeat_adapters.sql.audit import SqlAuditLog
from vectobeat_adapters.sql.engine import open_database
from vectobeat_core.audit import AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings
from vectobeat_panel.queue_pages import QUEUE_SYNC_DOCUMENT
from vectobeat_panel.settings_flow import save_settings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(300)]

World = tuple[BotWorld, BotProcess]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp: Path = tmp_path_factory.mktemp("bot-e2e")
    async with bot_world(tmp, redis_url=None) as built:
        await built.add_guild("free", Tier.FREE)
        await built.add_guild("edit", Tier.FREE)
        await built.add_guild("cap", Tier.FREE)
        await built.add_guild("growth", Tier.GROWTH, ServerSettings(region=Region.EU))
        await built.add_guild("pro", Tier.PRO)
        await built.add_guild("dj", Tier.FREE, dj_role=True)
        await built.add_guild("closed", Tier.FREE, ServerSettings(collaborative_queue=False))
        await built.add_guild("pushed", Tier.FREE)
        await built.add_guild("sources", Tier.PRO, ServerSettings(source_access="extended"))
        built.catalogue.source_managers = ("youtube", "soundcloud", "http", "spotify")  # LavaSrc
        built.catalogue.add("Sierra Waves", "Cloud Band", 120_000, source="soundcloud")
        built.catalogue.add("Zulu Playlist Pick", "Spot Band", 120_000, source="spotify")
        async with running_bot(built) as bot:
            yield built, bot


def pick(world: World, key: str) -> tuple[BotWorld, E2EGuild]:
    return world[0], world[0].guilds[key]


async def test_play_starts_the_track_on_a_node(world: World) -> None:
    w, guild = pick(world, "free")
    await w.voice(guild, guild.member)
    answer = await w.run(guild, guild.member, "play", {"query": "Alpha Song"})
    assert not answer.ephemeral, answer.content
    assert "Now playing **Alpha Song**" in answer.content
    node, player = await w.wait_player(guild, "Alpha Song")
    assert node in ("us-1", "eu-1")
    assert not player.paused
    assert player.voice.get("sessionId")  # the voice data reached the node
    assert player.voice.get("channelId") == str(guild.voice_channel)


async def test_queue_commands_do_what_a_user_expects(world: World) -> None:
    w, guild = pick(world, "edit")
    user = guild.member
    await w.voice(guild, user)
    for title in ("Alpha Song", "Bravo Song", "Charlie Song", "Delta Song", "Echo Song"):
        answer = await w.run(guild, user, "play", {"query": title})
        assert not answer.ephemeral, answer.content
    assert "Queued **Echo Song**" in answer.content and "position 4" in answer.content
    await w.wait_player(guild, "Alpha Song")

    shown = (await w.run(guild, user, "queue")).content
    assert shown.index("1. **Bravo Song**") < shown.index("2. **Charlie Song**")
    assert "4. **Echo Song**" in shown and "Page 1/1 · 4 tracks" in shown

    moved = await w.run(guild, user, "move", {"from": 4, "to": 1})
    assert moved.content == "Moved **Echo Song** by The Testers (10:00) to position 1."
    shown = (await w.run(guild, user, "queue")).content
    assert "1. **Echo Song**" in shown and "2. **Bravo Song**" in shown

    removed = await w.run(guild, user, "remove", {"from": 2})
    assert removed.content.startswith("Removed **Bravo Song**")
    shown = (await w.run(guild, user, "queue")).content
    assert "Bravo Song" not in shown and "Page 1/1 · 3 tracks" in shown

    skipped = await w.run(guild, user, "skip")
    assert "Now playing **Echo Song**" in skipped.content
    await w.wait_player(guild, "Echo Song")

    sought = await w.run(guild, user, "seek", {"position": "2:30"})
    assert sought.content.startswith("Moved to 2:30 in **Echo Song**")
    _, player = await w.wait_player(guild, "Echo Song")
    assert 150_000 <= player.position < 170_000

    looped = await w.run(guild, user, "loop", {"mode": "track"})
    assert looped.content == "Loop mode: track."
    assert "loop track" in (await w.run(guild, user, "queue")).content

    before = (await w.run(guild, user, "queue")).content.splitlines()[1:-1]
    shuffled = await w.run(guild, user, "shuffle")
    assert shuffled.content == "Shuffled 2 tracks."
    after = (await w.run(guild, user, "queue")).content.splitlines()[1:-1]
    assert sorted(line[3:] for line in after) == sorted(line[3:] for line in before)

    volume = await w.run(guild, user, "volume", {"level": 150})
    assert volume.content == "Volume set to 150%."
    await w.wait_nodes(lambda: w.player(guild)[1].volume == 150)  # type: ignore[index]

    paused = await w.run(guild, user, "pause")
    assert paused.content.startswith("Paused **Echo Song**")
    await w.wait_nodes(lambda: w.player(guild)[1].paused)  # type: ignore[index]
    resumed = await w.run(guild, user, "resume")
    assert resumed.content.startswith("Resumed")

    second = (await w.run(guild, user, "queue")).content.splitlines()[2]  # "2. **Title** ..."
    title = second.split("**")[1]
    jumped = await w.run(guild, user, "jump", {"position": 2})
    assert jumped.content.startswith(f"Jumped to **{title}**")
    await w.wait_player(guild, title)
    await w.run(guild, user, "seek", {"position": "1:00"})
    replayed = await w.run(guild, user, "replay")
    assert replayed.content.startswith(f"Replaying **{title}**")
    await w.wait_nodes(lambda: w.player(guild)[1].position < 30_000)  # type: ignore[index]
    cleared = await w.run(guild, user, "clear")
    assert cleared.content == "Cleared 1 track from the queue."
    stopped = await w.run(guild, user, "stop")
    assert stopped.content == "Stopped; cleared 0 queued tracks."
    await w.wait_nodes(lambda: w.player(guild) is None)
    assert "The queue is empty." in (await w.run(guild, user, "queue")).content


async def test_nowplaying_buttons_update_the_message(world: World) -> None:
    w, guild = pick(world, "free")
    answer = await w.run(guild, guild.member, "nowplaying")
    assert answer.content.startswith("Now playing **Alpha Song**")
    assert answer.message is not None
    message_id = int(answer.message.id)
    ids = [c["custom_id"] for row in answer.message.components for c in row["components"]]
    assert ids == ["vb:np:pause", "vb:np:skip", "vb:np:stop", "vb:np:loop"]
    click = await w.fake.click(
        message_id=message_id, user_id=int(guild.member.id), custom_id="vb:np:pause"
    )
    await w.fake.wait_for_response(click.id)
    edited = w.fake.world.messages[message_id]
    assert "paused" in edited.content and "Paused." in edited.content
    await w.wait_nodes(lambda: w.player(guild)[1].paused)  # type: ignore[index]
    click = await w.fake.click(
        message_id=message_id, user_id=int(guild.member.id), custom_id="vb:np:loop"
    )
    await w.fake.wait_for_response(click.id)
    assert "Loop: track." in w.fake.world.messages[message_id].content
    # the message follows the player: a /skip elsewhere updates it
    await w.run(guild, guild.member, "play", {"query": "Hotel Song"})
    await w.run(guild, guild.member, "loop", {"mode": "off"})
    await w.run(guild, guild.member, "skip")
    await w.fake.wait_for(
        lambda: "Now playing **Hotel Song**" in w.fake.world.messages[message_id].content
    )


async def test_dj_roles_gate_playback_control(world: World) -> None:
    w, guild = pick(world, "dj")
    await w.voice(guild, guild.member)
    queued = await w.run(guild, guild.member, "play", {"query": "Foxtrot Song"})
    assert not queued.ephemeral  # collaborative queueing is on: everyone may add
    await w.wait_player(guild, "Foxtrot Song")
    refused = await w.run(guild, guild.member, "pause")
    assert refused.ephemeral
    assert refused.content.startswith("Only DJs can pause playback here")
    assert not w.player(guild)[1].paused  # type: ignore[index]
    allowed = await w.run(guild, guild.dj, "pause")
    assert not allowed.ephemeral and allowed.content.startswith("Paused")
    owner = await w.run(guild, guild.owner, "resume")  # Manage Server counts as DJ access
    assert not owner.ephemeral and owner.content.startswith("Resumed")
    shown = await w.run(guild, guild.member, "dj show")
    assert shown.content.startswith("DJ roles: <@&")


async def test_dj_roles_are_managed_from_discord(world: World) -> None:
    w, guild = pick(world, "dj")
    role = next(r for r in guild.guild.roles if r.name == "DJ")
    refused = await w.run(guild, guild.dj, "dj clear")  # a DJ is not a server manager
    assert refused.ephemeral and "Manage Server" in refused.content
    removed = await w.run(guild, guild.owner, "dj remove-role", {"role": int(role.id)})
    assert removed.content == "DJ is no longer a DJ role."
    assert (await w.run(guild, guild.member, "dj show")).content.startswith("No DJ roles")
    paused = await w.run(guild, guild.member, "pause")  # no DJ roles: everyone controls
    assert not paused.ephemeral, paused.content
    added = await w.run(guild, guild.owner, "dj add-role", {"role": int(role.id)})
    assert added.content == "DJ is now a DJ role."
    again = await w.run(guild, guild.owner, "dj add-role", {"role": int(role.id)})
    assert again.ephemeral and again.content == "DJ is already a DJ role."
    assert (await w.run(guild, guild.member, "resume")).ephemeral
    stored = await w.services.settings.get(GuildId(guild.id))
    assert stored is not None and stored.settings.dj_role_ids == (role.id,)


async def test_collaborative_off_without_dj_roles_still_gates_adding(world: World) -> None:
    w, guild = pick(world, "closed")
    await w.voice(guild, guild.member)
    refused = await w.run(guild, guild.member, "play", {"query": "Golf Song"})
    assert refused.ephemeral
    assert "Collaborative queueing is off" in refused.content
    assert w.player(guild) is None
    await w.voice(guild, guild.owner)
    allowed = await w.run(guild, guild.owner, "play", {"query": "Golf Song"})
    assert not allowed.ephemeral, allowed.content
    await w.wait_player(guild, "Golf Song")
    # no DJ roles: everyone may still control playback
    skip = await w.run(guild, guild.member, "pause")
    assert not skip.ephemeral, skip.content


async def test_a_free_guild_is_refused_its_101st_track(world: World) -> None:
    w, guild = pick(world, "cap")
    await w.voice(guild, guild.member)
    whole = await w.run(
        guild, guild.member, "play", {"query": "https://example.test/list/hundred-one"}
    )
    assert whole.ephemeral
    assert "The queue is full" in whole.content and "101 more tracks" in whole.content
    assert w.player(guild) is None  # all or nothing: nothing was queued
    hundred = await w.run(
        guild, guild.member, "play", {"query": "https://example.test/list/hundred"}
    )
    assert "Queued playlist **Hundred** (100 tracks)" in hundred.content
    await w.wait_player(guild, "Filler 000")
    fits = await w.run(guild, guild.member, "play", {"query": "Hotel Song"})
    assert "at position 100" in fits.content
    refused = await w.run(guild, guild.member, "play", {"query": "Alpha Song"})
    assert refused.ephemeral
    assert refused.content == (
        "The queue is full: it holds 100 of 100 tracks, so 1 more track cannot be added (0 free)."
    )
    info = await w.run(guild, guild.member, "queueinfo")
    assert info.content.startswith("100 of 100 tracks queued (Free plan)")


async def test_growth_guild_pinned_to_eu_plays_on_an_eu_node(world: World) -> None:
    w, guild = pick(world, "growth")
    await w.voice(guild, guild.member)
    answer = await w.run(guild, guild.member, "play", {"query": "Bravo Song"})
    assert "on node eu-1 (eu)" in answer.content
    node, _ = await w.wait_player(guild, "Bravo Song")
    assert node == "eu-1"
    assert GuildId(guild.id) not in w.nodes["us"].players
    shown = await w.run(guild, guild.owner, "settings show")
    assert "Region: requested eu, effective eu." in shown.content
    async with open_database(f"sqlite+aiosqlite:///{w.tmp / 'bot.db'}") as db:
        events = await SqlAuditLog(db).recent(GuildId(guild.id), kinds=[AuditKind.EFFECTIVE_REGION])
    assert [e.data["effective"] for e in events] == ["eu"]
    assert events[0].data["node"] == "eu-1" and events[0].data["requested"] == "eu"


async def test_pro_guild_asking_for_eu_is_told_it_plays_on_auto_and_why(world: World) -> None:
    w, guild = pick(world, "pro")
    answer = await w.run(guild, guild.owner, "settings region", {"region": "eu"})
    assert not answer.ephemeral, answer.content
    assert "requested eu, effective auto" in answer.content
    assert "Your plan (Pro) plays on auto" in answer.content
    assert "needs Growth or higher" in answer.content
    refused = await w.run(guild, guild.member, "settings region", {"region": "eu"})
    assert refused.ephemeral and "Manage Server" in refused.content


async def test_queue_sync_is_realtime_for_pro_and_off_for_free(world: World) -> None:
    w, pro = pick(world, "pro")
    await w.voice(pro, pro.member)
    for title in ("Alpha Song", "Bravo Song"):
        assert not (await w.run(pro, pro.member, "play", {"query": title})).ephemeral
    document = QUEUE_SYNC_DOCUMENT.format(guild=pro.id)
    with anyio.fail_after(10):
        while True:
            synced = await w.services.telemetry.get(document)
            if isinstance(synced, dict) and isinstance(synced["q"], list) and len(synced["q"]) == 1:
                break
            await anyio.sleep(0.05)
    snapshot = QueueSnapshot.from_json(synced)
    assert snapshot.current is not None and snapshot.current.track.title == "Alpha Song"
    assert [e.track.title for e in snapshot.entries] == ["Bravo Song"]
    free = w.guilds["free"]  # it has been playing all along: never synced
    assert await w.services.telemetry.get(QUEUE_SYNC_DOCUMENT.format(guild=free.id)) is None


async def test_play_autocomplete_offers_search_results(world: World) -> None:
    w, guild = pick(world, "free")
    record = await w.fake.autocomplete(
        guild_id=guild.id,
        channel_id=guild.text_channel,
        user_id=int(guild.member.id),
        name="play",
        options={"query": "cha"},
        focused="query",
    )
    response = await w.fake.wait_for_response(record.id)
    assert response.type == 8
    assert [c["name"] for c in response.choices] == ["Charlie Song — The Testers (10:00)"]
    assert response.choices[0]["value"].startswith("https://example.test/watch?v=")


async def suggestions(w: BotWorld, guild: E2EGuild, query: str) -> list[str]:
    record = await w.fake.autocomplete(
        guild_id=guild.id,
        channel_id=guild.text_channel,
        user_id=int(guild.member.id),
        name="play",
        options={"query": query},
        focused="query",
    )
    return [c["name"] for c in (await w.fake.wait_for_response(record.id)).choices]


async def test_play_and_autocomplete_keep_to_the_guilds_source_access(world: World) -> None:
    w, free = pick(world, "free")
    _, extended = pick(world, "sources")
    # YouTube finds nothing, SoundCloud does
    assert await suggestions(w, free, "sierra") == ["Sierra Waves — Cloud Band (2:00)"]
    assert await suggestions(w, free, "zulu") == []  # standard access does not search Spotify
    assert await suggestions(w, extended, "zulu") == ["Zulu Playlist Pick — Spot Band (2:00)"]
    await w.voice(free, free.member)
    link = "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
    answer = await w.run(free, free.member, "play", {"query": link})
    assert answer.ephemeral
    assert "Spotify" in answer.content and "Starter plan" in answer.content, answer.content


async def test_settings_pushed_from_the_panel_apply_in_the_bot(world: World) -> None:
    w, guild = pick(world, "pushed")
    await w.voice(guild, guild.member)
    first = await w.run(guild, guild.member, "play", {"query": "Charlie Song"})
    assert not first.ephemeral
    held = await w.services.settings.get(GuildId(guild.id))
    await save_settings(
        w.panel,
        GuildId(guild.id),
        base_version=0 if held is None else held.version,
        patch={"collaborative_queue": False},
        actor="e2e",
    )
    with anyio.fail_after(10):
        while True:
            answer = await w.run(guild, guild.member, "play", {"query": "Delta Song"})
            if answer.ephemeral:
                break
            await anyio.sleep(0.1)
    assert "Collaborative queueing is off" in answer.content
    with anyio.fail_after(10):  # the bot tells the panel which version it applied
        while (await w.services.telemetry.get(f"settings-applied:{guild.id}")) is None:  # noqa: ASYNC110
            await anyio.sleep(0.05)
    applied = await w.services.telemetry.get(f"settings-applied:{guild.id}")
    assert isinstance(applied, dict) and applied["version"] == 1


async def test_status_api_and_metrics(world: World) -> None:
    w, bot = world
    assert (await bot.get("/healthz")).status_code == 200
    assert (await bot.get("/readyz")).json() == {"ready": True, "reasons": []}
    status = (await bot.get("/status")).json()
    assert status["ready"] is True
    assert status["guilds"] == len(w.guilds)
    assert status["nodes"]["total"] == 2
    assert {n["name"] for n in status["nodes"]["items"]} == {"us-1", "eu-1"}
    assert status["settings_sync"]["mode"] == "longpoll"
    assert status["settings_sync"]["connected"] is True
    assert status["shards"]["total"] == 1 and status["shards"]["items"][0]["latency_ms"] is not None
    assert status["players"] >= 1 and status["queue_tracks"] >= 1
    metrics = (await bot.get("/metrics")).text
    assert 'vectobeat_commands_total{command="play",outcome="ok"}' in metrics
    assert 'vectobeat_commands_total{command="pause",outcome="refused"}' in metrics
    assert 'vectobeat_node_up{node="eu-1",region="eu"} 1.0' in metrics
    for name in (
        "vectobeat_guilds",
        "vectobeat_players",
        "vectobeat_queue_tracks",
        "vectobeat_shard_latency_seconds",
        "vectobeat_node_players",
        "vectobeat_node_latency_seconds",
        "vectobeat_failovers_total",
        "vectobeat_settings_sync_lag_seconds",
    ):
        assert f"\n{name}" in metrics, name


async def test_the_panel_learns_which_guilds_have_the_bot(world: World) -> None:
    w, _ = world
    late = await w.add_guild("late", Tier.FREE)  # joins while the bot runs: GUILD_CREATE

    async def known() -> list[int]:
        return [int(g.guild_id) for g in await w.services.guilds.all() if g.bot_present]

    with anyio.fail_after(10):
        while late.id not in await known():  # noqa: ASYNC110 - the panel's store has no event
            await anyio.sleep(0.05)
    assert set(await known()) == {g.id for g in w.guilds.values()}
    growth = await w.services.guilds.get(GuildId(w.guilds["growth"].id))
    assert growth is not None and growth.tier is Tier.GROWTH  # a join keeps the plan


async def test_info_commands(world: World) -> None:
    w, guild = pick(world, "free")
    assert (await w.run(guild, guild.member, "ping")).content.startswith("Pong!")
    assert "Lavalink nodes: 2/2 healthy" in (await w.run(guild, guild.member, "status")).content
    nodes = (await w.run(guild, guild.member, "lavalink")).content
    assert "us-1 (us): up" in nodes and "eu-1 (eu): up" in nodes
    assert (await w.run(guild, guild.member, "uptime")).content.startswith("Up for ")
    helped = await w.run(guild, guild.member, "help")
    assert helped.ephemeral and "/playlist save" in helped.content
