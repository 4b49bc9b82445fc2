"""``SettingsSync``: each guild's settings and plan as the panel's bridge holds them.

Reads ``GET /api/bot/server-settings`` and caches the answer with its version; applies pushed
changes (Redis pub/sub when configured, the bridge's long poll otherwise) only when newer
(`should_apply`); writes bot-side edits with the version they were based on (a 409 is re-read
and reported as a `Conflict`; a write whose outcome is unknown is re-read and reported as applied
only when it was, else as not confirmed: never as failed). When the panel cannot be reached the
last known settings stay in force and `state` says the sync is disconnected. Each applied change is
also kept on disk (`LastKnownSettings`), so a bot restarted while the panel is down serves each
guild's last known settings and plan (`is_last_known`, with their age) instead of the Free
defaults, which only a guild never fetched gets; `resync_last_known` replaces them once the panel
answers again. The files are read at the first need, or by `load_last_known` (the bot calls it
once it caught up on the erasure record). An erasure (`erase`) drops the guild here and on disk;
with an `ErasureCatchUp` (`follow_erasures`) the long poll asks for the erasure record's pages and
every notice goes through the catch-up's ledger, so each erasure is applied once, and settings
stored before a guild's erasure (an answer in flight, or read before the panel erased them) are
never kept, saved, served or announced after it (`_kept`): they read as no settings (defaults).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

import anyio
import anyio.abc
import attrs
import tenacity

from vectobeat_adapters.retrying import failure, supervise
from vectobeat_adapters.slim_lock import SlimLock
from vectobeat_bot.bridge_client import BridgeClient, BridgeConflict
from vectobeat_bot.erasure_catchup import ErasureCatchUp, read_erasures
from vectobeat_bot.settings_cache import CachedSettings, LastKnownSettings
from vectobeat_core.errors import (
    BridgeUnavailable,
    Conflict,
    InvalidInput,
    OutcomeUnknown,
    StorageUnavailable,
    VectoBeatError,
)
from vectobeat_core.ids import GuildId
from vectobeat_core.messages import read_phrase
from vectobeat_core.plans import Plan, PlanCatalogue, Tier
from vectobeat_core.ports import Clock, SettingsChange, SettingsChannel
from vectobeat_core.regions import RegionDecision, clamp_region
from vectobeat_core.settings import (
    Clamp,
    ServerSettings,
    clamp_to_plan,
    merge_settings,
    parse_settings,
    should_apply,
)
from vectobeat_core.status import SyncMode, SyncState

__all__ = ["ErasureListener", "GuildSettings", "SettingsListener", "SettingsSync", "read_clamps"]

_log = logging.getLogger("vectobeat.bot.settings")


@attrs.frozen
class GuildSettings:
    """A guild's settings at ``version`` (0: never saved), its plan, whether it is fresh, and when
    the panel stored it (``updated_at``, panel time; ``None``: unknown or never saved)."""

    guild_id: GuildId
    version: int
    plan: Plan
    settings: ServerSettings
    fetched_at: float | None
    updated_at: float | None = None

    @property
    def decision(self) -> RegionDecision:
        return clamp_region(self.plan, self.settings.region)


SettingsListener = Callable[[GuildSettings], Awaitable[None]]
ErasureListener = Callable[[GuildId], Awaitable[None]]


def read_clamps(raw: object) -> tuple[Clamp, ...]:
    """The panel's clamps, read leniently; a reason without a readable phrase (a panel from
    before phrases) is shown in English as the panel wrote it."""
    if not isinstance(raw, list):
        return ()
    out: list[Clamp] = []
    for item in raw:
        if isinstance(item, Mapping):
            tier = item.get("required_tier")
            out.append(
                Clamp(
                    field=str(item.get("field")),
                    requested=item.get("requested"),
                    effective=item.get("effective"),
                    reason=str(item.get("reason")),
                    required_tier=None if tier is None else Tier.parse(tier),
                    reason_phrase=read_phrase(item.get("reason_phrase")),
                )
            )
    return tuple(out)


def _seconds(raw: object) -> float | None:
    """A panel timestamp as sent (``None`` when absent or not a number)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return float(raw)


