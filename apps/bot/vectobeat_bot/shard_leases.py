"""Shard redundancy in the bot process: `ShardLeaseKeeper` / `HotSpare` driving the shards.

With ``SHARD_IDS`` the process claims those shards' leases, connects only the ones it holds (and
later the ones it claims once free) and renews them with the time each shard's gateway connection
was last alive (`vectobeat_bot.shard_liveness.ShardLiveness`); fenced from one (a spare took it
over), or its connection stalled (surrendered before a spare may take it), it closes that shard and
lets go of its guilds' players without touching their snapshots. A shard silent past the surrender
point is not resumed either (`VectoBeatBot.gateway_gate`): a process that was frozen gives its
shards up instead of resuming sessions a spare has replaced. With
``SHARD_SPARE`` it starts with no shard, and when it takes over a stale shard of its ``REGION`` (at
most ``SHARD_SPARE_MAX`` of them) it
connects it, restores its guilds' players from the queue snapshots and counts the promotion
(``vectobeat_shard_promotions_total``); the supervisor writes the ``shard_failover`` audit event.
A promotion is an alarm (``alarm``), resolved once the spare serves the shard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.abc

from vectobeat_adapters.config.shards import lease_shard_ids
from vectobeat_adapters.shard_supervisor import HotSpare, ShardLeaseKeeper
from vectobeat_bot.bot import VectoBeatBot
from vectobeat_core.decision_alarms import promotion_alarm, promotion_settled_alarm
from vectobeat_core.health import Alarm
from vectobeat_core.ids import GuildId, ShardId
from vectobeat_core.ports import AuditLog, Clock, LeaseStore
from vectobeat_core.regions import Region
from vectobeat_core.shards import must_surrender

__all__ = ["ShardLeases", "lease_shard_ids"]

_log = logging.getLogger("vectobeat.bot.shards")

RENEWS_PER_STALE = 4
"""Renewals (and spare checks) per ``SHARD_STALE_AFTER``: a few may be missed before a takeover."""


class ShardLeases:
    """Runs the keeper and/or the spare for ``bot`` (see the module docstring)."""

    def __init__(
        self,
        bot: VectoBeatBot,
        *,
        store: LeaseStore,
        owner: str,
        region: Region,
        shard_ids: list[ShardId],
        spare: bool,
        stale_after: float,
        spare_max: int | None = None,
        clock: Clock,
        audit: AuditLog,
        alarm: Callable[[Alarm], None] | None = None,
    ) -> None:
        self.bot = bot
        self.owner = owner
        self.clock = clock
        self._alarm = alarm
        self.active: set[int] = set()
        bot.deps.active_shards = self.active
        bot.deps.standby = spare
        every = stale_after / RENEWS_PER_STALE
        bot.connect_check = lambda shard: (
            not must_surrender(clock.now(), bot.liveness.alive_at(ShardId(shard)), stale_after)
        )
        self.keeper: ShardLeaseKeeper | None = None
        self.spare: HotSpare | None = None
        if shard_ids:
            self.keeper = ShardLeaseKeeper(
                store, owner, region, shard_ids, stale_after, every, clock, self._fenced,
                on_claimed=self._claimed, liveness=bot.liveness.alive_at,
            )  # fmt: skip
        if spare:
            self.spare = HotSpare(
                store, owner, region, stale_after, every, clock, audit, self._promoted,
                on_fenced=self._fenced, max_shards=spare_max, liveness=bot.liveness.alive_at,
            )  # fmt: skip

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Claim (keeper) and connect the held shards, then renew / watch until cancelled."""
        async with anyio.create_task_group() as tg:
            if self.keeper is not None:
                await tg.start(self.keeper.run)
                held = sorted(self.keeper.held)
                _log.info("shards_held shards=%s busy=%s", held, self._busy(held))
                tg.start_soon(self._start_held, held)
            if self.spare is not None:
                await tg.start(self.spare.run)
            task_status.started()

    async def release(self) -> None:
        """Free the held leases (a deliberate shutdown: the shards can be claimed at once)."""
        if self.keeper is not None:
            await self.keeper.release_all()

    def _busy(self, held: list[ShardId]) -> list[ShardId]:
        assert self.keeper is not None
        return [s for s in self.keeper.shard_ids if s not in held]

    async def _start_held(self, shards: list[ShardId]) -> None:
        try:
            await self._start(shards)
        except TimeoutError:
            _log.error("shards_not_ready shards=%s (the gateway did not answer in time)", shards)

    async def _start(self, shards: list[ShardId]) -> None:
        if shards:
            self.active.update(shards)
            await self.bot.start_shards(shards)

    async def _claimed(self, shard: ShardId, epoch: int) -> None:
        _log.info("shard_claimed shard=%s epoch=%s", shard, epoch)
        await self._take(shard)

    async def _promoted(self, shard: ShardId, epoch: int) -> None:
        self._raise(promotion_alarm(shard, self.owner, epoch, self.clock.now()))
        guilds = await self._take(shard)
        self.bot.deps.metrics.promotions.inc()
        _log.info("shard_promoted shard=%s epoch=%s", shard, epoch)
        self._raise(promotion_settled_alarm(shard, self.owner, guilds, self.clock.now()))

    def _raise(self, alarm: Alarm) -> None:
        if self._alarm is not None:
            self._alarm(alarm)

    async def _take(self, shard: ShardId) -> int:
        """Connect ``shard`` and restore its guilds' players from their snapshots; how many
        guilds it has."""
        await self._start([shard])
        guilds = {GuildId(g.id) for g in self.bot.guilds if g.shard_id == shard}
        restored = await self.bot.deps.players.restore_all(guilds)
        _log.info(
            "shard_guilds_restored shard=%s guilds=%d players=%d", shard, len(guilds), restored
        )
        return len(guilds)

    async def _fenced(self, shard: ShardId) -> None:
        """Another process holds ``shard`` now, or its connection stalled here (surrendered for
        a spare): close it and let its guilds' players go."""
        reason = "fenced" if self._lost(shard) else "stalled"
        self.active.discard(shard)
        guilds = [GuildId(g.id) for g in self.bot.guilds if g.shard_id == shard]
        await self.bot.stop_shard(shard)
        released = await self.bot.deps.players.release(guilds)
        _log.warning(
            "shard_stopped shard=%s reason=%s players_released=%d", shard, reason, released
        )

    def _lost(self, shard: ShardId) -> bool:
        return any(s is not None and shard in s.fenced for s in (self.keeper, self.spare))
