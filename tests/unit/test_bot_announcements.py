"""`Announcements`: a failed post is logged and skipped, the next one is still posted."""

from __future__ import annotations

from typing import Any, cast

import anyio
import pytest

from vectobeat_adapters.services import memory_services
from vectobeat_bot.announcements import Announcements
from vectobeat_bot.discord_compat import discord
from vectobeat_bot.region_notices import RegionNotices
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.ids import ChannelId, GuildId
from vectobeat_core.queue import GuildQueue
from vectobeat_core.tracks import Track

pytestmark = pytest.mark.anyio

G, QUIET = GuildId(811_111_111_111_111_111), GuildId(833_333_333_333_333_333)
C = ChannelId(822_222_222_222_222_222)


class Response:
    status, reason = 500, "Internal Server Error"


class Channel(discord.abc.Messageable):
    """A text channel whose first post fails with a 500."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.more = anyio.Event()

    async def send(self, content: str | None = None, **_: Any) -> Any:
        failed = not self.sent
        self.sent.append(str(content))
        self.more.set()
        if failed:
            raise discord.HTTPException(cast(Any, Response()), "boom")


class Client:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def get_channel(self, channel_id: int) -> Channel | None:
        return self.channel if channel_id == C else None


def entry(title: str) -> Any:
    queue = GuildQueue(G, 10)
    track = Track(
        encoded="x", title=title, author="A", length=60_000, identifier=title, is_stream=False,
        is_seekable=True, uri=None, artwork_url=None, isrc=None, source="youtube", position=0,
    )  # fmt: skip
    return queue.add(track)


async def test_a_failed_post_is_logged_and_the_next_is_posted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = memory_services()
    settings = SettingsSync(
        bridge=None, channel=None, catalogue=services.catalogue, clock=services.clock
    )
    notices = RegionNotices()
    notices.remember(G, C)
    announcements = Announcements(notices, settings)
    channel = Channel()
    async with anyio.create_task_group() as tg:
        await tg.start(announcements.run, cast(discord.Client, Client(channel)), lambda: None)
        announcements.started(QUIET, entry("Unheard"))  # no music channel known: not posted
        announcements.started(G, entry("First"))
        announcements.started(G, entry("Second"))
        with anyio.fail_after(10):
            while len(channel.sent) < 2:
                await channel.more.wait()
                channel.more = anyio.Event()
        tg.cancel_scope.cancel()
    assert [s.split("**")[1] for s in channel.sent] == ["First", "Second"]  # minimal by default
    assert announcements.sent == 1
    assert f"announcement_failed guild={G}" in caplog.text


class GermanChannel(Channel):
    """A channel of a server whose primary language (Community settings) is German."""

    guild = type("Guild", (), {"preferred_locale": discord.Locale.german})()

    async def send(self, content: str | None = None, **_: Any) -> Any:
        self.sent.append(str(content))
        self.more.set()


async def test_announcements_follow_the_servers_language() -> None:
    services = memory_services()
    settings = SettingsSync(
        bridge=None, channel=None, catalogue=services.catalogue, clock=services.clock
    )
    notices = RegionNotices()
    notices.remember(G, C)
    announcements = Announcements(notices, settings)
    channel = GermanChannel()
    async with anyio.create_task_group() as tg:
        await tg.start(announcements.run, cast(discord.Client, Client(channel)), lambda: None)
        announcements.started(G, entry("Erstes Lied"))
        with anyio.fail_after(10):
            await channel.more.wait()
        tg.cancel_scope.cancel()
    assert channel.sent == ["Jetzt läuft **Erstes Lied** von A (1:00)"]
