"""The voice hand-off tells a join what went wrong: the node's failure, or Discord's silence."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from vectobeat_bot.voice import LavalinkVoice
from vectobeat_core.errors import NodeUnavailable

GUILD, CHANNEL = 1, 2


class _Cluster:
    """Takes voice data, or fails with ``error``."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.voice: list[dict[str, Any]] = []

    async def update_voice(self, guild_id: int, **voice: Any) -> None:
        if self.error is not None:
            raise self.error
        self.voice.append({"guild_id": guild_id, **voice})


class _Guild:
    """Answers a voice state change as Discord does (both updates), or not at all."""

    def __init__(self, *, answers: bool = True) -> None:
        self.answers = answers
        self.voice: LavalinkVoice | None = None

    async def change_voice_state(self, **_: Any) -> None:
        if self.answers and self.voice is not None:
            await self.voice.on_voice_state_update({"channel_id": str(CHANNEL), "session_id": "s"})
            await self.voice.on_voice_server_update({"token": "t", "endpoint": "voice.test"})


def _voice(cluster: _Cluster, guild: _Guild) -> LavalinkVoice:
    client = SimpleNamespace(get_guild=lambda _id: guild)
    channel = SimpleNamespace(id=CHANNEL, guild=SimpleNamespace(id=GUILD))
    voice = LavalinkVoice(client, channel, cluster)  # type: ignore[arg-type]
    guild.voice = voice
    voice.cleanup = lambda: None  # type: ignore[method-assign]
    return voice


@pytest.mark.anyio
async def test_a_join_hands_the_voice_data_to_the_node() -> None:
    cluster = _Cluster()
    await _voice(cluster, _Guild()).connect(timeout=5, reconnect=False)
    assert cluster.voice == [
        {
            "guild_id": GUILD,
            "session_id": "s",
            "token": "t",
            "endpoint": "voice.test",
            "channel_id": CHANNEL,
        }
    ]


@pytest.mark.anyio
async def test_an_unexpected_failure_taking_the_voice_data_is_named_not_blamed_on_discord(
    caplog: pytest.LogCaptureFixture,
) -> None:
    voice = _voice(
        _Cluster(AttributeError("'NoneType' object has no attribute 'headers'")), _Guild()
    )
    with pytest.raises(NodeUnavailable, match="could not take the voice connection"):
        await voice.connect(timeout=5, reconnect=False)
    assert "voice_update_failed" in caplog.text and "AttributeError" in caplog.text


@pytest.mark.anyio
async def test_a_known_node_failure_leaves_the_voice_data_for_failover() -> None:
    await _voice(_Cluster(NodeUnavailable("node down")), _Guild()).connect(
        timeout=5, reconnect=False
    )


@pytest.mark.anyio
async def test_discord_silent_is_reported_as_such() -> None:
    voice = _voice(_Cluster(), _Guild(answers=False))
    with pytest.raises(NodeUnavailable, match="Discord did not answer"):
        await voice.connect(timeout=0.05, reconnect=False)
