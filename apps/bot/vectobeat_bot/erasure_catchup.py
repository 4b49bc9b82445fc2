"""``ErasureCatchUp``: the bot applies every erasure in the record (`vectobeat_core.erasures`) once.

Each erasure goes through ``erase`` (`SettingsSync.erase`: the player, the queue with its journal
entries and snapshot, the last known settings file), and the `ErasureLedger` of what was applied
is kept in ``BOT_DATA_DIR/erasures.json`` (replaced atomically after each step). Erasures arrive
three ways: `catch_up` reads the record after the ledger's cursor (at start, before the last known
settings are loaded and the journal is replayed; on `wake`, after each reconnect of the settings
follow; every ``interval``; with back-off while the record cannot be read), the long poll's answer
carries a page of it (`take`), and a pushed notice is applied at once (`notice`). An erasure whose
local part fails stays in the ledger's ``retry`` and is tried again at each catch-up. Before
each erasure is applied its guild is held to it (`keeps`, in memory: settings and snapshots
written before it are never stored or served again by this process, whenever they arrive).

The record is read through the panel's bridge (`BridgeErasureRecord`), or, for a bot without a
bridge, from the SQL store the panel keeps it in (the compliance store is an `ErasureRecord`).
`status` is the dependency board's ``erasure_record``: down until the record was read once.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import anyio
import anyio.abc
import anyio.to_thread
import tenacity

from vectobeat_adapters.atomic_file import write_atomically
from vectobeat_adapters.retrying import BackoffWait, failure, supervise
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.dependencies import (
    RECONNECT_BASE_S,
    RECONNECT_CAP_S,
    DependencyState,
    DependencyStatus,
)
from vectobeat_core.erasures import ERASURE_PAGE, ErasedGuilds, Erasure, ErasureLedger
from vectobeat_core.errors import BridgeUnavailable, InvalidInput, VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import Clock, ErasureRecord

__all__ = ["LEDGER_FILE", "BridgeErasureRecord", "ErasureCatchUp", "read_erasures"]

_log = logging.getLogger("vectobeat.bot.erasures")

LEDGER_FILE = "erasures.json"
"""The ledger's file name inside ``BOT_DATA_DIR``."""
FORMAT = 1


def read_erasures(raw: object) -> list[Erasure]:
    """A page of the record as the bridge sends it; `BridgeUnavailable` if it is unreadable."""
    try:
        if not isinstance(raw, list):
            raise InvalidInput("not a list")
        return [Erasure.from_json(item) for item in raw]
    except InvalidInput as exc:
        raise BridgeUnavailable(
            "The panel sent an unreadable erasure record: {problem}", problem=exc.message
        ) from None


class BridgeErasureRecord:
    """`ErasureRecord` over the panel's bridge (``GET /api/bot/erasures``; a page at a time)."""

    def __init__(self, bridge: BridgeClient, wait_s: float = 5.0) -> None:
        self._bridge = bridge
        self._wait_s = wait_s

    async def erasures_since(self, cursor: int, limit: int) -> list[Erasure]:
        body = await self._bridge.request(
            "GET", "/api/bot/erasures", params={"since": str(cursor)}, wait_s=self._wait_s
        )
        return read_erasures(body.get("erasures") if isinstance(body, Mapping) else None)[:limit]


