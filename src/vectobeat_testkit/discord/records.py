"""What the bot sent, in order, and the state of each injected interaction; awaitable by tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from vectobeat_core.ids import ChannelId, GuildId

from .state import FakeMessage, Json

__all__ = ["InteractionRecord", "InteractionResponse", "Recorded", "Recorder"]

T = TypeVar("T")

#: Interaction callback types (Discord: "Interaction Callback Type").
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9


@attrs.frozen
class Recorded:
    """One thing the bot sent: an HTTP request body or a gateway payload (token fields redacted).

    ``kind`` is one of: ``interaction_callback``, ``followup``, ``edit_original``,
    ``delete_original``, ``edit_followup``, ``delete_followup``, ``channel_message``,
    ``edit_message``, ``delete_message``, ``commands_overwrite``, ``gateway``.
    """

    index: int
    kind: str
    method: str
    path: str
    body: Mapping[str, Any]
    interaction_id: int | None = None
    channel_id: int | None = None
    message_id: int | None = None


@attrs.frozen
class InteractionResponse:
    """The bot's answer to an interaction: the callback ``type`` and its ``data``."""

    type: int
    data: Mapping[str, Any]

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def embeds(self) -> list[Mapping[str, Any]]:
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[Mapping[str, Any]]:
        return list(self.data.get("components") or [])

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def deferred(self) -> bool:
        return self.type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE)

    @property
    def choices(self) -> list[Mapping[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        return list(self.data.get("choices") or [])


@attrs.define
class InteractionRecord:
    """An injected interaction and everything the bot did with it."""

    id: int
    token: str
    type: int
    guild_id: GuildId | None
    channel_id: ChannelId
    payload: Json
    created_at: float
    response: InteractionResponse | None = None
    original: FakeMessage | None = None
    original_deleted: bool = False
    source_message: FakeMessage | None = None
    followups: list[FakeMessage] = attrs.Factory(list)

    @property
    def message(self) -> FakeMessage | None:
        """What a user sees as the answer: the original response (after edits) if any."""
        return self.original


class Recorder:
    """An ordered log plus a condition, so tests await facts instead of sleeping."""

    def __init__(self) -> None:
        self.entries: list[Recorded] = []
        self._changed = asyncio.Condition()

    async def add(
        self,
        kind: str,
        method: str,
        path: str,
        body: Mapping[str, Any],
        *,
        interaction_id: int | None = None,
        channel_id: int | None = None,
        message_id: int | None = None,
    ) -> Recorded:
        entry = Recorded(
            index=len(self.entries),
            kind=kind,
            method=method,
            path=path,
            body=body,
            interaction_id=interaction_id,
            channel_id=channel_id,
            message_id=message_id,
        )
        self.entries.append(entry)
        await self.notify()
        return entry

    async def notify(self) -> None:
        """Wake every waiter (call after any state change tests may wait on)."""
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float) -> T:  # noqa: ASYNC109 - tests name their deadline
        """Return ``predicate()``'s first truthy value; TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                await self._changed.wait()
