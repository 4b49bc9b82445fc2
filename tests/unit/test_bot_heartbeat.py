"""The heartbeat behind ``/healthz``: alive while the event loop runs it, not alive once the loop
was blocked longer than the limit."""

from __future__ import annotations

import time

import anyio
import pytest

from vectobeat_bot.heartbeat import Heartbeat

pytestmark = pytest.mark.anyio


async def test_a_blocked_event_loop_reads_as_not_alive() -> None:
    beat = Heartbeat(interval=0.01, max_age=0.5)
    assert beat.alive()[0] is False  # never ticked
    async with anyio.create_task_group() as tg:
        await tg.start(beat.run)
        assert beat.alive() == (True, None)
        time.sleep(0.6)  # noqa: ASYNC251 - the stall under test: nothing else runs meanwhile
        alive, reason = beat.alive()
        assert alive is False and reason is not None and "limit 0.5 s" in reason
        await anyio.sleep(0.05)  # the loop runs again: the heartbeat ticks
        assert beat.alive() == (True, None)
        tg.cancel_scope.cancel()
