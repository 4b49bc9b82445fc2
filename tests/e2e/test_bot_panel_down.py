"""With the panel unreachable the bot keeps working on the last known settings and says so."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from tests.e2e.conftest import bot_world, running_bot

from vectobeat_core.plans import Tier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_panel_unreachable(tmp_path: Path) -> None:
    async with bot_world(tmp_path, redis_url=None) as w:
        guild = await w.add_guild("offline", Tier.GROWTH)
        dead = f"http://127.0.0.1:{closed_port()}"
        async with running_bot(w, VECTOBEAT_PANEL_URL=dead) as bot:
            await w.voice(guild, guild.member)
            played = await w.run(guild, guild.member, "play", {"query": "Alpha Song"})
            assert "Now playing **Alpha Song**" in played.content
            await w.wait_player(guild, "Alpha Song")
            shown = await w.run(guild, guild.owner, "settings show")
            assert "Plan: Free" in shown.content  # never reached: free defaults, and it says so
            assert (
                "The panel is unreachable and has never sent this server's settings: these are "
                "the Free plan's defaults." in shown.content
            )
            status = await w.run(guild, guild.member, "status")
            assert "the panel is unreachable; using the last known settings" in status.content
            payload = (await bot.get("/status")).json()
            assert payload["settings_sync"]["connected"] is False
            assert "cannot be reached" in payload["settings_sync"]["error"]
            assert payload["status"] == "degraded"
            refused = await w.run(guild, guild.owner, "settings queue-limit", {"limit": 50})
            assert refused.ephemeral and "cannot be reached" in refused.content