class ErasureCatchUp:
    """See the module docstring."""

    def __init__(
        self,
        record: ErasureRecord,
        erase: Callable[[GuildId], Awaitable[None]],
        folder: Path,
        clock: Clock,
        *,
        interval: float = 60.0,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._record = record
        self._erase = erase
        self.path = folder / LEDGER_FILE
        self._clock = clock
        self._interval = interval
        self._backoff = BackoffWait(ExponentialBackoff(RECONNECT_BASE_S, RECONNECT_CAP_S), draw)
        self._lock = anyio.Lock()
        self._wake = anyio.Event()
        self.ledger = ErasureLedger()
        self.erased = ErasedGuilds()
        """The guilds erased by this process, in memory only (`keeps`)."""
        self._written = False
        self.status = DependencyStatus(
            "erasure_record", DependencyState.DOWN, clock.now(), 0, "not read yet"
        )

    @property
    def cursor(self) -> int:
        """The place in the record up to which every erasure was applied (or is retried)."""
        return self.ledger.cursor

    def applied(self, guild_id: GuildId) -> int:
        """The place in the record up to which every erasure of the guild was applied here
        (`ErasureLedger.applied`; sent with its queue snapshots)."""
        return self.ledger.applied(guild_id)

    def withheld(self) -> frozenset[GuildId]:
        """Guilds whose erasure failed here so far: nothing of theirs may be restored."""
        return self.ledger.withheld

    def keeps(self, guild_id: GuildId, written_at: float | None) -> bool:
        """Whether data of the guild written at ``written_at`` may be stored or served here (not
        when written before its erasure applied here: `ErasedGuilds.keeps`)."""
        return self.erased.keeps(guild_id, written_at)

    # -- start -------------------------------------------------------------------------------

    def load(self) -> bool:
        """Read the ledger from disk; whether there was one (an unreadable one is logged and
        replaced by an empty ledger: every erasure in the record is applied again)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            _log.error("erasure_ledger_unreadable file=%s error=%s", self.path, exc)
            return True
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise InvalidInput("not a format {format} erasure ledger", format=FORMAT)
            self.ledger = ErasureLedger.from_json(data.get("ledger"))
        except (ValueError, InvalidInput) as exc:
            _log.error("erasure_ledger_unreadable file=%s error=%s", self.path, exc)
        else:
            self._written = True
        return True

    async def start(self, *, fresh: bool) -> None:
        """Catch up once, before anything of a guild is served from this bot's disk. A ``fresh``
        bot (no ledger, nothing on disk an erasure could name) owes nothing to the erasures
        placed before now (`ErasureLedger.since`). A failure is logged and in `status`; `run`
        tries again."""
        if fresh:
            await self._keep(ErasureLedger(since=self._clock.now()))
            _log.info("erasure_ledger_started since=%s", self.ledger.since)
        try:
            await self.catch_up()
        except VectoBeatError as exc:
            self._failed(exc)
            _log.warning("erasure_catch_up_deferred cursor=%d error=%s", self.cursor, exc)

    # -- applying ----------------------------------------------------------------------------

    async def catch_up(self) -> int:
        """Retry the erasures that failed here, then apply the record's after the cursor; how
        many were applied. Raises if the record cannot be read (what was applied is kept)."""
        async with self._lock:
            done = 0
            for erasure in self.ledger.retry:
                ok = await self._apply(erasure)
                done += ok
                await self._keep(self.ledger.retried(erasure, failed=not ok))
            while True:
                page = await self._record.erasures_since(self.ledger.cursor, ERASURE_PAGE)
                done += await self._take(page)
                if len(page) < ERASURE_PAGE:
                    break
            await self._keep(self.ledger)  # a first catch-up that found nothing writes it too
            self._caught_up()
            return done

    async def take(self, page: Sequence[Erasure]) -> None:
        """A page of the record read after `cursor` (the long poll's answer): apply it; a full
        page wakes `run` for the rest."""
        async with self._lock:
            await self._take(page)
            self._caught_up()
        if len(page) >= ERASURE_PAGE:
            self.wake()

    async def notice(self, guild_id: GuildId, seq: int, erased_at: float | None = None) -> None:
        """A pushed notice of erasure ``seq`` run at ``erased_at`` (panel time; 0 and ``None``:
        unknown, from an older panel, which the bot's clock stands in for): applied now, and once
        only."""
        at = self._clock.now() if erased_at is None else erased_at
        erasure = Erasure(max(seq, 1), guild_id, at)
        if seq < 1:
            if await self._apply(erasure):
                self.wake()  # its place comes with the record's next page
            return
        async with self._lock:
            if self.ledger.due(erasure):
                ok = await self._apply(erasure)
                await self._keep(self.ledger.noticed(erasure, failed=not ok))

    async def _take(self, page: Sequence[Erasure]) -> int:
        done = 0
        for erasure in page:
            ok = True
            if self.ledger.due(erasure):
                ok = await self._apply(erasure)
                done += ok
            await self._keep(self.ledger.read(erasure, failed=not ok))
        return done

    async def _apply(self, erasure: Erasure) -> bool:
        self.erased = self.erased.erasing(erasure)  # first: no answer in flight undoes it
        try:
            await self._erase(erasure.guild_id)
        except VectoBeatError as exc:
            _log.warning(
                "erasure_apply_failed guild=%s seq=%d error=%s", erasure.guild_id, erasure.seq, exc
            )
            return False
        _log.info("erasure_applied guild=%s seq=%d", erasure.guild_id, erasure.seq)
        return True

    async def _keep(self, ledger: ErasureLedger) -> None:
        """Hold ``ledger`` and write it (a failed write is logged: a restart then applies the
        erasures since the last written cursor again, which does no harm)."""
        if ledger == self.ledger and self._written:
            return
        self.ledger = ledger
        data = json.dumps({"format": FORMAT, "ledger": ledger.to_json()}).encode()
        try:
            await anyio.to_thread.run_sync(write_atomically, self.path, data)
        except VectoBeatError as exc:
            self._written = False
            _log.warning("erasure_ledger_write_failed file=%s error=%s", self.path, exc)
        else:
            self._written = True

    # -- state ------------------------------------------------------------------------------

    def _observe(self, state: DependencyState, detail: str | None) -> None:
        before = self.status.state
        self.status = self.status.observe(state, self._clock.now(), detail)
        if self.status.state is not before:
            _log.info("erasure_record_%s cursor=%d detail=%s", state.value, self.cursor, detail)

    def _caught_up(self) -> None:
        retry = self.ledger.retry
        if not retry:
            self._observe(DependencyState.UP, None)
            return
        guilds = ", ".join(str(e.guild_id) for e in retry[:5])
        self._observe(DependencyState.DEGRADED, f"erasing again: guild {guilds}")

    def _failed(self, exc: VectoBeatError) -> None:
        self._observe(DependencyState.DOWN, exc.message)

    def wake(self) -> None:
        """Catch up now (the settings follow reconnected, or the panel came back), also in the
        middle of a back-off."""
        self._wake.set()

    async def _pause(self, seconds: float) -> None:
        with anyio.move_on_after(seconds):
            await self._wake.wait()
        self._wake = anyio.Event()

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Catch up every ``interval`` and on `wake` until cancelled; after a failed read, again
        with back-off."""
        task_status.started()
        reported: str | None = None

        def report(state: tenacity.RetryCallState) -> None:
            nonlocal reported
            error = failure(state)
            if isinstance(error, VectoBeatError):
                self._failed(error)
            message = str(error)
            if message != reported:  # once per distinct failure, not every retry
                _log.warning("erasure_catch_up_failed cursor=%d error=%s", self.cursor, message)
            reported = message

        await supervise(
            self._step,
            retry=tenacity.retry_if_exception_type(VectoBeatError),
            wait=self._backoff,
            sleep=self._pause,
            before_sleep=report,
        )

    async def _step(self) -> None:
        if self.status.usable:  # else the last read failed, and the back-off was waited
            await self._pause(self._interval)
        await self.catch_up()
