"""The bot bridge (bearer token, versions, long poll, queue sync, audit, events) and API tokens
(create once, list, revoke, limits, scopes, expiry) through the panel's HTTP surface."""

from __future__ import annotations

import json

import anyio
import attrs
import pytest

from tests.unit.test_panel_app import (
    BRIDGE_TOKEN,
    FREE_GUILD,
    GROWTH_GUILD,
    OTHER_GUILD,
    PRO_GUILD,
    PanelHarness,
    harness,
    open_harness,
)
from vectobeat_adapters.compliance.erasure import erase_guild_everywhere
from vectobeat_adapters.telemetry_names import QUEUE_SYNC_DOCUMENT
from vectobeat_core.audit import AuditKind
from vectobeat_core.erasures import ERASURE_PAGE
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.queue import GuildQueue, PlayerState
from vectobeat_core.tracks import Track

__all__ = ["harness"]

BRIDGE = "/api/bot/server-settings"


def _track(n: int) -> Track:
    return Track(
        encoded=f"QAAA{n:04d}", title=f"Song {n}", author="Band", length=180_000,
        identifier=f"id{n}", is_stream=False, is_seekable=True, uri=f"https://example.com/{n}",
        artwork_url=None, isrc=None, source="http",
    )  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", f"Basic {BRIDGE_TOKEN}", f"Bearer {BRIDGE_TOKEN}x", "Bearer "],
)
async def test_bridge_needs_the_token(harness: PanelHarness, header: str | None) -> None:
    headers = {} if header is None else {"authorization": header}
    for method, path in (
        ("GET", f"{BRIDGE}?guild_id={PRO_GUILD}"),
        ("PUT", f"{BRIDGE}?guild_id={PRO_GUILD}"),
        ("GET", f"{BRIDGE}/changes?timeout=0"),
        ("POST", "/api/bot/queue-sync"),
        ("POST", "/api/bot/automation-actions"),
        ("POST", "/api/bot/events"),
        ("GET", "/api/bot/erasures?since=0"),
    ):
        response = await harness.client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.anyio
async def test_bridge_disabled_without_configured_token() -> None:
    async with open_harness(bot_bridge_token=None) as h:
        response = await h.client.get(f"{BRIDGE}?guild_id={PRO_GUILD}", headers=h.bot())
        assert response.status_code == 401 and "disabled" in response.json()["error"]


@pytest.mark.anyio
async def test_bridge_settings_versions_and_conflict(harness: PanelHarness) -> None:
    got = (await harness.client.get(f"{BRIDGE}?guild_id={PRO_GUILD}", headers=harness.bot())).json()
    assert got["version"] == 0 and got["plan"] == "pro" and got["guild_id"] == str(PRO_GUILD)
    saved = await harness.client.put(
        f"{BRIDGE}?guild_id={PRO_GUILD}",
        headers=harness.bot(),
        json={"version": 0, "settings": {"default_volume": 50, "region": "us"}},
    )
    assert saved.status_code == 200
    body = saved.json()
    assert body["version"] == 1 and body["settings"]["default_volume"] == 50
    assert [c["field"] for c in body["clamps"]] == ["region"]
    stale = await harness.client.put(
        f"{BRIDGE}?guild_id={PRO_GUILD}",
        headers=harness.bot(),
        json={"version": 0, "settings": {"default_volume": 10}},
    )
    assert stale.status_code == 409
    assert (
        stale.json()["current_version"] == 1 and "changed by someone else" in stale.json()["error"]
    )
    record = await harness.services.settings.get(GuildId(PRO_GUILD))
    assert record is not None and record.settings.default_volume == 50
    events = await harness.services.audit.recent(GuildId(PRO_GUILD))
    assert any(e.kind is AuditKind.SETTINGS_CHANGED and e.actor == "bot" for e in events)


