"""The richer queue commands as a Discord user meets them, with the bot as a real process against
the fake Discord and fake Lavalink nodes: /previous, /playnext, /remove of a range, /dedupe,
/shuffle and its undo (kept across a restart), /seek with steps, /replay, the per-member track
limit and /search with its select menu."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.e2e.conftest import Answer, BotProcess, BotWorld, E2EGuild, bot_world, running_bot

from vectobeat_bot.cogs.search import STALE_MENU
from vectobeat_core.errors import InvalidInput
from vectobeat_core.plans import Tier
from vectobeat_core.settings import ServerSettings
from vectobeat_testkit.discord import FakeMessage
from vectobeat_testkit.discord.records import InteractionRecord

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(300)]

World = tuple[BotWorld, BotProcess]
SEARCH_TIMEOUT = 8


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp: Path = tmp_path_factory.mktemp("queue-e2e")
    async with bot_world(tmp, redis_url=None) as built:
        built.catalogue.add("Radio Live", "Station", 0, is_stream=True)
        await built.add_guild("queue", Tier.FREE)
        await built.add_guild("dj", Tier.FREE, dj_role=True)
        await built.add_guild("limit", Tier.FREE, ServerSettings(member_track_limit=2))
        await built.add_guild("search", Tier.FREE)
        env = {"VECTOBEAT_SEARCH_TIMEOUT_SECONDS": str(SEARCH_TIMEOUT)}
        async with running_bot(built, **env) as bot:
            yield built, bot


def pick(world: World, key: str) -> tuple[BotWorld, E2EGuild]:
    return world[0], world[0].guilds[key]


async def upcoming(w: BotWorld, guild: E2EGuild) -> list[str]:
    """The titles /queue lists, in order."""
    lines = (await w.run(guild, guild.member, "queue")).content.splitlines()
    return [line.split("**")[1] for line in lines if line[:1].isdigit() and "**" in line]


async def refused(w: BotWorld, guild: E2EGuild, user: Any, name: str, **options: Any) -> str:
    answer = await w.run(guild, user, name, options)
    assert answer.ephemeral, answer.content
    return answer.content


async def play_all(w: BotWorld, guild: E2EGuild, user: Any, *titles: str) -> list[Answer]:
    return [await w.run(guild, user, "play", {"query": title}) for title in titles]


async def test_playnext_previous_dedupe_and_remove_ranges(world: World) -> None:
    w, guild = pick(world, "queue")
    user = guild.member
    await w.voice(guild, user)
    await play_all(w, guild, user, "Alpha Song", "Bravo Song", "Charlie Song")
    await w.wait_player(guild, "Alpha Song")

    nxt = await w.run(guild, user, "playnext", {"query": "Delta Song"})
    assert nxt.content == "Queued **Delta Song** by The Testers (10:00) at position 1."
    assert await upcoming(w, guild) == ["Delta Song", "Bravo Song", "Charlie Song"]

    assert "Now playing **Delta Song**" in (await w.run(guild, user, "skip")).content
    back = await w.run(guild, user, "previous")
    assert back.content == "Back to **Alpha Song** by The Testers (10:00)"
    await w.wait_player(guild, "Alpha Song")
    assert await upcoming(w, guild) == ["Delta Song", "Bravo Song", "Charlie Song"]
    assert await refused(w, guild, user, "previous") == "There is no previous track."

    await play_all(w, guild, user, "Bravo Song", "Alpha Song")  # Alpha is playing: a duplicate too
    deduped = await w.run(guild, user, "dedupe")
    assert deduped.content == "Removed 2 duplicate tracks."
    assert await upcoming(w, guild) == ["Delta Song", "Bravo Song", "Charlie Song"]
    again = await w.run(guild, user, "dedupe")
    assert again.content == "No track is queued twice; nothing was removed."

    await play_all(w, guild, user, "Echo Song", "Foxtrot Song")
    assert "backwards" in await refused(w, guild, user, "remove", **{"from": 4, "to": 2})
    assert "End position" in await refused(w, guild, user, "remove", **{"from": 2, "to": 9})
    assert "Position 7" in await refused(w, guild, user, "remove", **{"from": 7})
    ranged = await w.run(guild, user, "remove", {"from": 2, "to": 4})
    assert ranged.content == "Removed 3 tracks (positions 2 to 4)."
    assert await upcoming(w, guild) == ["Delta Song", "Foxtrot Song"]
    single = await w.run(guild, user, "remove", {"from": 2, "to": 2})
    assert single.content.startswith("Removed **Foxtrot Song**")
    assert await upcoming(w, guild) == ["Delta Song"]

    await w.voice(guild, user, join=False)
    away = await refused(w, guild, user, "playnext", query="Golf Song")
    assert away == "Join a voice channel first, then run the command again."
    await w.voice(guild, user)
    assert "is at most" in await refused(w, guild, user, "playnext", query="x" * 501)


async def test_shuffle_undo_seek_steps_replay_and_loop(world: World) -> None:
    w, guild = pick(world, "queue")
    user = guild.member
    await w.run(guild, user, "clear")
    assert "no shuffle to undo" in await refused(w, guild, user, "shuffle", undo=True)
    await play_all(w, guild, user, "Echo Song", "Foxtrot Song", "Golf Song", "Hotel Song")
    before = await upcoming(w, guild)
    assert (await w.run(guild, user, "shuffle")).content == "Shuffled 4 tracks."
    assert sorted(await upcoming(w, guild)) == sorted(before)
    undone = await w.run(guild, user, "shuffle", {"undo": True})
    assert undone.content == "Put 4 tracks back in their order before the shuffle."
    assert await upcoming(w, guild) == before
    assert "no shuffle to undo" in await refused(w, guild, user, "shuffle", undo=True)

    await w.wait_player(guild, "Alpha Song")
    assert (await w.run(guild, user, "seek", {"position": "1:23"})).content.startswith(
        "Moved to 1:23 in **Alpha Song**"
    )
    ahead = await w.run(guild, user, "seek", {"position": "+1:00"})
    assert ahead.content.startswith("Moved to 2:2"), ahead.content  # 1:23 + a moment + 1:00
    await w.wait_nodes(lambda: w.player(guild)[1].position >= 143_000)  # type: ignore[index]
    back = await w.run(guild, user, "seek", {"position": "-10:00"})
    assert back.content.startswith("Moved to 0:00"), back.content  # a step back stops at 0
    assert "past the end" in await refused(w, guild, user, "seek", position="10:00")
    assert "past the end" in await refused(w, guild, user, "seek", position="+20:00")
    bad = await refused(w, guild, user, "seek", position="soon")
    assert "'soon' is not a position" in bad and "+10" in bad
    await w.run(guild, user, "seek", {"position": "83"})
    replayed = await w.run(guild, user, "replay")
    assert replayed.content == "Replaying **Alpha Song** by The Testers (10:00)."
    await w.wait_nodes(lambda: w.player(guild)[1].position < 30_000)  # type: ignore[index]

    await w.run(guild, user, "playnext", {"query": "Radio Live"})
    await w.run(guild, user, "skip")
    await w.wait_player(guild, "Radio Live")
    assert "live stream" in await refused(w, guild, user, "seek", position="+10")
    streamed = await w.run(guild, user, "replay")  # a stream restarts by playing it anew
    assert streamed.content == "Replaying **Radio Live** by Station (live)."
    await w.wait_player(guild, "Radio Live")

    for mode in ("track", "queue", "off"):
        looped = await w.run(guild, user, "loop", {"mode": mode})
        assert looped.content == f"Loop mode: {mode}."
        assert f"loop {mode}" in (await w.run(guild, user, "queue")).content


async def test_djs_alone_edit_the_queue_where_dj_roles_exist(world: World) -> None:
    w, guild = pick(world, "dj")
    for user in (guild.member, guild.dj):
        await w.voice(guild, user)
    await play_all(w, guild, guild.member, "Alpha Song", "Bravo Song", "Charlie Song")
    await w.wait_player(guild, "Alpha Song")
    await w.run(guild, guild.dj, "skip")
    for name, options, action in (
        ("previous", {}, "go back to the previous track"),
        ("playnext", {"query": "Delta Song"}, "put tracks ahead of the queue"),
        ("remove", {"from": 1, "to": 1}, "remove tracks"),
        ("dedupe", {}, "remove duplicates"),
        ("shuffle", {}, "shuffle the queue"),
        ("shuffle", {"undo": True}, "unshuffle the queue"),
        ("seek", {"position": "+10"}, "seek"),
        ("replay", {}, "replay the track"),
        ("loop", {"mode": "track"}, "change the loop mode"),
    ):
        text = await refused(w, guild, guild.member, name, **options)
        assert text.startswith(f"Only DJs can {action} here"), (name, text)
    assert await upcoming(w, guild) == ["Charlie Song"]  # nothing changed
    assert (await w.run(guild, guild.dj, "playnext", {"query": "Delta Song"})).content.endswith(
        "at position 1."
    )
    assert (await w.run(guild, guild.dj, "previous")).content.startswith("Back to **Alpha Song**")
    await w.wait_player(guild, "Alpha Song")
    assert await upcoming(w, guild) == ["Bravo Song", "Delta Song", "Charlie Song"]


async def test_a_member_may_queue_only_the_servers_limit(world: World) -> None:
    w, guild = pick(world, "limit")
    await w.voice(guild, guild.member)
    await w.voice(guild, guild.owner)
    played = await play_all(w, guild, guild.member, "Alpha Song", "Bravo Song", "Charlie Song")
    assert not any(a.ephemeral for a in played)  # the playing track does not count
    over = await refused(w, guild, guild.member, "play", query="Delta Song")
    assert over == (
        "This server lets each member have at most 2 tracks queued; you have 2, so 1 more track "
        "cannot be added (0 free). Wait until some have played, or ask a DJ."
    )
    assert "at most 2 tracks" in await refused(w, guild, guild.member, "playnext", query="Delta")
    whole = await refused(w, guild, guild.member, "play", query="https://example.test/list/hundred")
    assert "so 100 more tracks cannot be added" in whole
    exempt = await w.run(guild, guild.owner, "playnext", {"query": "Delta Song"})  # Manage Server
    assert not exempt.ephemeral and exempt.content.endswith("at position 1.")
    assert await upcoming(w, guild) == ["Delta Song", "Bravo Song", "Charlie Song"]

    menu = await search(w, guild, guild.member, "Echo")
    click = await choose(w, menu, guild.member, 0)
    assert "at most 2 tracks" in (await error_of(w, click)).content
    assert not select_of(menu).get("disabled")  # the menu stays: a DJ may free room
    await w.run(guild, guild.owner, "remove", {"from": 2})
    click = await choose(w, menu, guild.member, 0)
    edited = await updated(w, menu)
    assert edited.content == "Queued **Echo Song** by The Testers (10:00) at position 3."


def select_of(message: FakeMessage) -> Mapping[str, Any]:
    shown = message
    return next(c for row in shown.components for c in row["components"] if c["type"] == 3)


async def search(w: BotWorld, guild: E2EGuild, user: Any, query: str) -> FakeMessage:
    answer = await w.run(guild, user, "search", {"query": query})
    assert not answer.ephemeral, answer.content
    assert answer.message is not None
    return w.fake.world.messages[answer.message.id]


async def choose(w: BotWorld, menu: FakeMessage, user: Any, index: int) -> InteractionRecord:
    current = w.fake.world.messages[menu.id]
    return await w.fake.click(
        message_id=menu.id,
        user_id=int(user.id),
        custom_id=select_of(current)["custom_id"],
        values=[select_of(current)["options"][index]["value"]],
    )


async def error_of(w: BotWorld, click: InteractionRecord) -> FakeMessage:
    """The ephemeral error a pick got (an immediate reply or a follow-up)."""

    def seen() -> FakeMessage | None:
        if click.followups:
            return click.followups[-1]
        response = click.response
        if response is not None and response.ephemeral:
            return click.original
        return None

    message = await w.fake.wait_for(seen, 15)
    assert message.ephemeral, message.content
    return message


async def updated(w: BotWorld, menu: FakeMessage) -> FakeMessage:
    """The menu's message once the bot edited it (its select disabled)."""
    return await w.fake.wait_for(
        lambda: (
            w.fake.world.messages[menu.id]
            if select_of(w.fake.world.messages[menu.id]).get("disabled")
            else None
        ),
        15,
    )


