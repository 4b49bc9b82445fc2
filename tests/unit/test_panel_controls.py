"""The panel's side of the web playback controls, with a scripted bot on the bridge: the answer
reaches the page with the guild's new snapshot and an audit entry; answers the panel no longer
waits for, or that carry another guild's snapshot, are refused; the forms render the answer."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.redis_support import make_track
from tests.unit.test_panel_app import GROWTH_GUILD, PRO_GUILD, PanelHarness, harness  # noqa: F401
from vectobeat_adapters.compliance.erasure import erase_guild_everywhere
from vectobeat_core.audit import AuditKind
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.queue import GuildQueue, PlayerState

pytestmark = pytest.mark.anyio


def _snapshot(guild: int, paused: bool) -> dict[str, Any]:
    queue = GuildQueue(GuildId(guild), capacity=10)
    for n in range(3):
        queue.add(make_track(n))
    queue.next()
    player = PlayerState(position_ms=1500, position_read_at=1_800_000_000.0, paused=paused,
                         filters={"timescale": {"speed": 1.2}, "lowPass": None},
                         effects={"timescale": {"timescale": {"speed": 1.2}}})  # fmt: skip
    return queue.snapshot(player, 1_800_000_000.0).to_json()


async def _bot_answers(h: PanelHarness, guild: int, **answer: Any) -> dict[str, Any]:
    """Take one request from the long poll and answer it; the request the bot saw."""
    polled = await h.client.get("/api/bot/playback-controls?cursor=0&timeout=5", headers=h.bot())
    assert polled.status_code == 200, polled.text
    (request,) = polled.json()["requests"]
    body = {"id": request["id"], "snapshot": _snapshot(guild, True), **answer}
    result = await h.client.post("/api/bot/playback-controls/result", json=body, headers=h.bot())
    assert result.status_code == 202 and result.json()["accepted"] is True, result.text
    return dict(request)


async def test_a_control_reaches_the_bot_and_its_answer_the_page(harness: PanelHarness) -> None:  # noqa: F811
    h = harness
    csrf = await h.login()
    seen: list[dict[str, Any]] = []
    url = f"/api/control-panel/guilds/{GROWTH_GUILD}/queue/control"
    async with anyio.create_task_group() as tg:

        async def bot() -> None:
            seen.append(
                await _bot_answers(h, GROWTH_GUILD, outcome="applied", message="Paused Track 1.")
            )

        tg.start_soon(bot)
        response = await h.client.post(
            url, json={"action": "seek", "position": "0:42"}, headers={"x-csrf-token": csrf}
        )
    assert response.status_code == 200
    assert response.json() == {"outcome": "applied", "message": "Paused Track 1.", "status": 200}
    assert seen[0]["command"] == {"action": "seek", "position_ms": 42_000}
    assert seen[0]["member"] == seen[0]["actor"].removeprefix("user:")
    queue = (await h.client.get(f"/api/control-panel/guilds/{GROWTH_GUILD}/queue")).json()
    assert queue["player"]["paused"] is True and queue["player"]["filters"] == ["Timescale"]
    assert queue["server_time"] == h.now and queue["player"]["position_read_at"] == h.now
    assert queue["current"]["artwork_url"].startswith("https://i.ytimg.com/vi/")
    events = await h.services.audit.recent(
        GuildId(GROWTH_GUILD), kinds=[AuditKind.PLAYBACK_CONTROL]
    )
    assert [e.data["outcome"] for e in events] == ["applied"]
    assert events[0].actor == seen[0]["actor"]


async def test_the_form_shows_a_refusal_with_its_status(harness: PanelHarness) -> None:  # noqa: F811
    h = harness
    csrf = await h.login()
    async with anyio.create_task_group() as tg:

        async def bot() -> None:
            await _bot_answers(h, PRO_GUILD, outcome="refused", message="Only DJs can…", status=403)

        tg.start_soon(bot)
        page = await h.client.post(
            f"/guilds/{PRO_GUILD}/queue/control", data={"csrf_token": csrf, "action": "skip"}
        )
    assert page.status_code == 403 and "Only DJs can…" in page.text
    bad = await h.client.post(
        f"/guilds/{PRO_GUILD}/queue/control",
        data={"csrf_token": csrf, "action": "volume", "volume": "loud"},
    )
    assert bad.status_code == 400 and "&#39;volume&#39; must be a whole number" in bad.text


async def test_answers_not_waited_for_or_for_another_guild_are_refused(
    harness: PanelHarness,  # noqa: F811
) -> None:
    h = harness
    csrf = await h.login()
    late = {"id": "no-such-request", "outcome": "applied", "message": "x"}
    answer = await h.client.post("/api/bot/playback-controls/result", json=late, headers=h.bot())
    assert answer.status_code == 202 and answer.json()["accepted"] is False
    no_token = await h.client.post("/api/bot/playback-controls/result", json=late)
    assert no_token.status_code == 401
    async with anyio.create_task_group() as tg:

        async def bot() -> None:
            polled = await h.client.get(
                "/api/bot/playback-controls?cursor=0&timeout=5", headers=h.bot()
            )
            (request,) = polled.json()["requests"]
            body = {"id": request["id"], "outcome": "applied", "message": "x",
                    "snapshot": _snapshot(PRO_GUILD, True)}  # fmt: skip
            wrong = await h.client.post(
                "/api/bot/playback-controls/result", json=body, headers=h.bot()
            )
            assert wrong.status_code == 400 and "another guild" in wrong.json()["error"]
            body.pop("snapshot")
            await h.client.post("/api/bot/playback-controls/result", json=body, headers=h.bot())

        tg.start_soon(bot)
        done = await h.client.post(
            f"/api/control-panel/guilds/{GROWTH_GUILD}/queue/control",
            json={"action": "pause"},
            headers={"x-csrf-token": csrf},
        )
    assert done.status_code == 200
    assert await h.services.telemetry.get(f"queue-sync:{PRO_GUILD}") is None  # not stored


async def test_a_control_answer_from_before_the_bot_applied_an_erasure_is_not_kept(
    harness: PanelHarness,  # noqa: F811
) -> None:
    """A web control's answer is held to the guild's erasure like a queue sync: its snapshot
    is kept only when the bot says it applied the erasure."""
    h = harness
    csrf = await h.login()
    compliance = h.services.compliance
    opened = await compliance.open(
        GuildId(GROWTH_GUILD), "delete", requested_by=UserId(1), email="dpo@example.org", now=1.0
    )
    erasure = await compliance.record_erasure(opened.request_id, h.now)
    await erase_guild_everywhere(h.services, erasure)
    document = f"queue-sync:{GROWTH_GUILD}"
    for applied, kept in ((erasure.seq - 1, False), (erasure.seq, True)):
        async with anyio.create_task_group() as tg:

            async def bot(applied: int = applied) -> None:
                polled = await h.client.get(
                    "/api/bot/playback-controls?cursor=0&timeout=5", headers=h.bot()
                )
                (request,) = polled.json()["requests"]
                snapshot = {**_snapshot(GROWTH_GUILD, True), "erasures_applied": applied}
                body = {"id": request["id"], "outcome": "applied", "message": "x",
                        "snapshot": snapshot}  # fmt: skip
                await h.client.post("/api/bot/playback-controls/result", json=body, headers=h.bot())

            tg.start_soon(bot)
            done = await h.client.post(
                f"/api/control-panel/guilds/{GROWTH_GUILD}/queue/control",
                json={"action": "pause"},
                headers={"x-csrf-token": csrf},
            )
        assert done.status_code == 200
        assert (await h.services.telemetry.get(document) is not None) is kept
