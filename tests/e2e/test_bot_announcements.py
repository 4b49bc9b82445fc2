"""Autoplay, now-playing announcements and the branding colour, on the fakes with the bot process.

* ``autoplay`` on + ``rich``: the queue runs out after a 4-second YouTube track; the bot loads the
  track's mix from the fake node, skips the seed it just played and plays the related tracks, each
  announced as an embed in the guild's colour with the now-playing buttons.
* ``minimal``: the next track is announced in one line; the track ``/play`` started is not
  announced again.
* ``off``: nothing is announced.
* ``autoplay`` on but the mix fails to load: playback stops as without autoplay, nothing breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.e2e.conftest import BotWorld, E2EGuild, bot_world, running_bot

from vectobeat_core.autoplay import related_identifier
from vectobeat_core.plans import Tier
from vectobeat_core.settings import ServerSettings
from vectobeat_testkit.discord.state import FakeMessage

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


def posted(w: BotWorld, guild: E2EGuild) -> list[FakeMessage]:
    """What the bot posted by itself (not as an interaction answer) in the guild's channel."""
    return [m for m in w.fake.channel_messages(guild.text_channel) if m.application_id is None]


async def wait_posted(w: BotWorld, guild: E2EGuild, count: int) -> list[FakeMessage]:
    with anyio.fail_after(30):
        while len(posted(w, guild)) < count:  # noqa: ASYNC110 - the bot process posts them
            await anyio.sleep(0.05)
    return posted(w, guild)


def field(embed: Mapping[str, Any], name: str) -> str:
    return next(str(f["value"]) for f in embed["fields"] if f["name"] == name)


async def play(w: BotWorld, guild: E2EGuild, query: str) -> str:
    answer = await w.run(guild, guild.member, "play", {"query": query})
    assert not answer.ephemeral, answer.content
    return answer.content


async def test_autoplay_announcements_and_branding(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        art = "https://img.example.test/{}.jpg"
        for title, seconds in (("Seed Tune", 4), ("Mix Two", 4), ("Mix Three", 600)):
            w.catalogue.add(
                title, "The Mixers", seconds * 1000, identifier=title.lower().replace(" ", "-"),
                artwork_url=art.format(title[-3:]),
            )  # fmt: skip
        lonely = w.catalogue.add("Lonely Tune", "Nobody", 4000, identifier="lonely")
        w.catalogue.fail(related_identifier(lonely.as_track()), "This mix is unavailable")
        broken = await w.add_guild("broken", Tier.FREE, ServerSettings(autoplay=True))
        rich = await w.add_guild(
            "rich",
            Tier.FREE,
            ServerSettings(autoplay=True, announcement_style="rich", branding_color="#123456"),
        )
        minimal = await w.add_guild("minimal", Tier.FREE, ServerSettings())
        off = await w.add_guild("off", Tier.FREE, ServerSettings(announcement_style="off"))
        async with running_bot(w) as bot:
            for guild in (rich, minimal, off, broken):
                await w.voice(guild, guild.member)
            await play(w, broken, "Lonely Tune")
            assert "Seed Tune" in await play(w, rich, "Seed Tune")
            for guild in (minimal, off):
                assert "Short Tune" in await play(w, guild, "Short Tune")
                await play(w, guild, "Alpha Song")

            # minimal: one line for the track that followed, none for the one /play started
            (line,) = await wait_posted(w, minimal, 1)
            assert line.content.startswith("Now playing **Alpha Song** by The Testers")
            assert not line.embeds

            # rich + autoplay: the mix of "Seed Tune" without the seed, in the guild's colour
            first, second = await wait_posted(w, rich, 2)
            await w.wait_player(rich, "Mix Three")
            embeds = [m.embeds[0] for m in (first, second)]
            assert [e["title"] for e in embeds] == ["Mix Two", "Mix Three"]
            assert {e["color"] for e in embeds} == {0x123456}
            two = embeds[0]
            assert field(two, "Artist") == "The Mixers"
            assert field(two, "Duration") == "0:04"
            assert field(two, "Requested by") == "autoplay"
            assert two["thumbnail"]["url"] == art.format("Two")
            buttons = {c["custom_id"] for row in first.components for c in row["components"]}
            assert {"vb:np:pause", "vb:np:skip", "vb:np:stop", "vb:np:loop"} <= buttons

            # off: the track that followed plays, unannounced
            await w.wait_player(off, "Alpha Song")
            assert posted(w, off) == []
            assert len(posted(w, minimal)) == 1

            # autoplay whose mix fails: the player stops once the track ends, nothing is posted
            await w.wait_nodes(lambda: w.player(broken) is None)
            assert posted(w, broken) == []
            assert (
                "Nothing is playing" in (await w.run(broken, broken.member, "nowplaying")).content
            )
            assert f"autoplay_found_nothing guild={broken.id} load=error" in bot.logs(None)
