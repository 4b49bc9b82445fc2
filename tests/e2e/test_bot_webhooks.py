"""The bot as a real process exports a guild's selected events: a /play produces a signed
``track_started`` (and ``queue_updated``) delivery at a real receiver on 127.0.0.1, shaped by the
guild's analytics mode, and the attempt lands in the delivery log the panel reads (SQL)."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from tests.e2e.conftest import bot_world, running_bot
from tests.webhook_support import SIGNING_SECRET, WebhookReceiver

from vectobeat_adapters.sql.engine import open_database
from vectobeat_adapters.sql.webhook_log import SqlWebhookDeliveryLog
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.settings import ServerSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(300)]


def delivered(metrics: str) -> float:
    line = 'vectobeat_webhook_exports_total{outcome="delivered"} '
    found = [row for row in metrics.splitlines() if row.startswith(line)]
    return float(found[0].removeprefix(line)) if found else -1.0


async def test_a_track_start_is_exported_signed(tmp_path: Path) -> None:
    async with WebhookReceiver() as receiver, bot_world(tmp_path, redis_url=None) as world:
        chosen = ServerSettings(
            analytics_mode="basic",
            webhook_export_url=receiver.url("/hook"),
            webhook_export_events=("track_started", "queue_updated"),
        )
        guild = await world.add_guild("hooks", Tier.PRO, chosen)
        quiet = await world.add_guild("quiet", Tier.PRO)  # no webhook: nothing exported
        env = {
            "VECTOBEAT_WEBHOOK_SIGNING_SECRET": SIGNING_SECRET,
            "VECTOBEAT_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        }
        async with running_bot(world, **env) as bot:
            for g in (guild, quiet):
                await world.voice(g, g.member)
                answer = await world.run(g, g.member, "play", {"query": "Alpha Song"})
                assert "Now playing **Alpha Song**" in answer.content, answer.content
            with anyio.fail_after(20):
                while not receiver.got("track_started"):  # noqa: ASYNC110 - another process
                    await anyio.sleep(0.05)
            with anyio.fail_after(10):
                while delivered(metrics := (await bot.get("/metrics")).text) < 1:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            assert 'vectobeat_webhook_exports_total{outcome="dropped"} 0.0' in metrics
        started = next(
            r for r in receiver.received if r.headers["X-VectoBeat-Event"] == "track_started"
        )
        assert started.signed_for(guild.id, now=world.services.clock.now())
        payload = json.loads(started.body)
        assert payload["guild_id"] == str(guild.id) and payload["type"] == "track_started"
        assert payload["data"]["track"]["source"]  # basic: the source and length...
        assert "title" not in payload["data"]["track"]  # ...but no title
        kinds = {r.headers["X-VectoBeat-Event"] for r in receiver.received}
        assert kinds <= {"track_started", "queue_updated"}
        assert {json.loads(r.body)["guild_id"] for r in receiver.received} == {str(guild.id)}
        async with open_database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as db:
            logged = await SqlWebhookDeliveryLog(db).recent(GuildId(guild.id))
        assert any(d.event == "track_started" and d.status_code == 200 for d in logged)
