"""Issue 20 #16: a stopping panel ends its live-queue streams and the bot's long polls at once,
so an open browser tab or a waiting bot cannot hold Ctrl-C until they time out."""

from __future__ import annotations

import anyio
import attrs
import pytest

from tests.unit.test_panel_app import PRO_GUILD, PanelHarness, harness
from vectobeat_core.ids import GuildId
from vectobeat_panel.changes import ChangeFeed

__all__ = ["harness"]


@pytest.mark.anyio
async def test_a_closed_change_feed_answers_waiting_and_new_polls_at_once() -> None:
    feed = ChangeFeed()
    answered: list[int] = []

    async def poll() -> None:
        answered.append(len((await feed.wait(0, 3600)).changes))

    with anyio.fail_after(10):  # bounded: a poll would otherwise wait an hour
        async with anyio.create_task_group() as tg:
            tg.start_soon(poll)
            await anyio.sleep(0.05)
            feed.close()
        assert answered == [0]
        assert (await feed.wait(0, 3600)).changes == ()
    feed.append(GuildId(1), 2)
    assert [c.version for c in (await feed.wait(0, 3600)).changes] == [2]


@pytest.mark.anyio
async def test_the_live_queue_stream_ends_when_the_panel_closes(harness: PanelHarness) -> None:
    await harness.login()
    harness.panel.options = attrs.evolve(
        harness.panel.options, sse_interval=3600.0, sse_max_seconds=10**6
    )
    bodies: list[str] = []

    async def watch() -> None:  # the in-process transport hands the body over once it ends
        bodies.append((await harness.client.get(f"/guilds/{PRO_GUILD}/queue/events")).text)

    with anyio.fail_after(10):  # an hour between ticks: only closing can end the stream
        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            await anyio.sleep(0.2)
            assert bodies == [], "the stream is open, waiting for its next tick"
            harness.panel.close()
    (body,) = bodies
    assert body.startswith("retry: 3000") and "event: queue" in body