@pytest.mark.anyio
async def test_long_poll_wakes_on_save_and_channel_publishes(harness: PanelHarness) -> None:
    first = await harness.client.get(f"{BRIDGE}/changes?timeout=0", headers=harness.bot())
    cursor = first.json()["cursor"]
    received: list[object] = []
    polled: dict[str, object] = {}

    async def poll() -> None:
        response = await harness.client.get(
            f"{BRIDGE}/changes?cursor={cursor}&timeout=10", headers=harness.bot()
        )
        polled.update(response.json())

    async def listen(ready: anyio.Event) -> None:
        async with harness.services.settings_channel.subscribe() as events:
            ready.set()
            async for event in events:
                received.append(event)
                return

    async with anyio.create_task_group() as tasks:
        ready = anyio.Event()
        tasks.start_soon(listen, ready)
        tasks.start_soon(poll)
        await ready.wait()
        await anyio.sleep(0.05)
        saved = await harness.client.put(
            f"{BRIDGE}?guild_id={FREE_GUILD}",
            headers=harness.bot(),
            json={"version": 0, "settings": {"queue_limit": 12}},
        )
        assert saved.status_code == 200
    assert polled["changes"] == [{"guild_id": str(FREE_GUILD), "version": 1}]
    assert polled["resync"] is False
    assert len(received) == 1 and getattr(received[0], "version", None) == 1
    # the change carries what was stored, exactly as the bridge reads it back
    state = getattr(received[0], "state", None)
    read = await harness.client.get(f"{BRIDGE}?guild_id={FREE_GUILD}", headers=harness.bot())
    assert state == read.json() == {k: v for k, v in saved.json().items() if k != "clamps"}


async def _place_erasure(harness: PanelHarness, guild: int) -> int:
    """A deletion placed in the erasure record, as the compliance desk places it."""
    compliance = harness.services.compliance
    opened = await compliance.open(
        GuildId(guild), "delete", requested_by=UserId(1), email="dpo@example.org", now=1.0
    )
    return (await compliance.record_erasure(opened.request_id, harness.now)).seq


@pytest.mark.anyio
async def test_the_erasure_record_is_served_in_pages_and_with_the_long_poll(
    harness: PanelHarness,
) -> None:
    bot = harness.bot()
    empty = await harness.client.get("/api/bot/erasures?since=0", headers=bot)
    assert empty.status_code == 200 and empty.json() == {"erasures": []}
    seqs = [await _place_erasure(harness, 9000 + n) for n in range(ERASURE_PAGE + 2)]
    first = (await harness.client.get("/api/bot/erasures", headers=bot)).json()["erasures"]
    assert len(first) == ERASURE_PAGE
    assert first[0] == {"seq": seqs[0], "guild_id": "9000", "erased_at": harness.now}
    rest = await harness.client.get(f"/api/bot/erasures?since={first[-1]['seq']}", headers=bot)
    assert [e["seq"] for e in rest.json()["erasures"]] == seqs[ERASURE_PAGE:]
    for bad in ("since=-1", "since=x", "cursor=0"):
        refused = await harness.client.get(f"/api/bot/erasures?{bad}", headers=bot)
        assert refused.status_code == 400, bad

    # the long poll carries the record after the bot's place only when asked (older bots are not)
    polled = await harness.client.get(f"{BRIDGE}/changes?timeout=0", headers=bot)
    assert "erasures" not in polled.json()
    after = seqs[-2]
    polled = await harness.client.get(f"{BRIDGE}/changes?timeout=0&erasures={after}", headers=bot)
    assert [e["seq"] for e in polled.json()["erasures"]] == [seqs[-1]]
    # the feed's own notice names the erasure's place in the record
    harness.panel.changes.erased(GuildId(9000), seqs[0], 1_700_000_060.5)
    polled = await harness.client.get(f"{BRIDGE}/changes?timeout=0&erasures=0", headers=bot)
    assert polled.json()["erasures"][0]["seq"] == seqs[0]
    cursor = polled.json()["cursor"]
    notice = await harness.client.get(
        f"{BRIDGE}/changes?timeout=0&cursor={cursor - 1}", headers=bot
    )
    assert notice.json()["changes"] == [
        {"guild_id": "9000", "version": seqs[0], "erased": True, "erased_at": 1_700_000_060.5}
    ]


@pytest.mark.anyio
async def test_queue_sync_caps_and_feeds_queue_views(harness: PanelHarness) -> None:
    queue = GuildQueue(GuildId(PRO_GUILD), capacity=500)
    for n in range(80):
        queue.add(_track(n))
    queue.next()
    snapshot = queue.snapshot(PlayerState(volume=70), harness.now)
    response = await harness.client.post(
        "/api/bot/queue-sync", headers=harness.bot(), json=snapshot.to_json()
    )
    assert response.status_code == 202 and response.json()["stored"] is True
    await harness.login()
    view = (await harness.client.get(f"/api/control-panel/guilds/{PRO_GUILD}/queue")).json()
    assert view["current"]["title"] == "Song 0"
    assert len(view["upcoming"]) == 50 and view["upcoming"][0]["title"] == "Song 1"
    page = await harness.client.get(f"/guilds/{PRO_GUILD}/queue")
    assert "Song 0" in page.text and 'data-events="/guilds/' in page.text


