"""Shard leases at run time: ``ShardLeaseKeeper`` for a bot process, ``HotSpare`` for a spare.

A bot process owns its shard IDs through leases in a ``LeaseStore`` (owner, epoch, heartbeat). The
keeper claims them at start and renews them every ``renew_every`` seconds; a renew the store refuses
(someone holds a newer epoch) means the process was fenced: the keeper stops renewing that shard and
calls ``on_fenced(shard_id)`` so the bot stops it.

With ``liveness`` (when each shard's gateway connection was last alive) a renewal writes that
time, not the clock's: a shard whose connection stalls inside a running process goes stale like a
dead process's. Silent for half of ``stale_after`` (``vectobeat_core.shards.must_surrender``), the
shard is surrendered: no longer renewed and stopped through ``on_fenced`` before a spare may claim
it, so it never has two gateway sessions; a keeper re-claims it itself only if no spare took it
within ``RECLAIM_AFTER_STALE * stale_after``.

A hot spare lists the leases every ``check_every`` seconds (and again right when the next one would
go stale, ``vectobeat_core.shards.next_stale_at``), lets ``plan_promotion`` pick a stale shard
of its region and claims it through the store, whose atomic claim is the arbiter between racing
spares (the loser gets ``None``). The winner writes a ``shard_failover`` audit event, counts it in
``promotions_total``, renews the lease from then on, and calls ``on_promote(shard_id, epoch)`` so the
bot starts the shard and restores its guilds' players from the queue snapshots.

Every store error is logged, counted (``store_errors_total``, ``last_error``) and retried with
the core's back-off (``backoff_base`` doubling up to the loop's interval, no jitter); it never
ends ``run``.
Both run in a task group the caller owns: ``await tg.start(keeper.run)``. Time written into leases
comes from the injected ``Clock``; the loops sleep in real time. Owner names must be unique per
process run: a lease already recorded under the caller's own name is adopted (a claim whose reply
was lost). During a store outage a keeper keeps its shards running (it cannot tell an outage from
a partition), so a spare that took over in the meantime overlaps with it until its next renew.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import NoReturn

import anyio
import anyio.abc
import tenacity

from vectobeat_adapters.retrying import EqualJitter, supervise
from vectobeat_core.audit import AuditEvent
from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.errors import ConfigError, OutcomeUnknown, StaleVersion, VectoBeatError
from vectobeat_core.ids import ShardId
from vectobeat_core.ports import AuditLog, Clock, LeaseStore
from vectobeat_core.regions import Region
from vectobeat_core.shards import (
    Lease,
    must_surrender,
    next_stale_at,
    plan_promotion,
    renewal_heartbeat,
)

__all__ = ["HotSpare", "Liveness", "OnPromote", "OnShard", "ShardLeaseKeeper"]

_log = logging.getLogger("vectobeat.shards")

OnShard = Callable[[ShardId], Awaitable[None]]
"""An async callback about one shard (``on_fenced``: the bot stops it)."""

OnPromote = Callable[[ShardId, int], Awaitable[None]]
"""An async callback with the shard and the epoch now held (the bot starts it)."""

RECLAIM_AFTER_STALE = 2.0
"""A keeper re-claims a shard it surrendered once it stayed unclaimed this many ``stale_after``."""

Liveness = Callable[[ShardId], float | None]
"""When a held shard's gateway connection was last known alive (clock time; ``None``: now)."""

_AUDIT_ATTEMPTS = 3
_STALE_MARGIN = 0.01
"""Seconds after a lease's stale moment a spare looks again (clock granularity)."""


def _check_timing(stale_after: float, interval: float, name: str) -> None:
    if not stale_after > 0:
        raise ConfigError(f"stale_after must be a positive number of seconds, got {stale_after!r}")
    if not 0 < interval < stale_after:
        raise ConfigError(
            f"{name} must be positive and below stale_after ({stale_after}s), got {interval!r}"
        )


