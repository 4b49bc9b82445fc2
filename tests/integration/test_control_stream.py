"""The bots' stream of web playback controls over a real loopback server (uvicorn): requests
arrive on one open connection as they are submitted, the stream says it is alive while idle, bad
arguments and tokens get clear errors, a stopping panel ends it, and a bot facing a panel without
the stream long-polls instead."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.e2e.conftest import serve_app
from tests.unit.test_panel_app import BRIDGE_TOKEN, GROWTH_GUILD, open_harness

from vectobeat_bot.bridge_client import BridgeClient, BridgeRouteMissing
from vectobeat_bot.web_controls import WebControls
from vectobeat_core.controls import (
    ControlAction,
    ControlCommand,
    ControlOutcome,
    ControlRequest,
    ControlResult,
)
from vectobeat_core.errors import BridgeUnavailable, InvalidInput
from vectobeat_core.ids import GuildId, UserId
from vectobeat_panel.state import PanelOptions

pytestmark = pytest.mark.anyio

STREAM = "/api/bot/playback-controls/stream"


def _request(n: int) -> ControlRequest:
    command = ControlCommand(ControlAction.PAUSE if n % 2 else ControlAction.RESUME)
    return ControlRequest(f"request-{n}", GuildId(GROWTH_GUILD), command, "user:1", UserId(1))


@contextlib.asynccontextmanager
async def _served(idle: float = 30.0) -> AsyncIterator[tuple[Any, BridgeClient]]:
    async with (
        open_harness(options=PanelOptions(long_poll_max=idle)) as h,
        serve_app(h.app) as url,
        BridgeClient(url, BRIDGE_TOKEN) as bridge,
    ):
        yield h, bridge


async def test_requests_arrive_on_one_open_stream_as_they_are_submitted() -> None:
    async with _served() as (h, bridge):
        seen: list[dict[str, Any]] = []
        lines = bridge.lines(STREAM, params={"cursor": "0", "timeout": "30"}, idle_s=40)
        async with contextlib.aclosing(lines), anyio.create_task_group() as tg:
            for n in (1, 2):  # each answered by the bot before the next is submitted
                tg.start_soon(h.panel.controls.submit, _request(n), 10.0)
                with anyio.fail_after(10):
                    seen.append(await anext(lines))
                h.panel.controls.answer(
                    f"request-{n}", ControlResult(ControlOutcome.APPLIED, "Ok.")
                )
            tg.cancel_scope.cancel()
    assert [line["requests"][0]["id"] for line in seen] == ["request-1", "request-2"]
    assert [line["cursor"] for line in seen] == [1, 2]
    assert seen[0]["requests"][0]["command"]["action"] == "pause"


async def _drain(lines: AsyncIterator[Any]) -> None:
    async for _ in lines:
        pass


async def test_an_idle_stream_says_it_is_alive_and_a_stopping_panel_ends_it() -> None:
    async with _served(idle=0.2) as (h, bridge):
        lines = bridge.lines(STREAM, params={"cursor": "0", "timeout": "0.2"}, idle_s=5)
        with anyio.fail_after(10):
            assert await anext(lines) == {"cursor": 0, "requests": []}
            h.panel.close()
            with pytest.raises(BridgeUnavailable, match="ended the stream"):
                await _drain(lines)


async def test_bad_arguments_and_tokens_are_refused_clearly() -> None:
    async with _served() as (_, bridge):
        bad = {"cursor": "0", "timeout": "0"}
        with pytest.raises(InvalidInput, match="more than 0"):
            await anext(bridge.lines(STREAM, params=bad, idle_s=5))
        odd = {"cursor": "x", "timeout": "5"}
        with pytest.raises(InvalidInput, match="'cursor' must be a number"):
            await anext(bridge.lines(STREAM, params=odd, idle_s=5))
        async with BridgeClient(bridge.base_url, "wrong-token-" + "x" * 32) as stranger:
            with pytest.raises(BridgeUnavailable, match="refused the bot's token"):
                await anext(stranger.lines(STREAM, params={"cursor": "0"}, idle_s=5))


async def test_a_bot_long_polls_a_panel_without_the_stream() -> None:
    polls: list[dict[str, str]] = []
    polled = anyio.Event()

    async def long_poll(request: Request) -> JSONResponse:
        polls.append(dict(request.query_params))
        polled.set()
        await anyio.sleep(0.05)
        return JSONResponse({"cursor": 7, "requests": []})

    older_panel = Starlette(routes=[Route("/api/bot/playback-controls", long_poll)])
    async with serve_app(older_panel) as url, BridgeClient(url, BRIDGE_TOKEN) as bridge:
        with pytest.raises(BridgeRouteMissing):
            await anext(bridge.lines(STREAM, params={"cursor": "0"}, idle_s=5))
        controls = WebControls(
            bridge=bridge,
            players=cast(Any, None),  # no request of a served guild comes: nothing is applied
            settings=cast(Any, None),
            serves=lambda _: False,
            member=cast(Any, None),
            poll_timeout=5,
        )
        async with anyio.create_task_group() as tg:
            await tg.start(controls.run)
            with anyio.fail_after(10):
                while len(polls) < 2:  # noqa: ASYNC110 - the bot's own loop
                    await anyio.sleep(0.01)
            tg.cancel_scope.cancel()
    assert polls[0] == {"cursor": "0", "timeout": "5"}
    assert polls[1]["cursor"] == "7", "the next poll continues from the answered cursor"
