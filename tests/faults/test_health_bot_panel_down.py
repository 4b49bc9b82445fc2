"""Panel down, bot restarted: each guild keeps its last known plan and pinned region.

A first bot reads a Growth guild pinned to the US from the panel and plays there; it is SIGKILLed.
A second bot starts with the panel unreachable and restores the queue: from the settings kept on
disk (``BOT_DATA_DIR``), so the guild stays on Growth and lands on the US node although the EU node
is the less loaded one, and ``/settings show`` says these are the last known settings and how old.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import anyio
import pytest

from tests.conftest import service_url
from tests.e2e.conftest import BotProcess, bot_world, clear_snapshots
from tests.e2e.test_bot_restart import wait_new_player
from tests.faults.health_support import wait_snapshot
from vectobeat_core.plans import Tier
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_restart_with_the_panel_down_keeps_plan_and_region(tmp_path: Path) -> None:
    url = service_url("redis")
    async with bot_world(tmp_path, redis_url=url) as w:
        guild = await w.add_guild("pinned", Tier.GROWTH, ServerSettings(region=Region.US))
        await clear_snapshots(url, [guild.id])  # guild ids repeat from run to run
        async with anyio.create_task_group() as tg:
            first = BotProcess(w.env(), w.tmp)
            await first.start(tg)
            await w.voice(guild, guild.member)
            for title in ("Alpha Song", "Bravo Song"):
                assert not (await w.run(guild, guild.member, "play", {"query": title})).ephemeral
            node, player = await w.wait_player(guild, "Alpha Song")
            assert node == "us-1"
            await wait_snapshot(url, guild)
            assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
            cached = list((w.tmp / ".vectobeat" / "settings").glob("*.json"))
            assert [p.name for p in cached] == [f"{guild.id}.json"]

            w.nodes["us"].set_load(system_load=0.95, lavalink_load=0.95)  # auto would pick eu-1
            w.nodes["us"].send_stats()
            dead = f"http://127.0.0.1:{closed_port()}"
            # as if the node restarted too: nothing to resume, so the guild is placed anew
            (w.tmp / ".vectobeat" / "lavalink-sessions.json").unlink()
            second = BotProcess(w.env(VECTOBEAT_PANEL_URL=dead), w.tmp)
            try:
                await second.start(tg)
                node, _ = await wait_new_player(w, guild, player.session_id, "Alpha Song")
                assert node == "us-1"
                shown = (await w.run(guild, guild.owner, "settings show")).content
                assert "Plan: Growth" in shown
                assert "Region: requested us, effective us." in shown
                assert "The panel is unreachable: these are the last known settings from " in shown
                assert shown.rstrip().endswith(" ago.") or "just now." in shown
                status = (await second.get("/status")).json()
                assert status["dependencies"]["panel_bridge"]["state"] == "down"
                info = (await w.run(guild, guild.member, "status")).content
                assert "panel_bridge: down since" in info
            finally:
                if second.process is not None and second.process.returncode is None:
                    await second.stop()
                await clear_snapshots(url, [guild.id])
                tg.cancel_scope.cancel()
