"""The settings change channel over Redis pub/sub (``vectobeat:settings``).

A message is ``{"guild_id": "<snowflake>", "version": <int>}``: the guild's settings reached
``version``; receivers reload when it is newer than theirs. A ``"state"`` object, when present, is
the stored state at that version (`SettingsChange.state`), so they can apply it without a read.
``"erased": true`` says the guild is being erased (`SettingsChange.erased`), ``"erased_at"`` when.
Pub/sub does not queue for absent listeners, so after the subscriber reconnects (with backoff) it
yields :class:`SettingsResync`: changes may have been missed, reload what you hold.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import tenacity
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from vectobeat_adapters.redis.connection import RedisConnection
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_adapters.retrying import BackoffWait
from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import SettingsChange, SettingsEvent, SettingsResync

__all__ = ["RedisSettingsChannel", "decode_change", "encode_change"]


def encode_change(change: SettingsChange) -> bytes:
    message: dict[str, object] = {"guild_id": str(change.guild_id), "version": change.version}
    if change.state is not None:
        message["state"] = change.state
    if change.erased:
        message["erased"] = True
        if change.erased_at is not None:
            message["erased_at"] = change.erased_at
    return json.dumps(message, separators=(",", ":")).encode()


def decode_change(raw: bytes | str) -> SettingsChange | None:
    """Read a channel message; ``None`` for anything that is not a well-formed change."""
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    guild, version = data.get("guild_id"), data.get("version")
    if isinstance(guild, str) and guild.isascii() and guild.isdigit():
        guild = int(guild)
    if isinstance(guild, bool) or not isinstance(guild, int) or guild <= 0:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        return None
    state = data.get("state")
    if (
        not isinstance(state, dict)
        or state.get("version") != version
        or state.get("guild_id") != str(guild)
    ):
        state = None  # a hint only: the receiver reloads
    erased = data.get("erased") is True
    erased_at = data.get("erased_at")
    if not erased or isinstance(erased_at, bool) or not isinstance(erased_at, int | float):
        erased_at = None
    return SettingsChange(GuildId(guild), version, state, erased=erased, erased_at=erased_at)


class RedisSettingsChannel:
    """Publish settings changes and subscribe to them; the subscriber reconnects by itself."""

    def __init__(
        self, conn: RedisConnection, keys: RedisKeys, *, poll_seconds: float = 1.0
    ) -> None:
        self._conn = conn
        self._channel = keys.settings_channel()
        self._poll = poll_seconds

    async def publish(self, change: SettingsChange) -> int:
        """Publish ``change``; returns how many subscribers received it (not retried: not idempotent)."""
        payload = encode_change(change)
        return int(
            await self._conn.run(
                "publish settings change",
                lambda c: c.publish(self._channel, payload),
                idempotent=False,
            )
        )

    async def ping(self) -> None:
        await self._conn.ping()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[SettingsEvent]]:
        """Subscribe now (before the body runs); iterate the yielded iterator for events."""
        pubsub = await self._open()
        holder = [pubsub]
        events = self._events(holder)
        try:
            yield events
        finally:
            await events.aclose()
            await _close(holder[0])

    async def _open(self) -> PubSub:
        async def connect(_: object) -> PubSub:
            ps = self._conn.client.pubsub(ignore_subscribe_messages=True)
            try:
                await ps.subscribe(self._channel)
            except BaseException:
                await _close(ps)
                raise
            return ps

        return await self._conn.run("subscribe to settings changes", connect)

    async def _events(self, holder: list[PubSub]) -> AsyncGenerator[SettingsEvent, None]:
        while True:
            try:
                message = await holder[0].get_message(timeout=self._poll)
            except (RedisError, OSError):
                await _close(holder[0])
                holder[0] = await self._reconnect()
                yield SettingsResync()
                continue
            if message is None or message.get("type") != "message":
                await anyio.lowlevel.checkpoint()
                continue
            change = decode_change(message["data"])
            if change is not None:
                yield change

    async def _reconnect(self) -> PubSub:
        """Subscribe again, until the caller cancels us: ``backoff_base`` doubling up to five
        times ``backoff_cap`` between tries."""
        top = self._conn.settings.backoff_cap * 5
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(Exception),
            stop=tenacity.stop_never,
            wait=BackoffWait(
                ExponentialBackoff.clamped(self._conn.settings.backoff_base, top, spread=0.0)
            ),
            sleep=anyio.sleep,
        )
        pubsub: PubSub = await retrying(self._open)
        return pubsub


async def _close(pubsub: PubSub) -> None:
    with suppress(RedisError, OSError):
        await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