async def test_search_offers_ten_results_to_the_searcher_alone(world: World) -> None:
    w, guild = pick(world, "search")
    await w.voice(guild, guild.member)
    await w.voice(guild, guild.dj)
    menu = await search(w, guild, guild.member, "Filler")
    assert menu.content == "Found 10 tracks: pick one to queue it."
    select = select_of(menu)
    assert select["custom_id"].startswith("vb:search:")
    assert [o["label"] for o in select["options"]][:2] == ["Filler 000", "Filler 001"]
    assert len(select["options"]) == 10
    assert select["options"][0]["description"] == "Bulk · 10:00"

    other = await choose(w, menu, guild.dj, 1)
    message = (await error_of(w, other)).content
    assert message == f"Only <@{guild.member.id}> can pick from this search; run /search yourself."
    assert w.player(guild) is None

    mine = await choose(w, menu, guild.member, 2)
    edited = await updated(w, menu)
    assert edited.content.startswith("Now playing **Filler 002** by Bulk (10:00)")
    await w.wait_player(guild, "Filler 002")
    assert mine.response is not None and not mine.response.ephemeral
    with pytest.raises(InvalidInput, match="disabled"):  # as in a Discord client
        await choose(w, menu, guild.member, 3)

    second = await search(w, guild, guild.member, "Song")
    assert second.content == "Found 8 tracks: pick one to queue it."
    await choose(w, second, guild.member, 7)
    assert (await updated(w, second)).content == (
        "Queued **Hotel Song** by The Testers (10:00) at position 1."
    )
    assert "Nothing was found" in await refused(w, guild, guild.member, "search", query="zzqx")
    assert "Say what to play" in await refused(w, guild, guild.member, "search", query="  ")
    await w.voice(guild, guild.owner, join=False)
    away = await refused(w, guild, guild.owner, "search", query="Song")
    assert away == "Join a voice channel first, then run the command again."


