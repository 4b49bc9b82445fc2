"""Web playback controls: the core's command parsing, scopes and results, and the panel's desk
(what a bot takes, what a timeout means)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.controls import (
    CONTROL_SCOPES,
    ControlAction,
    ControlCommand,
    ControlOutcome,
    ControlRequest,
    ControlResult,
)
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, UserId
from vectobeat_panel.control_desk import ControlDesk


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"action": "pause"}, ControlCommand(ControlAction.PAUSE)),
        ({"action": "seek", "position": "1:23"}, ControlCommand(ControlAction.SEEK, 83_000)),
        ({"action": "seek", "position_ms": 5000}, ControlCommand(ControlAction.SEEK, 5000)),
        ({"action": "volume", "volume": "150"}, ControlCommand(ControlAction.VOLUME, volume=150)),
        (
            {"action": "move", "position": 4, "target": "1"},
            ControlCommand(ControlAction.MOVE, position=4, target=1),
        ),
        ({"action": "remove", "position": 2}, ControlCommand(ControlAction.REMOVE, position=2)),
    ],
)
def test_commands_parse_from_json_and_forms(fields: dict[str, Any], expected: Any) -> None:
    assert ControlCommand.parse(fields) == expected
    assert ControlCommand.parse(expected.to_json()) == expected


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({}, "'action' must be one of"),
        ({"action": "explode"}, "'action' must be one of"),
        ({"action": "pause", "volume": 3}, "takes no field(s) volume"),
        ({"action": "seek"}, "needs 'position_ms'"),
        ({"action": "seek", "position": "99:99"}, "not a position"),
        ({"action": "volume", "volume": 201}, "'volume' must be a whole number from 0 to 200"),
        ({"action": "volume", "volume": True}, "'volume' must be"),
        ({"action": "move", "position": 1}, "'target' must be"),
        ({"action": "remove", "position": "٣"}, "'position' must be"),
        ({"action": "remove", "position": 0}, "'position' must be"),
    ],
)
def test_bad_commands_say_what_is_wrong(fields: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInput, match=None) as caught:
        ControlCommand.parse(fields)
    assert needle in caught.value.message


def test_each_action_needs_one_of_the_control_scopes() -> None:
    edits = {ControlAction.REMOVE, ControlAction.MOVE, ControlAction.CLEAR, ControlAction.SHUFFLE}
    for action in ControlAction:
        assert action.scope == ("queue:write" if action in edits else "playback:control")
        assert action.scope in CONTROL_SCOPES
        assert action.phrase  # the words of the DJ refusal


@given(
    st.dictionaries(
        st.sampled_from(["action", "position", "position_ms", "volume", "target", "x"]),
        st.one_of(
            st.sampled_from([a.value for a in ControlAction]),
            st.text(max_size=8),
            st.integers(-5, 300),
        ),
    )
)
def test_parse_refuses_with_invalid_input_or_gives_a_command_that_round_trips(
    fields: dict[str, Any],
) -> None:
    try:
        command = ControlCommand.parse(fields)
    except InvalidInput:
        return  # any other exception fails the test
    assert ControlCommand.parse(command.to_json()) == command


def test_requests_and_results_round_trip() -> None:
    request = ControlRequest(
        "abcdefgh12", GuildId(5), ControlCommand(ControlAction.SKIP), "user:7", UserId(7)
    )
    assert ControlRequest.from_json(request.to_json()) == request
    token = ControlRequest(
        "abcdefgh13", GuildId(5), ControlCommand(ControlAction.CLEAR), "token:tok_1", None
    )
    assert ControlRequest.from_json(token.to_json()) == token
    with pytest.raises(InvalidInput):
        ControlRequest("short", GuildId(5), ControlCommand(ControlAction.SKIP), "user:7", None)
    with pytest.raises(InvalidInput):
        ControlRequest("abcdefgh12", GuildId(5), ControlCommand(ControlAction.SKIP), "me", None)
    for result in (
        ControlResult(ControlOutcome.APPLIED, "Paused."),
        ControlResult(ControlOutcome.NOT_SAVED, "Done, but not saved yet."),
        ControlResult(ControlOutcome.REFUSED, "Only DJs can skip tracks here.", 403),
        ControlResult(ControlOutcome.UNKNOWN, "Not confirmed."),
    ):
        assert ControlResult.from_json(result.to_json()) == result
    assert ControlResult(ControlOutcome.APPLIED, "x").status == 200
    assert ControlResult(ControlOutcome.UNKNOWN, "x").status == 503
    with pytest.raises(InvalidInput):
        ControlResult.from_json({"outcome": "applied", "message": ""})


def _request(n: int) -> ControlRequest:
    return ControlRequest(
        f"request-{n:04d}", GuildId(9), ControlCommand(ControlAction.PAUSE), "user:1", None
    )


@pytest.mark.anyio
async def test_the_desk_hands_requests_to_bots_and_returns_their_answer() -> None:
    desk = ControlDesk()
    answers: list[ControlResult] = []

    async def submit() -> None:
        answers.append(await desk.submit(_request(1), 5.0))

    async with anyio.create_task_group() as tg:
        tg.start_soon(submit)
        cursor, taken = await desk.wait(0, 5.0)
        assert [r.id for r in taken] == ["request-0001"]
        assert desk.since(cursor) == (cursor, [])  # not handed out twice after the cursor
        assert desk.waiting("request-0001") == GuildId(9)
        assert desk.answer("request-0001", ControlResult(ControlOutcome.APPLIED, "Paused.")) == 9
    assert answers == [ControlResult(ControlOutcome.APPLIED, "Paused.")]
    assert desk.answer("request-0001", ControlResult(ControlOutcome.APPLIED, "again")) is None


@pytest.mark.anyio
async def test_a_request_no_bot_took_is_withdrawn_and_one_taken_but_unanswered_is_unknown() -> None:
    desk = ControlDesk()
    untaken = await desk.submit(_request(1), 0.01)
    assert untaken.outcome is ControlOutcome.REFUSED and untaken.status == 503
    assert "nothing was changed" in untaken.message
    assert desk.since(0)[1] == []  # withdrawn: no bot can take it any more

    result: list[ControlResult] = []

    async def submit() -> None:
        result.append(await desk.submit(_request(2), 0.2))

    async with anyio.create_task_group() as tg:
        tg.start_soon(submit)
        _, taken = await desk.wait(0, 5.0)
        assert taken
    assert (
        result[0].outcome is ControlOutcome.UNKNOWN and "may still be applied" in result[0].message
    )
    assert desk.answer("request-0002", ControlResult(ControlOutcome.APPLIED, "late")) is None


@pytest.mark.anyio
async def test_a_nudge_wakes_the_guilds_streams() -> None:
    desk = ControlDesk()
    woke: list[bool] = []

    async def stream() -> None:
        with anyio.fail_after(5):
            await desk.changed(GuildId(9), desk.tick(GuildId(9)), 30.0)
        woke.append(True)

    async with anyio.create_task_group() as tg:
        tg.start_soon(stream)
        await anyio.wait_all_tasks_blocked()
        desk.nudge(GuildId(8))  # another guild: no
        desk.nudge(GuildId(9))
    assert woke == [True]
    seen = desk.tick(GuildId(9))
    desk.nudge(GuildId(9))  # while the stream was reading the queue: the next wait returns
    with anyio.fail_after(5):
        await desk.changed(GuildId(9), seen, 30.0)
