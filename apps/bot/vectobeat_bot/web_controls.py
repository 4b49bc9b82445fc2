"""``WebControls``: playback controls from the panel's live queue page and its API, applied by
the bot like the slash commands.

`run` follows ``GET /api/bot/playback-controls/stream`` (one open stream, so a poll is always
parked: a request reaches the bot without a reconnect, and no new poll of the bot's competes with
the change on its way to the node; a panel without the stream is long-polled,
``GET /api/bot/playback-controls``) and applies each request of a guild this process serves
(other processes' guilds are left to them). A signed-in member is looked up in the
guild (cache, else Discord's REST) and must pass `require_control`, the rule the slash commands
use, with the same words; an API token's request carries no member (its scope, checked by the
panel, is its authority). The change goes through the same `PlayerService` methods, so the answer
is ``applied`` only once it is durable; the answer goes to
``POST /api/bot/playback-controls/result`` with the guild's snapshot (as queue sync sends it, with
how far the erasure record is applied here), which every open page shows.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from functools import partial
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import tenacity

from vectobeat_adapters.i18n import language_from_tag, use_language
from vectobeat_adapters.retrying import failure, supervise
from vectobeat_bot.bridge_client import BridgeClient, BridgeRouteMissing
from vectobeat_bot.discord_compat import discord
from vectobeat_bot.formatting import track_line, tracks_count
from vectobeat_bot.i18n import _, error_text
from vectobeat_bot.player_service import NOT_SAVED, PlayerService
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.controls import (
    ControlAction,
    ControlCommand,
    ControlOutcome,
    ControlRequest,
    ControlResult,
)
from vectobeat_core.errors import (
    BridgeUnavailable,
    InvalidInput,
    StorageUnavailable,
    Unavailable,
    VectoBeatError,
)
from vectobeat_core.ids import GuildId, RoleId, UserId
from vectobeat_core.permissions import MemberFacts, require_control
from vectobeat_core.playback import format_duration
from vectobeat_core.queue import GuildQueue
from vectobeat_core.telemetry import queue_sync_payload

__all__ = ["MemberLookup", "WebControls", "guild_member_lookup"]

_log = logging.getLogger("vectobeat.bot.web_controls")

MemberLookup = Callable[[GuildId, UserId], Awaitable[MemberFacts | None]]
"""The facts of a guild member (``None``: not a member), as the DJ rules need them."""


def guild_member_lookup(client: discord.Client, timeout: float = 5.0) -> MemberLookup:
    """Member facts from the client's cache, else Discord's REST (``GET .../members/{id}``)."""

    async def lookup(guild_id: GuildId, user_id: UserId) -> MemberFacts | None:
        guild = client.get_guild(guild_id)
        if guild is None:
            return None
        member = guild.get_member(user_id)
        if member is None:
            try:
                with anyio.fail_after(timeout):
                    member = await guild.fetch_member(user_id)
            except discord.NotFound:
                return None
            except (discord.HTTPException, TimeoutError) as exc:
                raise BridgeUnavailable(
                    "Discord did not answer ({problem}).", problem=type(exc).__name__
                ) from None
        return MemberFacts(
            user_id=user_id,
            role_ids=frozenset(RoleId(r.id) for r in member.roles),
            owner=guild.owner_id == user_id,
            permissions=member.guild_permissions.value,
        )

    return lookup


class WebControls:
    """Applies the panel's playback controls (see the module docstring)."""

    def __init__(
        self,
        *,
        bridge: BridgeClient | None,
        players: PlayerService,
        settings: SettingsSync,
        serves: Callable[[GuildId], bool],
        member: MemberLookup,
        poll_timeout: float = 25.0,
        retry_delay: float = 2.0,
    ) -> None:
        self._bridge = bridge
        self._players = players
        self._settings = settings
        self._serves = serves
        self._member = member
        self._poll_timeout = poll_timeout
        self._retry_delay = retry_delay
        self.applied = 0
        self.refused = 0
        self._cursor = 0
        self._streamed = True

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Follow the panel's control requests until cancelled."""
        task_status.started()
        if self._bridge is None:
            return
        self._cursor = 0
        self._streamed = True
        async with anyio.create_task_group() as tg:
            await supervise(
                partial(self._follow, self._bridge, tg),
                retry=tenacity.retry_if_exception_type(
                    (VectoBeatError, KeyError, TypeError, ValueError)
                ),
                wait=tenacity.wait_fixed(self._retry_delay),
                before_sleep=lambda state: _log.warning(
                    "web_controls_poll_failed error=%s", failure(state)
                ),
            )

    async def _follow(self, bridge: BridgeClient, tg: anyio.abc.TaskGroup) -> None:
        """Take the stream's batches until it ends; without one (an older panel), one poll."""
        if self._streamed:
            try:
                async for body in self._stream(bridge):
                    self._take(tg, body)
            except BridgeRouteMissing as exc:  # an older panel: long-poll it from now on
                _log.warning("web_controls_no_stream error=%s", exc)
                self._streamed = False
            return
        self._take(tg, await self._poll(bridge))
        await anyio.lowlevel.checkpoint()  # the controls go out before the poll

    def _params(self) -> dict[str, str]:
        return {"cursor": str(self._cursor), "timeout": f"{self._poll_timeout:g}"}

    def _stream(self, bridge: BridgeClient) -> AsyncGenerator[Any, None]:
        path = "/api/bot/playback-controls/stream"
        return bridge.lines(path, params=self._params(), idle_s=self._poll_timeout + 10.0)

    async def _poll(self, bridge: BridgeClient) -> Any:
        return await bridge.request(
            "GET",
            "/api/bot/playback-controls",
            params=self._params(),
            wait_s=self._poll_timeout + 10.0,
        )

    def _take(self, tg: anyio.abc.TaskGroup, body: Any) -> None:
        """Start applying a batch's requests of the guilds this process serves."""
        cursor = int(body["cursor"])
        batch = list(body["requests"])
        self._cursor = cursor
        for raw in batch:
            try:
                request = ControlRequest.from_json(raw)
            except InvalidInput as exc:  # one we cannot read: the panel reports no answer
                _log.warning("web_control_unreadable error=%s", exc)
                continue
            if self._serves(request.guild_id):
                tg.start_soon(self._handle, request)

    async def _handle(self, request: ControlRequest) -> None:
        result = await self.apply(request)
        if result.outcome is ControlOutcome.REFUSED:
            self.refused += 1
        else:
            self.applied += 1
        body = {"id": request.id, **result.to_json()}
        if self._players.peek(request.guild_id) is not None:
            with contextlib.suppress(KeyError):  # the player went away meanwhile: no snapshot
                snapshot = self._players.snapshot(request.guild_id)
                body["snapshot"] = queue_sync_payload(
                    snapshot, self._players.erasures_applied(request.guild_id)
                )
        assert self._bridge is not None
        try:
            await self._bridge.request("POST", "/api/bot/playback-controls/result", json=body)
        except VectoBeatError as exc:
            _log.warning("web_control_answer_lost id=%s error=%s", request.id, exc)

    async def apply(self, request: ControlRequest) -> ControlResult:
        """Check the member against the DJ rules and apply the command, answering in the
        language of the person who asked; never raises."""
        with use_language(language_from_tag(request.language)):
            return await self._checked(request)

    async def _checked(self, request: ControlRequest) -> ControlResult:
        guild_id = request.guild_id
        try:
            if request.member is not None:
                held = await self._settings.get(guild_id)
                try:
                    facts = await self._member(guild_id, request.member)
                except Unavailable as exc:
                    return ControlResult(
                        ControlOutcome.REFUSED,
                        _(
                            "Your roles could not be checked, so nothing was changed: {problem}"
                        ).format(problem=error_text(exc)),
                        503,
                    )
                if facts is None:
                    return ControlResult(
                        ControlOutcome.REFUSED,
                        _("You are not a member of this server, as Discord tells VectoBeat."),
                        403,
                    )
                require_control(facts, held.settings, request.command.action.phrase)
            message = await self._apply(guild_id, request.command, request.member)
        except StorageUnavailable as exc:
            if exc.message == NOT_SAVED:
                return ControlResult(ControlOutcome.NOT_SAVED, error_text(exc))
            return ControlResult(ControlOutcome.UNKNOWN, error_text(exc))
        except Unavailable as exc:
            return ControlResult(ControlOutcome.UNKNOWN, error_text(exc))
        except VectoBeatError as exc:
            status = exc.status if 400 <= exc.status < 500 else 400
            return ControlResult(ControlOutcome.REFUSED, error_text(exc), status)
        return ControlResult(ControlOutcome.APPLIED, message)

    async def _apply(self, guild_id: GuildId, command: ControlCommand, user: UserId | None) -> str:
        players = self._players
        action = command.action
        if action in (ControlAction.PAUSE, ControlAction.RESUME):
            entry = await players.set_paused(guild_id, action is ControlAction.PAUSE)
            done = _("Paused {track}.") if action is ControlAction.PAUSE else _("Resumed {track}.")
            return done.format(track=track_line(entry.track))
        if action is ControlAction.SKIP:
            following = await players.skip(guild_id, 1, user)
            if following is None:
                return _("Skipped; the queue is empty now.")
            return _("Skipped; now playing {track}.").format(track=track_line(following.track))
        if action is ControlAction.PREVIOUS:
            entry = await players.previous(guild_id)
            return _("Back to {track}.").format(track=track_line(entry.track))
        if action is ControlAction.SEEK:
            assert command.position_ms is not None
            entry = await players.seek(guild_id, command.position_ms)
            return _("Jumped to {position} in {track}.").format(
                position=format_duration(command.position_ms), track=track_line(entry.track)
            )
        if action is ControlAction.VOLUME:
            assert command.volume is not None
            await players.set_volume(guild_id, command.volume)
            return _("Volume set to {level}%.").format(level=command.volume)
        return await self._edit(guild_id, command)

    async def _edit(self, guild_id: GuildId, command: ControlCommand) -> str:
        players = self._players
        if players.peek(guild_id) is None:
            raise InvalidInput("Nothing is playing and the queue is empty.")
        action = command.action
        position, target = command.position or 0, command.target or 0
        if action is ControlAction.REMOVE:
            entry = await players.edit(guild_id, lambda q: q.remove(position))
            return _("Removed {track}.").format(track=track_line(entry.track))
        if action is ControlAction.MOVE:
            entry = await players.edit(guild_id, lambda q: q.move(position, target))
            return _("Moved {track} to position {position}.").format(
                track=track_line(entry.track), position=target
            )
        if action is ControlAction.CLEAR:
            count = await players.edit(guild_id, lambda q: q.clear())
            return _("Cleared {tracks} from the queue.").format(tracks=tracks_count(count))
        seed = players.shuffle_seed()

        def shuffle(queue: GuildQueue) -> int:
            queue.shuffle(seed)
            return len(queue)

        count = await players.edit(guild_id, shuffle)
        return _("Shuffled {tracks}.").format(tracks=tracks_count(count))