class _Errors:
    """Counts and reports store errors; runs a loop that backs off while they last."""

    def __init__(self, who: str, backoff_base: float) -> None:
        self.who = who
        self.backoff_base = backoff_base
        self.total = 0
        self.last: Exception | None = None
        self.streak = 0

    def report(self, action: str, exc: Exception) -> None:
        self.total += 1
        self.streak += 1
        self.last = exc
        _log.warning(
            "shard_lease_store_error who=%s action=%s attempt=%d error=%s",
            self.who, action, self.streak, exc,
            exc_info=not isinstance(exc, VectoBeatError),  # a traceback only for the unexpected
        )  # fmt: skip

    def delay(self, interval: float) -> float:
        """The next sleep: ``interval`` after a clean round, else the back-off up to it
        (``backoff_base`` doubling with each error of the streak)."""
        if not self.streak:
            return interval
        backoff = ExponentialBackoff.clamped(self.backoff_base, interval, spread=0.0)
        return backoff.delay(self.streak - 1)

    async def supervise(
        self,
        step: Callable[[], Awaitable[object]],
        interval: float,
        pause: Callable[[], float] | None = None,
    ) -> NoReturn:
        """Run ``step`` until cancelled: ``pause()`` seconds (default ``interval``) after a clean
        round, the back-off after one with store errors."""
        await supervise(
            step,
            retry=tenacity.retry_if_result(lambda _: self.streak > 0),
            wait=lambda _state: self.delay(interval),
            idle=lambda: anyio.sleep(interval if pause is None else pause()),
        )


class _Renewer:
    """Heartbeats the leases one process holds; drops and reports those it was fenced from."""

    def __init__(  # noqa: PLR0917 (internal; both supervisors pass the same things)
        self,
        store: LeaseStore,
        who: str,
        clock: Clock,
        errors: _Errors,
        on_fenced: OnShard | None,
        stale_after: float,
        liveness: Liveness | None = None,
    ) -> None:
        self.store = store
        self.who = who
        self.clock = clock
        self.errors = errors
        self.on_fenced = on_fenced
        self.stale_after = stale_after
        self.liveness = liveness
        self.held: dict[ShardId, Lease] = {}
        self.fenced: set[ShardId] = set()
        self.surrendered: dict[ShardId, float] = {}
        """Shards stopped for a stalled gateway connection, with when (clock time)."""

    async def renew_all(self, tg: anyio.abc.TaskGroup) -> bool:
        """Renew every held lease once; False when a store error happened (retry sooner).

        The heartbeat written is when the shard's connection was last alive; a shard silent too
        long is surrendered instead (stopped through ``on_fenced``, no longer renewed)."""
        clean = True
        for shard, lease in sorted(self.held.items()):
            now = self.clock.now()
            alive_at = None if self.liveness is None else self.liveness(shard)
            if must_surrender(now, alive_at, self.stale_after):
                self._surrender(shard, lease, now - (alive_at or now), tg)
                continue
            try:
                renewed = await self.store.renew(lease, renewal_heartbeat(now, alive_at))
            except StaleVersion as exc:
                if self.held.get(shard) == lease:
                    self._fence(shard, lease, exc, tg)
                continue
            except Exception as exc:  # reported and retried; the loop must survive
                self.errors.report(f"renewing shard {shard}", exc)
                clean = False
                continue
            if self.held.get(shard) is lease:
                self.held[shard] = renewed
        if clean:
            self.errors.streak = 0
        return clean

    def _fence(
        self, shard: ShardId, lease: Lease, exc: StaleVersion, tg: anyio.abc.TaskGroup
    ) -> None:
        del self.held[shard]
        self.fenced.add(shard)
        _log.warning(
            "shard_fenced who=%s shard=%s epoch=%s current_epoch=%s",
            self.who, shard, lease.epoch, exc.current,
        )  # fmt: skip
        if self.on_fenced is not None:
            tg.start_soon(_call, "on_fenced", self.who, self.on_fenced, shard)

    def _surrender(
        self, shard: ShardId, lease: Lease, silent_for: float, tg: anyio.abc.TaskGroup
    ) -> None:
        del self.held[shard]
        self.surrendered[shard] = self.clock.now()
        _log.warning(
            "shard_stalled who=%s shard=%s epoch=%s silent_for_s=%.1f: stopping it for a spare",
            self.who, shard, lease.epoch, silent_for,
        )  # fmt: skip
        if self.on_fenced is not None:
            tg.start_soon(_call, "on_fenced", self.who, self.on_fenced, shard)

    def hold(self, lease: Lease) -> None:
        self.held[lease.shard_id] = lease
        self.fenced.discard(lease.shard_id)
        self.surrendered.pop(lease.shard_id, None)


