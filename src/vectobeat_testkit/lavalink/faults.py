"""Faults a test injects into a fake node: hang, added latency, refusing new players.

``kill``/``drop_websocket``/``revive`` act on the server itself (see `FakeLavalinkNode`); this
module holds the switches every request and every outgoing websocket message pass through.
"""

from __future__ import annotations

import asyncio

__all__ = ["Faults"]


class Faults:
    """The node's current faults; ``gate()`` is awaited before answering anything."""

    def __init__(self) -> None:
        self._responsive = asyncio.Event()
        self._responsive.set()
        self.latency_ms = 0.0
        self.refuse_new_players = False
        self.garbage = False

    @property
    def hung(self) -> bool:
        return not self._responsive.is_set()

    def hang(self) -> None:
        """Accept connections and requests but answer nothing (HTTP or websocket)."""
        self._responsive.clear()

    def slow(self, ms: float) -> None:
        """Add ``ms`` of latency before every HTTP answer and websocket handshake."""
        if ms < 0:
            raise ValueError("latency must not be negative")
        self.latency_ms = ms

    def clear(self) -> None:
        self._responsive.set()
        self.latency_ms = 0.0
        self.refuse_new_players = False
        self.garbage = False

    async def gate(self) -> None:
        """Wait while hung (forever, until `clear`)."""
        await self._responsive.wait()

    async def delay(self) -> None:
        """The added latency, then the hang gate."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000.0)
        await self.gate()