async def test_an_unused_search_menu_is_disabled_after_its_timeout(world: World) -> None:
    w, guild = pick(world, "search")
    menu = await search(w, guild, guild.member, "Golf")
    assert not select_of(menu).get("disabled")
    with anyio.fail_after(SEARCH_TIMEOUT + 20):
        timed_out = await w.fake.wait_for(
            lambda: (
                w.fake.world.messages[menu.id]
                if select_of(w.fake.world.messages[menu.id]).get("disabled")
                else None
            ),
            SEARCH_TIMEOUT + 15,
        )
    assert timed_out.content == (
        "Found 1 track: pick one to queue it.\n-# This search timed out: run /search again to pick."
    )
    with pytest.raises(InvalidInput, match="disabled"):
        await choose(w, menu, guild.member, 0)


async def test_a_shuffle_can_be_undone_after_a_restart(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        guild = await w.add_guild("restart", Tier.FREE)
        user = guild.member
        await w.voice(guild, user)
        async with running_bot(w):
            await play_all(w, guild, user, "Alpha Song", "Bravo Song", "Charlie Song")
            await play_all(w, guild, user, "Delta Song", "Echo Song", "Foxtrot Song")
            before = await upcoming(w, guild)
            await w.run(guild, user, "shuffle")
            shuffled = await upcoming(w, guild)
            menu = await search(w, guild, user, "Golf")
        async with running_bot(w):
            await w.wait_player(guild, "Alpha Song", timeout=30)
            assert await upcoming(w, guild) == shuffled  # restored as it was
            undone = await w.run(guild, user, "shuffle", {"undo": True})
            assert undone.content == "Put 5 tracks back in their order before the shuffle."
            assert await upcoming(w, guild) == before
            stale = await choose(w, menu, user, 0)  # a menu the restarted bot never made
            assert (await error_of(w, stale)).content == STALE_MENU
            assert await upcoming(w, guild) == before


async def test_a_server_manager_sets_the_member_limit_from_discord(world: World) -> None:
    w, guild = pick(world, "dj")
    text = await refused(w, guild, guild.dj, "settings member-limit", limit=1)
    assert "Manage Server" in text  # a DJ is not a server manager
    answer = await w.run(guild, guild.owner, "settings member-limit", {"limit": 1})
    assert answer.content == "Tracks per member: at most 1 queued (DJs exempt)."
    shown = (await w.run(guild, guild.member, "settings show")).content
    assert "Tracks per member: at most 1 queued (DJs exempt)" in shown
    await w.run(guild, guild.dj, "clear")
    assert not (await w.run(guild, guild.member, "play", {"query": "Echo Song"})).ephemeral
    over = await refused(w, guild, guild.member, "play", query="Golf Song")
    assert over.startswith("This server lets each member have at most 1 track queued;")
    assert not (await w.run(guild, guild.dj, "play", {"query": "Golf Song"})).ephemeral  # a DJ
    off = await w.run(guild, guild.owner, "settings member-limit", {"limit": 0})
    assert off.content == "Tracks per member: no limit."
    assert not (await w.run(guild, guild.member, "play", {"query": "Golf Song"})).ephemeral