@pytest.mark.anyio
async def test_queue_sync_is_plan_gated_and_validated(harness: PanelHarness) -> None:
    queue = GuildQueue(GuildId(FREE_GUILD), capacity=10)
    queue.add(_track(1))
    free = await harness.client.post(
        "/api/bot/queue-sync",
        headers=harness.bot(),
        json=queue.snapshot(PlayerState(), 1.0).to_json(),
    )
    assert free.status_code == 202 and free.json()["stored"] is False
    bad = await harness.client.post(
        "/api/bot/queue-sync", headers=harness.bot(), json={"k": "other", "v": 1}
    )
    assert bad.status_code == 400 and "snapshot" in bad.json()["error"]


@pytest.mark.anyio
async def test_a_queue_synced_before_the_bot_applied_an_erasure_does_not_come_back(
    harness: PanelHarness,
) -> None:
    """The panel erases the guild while a bot's queue sync is in flight (or the bot has not
    applied the erasure yet): the snapshot is refused and not shown; once the bot says it
    applied the erasure (the record's order, no clock), the guild's new queue is."""
    guild = GuildId(PRO_GUILD)
    queue = GuildQueue(guild, capacity=10)
    queue.add(_track(1))
    queue.next()
    body = queue.snapshot(PlayerState(), harness.now).to_json()

    async def sync(applied: int | None) -> dict[str, object]:
        sent = body if applied is None else {**body, "erasures_applied": applied}
        response = await harness.client.post(
            "/api/bot/queue-sync", headers=harness.bot(), json=sent
        )
        assert response.status_code == 202, response.text
        answer: dict[str, object] = response.json()
        return answer

    async def shown() -> object:
        view = await harness.client.get(f"/api/control-panel/guilds/{PRO_GUILD}/queue")
        return view.json()["current"]

    await harness.login()
    assert (await sync(0))["stored"] is True
    seq = await _place_erasure(harness, PRO_GUILD)
    [erasure] = await harness.services.compliance.erasures_since(seq - 1, 1)
    await erase_guild_everywhere(harness.services, erasure)
    assert await shown() is None
    for before in (None, 0, seq - 1):  # no catch-up, or the cursor from before the erasure
        refused = await sync(before)
        assert refused["stored"] is False and "erased" in str(refused["reason"]), refused
        assert await shown() is None
    assert await harness.services.telemetry.get(QUEUE_SYNC_DOCUMENT.format(guild=guild)) is None
    # a bot that applied the erasure: the guild uses it anew
    assert (await sync(seq))["stored"] is True
    current = await shown()
    assert isinstance(current, dict) and current["title"] == "Song 1"


@pytest.mark.anyio
async def test_a_queue_stored_while_the_erasure_ran_is_not_shown(harness: PanelHarness) -> None:
    """A sync that passed the tombstone check just before the erasure left it, and was stored
    once the stores were erased: the queue page does not show it."""
    guild = GuildId(PRO_GUILD)
    queue = GuildQueue(guild, capacity=10)
    queue.add(_track(1))
    queue.next()
    seq = await _place_erasure(harness, PRO_GUILD)
    [erasure] = await harness.services.compliance.erasures_since(seq - 1, 1)
    await erase_guild_everywhere(harness.services, erasure)
    name = QUEUE_SYNC_DOCUMENT.format(guild=guild)
    for applied in ({}, {"erasures_applied": seq - 1}):
        document = {**queue.snapshot(PlayerState(), harness.now).to_json(), **applied}
        await harness.services.telemetry.put(name, document, 60)
        await harness.login()
        view = await harness.client.get(f"/api/control-panel/guilds/{PRO_GUILD}/queue")
        assert view.json()["current"] is None
    await harness.services.telemetry.put(name, {**document, "erasures_applied": seq}, 60)
    view = await harness.client.get(f"/api/control-panel/guilds/{PRO_GUILD}/queue")
    assert view.json()["current"]["title"] == "Song 1"


