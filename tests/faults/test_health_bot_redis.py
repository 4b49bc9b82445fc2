"""The bot process with Redis behind a fault proxy: degraded, never dead, and honest about it.

- Redis cut while running: ``/readyz`` 503 naming redis, ``/status`` says redis is down since when,
  ``/healthz`` stays 200; after the heal both are back to 200 / up.
- Started while Redis is cut or blackholed: the Status API answers, ``/readyz`` names redis; after
  the heal the bot becomes ready and restores the stored queue.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest

from tests.conftest import service_url
from tests.e2e.conftest import (
    BotProcess,
    BotWorld,
    E2EGuild,
    bot_world,
    clear_snapshots,
    running_bot,
)
from tests.e2e.test_bot_restart import wait_kept_player
from tests.faults.health_support import poll, proxied, wait_snapshot
from vectobeat_core.plans import Tier
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


def redis_of(response: Any) -> dict[str, Any]:
    deps: dict[str, Any] = response.json()["dependencies"]
    return deps["redis"]  # type: ignore[no-any-return]


async def test_redis_cut_while_running(tmp_path: Path) -> None:
    url = service_url("redis")
    async with bot_world(tmp_path, redis_url=url) as w:
        guild = await w.add_guild("cut", Tier.PRO)
        with FaultProxy(urlsplit(url).port or 6379).in_thread() as proxy:
            async with running_bot(w, VECTOBEAT_REDIS_URL=proxied(url, proxy)) as bot:
                before = redis_of(await bot.get("/status"))
                assert before["state"] == "up" and before["required"] is True
                cut_at = time.time()
                proxy.cut()
                unready = await poll(bot, "/readyz", lambda r: r.status_code == 503)
                assert any(
                    reason.startswith("redis is down") for reason in unready.json()["reasons"]
                )
                assert (await bot.get("/healthz")).status_code == 200  # alive, just not ready
                down = redis_of(await bot.get("/status"))
                assert down["state"] == "down" and down["since"] >= cut_at - 1
                assert down["changes"] == before["changes"] + 1
                metrics = (await bot.get("/metrics")).text
                assert 'vectobeat_dependency_up{dependency="redis"} 0.0' in metrics
                told = (await w.run(guild, guild.member, "status")).content
                assert "redis: down since " in told
                proxy.heal()
                await poll(bot, "/readyz", lambda r: r.status_code == 200)
                assert (await bot.get("/healthz")).status_code == 200
                healed = redis_of(await bot.get("/status"))
                assert healed["state"] == "up" and healed["since"] >= down["since"]


async def play_then_kill(w: BotWorld, url: str, guild: E2EGuild, tg: anyio.abc.TaskGroup) -> str:
    """A first bot plays two tracks in ``guild``, its queue reaches Redis, it is SIGKILLed."""
    await clear_snapshots(url, [guild.id])  # guild ids repeat from run to run
    first = BotProcess(w.env(), w.tmp)
    await first.start(tg)
    await w.voice(guild, guild.member)
    for title in ("Alpha Song", "Bravo Song"):
        assert not (await w.run(guild, guild.member, "play", {"query": title})).ephemeral
    _, player = await w.wait_player(guild, "Alpha Song")
    await wait_snapshot(url, guild)
    assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
    return str(player.session_id)


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
async def test_bot_started_while_redis_is_down(tmp_path: Path, fault: str) -> None:
    url = service_url("redis")
    async with bot_world(tmp_path, redis_url=url) as w:
        guild = await w.add_guild("restart", Tier.PRO)
        with FaultProxy(urlsplit(url).port or 6379).in_thread() as proxy:
            async with anyio.create_task_group() as tg:
                old_session = await play_then_kill(w, url, guild, tg)
                getattr(proxy, fault)()
                second = BotProcess(w.env(VECTOBEAT_REDIS_URL=proxied(url, proxy)), w.tmp)
                try:
                    await second.start(
                        tg, ready=False
                    )  # the Status API answers while Redis is down
                    unready = await poll(
                        second,
                        "/readyz",
                        lambda r: (
                            r.status_code == 503
                            and any(x.startswith("redis is down") for x in r.json()["reasons"])
                        ),
                    )
                    assert unready.status_code == 503
                    assert (await second.get("/healthz")).status_code == 200
                    assert redis_of(await second.get("/status"))["state"] == "down"
                    proxy.heal()
                    await second.wait_ready()
                    _, after = await wait_kept_player(w, guild, "Alpha Song")
                    assert after.session_id == old_session  # resumed through the restart
                    assert after.voice.get("channelId") == str(guild.voice_channel)
                    queue = (await w.run(guild, guild.member, "queue")).content
                    assert "Bravo Song" in queue
                    status = (await second.get("/status")).json()
                    assert status["restored_players"] == 1
                    assert status["dependencies"]["redis"]["state"] == "up"
                finally:
                    if second.process is not None and second.process.returncode is None:
                        await second.stop()
                    await clear_snapshots(url, [guild.id])
                    tg.cancel_scope.cancel()
