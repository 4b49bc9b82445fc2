"""The bot started while its SQL database (PostgreSQL behind a cut fault proxy) is down: it is ready
(SQL is not needed to play), a command that needs SQL answers with a clear ephemeral message, and
after the heal the database is migrated and used."""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import service_url
from tests.e2e.conftest import BotProcess, bot_world
from tests.faults.health_support import poll
from tests.sql_support import create_database, drop_database
from vectobeat_core.plans import Tier
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]


async def test_bot_started_while_sql_is_down(tmp_path: Path) -> None:
    server = make_url(service_url("postgres"))
    name = f"vb_health_{uuid.uuid4().hex[:10]}"
    await create_database(server, name)
    try:
        async with bot_world(tmp_path, redis_url=None) as w:
            guild = await w.add_guild("nosql", Tier.PRO)
            with FaultProxy(server.port or 5432).in_thread() as proxy:
                proxy.cut()
                url = server.set(host="127.0.0.1", port=proxy.port, database=name)
                env = {"VECTOBEAT_DATABASE_URL": url.render_as_string(hide_password=False)}
                async with anyio.create_task_group() as tg:
                    bot = BotProcess(w.env(**env), w.tmp)
                    await bot.start(tg, ready=False)  # the Status API answers at once
                    try:
                        sql = (await bot.get("/status")).json()["dependencies"]["sql"]
                        # without Redis, SQL holds the queues: required, and named by /readyz
                        assert sql["state"] == "down" and sql["required"] is True
                        await poll(bot, "/readyz", lambda r: "sql" in r.text)
                        assert (await bot.get("/readyz")).status_code == 503
                        with anyio.fail_after(30):  # not ready (SQL), but its shard is online
                            while 0 not in w.fake.gateway.ready_shards():  # noqa: ASYNC110 - a fake's state
                                await anyio.sleep(0.05)
                        await w.voice(guild, guild.member)
                        played = await w.run(guild, guild.member, "play", {"query": "Alpha Song"})
                        assert "Now playing **Alpha Song**" in played.content  # journaled
                        refused = await w.run(guild, guild.member, "playlist list")
                        assert refused.ephemeral
                        assert refused.content.startswith("sql is unavailable")
                        assert "reconnecting in the background" in refused.content
                        proxy.heal()
                        await poll(
                            bot,
                            "/status",
                            lambda r: r.json()["dependencies"]["sql"]["state"] == "up",
                        )
                        await bot.wait_ready()
                        listed = await w.run(guild, guild.member, "playlist list")
                        assert listed.content == "No playlists are saved yet."  # migrated, used
                        queue = (await w.run(guild, guild.member, "queue")).content
                        assert "Alpha Song" in queue
                    finally:
                        await bot.stop()
                        tg.cancel_scope.cancel()
    finally:
        await drop_database(server, name)