@pytest.mark.anyio
async def test_sse_sends_the_queue_and_its_changes(harness: PanelHarness) -> None:
    await harness.login()
    harness.panel.options = attrs.evolve(
        harness.panel.options, sse_interval=0.01, sse_max_seconds=5.0
    )
    ticks = iter(range(10**6))
    harness.panel.clock = lambda: harness.now + next(ticks)  # one "second" per clock read
    queue = GuildQueue(GuildId(PRO_GUILD), capacity=10)
    queue.add(_track(7))
    queue.next()
    await harness.client.post(
        "/api/bot/queue-sync",
        headers=harness.bot(),
        json=queue.snapshot(PlayerState(), harness.now).to_json(),
    )
    response = await harness.client.get(f"/guilds/{PRO_GUILD}/queue/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = response.text.split("\n\n")
    assert frames[0] == "retry: 3000"
    events = [f for f in frames if f.startswith("event: queue")]
    assert len(events) == 1, "an unchanged queue is sent once, then keep-alives"
    data = json.loads(events[0].split("data: ", 1)[1])
    assert data["current"]["title"] == "Song 7"
    assert any(f.startswith(": keep-alive") for f in frames)


@pytest.mark.anyio
async def test_automation_actions_and_events(harness: PanelHarness) -> None:
    event = {
        "kind": "automation_action",
        "at": harness.now,
        "guild_id": str(PRO_GUILD),
        "actor": "automation",
        "summary": "Skipped a silent track.",
        "data": {"rule": "silence"},
    }
    one = await harness.client.post(
        "/api/bot/automation-actions", headers=harness.bot(), json=event
    )
    many = await harness.client.post(
        "/api/bot/automation-actions", headers=harness.bot(), json={"events": [event, event]}
    )
    assert one.status_code == 202 and many.json() == {"accepted": 2}
    kinds = await harness.services.audit.recent(
        GuildId(PRO_GUILD), kinds=[AuditKind.AUTOMATION_ACTION]
    )
    assert len(kinds) == 3
    join = await harness.client.post(
        "/api/bot/events",
        headers=harness.bot(),
        json={"type": "guild_join", "guild_id": "666666666666666666", "name": "New One"},
    )
    assert join.status_code == 202
    record = await harness.services.guilds.get(GuildId(666666666666666666))
    assert record is not None and record.bot_present and record.name == "New One"
    leave = await harness.client.post(
        "/api/bot/events",
        headers=harness.bot(),
        json={"type": "guild_remove", "guild_id": "666666666666666666"},
    )
    assert leave.status_code == 202
    record = await harness.services.guilds.get(GuildId(666666666666666666))
    assert record is not None and not record.bot_present


@pytest.mark.anyio
async def test_audit_page_filters_paginates_and_exports(harness: PanelHarness) -> None:
    csrf = await harness.login()
    for volume in range(1, 4):
        record = await harness.services.settings.get(GuildId(GROWTH_GUILD))
        version = 0 if record is None else record.version
        await harness.client.put(
            f"/api/control-panel/guilds/{GROWTH_GUILD}/settings",
            json={"version": version, "settings": {"default_volume": volume}},
            headers={"x-csrf-token": csrf},
        )
    api = f"/api/control-panel/guilds/{GROWTH_GUILD}/audit"
    page = (await harness.client.get(f"{api}?kind=settings_changed&per_page=2")).json()
    assert page["total"] == 3 and page["pages"] == 2 and len(page["events"]) == 2
    later = (await harness.client.get(f"{api}?since={harness.now + 1}")).json()
    assert later["total"] == 0
    bad = await harness.client.get(f"{api}?kind=nope")
    assert bad.status_code == 400 and "kind" in bad.json()["error"]
    export = await harness.client.get(f"/guilds/{GROWTH_GUILD}/audit.jsonl?kind=settings_changed")
    lines = export.text.strip().splitlines()
    assert export.headers["content-type"].startswith("application/x-ndjson") and len(lines) == 3
    html = await harness.client.get(f"/guilds/{GROWTH_GUILD}/audit?kind=settings_changed")
    assert "saved settings version 3" in html.text


@pytest.mark.anyio
async def test_api_tokens_lifecycle(harness: PanelHarness) -> None:
    csrf = await harness.login()
    base = f"/api/control-panel/guilds/{PRO_GUILD}/tokens"
    created = await harness.client.post(
        base,
        json={"label": "Stream deck", "scopes": ["queue:read"], "expires_in_days": 7},
        headers={"x-csrf-token": csrf},
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    listed = (await harness.client.get(base)).json()["tokens"]
    assert listed[0]["last_four"] == secret[-4:] and "secret" not in listed[0]
    assert secret not in (await harness.client.get(f"/guilds/{PRO_GUILD}/tokens")).text
    bearer = {"authorization": f"Bearer {secret}"}
    queue = await harness.client.get(f"/api/v1/guilds/{PRO_GUILD}/queue", headers=bearer)
    assert queue.status_code == 200
    scoped = await harness.client.get(f"/api/v1/guilds/{PRO_GUILD}/settings", headers=bearer)
    assert scoped.status_code == 403 and "settings:read" in scoped.json()["error"]
    other = await harness.client.get(f"/api/v1/guilds/{FREE_GUILD}/queue", headers=bearer)
    assert other.status_code == 403
    harness.now += 8 * 86400
    expired = await harness.client.get(f"/api/v1/guilds/{PRO_GUILD}/queue", headers=bearer)
    assert expired.status_code == 401
    harness.now -= 8 * 86400
    token_id = created.json()["id"]
    revoked = await harness.client.delete(f"{base}/{token_id}", headers={"x-csrf-token": csrf})
    assert revoked.status_code == 204
    after = await harness.client.get(f"/api/v1/guilds/{PRO_GUILD}/queue", headers=bearer)
    assert after.status_code == 401
    assert (await harness.client.get(f"/api/v1/guilds/{PRO_GUILD}/queue")).status_code == 401
    kinds = {e.kind for e in await harness.services.audit.recent(GuildId(PRO_GUILD))}
    assert {AuditKind.TOKEN_CREATED, AuditKind.TOKEN_REVOKED} <= kinds


@pytest.mark.anyio
async def test_token_form_shows_secret_once_and_limits(harness: PanelHarness) -> None:
    csrf = await harness.login()
    plan = harness.services.catalogue.plan(
        (await harness.services.guilds.get(GuildId(PRO_GUILD))).tier  # type: ignore[union-attr]
    )
    limit = min(plan.api_tokens, 10)
    page = ""
    for n in range(limit):
        response = await harness.client.post(
            f"/guilds/{PRO_GUILD}/tokens",
            data={
                "csrf_token": csrf,
                "label": f"t{n}",
                "scopes": "queue:read",
                "expires_in_days": "30",
            },
        )
        assert response.status_code == 303, "post/redirect/get: a reload creates nothing"
        assert response.headers["location"] == f"/guilds/{PRO_GUILD}/tokens"
        page = (await harness.client.get(response.headers["location"])).text
        assert "will not be shown again" in page and f"t{n}" in page
    assert 'id="secret"' in page
    reloaded = (await harness.client.get(f"/guilds/{PRO_GUILD}/tokens")).text
    assert 'id="secret"' not in reloaded, "the new token is shown once"
    assert len(await harness.services.tokens.for_guild(GuildId(PRO_GUILD))) == limit
    refused = await harness.client.post(
        f"/guilds/{PRO_GUILD}/tokens",
        data={"csrf_token": csrf, "label": "one too many", "scopes": "queue:read"},
    )
    assert refused.status_code == 403 and "revoke one first" in refused.text
    assert len(await harness.services.tokens.for_guild(GuildId(PRO_GUILD))) == limit
    free = await harness.client.post(
        f"/guilds/{FREE_GUILD}/tokens",
        data={"csrf_token": csrf, "label": "x", "scopes": "queue:read"},
    )
    assert free.status_code == 403 and "not included" in free.text


@pytest.mark.anyio
async def test_revoking_from_the_form_goes_back_to_the_tokens_page(harness: PanelHarness) -> None:
    csrf = await harness.login()
    page = f"/guilds/{PRO_GUILD}/tokens"
    created = await harness.client.post(
        page, data={"csrf_token": csrf, "label": "deck", "scopes": "queue:read"}
    )
    assert created.status_code == 303
    (token,) = await harness.services.tokens.for_guild(GuildId(PRO_GUILD))
    revoked = await harness.client.post(
        f"{page}/{token.token_id}/revoke", data={"csrf_token": csrf}
    )
    assert revoked.status_code == 303 and revoked.headers["location"] == page
    assert ">revoked<" in (await harness.client.get(page)).text


@pytest.mark.anyio
async def test_non_manager_cannot_touch_tokens(harness: PanelHarness) -> None:
    csrf = await harness.login()
    response = await harness.client.post(
        f"/api/control-panel/guilds/{OTHER_GUILD}/tokens",
        json={"label": "x", "scopes": ["queue:read"]},
        headers={"x-csrf-token": csrf},
    )
    assert response.status_code == 403
    assert await harness.services.tokens.for_guild(GuildId(OTHER_GUILD)) == []