class SettingsSync:
    """The bot's view of every guild's settings (see the module docstring)."""

    def __init__(
        self,
        *,
        bridge: BridgeClient | None,
        channel: SettingsChannel | None,
        catalogue: PlanCatalogue,
        clock: Clock,
        poll_timeout: float = 25.0,
        retry_delay: float = 2.0,
        read_timeout: float = 2.0,
        last_known: LastKnownSettings | None = None,
    ) -> None:
        self._bridge = bridge
        self._channel = channel
        self._catalogue = catalogue
        self._clock = clock
        self._poll_timeout = poll_timeout
        self._retry_delay = retry_delay
        self._read_timeout = read_timeout
        self._cache: dict[GuildId, GuildSettings] = {}
        self._free = catalogue.plan(Tier.FREE)
        self._defaults = ServerSettings()
        self._locks: dict[GuildId, SlimLock] = {}
        self._listeners: list[SettingsListener] = []
        self._erasure_listeners: list[ErasureListener] = []
        self._connected = bridge is not None
        self._last_sync_at: float | None = None
        self._applied = 0
        self.last_error: str | None = None
        self._disk = last_known
        self._last_known: dict[GuildId, GuildSettings] | None = None
        self._withheld: set[GuildId] = set()
        """Erased guilds whose file could not be deleted yet: never served from disk."""
        self._from_disk: set[GuildId] = set()
        self._saved: set[GuildId] = set()
        self._erasures: ErasureCatchUp | None = None
        self._poll_erasures = True

    @property
    def mode(self) -> SyncMode:
        if self._bridge is None:
            return "off"
        return "pubsub" if self._channel is not None else "longpoll"

    @property
    def catalogue(self) -> PlanCatalogue:
        """The plan catalogue the guilds' plans come from."""
        return self._catalogue

    def listen(self, listener: SettingsListener) -> None:
        """Call ``listener`` after a newer version of a guild's settings was applied."""
        self._listeners.append(listener)

    def load_last_known(self) -> int:
        """Read the last known settings files now (else at the first need); how many."""
        known: dict[GuildId, GuildSettings] = {}
        if self._disk is not None:
            for entry in self._disk.load_all().values():
                held = GuildSettings(
                    entry.guild_id,
                    entry.version,
                    self._catalogue.plan(entry.tier),
                    entry.settings,
                    entry.fetched_at,
                    entry.updated_at,
                )
                if entry.guild_id not in self._withheld and self._kept(held):
                    known[entry.guild_id] = held
        self._last_known = known
        _log.info("last_known_settings_loaded count=%d", len(known))
        return len(known)

    def last_known_empty(self) -> bool:
        """Whether no guild's settings are kept on disk."""
        return self._disk is None or self._disk.is_empty()

    def _known(self) -> dict[GuildId, GuildSettings]:
        if self._last_known is None:
            self.load_last_known()
            assert self._last_known is not None
        return self._last_known

    def follow_erasures(self, erasures: ErasureCatchUp) -> None:
        """Apply erasure notices through ``erasures`` (once each), and ask the long poll for the
        erasure record after its cursor."""
        self._erasures = erasures

    def listen_erasure(self, listener: ErasureListener) -> None:
        """Call ``listener(guild)`` when the panel erases a guild (before its settings are
        forgotten here); it must drop everything it keeps of the guild."""
        self._erasure_listeners.append(listener)

    async def erase(self, guild_id: GuildId) -> None:
        """Right to erasure: the listeners drop the guild's player and queue, then its cached and
        last known settings go (memory and disk). Every step runs; a failing one is logged and
        then raised (`StorageUnavailable` naming them all) so the erasure is tried again."""
        problems: list[str] = []
        for listener in self._erasure_listeners:
            try:
                await listener(guild_id)
            except VectoBeatError as exc:
                _log.warning("erasure_listener_failed guild=%s error=%s", guild_id, exc)
                problems.append(exc.message)
        self._cache.pop(guild_id, None)
        if self._last_known is not None:
            self._last_known.pop(guild_id, None)
        self._from_disk.discard(guild_id)
        self._saved.discard(guild_id)
        if self._disk is not None:
            try:
                await self._disk.remove(guild_id)
            except VectoBeatError as exc:
                _log.warning("settings_cache_erase_failed guild=%s error=%s", guild_id, exc)
                problems.append(exc.message)
                self._withheld.add(guild_id)
            else:
                self._withheld.discard(guild_id)
        if problems:
            raise StorageUnavailable(
                "Guild {guild} is not erased here yet: {problems}",
                guild=guild_id,
                problems="; ".join(problems),
            )
        _log.info("guild_erased guild=%s", guild_id)

    async def _erased(self, guild_id: GuildId, seq: int, erased_at: float | None) -> None:
        """A pushed erasure notice (erasure ``seq`` of the record run at ``erased_at``; 0 and
        ``None`` when unknown)."""
        if self._erasures is not None:
            await self._erasures.notice(guild_id, seq, erased_at)
            return
        try:
            await self.erase(guild_id)
        except VectoBeatError as exc:  # logged step by step; no ledger here to retry it
            _log.warning("guild_erase_incomplete guild=%s error=%s", guild_id, exc)

    def state(self) -> SyncState:
        return SyncState(self.mode, self._connected, self._last_sync_at, self._applied)

    def lag_seconds(self) -> float:
        """Seconds since the bridge last answered (0 when sync is off or never ran)."""
        if self._last_sync_at is None:
            return 0.0
        return max(0.0, self._clock.now() - self._last_sync_at)

    def cached(self, guild_id: GuildId) -> GuildSettings | None:
        held = self._cache.get(guild_id)
        return held if held is None or self._kept(held) else None

    def _kept(self, held: GuildSettings) -> bool:
        """Whether ``held`` may be kept and served: not when stored before an erasure of its guild
        applied here (`ErasureCatchUp.keeps`); defaults (version 0) hold nothing erased."""
        erasures = self._erasures
        return (
            erasures is None or held.version == 0 or erasures.keeps(held.guild_id, held.updated_at)
        )

    def is_last_known(self, guild_id: GuildId) -> bool:
        """Whether the guild is served from the settings kept on disk (the panel did not answer
        since this process started)."""
        return guild_id in self._from_disk

    def default(self, guild_id: GuildId) -> GuildSettings:
        """What a guild gets before (or without) the panel: the free plan's defaults."""
        return GuildSettings(guild_id, 0, self._free, self._defaults, None)

    # -- reading -----------------------------------------------------------------------------

    async def get(self, guild_id: GuildId) -> GuildSettings:
        """The guild's settings: cached, else fetched; the last known (or defaults) if the panel
        is unreachable."""
        held = self.cached(guild_id)
        if held is not None:
            return held
        if self._bridge is None:
            held = self._cache[guild_id] = self.default(guild_id)
            return held
        lock = self._locks.setdefault(guild_id, SlimLock())
        async with lock:
            held = self.cached(guild_id)
            if held is not None:
                return held
            try:
                return await self.refresh(guild_id)
            except BridgeUnavailable:
                known = self._known().get(guild_id)
                if known is None or guild_id in self._withheld or not self._kept(known):
                    return self.default(guild_id)
                self._cache[guild_id] = known
                self._from_disk.add(guild_id)
                return known

    async def refresh(self, guild_id: GuildId) -> GuildSettings:
        """Re-read the guild from the bridge; keep it only when newer (or the plan changed)."""
        if self._bridge is None:
            return self.cached(guild_id) or self.default(guild_id)
        body = await self._call(
            "GET",
            "/api/bot/server-settings",
            params={"guild_id": str(guild_id)},
            wait_s=self._read_timeout,  # commands wait on this: stay inside Discord's 3 s
        )
        return await self._take(guild_id, body)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._bridge is not None
        try:
            answer = await self._bridge.request(method, path, **kwargs)
        except BridgeUnavailable as exc:
            if self._connected:
                _log.warning("settings_bridge_lost error=%s", exc.message)
            self._connected = False
            self.last_error = exc.message
            raise
        self._connected = True
        self.last_error = None
        self._last_sync_at = self._clock.now()
        return answer

    async def _take(self, guild_id: GuildId, body: object) -> GuildSettings:
        if not isinstance(body, Mapping):
            raise BridgeUnavailable("The panel bridge answered something that is not settings.")
        try:
            version = body["version"]
            plan = self._catalogue.plan(Tier.parse(body["plan"]))
            settings = parse_settings(body["settings"])
        except (KeyError, TypeError, InvalidInput) as exc:
            raise BridgeUnavailable(
                "The panel bridge sent unreadable settings: {problem}", problem=str(exc)
            ) from None
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise BridgeUnavailable("The panel bridge sent settings without a valid version.")
        fresh = GuildSettings(
            guild_id, version, plan, settings, self._clock.now(), _seconds(body.get("updated_at"))
        )
        if not self._kept(fresh):
            _log.info("settings_from_before_erasure guild=%s version=%d", guild_id, version)
            fresh = GuildSettings(guild_id, 0, plan, self._defaults, fresh.fetched_at)
            version = 0
        held = self.cached(guild_id)
        self._from_disk.discard(guild_id)
        newer = held is None or (version > 0 and should_apply(held.version, version))
        if not newer and held is not None and held.plan.tier == plan.tier:
            self._cache[guild_id] = attrs.evolve(held, fetched_at=fresh.fetched_at)
            if guild_id not in self._saved:
                await self._keep(self._cache[guild_id])
            return self._cache[guild_id]
        if not newer and held is not None:
            fresh = attrs.evolve(held, plan=plan, fetched_at=fresh.fetched_at)
        self._cache[guild_id] = fresh
        await self._keep(fresh)
        if not self._kept(fresh):  # the guild was erased here meanwhile
            return GuildSettings(guild_id, 0, plan, self._defaults, fresh.fetched_at)
        self._applied += 1
        for listener in self._listeners:
            try:
                await listener(fresh)
            except VectoBeatError as exc:
                _log.warning("settings_listener_failed guild=%s error=%s", guild_id, exc)
        return fresh

    async def _keep(self, held: GuildSettings) -> None:
        """Write what the panel just confirmed to disk (a failure is logged, never raised)."""
        if self._disk is None or held.fetched_at is None or not self._kept(held):
            return
        entry = CachedSettings(
            held.guild_id,
            held.version,
            held.plan.tier,
            held.settings,
            held.fetched_at,
            held.updated_at,
        )
        try:
            await self._disk.save(entry)  # an erasure's delete of the file waits for this
        except VectoBeatError as exc:
            _log.warning("settings_cache_write_failed guild=%s error=%s", held.guild_id, exc)
            return
        if not self._kept(held):  # erased meanwhile: the file is deleted after this save
            return
        self._known()[held.guild_id] = held
        self._saved.add(held.guild_id)

    async def probe(self, wait_s: float = 3.0) -> None:
        """One cheap bridge read (an empty change-feed page), for the panel's `DependencyWatch`;
        like every call, it keeps `state` current. `BridgeUnavailable` unless the bridge answers."""
        if self._bridge is None:
            raise BridgeUnavailable("The panel bridge is not configured.")
        await self._call(
            "GET",
            "/api/bot/server-settings/changes",
            params={"cursor": "0", "timeout": "0"},
            wait_s=wait_s,
        )

    async def resync_last_known(self) -> None:
        """Re-read every guild still served from disk (call when the panel answers again)."""
        for guild_id in sorted(self._from_disk):
            try:
                await self.refresh(guild_id)
            except VectoBeatError as exc:
                _log.warning("settings_resync_failed guild=%s error=%s", guild_id, exc)
                return

    # -- writing -----------------------------------------------------------------------------

    async def update(
        self, guild_id: GuildId, patch: Mapping[str, object]
    ) -> tuple[GuildSettings, tuple[Clamp, ...]]:
        """Write ``patch`` based on the version held; a stale base is re-read and reported."""
        if self._bridge is None:
            raise BridgeUnavailable(
                "Settings cannot be changed from Discord here: the panel bridge is not configured."
            )
        held = await self.get(guild_id)
        if not self._connected and held.fetched_at is None:
            held = await self.refresh(guild_id)
        body = {"version": held.version, "settings": dict(patch)}
        try:
            answer = await self._call(
                "PUT", "/api/bot/server-settings", params={"guild_id": str(guild_id)}, json=body
            )
        except OutcomeUnknown:
            return await self._confirm(held, patch)
        except BridgeConflict:
            current = await self.refresh(guild_id)
            raise Conflict(
                "These settings were changed in the panel meanwhile (now version "
                "{version}); I reloaded them, please run the command again.",
                version=current.version,
            ) from None
        clamps = read_clamps(answer.get("clamps") if isinstance(answer, Mapping) else None)
        return await self._take(guild_id, answer), clamps

    async def _confirm(
        self, held: GuildSettings, patch: Mapping[str, object]
    ) -> tuple[GuildSettings, tuple[Clamp, ...]]:
        """After a write whose outcome is unknown: re-read once and tell the truth when it can.
        Applied (a newer version holding what the panel would have stored: the patch clamped to
        the plan, by the core's rules): the settings and clamps; else an error saying what is known."""
        try:
            current = await self.refresh(held.guild_id)
        except VectoBeatError:
            raise OutcomeUnknown(
                "Your change was sent but not confirmed yet (the panel did not answer in time); "
                "check /settings show in a moment."
            ) from None
        base_version = held.version
        expected, clamps = clamp_to_plan(
            merge_settings(held.settings, patch), current.plan, self._catalogue
        )
        wanted, shown = expected.to_json(), current.settings.to_json()
        if current.version > base_version and all(shown[k] == wanted[k] for k in patch):
            return current, clamps
        if current.version > base_version:
            raise Conflict(
                "These settings were changed meanwhile (now version {version}) and do "
                "not show your change; check /settings show and run the command again if needed.",
                version=current.version,
            )
        raise OutcomeUnknown(
            "Your change was not confirmed and is not applied so far (the panel did not answer "
            "in time); check /settings show in a moment before trying again."
        )

    # -- following changes -----------------------------------------------------------------------

    async def _apply_change(self, change: SettingsChange) -> None:
        """Apply a newer version of a guild we hold: the state it carries, else a re-read."""
        held = self.cached(change.guild_id)
        if held is None or change.version <= 0 or not should_apply(held.version, change.version):
            return
        if change.state is not None:
            try:
                await self._take(change.guild_id, change.state)
                return
            except BridgeUnavailable as exc:  # unreadable: read it from the bridge instead
                _log.warning("settings_change_unreadable guild=%s error=%s", change.guild_id, exc)
        try:
            await self.refresh(change.guild_id)
        except VectoBeatError as exc:
            _log.warning("settings_refresh_failed guild=%s error=%s", change.guild_id, exc)

    async def _resync(self) -> None:
        for guild_id in list(self._cache):
            try:
                await self.refresh(guild_id)
            except VectoBeatError as exc:
                _log.warning("settings_resync_failed guild=%s error=%s", guild_id, exc)
                return

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Follow changes until cancelled (pub/sub, else the long poll; nothing when off)."""
        task_status.started()
        if self._bridge is None:
            return
        reported: str | None = None

        def report(state: tenacity.RetryCallState) -> None:
            nonlocal reported
            message = str(failure(state))
            if message != reported:  # once per distinct failure, not every retry
                _log.warning("settings_follow_failed error=%s", message)
            reported = message

        channel = self._channel
        await supervise(
            self._long_poll if channel is None else partial(self._follow_channel, channel),
            retry=tenacity.retry_if_exception_type(VectoBeatError),
            wait=tenacity.wait_fixed(self._retry_delay),
            idle=partial(anyio.sleep, self._retry_delay),
            before_sleep=report,
        )

    async def _follow_channel(self, channel: SettingsChannel) -> None:
        async with channel.subscribe() as events:
            if self._erasures is not None:
                self._erasures.wake()  # notices may have been missed while not subscribed
            await self._resync()
            async for event in events:
                if isinstance(event, SettingsChange) and event.erased:
                    await self._erased(event.guild_id, event.version, event.erased_at)
                elif isinstance(event, SettingsChange):
                    await self._apply_change(event)
                else:
                    await self._resync()

    async def _poll(self, cursor: int | None) -> Any:
        """One long poll after ``cursor`` (``None``: a first one, answered at once), asking for
        the erasure record after the catch-up's cursor (unless the panel is too old for it)."""
        params = {
            "cursor": str(cursor or 0),
            "timeout": str(0 if cursor is None else self._poll_timeout),
        }
        asked = self._erasures is not None and self._poll_erasures
        if asked:
            assert self._erasures is not None
            params["erasures"] = str(self._erasures.cursor)
        try:
            batch = await self._call(
                "GET",
                "/api/bot/server-settings/changes",
                params=params,
                wait_s=self._poll_timeout + 10.0,
            )
        except InvalidInput as exc:
            if not asked or "erasures" not in exc.message:
                raise
            _log.warning("erasure_record_not_in_long_poll error=%s", exc.message)
            self._poll_erasures = False  # a panel from before the record: notices only
            raise BridgeUnavailable("The panel's change feed refused the erasure cursor.") from None
        if not isinstance(batch, Mapping) or not isinstance(batch.get("cursor"), int):
            raise BridgeUnavailable("The panel's change feed answered something unreadable.")
        if asked and self._erasures is not None:
            if "erasures" in batch:
                await self._erasures.take(read_erasures(batch["erasures"]))
            else:  # the panel could not read the record now: the catch-up retries it
                self._erasures.wake()
        return batch

    async def _long_poll(self) -> None:
        cursor: int | None = None
        while True:
            batch = await self._poll(cursor)
            first = cursor is None
            cursor = batch["cursor"]
            if batch.get("resync") or first:
                await self._resync()
                continue
            for item in batch.get("changes") or []:
                if not isinstance(item, Mapping):
                    continue
                try:
                    guild = GuildId(int(item["guild_id"]))
                    version = int(item["version"])
                except (KeyError, TypeError, ValueError):
                    continue
                if item.get("erased") is True:
                    await self._erased(guild, version, _seconds(item.get("erased_at")))
                else:
                    await self._apply_change(SettingsChange(guild, version))
