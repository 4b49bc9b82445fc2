"""/lyrics end to end through the fake nodes' LavaLyrics plugin: synced lines with their times in
pages (buttons and an option), plain lyrics, a track without lyrics, bad pages, and a node without the plugin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import BotWorld, bot_world, running_bot

from vectobeat_core.plans import Tier
from vectobeat_testkit.lavalink import CatalogueTrack

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


def buttons(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, bool]]:
    return [(c["custom_id"], bool(c.get("disabled"))) for row in rows for c in row["components"]]


def track(w: BotWorld, title: str) -> CatalogueTrack:
    return next(t for t in w.catalogue.tracks if t.title == title)


async def test_lyrics_in_pages_and_a_node_without_the_plugin(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        for fake in w.nodes.values():
            fake.lyrics_plugin = True
        lines = [(i * 3_000, f"Line {i + 1}") for i in range(30)]  # 1:30 of synced lines
        w.catalogue.add_lyrics(track(w, "Alpha Song"), lines=lines)
        w.catalogue.add_lyrics(track(w, "Bravo Song"), text="Plain words\nno times")
        guild = await w.add_guild("lyrics", Tier.FREE)
        async with running_bot(w):
            nothing = await w.run(guild, guild.member, "lyrics")
            assert nothing.ephemeral and nothing.content == "Nothing is playing right now."
            await w.voice(guild, guild.member)
            for title in ("Alpha Song", "Bravo Song", "Charlie Song"):
                await w.run(guild, guild.member, "play", {"query": title})
            await w.wait_player(guild, "Alpha Song")

            first = await w.run(guild, guild.member, "lyrics")
            assert not first.ephemeral and first.message is not None
            embed = first.message.embeds[0]
            assert embed["title"] == "Lyrics: Alpha Song"
            rows = embed["description"].splitlines()
            assert rows[0] == "[0:00] Line 1" and rows[-1] == "[0:57] Line 20"
            assert embed["footer"]["text"].startswith("Page 1/2 · youtube via FakeMatch · synced")
            assert buttons(first.message.components) == [("vb:ly:0", True), ("vb:ly:2", False)]
            message_id = int(first.message.id)
            click = await w.fake.click(
                message_id=message_id, user_id=int(guild.member.id), custom_id="vb:ly:2"
            )
            await w.fake.wait_for_response(click.id)
            paged = w.fake.world.messages[message_id]
            assert paged.embeds[0]["description"].splitlines()[-1] == "[1:27] Line 30"
            assert paged.embeds[0]["footer"]["text"].startswith("Page 2/2")
            assert buttons(paged.components) == [("vb:ly:1", False), ("vb:ly:3", True)]
            second = await w.run(guild, guild.member, "lyrics", {"page": 2})
            assert second.message is not None
            assert second.message.embeds[0]["description"].splitlines()[0] == "[1:00] Line 21"
            for page in (3, 0):
                bad = await w.run(guild, guild.member, "lyrics", {"page": page})
                assert bad.ephemeral and f"Page {page} is out of range" in bad.content

            await w.run(guild, guild.member, "skip")
            await w.wait_player(guild, "Bravo Song")
            plain = await w.run(guild, guild.member, "lyrics")
            assert plain.message is not None
            assert plain.message.embeds[0]["description"] == "Plain words\nno times"
            assert "not synced" in plain.message.embeds[0]["footer"]["text"]

            await w.run(guild, guild.member, "skip")
            node, _ = await w.wait_player(guild, "Charlie Song")
            none = await w.run(guild, guild.member, "lyrics")
            assert not none.ephemeral
            assert none.content == "No lyrics found for **Charlie Song** by The Testers (10:00)."

            for fake in w.nodes.values():
                fake.lyrics_plugin = False
            stock = await w.run(guild, guild.member, "lyrics")
            assert stock.ephemeral
            assert stock.content == (
                f"This node ({node}) has no lyrics plugin, so I cannot look up lyrics there."
            )
