"""``MemorySettingsChannel``: settings change notifications between the tasks of one process."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from vectobeat_core.ports import SettingsChange, SettingsEvent

__all__ = ["MemorySettingsChannel"]


class MemorySettingsChannel:
    """Every subscriber receives every change published while it is subscribed (never resyncs)."""

    def __init__(self) -> None:
        self._subscribers: set[MemoryObjectSendStream[SettingsEvent]] = set()

    async def publish(self, change: SettingsChange) -> int:
        for stream in list(self._subscribers):
            stream.send_nowait(change)
        return len(self._subscribers)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[SettingsEvent]]:
        send, receive = anyio.create_memory_object_stream[SettingsEvent](math.inf)
        self._subscribers.add(send)
        try:
            async with receive:
                yield receive
        finally:
            self._subscribers.discard(send)
            await send.aclose()

    async def ping(self) -> None:
        return None