async def _call(
    name: str, who: str, callback: Callable[..., Awaitable[None]], *args: object
) -> None:
    """Run a caller's callback; its failure is logged, never fatal to the loop."""
    try:
        await callback(*args)
    except Exception:
        _log.exception("shard_callback_failed who=%s callback=%s args=%s", who, name, args)


class _LeaseHolder:
    """The leases a keeper (its shards) or a spare (the shards it took over) renews, as seen now."""

    _renewer: _Renewer

    @property
    def held(self) -> Mapping[ShardId, Lease]:
        """The leases held now (fenced ones are gone)."""
        return dict(self._renewer.held)

    @property
    def fenced(self) -> frozenset[ShardId]:
        """Shards lost to a newer epoch."""
        return frozenset(self._renewer.fenced)

    @property
    def surrendered(self) -> frozenset[ShardId]:
        """Shards stopped for a stalled connection (a keeper may re-claim them later)."""
        return frozenset(self._renewer.surrendered)


class ShardLeaseKeeper(_LeaseHolder):
    """Claims a bot process's shards at start, renews them, reports fencing (see module doc).

    Shards another process holds fresh at start are left to it; with ``on_claimed`` the keeper
    claims them later, once their lease is free or stale, and calls ``on_claimed(shard, epoch)``.
    """

    def __init__(  # noqa: PLR0917 (the positional order the bot wiring was promised)
        self,
        store: LeaseStore,
        owner: str,
        region: Region,
        shard_ids: Iterable[ShardId],
        stale_after: float,
        renew_every: float,
        clock: Clock,
        on_fenced: OnShard,
        *,
        on_claimed: OnPromote | None = None,
        liveness: Liveness | None = None,
        backoff_base: float = 0.1,
    ) -> None:
        _check_timing(stale_after, renew_every, "renew_every")
        if not owner.strip():
            raise ConfigError("a shard lease owner needs a non-empty name")
        self.owner = owner
        self.region = region
        self.shard_ids: tuple[ShardId, ...] = tuple(sorted(set(shard_ids)))
        self.stale_after = stale_after
        self.renew_every = renew_every
        self._store = store
        self._clock = clock
        self._on_claimed = on_claimed
        self._errors = _Errors(owner, backoff_base)
        self._renewer = _Renewer(
            store, owner, clock, self._errors, on_fenced, stale_after, liveness
        )
        self._busy: set[ShardId] = set()

    @property
    def store_errors_total(self) -> int:
        return self._errors.total

    @property
    def last_error(self) -> Exception | None:
        return self._errors.last

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Claim every shard (retrying store errors), signal started, then renew until cancelled."""
        async with anyio.create_task_group() as tg:
            await self._claim_all(set(self.shard_ids))
            task_status.started()

            async def renew() -> None:
                clean = await self._renewer.renew_all(tg)
                wanted = self._busy | self._reclaimable()
                if clean and self._on_claimed is not None and wanted:
                    await self._claim(wanted, tg=tg)

            await anyio.sleep(self.renew_every)
            await self._errors.supervise(renew, self.renew_every)

    def _reclaimable(self) -> set[ShardId]:
        """Surrendered shards no spare took within ``RECLAIM_AFTER_STALE * stale_after``."""
        wait = RECLAIM_AFTER_STALE * self.stale_after
        now = self._clock.now()
        return {s for s, at in self._renewer.surrendered.items() if now - at >= wait}

    async def release_all(self) -> None:
        """Free every held shard now (at a deliberate shutdown; a spare takes only stale leases)."""
        for shard, lease in sorted(self._renewer.held.items()):
            try:
                await self._store.release(lease)
            except Exception as exc:  # the lease goes stale on its own
                self._errors.report(f"releasing shard {shard}", exc)
            self._renewer.held.pop(shard, None)

    async def _claim_all(self, shards: set[ShardId]) -> None:
        """Claim ``shards``, trying those that hit a store error again (backing off) until none
        is left: a shard another owner holds is not waited for here (``_busy``)."""
        pending = shards

        async def claim_pending() -> set[ShardId]:
            nonlocal pending
            pending = await self._claim(pending, tg=None)
            return pending

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_result(bool),
            stop=tenacity.stop_never,
            wait=lambda _state: self._errors.delay(self.renew_every),
            sleep=anyio.sleep,
        )
        await retrying(claim_pending)

    async def _claim(self, shards: set[ShardId], tg: anyio.abc.TaskGroup | None) -> set[ShardId]:
        """Try to claim ``shards``; the ones that hit a store error are returned for a retry."""
        failed: set[ShardId] = set()
        for shard in sorted(shards):
            try:
                lease = await self._store.claim(
                    shard, self.owner, self.region, self._clock.now(), self.stale_after
                )
                if lease is None:
                    current = await self._store.get(shard)
                    if current is not None and current.owner == self.owner:
                        lease = current  # our own claim whose reply was lost
            except Exception as exc:  # reported and retried
                self._errors.report(f"claiming shard {shard}", exc)
                failed.add(shard)
                continue
            if lease is None:
                if shard not in self._busy:
                    _log.warning("shard_lease_busy owner=%s shard=%s", self.owner, shard)
                self._busy.add(shard)
                self._renewer.surrendered.pop(shard, None)
                continue
            self._busy.discard(shard)
            self._renewer.hold(lease)
            _log.info(
                "shard_lease_claimed owner=%s shard=%s epoch=%s", self.owner, shard, lease.epoch
            )
            if tg is not None and self._on_claimed is not None:
                tg.start_soon(_call, "on_claimed", self.owner, self._on_claimed, shard, lease.epoch)
        if not failed:
            self._errors.streak = 0
        return failed


class HotSpare(_LeaseHolder):
    """Watches its region's leases and takes over stale shards (see the module docstring).

    ``max_shards`` caps how many shards this spare takes over (``None``: no cap). A promoted shard is
    renewed every ``renew_every`` seconds (default ``check_every``); if the spare is fenced from it
    later, ``on_fenced`` is called. When ``on_promote`` fails the spare stops renewing that lease, so
    it goes stale again and another spare takes it.
    """

    def __init__(  # noqa: PLR0917 (the positional order the bot wiring was promised)
        self,
        store: LeaseStore,
        spare_id: str,
        region: Region,
        stale_after: float,
        check_every: float,
        clock: Clock,
        audit: AuditLog,
        on_promote: OnPromote,
        *,
        on_fenced: OnShard | None = None,
        renew_every: float | None = None,
        max_shards: int | None = None,
        liveness: Liveness | None = None,
        backoff_base: float = 0.1,
    ) -> None:
        _check_timing(stale_after, check_every, "check_every")
        renew = check_every if renew_every is None else renew_every
        _check_timing(stale_after, renew, "renew_every")
        if not spare_id.strip():
            raise ConfigError("a hot spare needs a non-empty name")
        if max_shards is not None and max_shards < 1:
            raise ConfigError(f"max_shards must be at least 1, got {max_shards}")
        self.spare_id = spare_id
        self.region = region
        self.stale_after = stale_after
        self.check_every = check_every
        self.renew_every = renew
        self.max_shards = max_shards
        self.promotions_total = 0
        self._store = store
        self._clock = clock
        self._audit = audit
        self._on_promote = on_promote
        self._errors = _Errors(spare_id, backoff_base)
        self._renew_errors = _Errors(spare_id, backoff_base)
        self._renewer = _Renewer(
            store, spare_id, clock, self._renew_errors, on_fenced, stale_after, liveness
        )
        self._next_stale: float | None = None

    @property
    def store_errors_total(self) -> int:
        return self._errors.total + self._renew_errors.total

    @property
    def last_error(self) -> Exception | None:
        return self._errors.last or self._renew_errors.last

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Check for stale shards every ``check_every`` seconds, and again right when the next
        lease would go stale (a stalled shard is taken within moments of ``stale_after``);
        renew promoted ones."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._renew_loop, tg)
            task_status.started()

            def pause() -> float:
                until = self._until_next_stale()
                return self.check_every if until is None else min(self.check_every, until)

            await self._errors.supervise(partial(self.check_once, tg), self.check_every, pause)

    def _until_next_stale(self) -> float | None:
        """Seconds until the next lease this spare could take goes stale; ``None`` when none
        will (none listed, or this spare is full), or one already is (left to the regular
        check: another spare may be taking it)."""
        full = self.max_shards is not None and len(self._renewer.held) >= self.max_shards
        if self._next_stale is None or full:
            return None
        until = self._next_stale - self._clock.now()
        return until + _STALE_MARGIN if until > 0 else None

    async def check_once(self, tg: anyio.abc.TaskGroup | None = None) -> list[Lease]:
        """One watch round: promote every stale shard of the region this spare wins; return them.

        Store errors are reported (never raised). ``tg`` runs ``on_fenced`` callbacks; without it
        the spare's own renewals happen only inside ``run``.
        """
        try:
            leases = await self._store.all()
        except Exception as exc:  # reported and retried
            self._errors.report("listing shard leases", exc)
            return []
        self._next_stale = next_stale_at(leases, self.spare_id, self.region, self.stale_after)
        won: list[Lease] = []
        clean = True
        while self.max_shards is None or len(self._renewer.held) < self.max_shards:
            now = self._clock.now()
            promotion = plan_promotion(leases, self.spare_id, self.region, now, self.stale_after)
            if promotion is None:
                break
            leases = [lease for lease in leases if lease.shard_id != promotion.shard_id]
            try:
                lease = await self._store.claim(
                    promotion.shard_id, self.spare_id, self.region, now, self.stale_after
                )
                if lease is None:
                    current = await self._store.get(promotion.shard_id)
                    if current is not None and current.owner == self.spare_id:
                        if current.shard_id in self._renewer.held:
                            continue
                        lease = current  # our own claim whose reply was lost
            except Exception as exc:  # reported and retried next round
                self._errors.report(f"claiming shard {promotion.shard_id}", exc)
                clean = False
                continue
            if lease is None:
                _log.info(
                    "shard_promotion_lost spare=%s shard=%s", self.spare_id, promotion.shard_id
                )
                continue
            await self._promote(lease, promotion.from_owner, promotion.stale_for_seconds)
            won.append(lease)
        if clean:
            self._errors.streak = 0
        return won

    async def _promote(self, lease: Lease, from_owner: str, stale_for: float) -> None:
        self._renewer.hold(lease)
        self.promotions_total += 1
        _log.warning(
            "shard_failover spare=%s shard=%s from_owner=%s epoch=%s stale_for_s=%.1f",
            self.spare_id, lease.shard_id, from_owner, lease.epoch, stale_for,
        )  # fmt: skip
        event = AuditEvent.shard_failover(
            lease.shard_id, from_owner, self.spare_id, lease.epoch, self._clock.now()
        )
        await self._audit_promotion(event, lease.shard_id)
        try:
            await self._on_promote(lease.shard_id, lease.epoch)
        except Exception:
            _log.exception(
                "shard_promotion_start_failed spare=%s shard=%s epoch=%s",
                self.spare_id, lease.shard_id, lease.epoch,
            )  # fmt: skip
            if self._renewer.held.get(lease.shard_id, lease).epoch == lease.epoch:
                self._renewer.held.pop(lease.shard_id, None)  # let it go stale for another spare

    async def _audit_promotion(self, event: AuditEvent, shard: ShardId) -> None:
        """Append ``event``, tried up to ``_AUDIT_ATTEMPTS`` times; the promotion stands either
        way and an audit gap is logged. An append that may have been applied is not repeated."""

        async def append() -> None:
            try:
                await self._audit.append(event)
            except Exception as exc:
                self._errors.report(f"auditing the failover of shard {shard}", exc)
                raise

        base = self._errors.backoff_base
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(Exception)
            & tenacity.retry_if_not_exception_type(OutcomeUnknown),
            stop=tenacity.stop_after_attempt(_AUDIT_ATTEMPTS),
            wait=EqualJitter(base_s=2 * base, cap_s=max(2 * base, self.check_every)),
            sleep=anyio.sleep,
            reraise=True,
        )
        try:
            await retrying(append)
        except OutcomeUnknown:
            _log.error("shard_failover_audit_unconfirmed spare=%s shard=%s", self.spare_id, shard)
        except Exception:
            _log.error("shard_failover_audit_lost spare=%s shard=%s", self.spare_id, shard)

    async def _renew_loop(self, tg: anyio.abc.TaskGroup) -> None:
        await anyio.sleep(self.renew_every)
        await self._renew_errors.supervise(partial(self._renewer.renew_all, tg), self.renew_every)
