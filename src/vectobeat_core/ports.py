"""Ports: the interfaces the core and the shells are written against (``typing.Protocol``).

Adapters implement them by technology and role (``SqlSettingsRepository``,
``RedisQueueStore``, ``MemoryTokenStore``); one contract suite per port runs against every
implementation. All service methods are async; every service has ``ping()``, which returns
quietly or raises ``StorageUnavailable`` (or another ``Unavailable``). Times are seconds since the
epoch, passed in (``now``) so the stores never read the clock themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import attrs

from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.displacement import Displacement
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import InvalidSnapshot
from vectobeat_core.health import Alarm, NodeHealth
from vectobeat_core.ids import ChannelId, GuildId, NodeName, ShardId, UserId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.lavalink import FailoverCounts, LoadResult, Lyrics, PlayerInfo
from vectobeat_core.plans import Tier
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.records import (
    MAX_TOKENS_PER_GUILD,
    ApiToken,
    ComplianceKind,
    ComplianceRequest,
    ComplianceStatus,
    ConciergeKind,
    ConciergeRequest,
    ConciergeStatus,
    Contact,
    ContactRole,
    GuildRecord,
    IssuedToken,
    Playlist,
)
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.routing import NodeView
from vectobeat_core.settings import SettingsRecord
from vectobeat_core.shards import Lease
from vectobeat_core.tracks import Track
from vectobeat_core.webhooks import WebhookDelivery

__all__ = [
    "AlarmSink",
    "AuditLog",
    "Clock",
    "CommandSyncRecord",
    "ComplianceStore",
    "ConciergeStore",
    "ContactStore",
    "ErasureRecord",
    "GuildRepository",
    "HealthStore",
    "Lavalink",
    "LeaseStore",
    "PlaylistStore",
    "QueueStore",
    "RestoredQueues",
    "Service",
    "SettingsChange",
    "SettingsChannel",
    "SettingsEvent",
    "SettingsRepository",
    "SettingsResync",
    "StripeEventStore",
    "TelemetryCache",
    "TokenStore",
    "WebhookDeliveryLog",
]


# --------------------------------------------------------------------------- common


class Clock(Protocol):
    """Where time comes from (wall clock in production, a manual clock in tests)."""

    def now(self) -> float: ...


class Service(Protocol):
    """Anything with a health check."""

    async def ping(self) -> None: ...


class AlarmSink(Protocol):
    """Delivers node/shard alarms (Discord webhook, PagerDuty, generic webhook)."""

    async def send(self, alarm: Alarm) -> None: ...

    async def ping(self) -> None: ...


# --------------------------------------------------------------------------- SQL side (panel data)


class SettingsRepository(Protocol):
    """Versioned server settings; writes are compare-and-set; history is newest first."""

    async def get(self, guild: GuildId) -> SettingsRecord | None: ...

    async def put(self, record: SettingsRecord, base_version: int) -> None:
        """Store ``record`` (version ``base_version + 1``) if the current version is
        ``base_version`` (0: none yet); else raise ``StaleVersion``. Keeps a history row."""
        ...

    async def history(self, guild: GuildId, limit: int = 20) -> list[SettingsRecord]: ...

    async def read_with_tier(
        self, guild: GuildId, guilds: GuildRepository
    ) -> tuple[SettingsRecord | None, Tier | None]:
        """The current record and the guild's tier from ``guilds`` (``None`` when unknown), for
        a save: one statement when both live in the same database, else both reads at once."""
        ...

    async def save_audited(
        self,
        record: SettingsRecord,
        base_version: int,
        events: Sequence[AuditEvent],
        audit: AuditLog,
    ) -> None:
        """``put`` and then ``events`` appended to ``audit``: one transaction when both live in
        the same database; else the settings write, then the appends. A stale ``put`` appends
        nothing."""
        ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


class AuditLog(Protocol):
    """Append-only audit/automation log."""

    async def append(self, event: AuditEvent) -> None: ...

    async def recent(
        self,
        guild: GuildId | None,
        limit: int = 100,
        kinds: Collection[AuditKind] | None = None,
    ) -> list[AuditEvent]:
        """Newest first; ``guild=None`` means every guild (and guild-less events)."""
        ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


class PlaylistStore(Protocol):
    """Saved playlists; names are unique per guild ignoring case; listed by that name."""

    async def create(self, playlist: Playlist) -> None:
        """Raise ``Conflict`` if the guild has a playlist of that name in any case."""
        ...

    async def replace(self, playlist: Playlist) -> None:
        """Overwrite tracks/name/updated_at of an existing playlist; ``NotFound`` if none."""
        ...

    async def get(self, guild: GuildId, name: str) -> Playlist | None: ...

    async def for_guild(self, guild: GuildId) -> list[Playlist]: ...

    async def delete(self, guild: GuildId, name: str) -> bool: ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


class GuildRepository(Protocol):
    """Guilds the panel knows (plan tier, bot presence); listed by id; unknown: ``NotFound``."""

    async def get(self, guild: GuildId) -> GuildRecord | None: ...

    async def upsert(self, record: GuildRecord) -> None: ...

    async def set_tier(self, guild: GuildId, tier: Tier, now: float) -> GuildRecord: ...

    async def set_bot_present(self, guild: GuildId, present: bool, now: float) -> GuildRecord: ...

    async def all(self, tier: Tier | None = None) -> list[GuildRecord]: ...

    async def ping(self) -> None: ...


class TokenStore(Protocol):
    """API tokens: only a hash of the secret and its last four characters are stored;
    ``for_guild`` lists every token (revoked too), oldest first."""

    async def issue(
        self,
        guild: GuildId,
        name: str,
        scopes: Collection[str],
        *,
        now: float,
        expires_at: float | None = None,
        limit: int = MAX_TOKENS_PER_GUILD,
    ) -> IssuedToken:
        """Mint a token; ``LimitExceeded`` when the guild already has ``limit`` live tokens
        (checked atomically with the insert)."""
        ...

    async def authenticate(self, secret: str, now: float) -> ApiToken:
        """The live token for ``secret`` (records ``last_used_at``); else ``PermissionDenied``."""
        ...

    async def revoke(self, guild: GuildId, token_id: str, now: float) -> bool: ...

    async def for_guild(self, guild: GuildId) -> list[ApiToken]: ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


class ContactStore(Protocol):
    """A guild's account contacts, one per role (personal fields encrypted at rest)."""

    async def put(self, contact: Contact) -> None:
        """Insert or replace the guild's contact of ``contact.role``."""
        ...

    async def get(self, guild: GuildId, role: ContactRole) -> Contact | None: ...

    async def for_guild(self, guild: GuildId) -> list[Contact]:
        """Every contact of the guild, in role order (billing, technical, escalation)."""
        ...

    async def delete(self, guild: GuildId, role: ContactRole | None = None) -> bool:
        """Delete one role's contact, or all of the guild's (``None``); whether any existed."""
        ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


class ConciergeStore(Protocol):
    """Concierge and success-pod requests, each with its plan's SLA due time."""

    async def open(
        self,
        guild: GuildId,
        kind: ConciergeKind,
        *,
        subject: str,
        body: str,
        requested_by: UserId,
        now: float,
        due_at: float,
        hours: float = 0.0,
        contact: str = "",
        admit: Callable[[list[ConciergeRequest]], None] | None = None,
    ) -> ConciergeRequest:
        """Insert an ``open`` request. ``admit`` (the budget rule) sees the guild's requests and
        may raise to refuse; the check and the insert are atomic per guild (SQL: after taking
        the guild's budget lock row in the same transaction), so concurrent opens cannot both
        pass it."""
        ...

    async def get(self, request_id: int) -> ConciergeRequest | None: ...

    async def set_status(
        self, request_id: int, status: ConciergeStatus, now: float, hours: float | None = None
    ) -> ConciergeRequest:
        """``NotFound`` for an unknown id; ``resolved`` records ``resolved_at``; ``hours``
        (when given) replaces the hours charged."""
        ...

    async def schedule(self, request_id: int, at: float) -> ConciergeRequest:
        """Set when the session takes place; ``NotFound`` for an unknown id."""
        ...

    async def assign(self, request_id: int, user: UserId, name: str) -> ConciergeRequest:
        """Assign the request to a staff member (the account manager); ``NotFound`` if unknown."""
        ...

    async def claim_sla_alarm(self, request_id: int, now: float) -> bool:
        """Mark the request's SLA breach as alarmed; True only for the first caller (False for an
        unknown id)."""
        ...

    async def find(
        self, guild: GuildId | None = None, status: ConciergeStatus | None = None
    ) -> list[ConciergeRequest]:
        """Ordered by due time, then id."""
        ...

    async def overdue(self, now: float) -> list[ConciergeRequest]:
        """Unresolved requests past their due time, most overdue first."""
        ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


class ErasureRecord(Protocol):
    """The ordered record of confirmed erasures (`vectobeat_core.erasures`)."""

    async def erasures_since(self, cursor: int, limit: int) -> list[Erasure]:
        """The erasures placed after ``cursor``, in order, at most ``limit``."""
        ...


class ComplianceStore(ErasureRecord, Protocol):
    """Compliance export/delete requests (the delivery address is encrypted at rest); the
    deletions that ran are the erasure record."""

    async def open(
        self,
        guild: GuildId,
        kind: ComplianceKind,
        *,
        requested_by: UserId,
        email: str,
        now: float,
    ) -> ComplianceRequest: ...

    async def get(self, request_id: int) -> ComplianceRequest | None: ...

    async def set_status(
        self, request_id: int, status: ComplianceStatus, now: float, detail: str = ""
    ) -> ComplianceRequest:
        """``NotFound`` for an unknown id; ``sent``/``failed`` record ``completed_at``."""
        ...

    async def find(
        self, guild: GuildId | None = None, status: ComplianceStatus | None = None
    ) -> list[ComplianceRequest]:
        """Oldest first."""
        ...

    async def record_erasure(self, request_id: int, now: float) -> Erasure:
        """Place deletion ``request_id`` in the erasure record (once: a request placed before
        keeps its place). ``NotFound`` for an unknown id, ``InvalidInput`` for an export."""
        ...

    async def ping(self) -> None: ...


class StripeEventStore(Protocol):
    """Stripe webhook events by id, so each is processed once."""

    async def record_once(
        self, event_id: str, event_type: str, payload: JSON, *, now: float
    ) -> bool:
        """True the first time ``event_id`` is recorded, False for every repeat."""
        ...

    async def seen(self, event_id: str) -> bool: ...

    async def ping(self) -> None: ...


# --------------------------------------------------------------------------- Redis side (bot state)


@attrs.frozen
class RestoredQueues:
    """What ``QueueStore.load_all`` found: good snapshots, and an error per unreadable one."""

    snapshots: tuple[QueueSnapshot, ...]
    invalid: tuple[InvalidSnapshot, ...] = ()


class QueueStore(Protocol):
    """Durable per-guild queue snapshots with a TTL per plan (``Plan.snapshot_ttl_seconds``)."""

    async def save(self, snapshot: QueueSnapshot, ttl: float | None = None) -> None:
        """Store the guild's snapshot (``ttl=None``: no expiry); indexed by ``taken_at``."""
        ...

    async def load(self, guild: GuildId) -> QueueSnapshot | None:
        """``None`` when absent; a foreign/malformed/wrong-version value raises
        ``InvalidSnapshot`` naming where it is, and is left untouched."""
        ...

    async def load_all(self) -> RestoredQueues:
        """Every stored snapshot (restore on start); unreadable ones are reported, not raised."""
        ...

    async def delete(self, guild: GuildId) -> None: ...

    async def guilds(self) -> list[GuildId]: ...

    async def evict(
        self, *, older_than: float | None = None, max_guilds: int | None = None
    ) -> list[GuildId]:
        """Delete snapshots taken before ``older_than``, then all but the newest ``max_guilds``;
        returns the evicted guilds."""
        ...

    async def ping(self) -> None: ...

    async def generation(self) -> str:
        """An opaque token naming the store's data generation: it changes when the store lost
        its data (flushed, restarted empty or from an older dump), and the bot then rewrites
        every guild it serves. Raises ``StorageUnavailable`` when the store cannot answer."""
        ...


class HealthStore(Protocol):
    """Node health records (``lavalink:health:<node>``)."""

    async def put(self, health: NodeHealth, ttl: float) -> None: ...

    async def get(self, node: NodeName) -> NodeHealth | None: ...

    async def all(self) -> list[NodeHealth]: ...

    async def ping(self) -> None: ...


class LeaseStore(Protocol):
    """Shard leases with fencing epochs; claim/renew/release are atomic."""

    async def claim(
        self, shard: ShardId, owner: str, region: Region, now: float, stale_after: float
    ) -> Lease | None:
        """Take the shard if its lease is free or stale (``now - heartbeat >= stale_after``),
        with an epoch above every epoch ever granted for it; ``None`` while it is held."""
        ...

    async def renew(self, lease: Lease, now: float) -> Lease:
        """Heartbeat; ``StaleVersion`` unless the stored owner and epoch are still ``lease``'s."""
        ...

    async def release(self, lease: Lease) -> bool:
        """Free the shard if ``lease`` still holds it; False (nothing changed) if fenced."""
        ...

    async def get(self, shard: ShardId) -> Lease | None: ...

    async def all(self) -> list[Lease]: ...

    async def ping(self) -> None: ...


class CommandSyncRecord(Protocol):
    """Which slash-command tree was last synced, and a lock so one process syncs at a time."""

    async def try_lock(self, owner: str, ttl: float) -> bool:
        """Take the sync lock for ``ttl`` seconds; False while another process holds it."""
        ...

    async def unlock(self, owner: str) -> None:
        """Give the lock back if ``owner`` still holds it."""
        ...

    async def synced_digest(self) -> str | None:
        """The digest of the tree last synced (``None``: never)."""
        ...

    async def record(self, digest: str) -> None: ...


@attrs.frozen
class SettingsChange:
    """The guild's settings reached ``version`` (reload if newer than what you hold).

    ``state``, when the sender has it, is what the bridge's ``GET server-settings`` answers at
    that version (``guild_id``, ``version``, ``plan``, ``settings``): a receiver may apply it as
    is instead of reading it back. ``None``: reload.

    ``erased``: the guild is being erased (a confirmed compliance deletion): a receiver drops
    everything it keeps of the guild instead; ``version`` is then the erasure's place in the
    record (`vectobeat_core.erasures.Erasure.seq`; 0 from a sender that does not know it) and
    ``erased_at`` when it ran (`Erasure.erased_at`, panel time; ``None`` when unknown).
    """

    guild_id: GuildId
    version: int
    state: dict[str, JSON] | None = None
    erased: bool = False
    erased_at: float | None = None


@attrs.frozen
class SettingsResync:
    """Changes may have been missed (the subscription reconnected): reload what you hold."""


SettingsEvent = SettingsChange | SettingsResync


class SettingsChannel(Protocol):
    """Settings change notifications (Redis pub/sub, or the bridge's long poll)."""

    async def publish(self, change: SettingsChange) -> int:
        """Announce ``change``; returns how many subscribers received it."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[SettingsEvent]]:
        """Subscribed once entered; iterate for events (reconnects by itself)."""
        ...

    async def ping(self) -> None: ...


class TelemetryCache(Protocol):
    """Short-lived telemetry documents by name, with a TTL."""

    async def put(self, name: str, document: JSON, ttl: float) -> None: ...

    async def get(self, name: str) -> JSON | None: ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


class WebhookDeliveryLog(Protocol):
    """The latest webhook-export attempts of each guild (older ones pruned), newest first."""

    async def append(self, delivery: WebhookDelivery) -> None: ...

    async def recent(self, guild: GuildId, limit: int = 50) -> list[WebhookDelivery]: ...

    async def guilds(self) -> list[GuildId]:
        """Every guild with logged attempts, ascending (the bot resumes outages from them)."""
        ...

    async def erase_guild(self, guild: GuildId) -> int:
        """Right to erasure: remove everything stored for ``guild``; how many items went."""
        ...

    async def ping(self) -> None: ...


# --------------------------------------------------------------------------- playback


class Lavalink(Protocol):
    """The Lavalink node pool the bot plays through (``LavalinkCluster``).

    Players are per guild, placed by region; every command raises ``NotFound`` for a guild
    without a player, ``InvalidInput`` for a bad value and ``NodeUnavailable`` when no node can
    take it. Moves between nodes are the pool's business and never change what the bot sees.
    """

    @property
    def counts(self) -> FailoverCounts: ...

    def nodes(self) -> list[NodeView]:
        """Every node with its routing status, stats, latency and region."""

    def region_of(self, name: NodeName) -> Region: ...

    def player(self, guild_id: GuildId) -> PlayerInfo | None: ...

    def players(self) -> list[PlayerInfo]: ...

    def displaced(self) -> list[Displacement]:
        """Players of pinned guilds running outside their region."""

    async def load_tracks(self, query: str) -> LoadResult:
        """Resolve ``query`` (a link, or words to search for) on a node of the pool;
        ``InvalidInput`` for an empty one, ``NodeUnavailable`` when no node could."""

    async def served_sources(self) -> frozenset[str]:
        """The source managers (``youtube``, ``spotify``, ...) every answering node serves;
        empty when none answered."""

    async def lyrics(self, guild_id: GuildId, *, skip_track_source: bool = False) -> Lyrics | None:
        """The lyrics of what the guild plays, from its node's lyrics plugin (``None``: none
        found); ``QueueEmpty`` when nothing plays, ``NoLyricsPlugin`` when the node has none."""

    async def ensure_player(self, guild_id: GuildId, decision: RegionDecision) -> PlayerInfo:
        """The guild's player, placed on the best node of its effective region when new."""

    async def update_voice(
        self,
        guild_id: GuildId,
        *,
        session_id: str,
        token: str,
        endpoint: str,
        channel_id: ChannelId,
    ) -> None:
        """Discord's voice state and server update for the guild's player."""

    async def play(
        self,
        guild_id: GuildId,
        track: Track,
        *,
        start_ms: int = 0,
        paused: bool = False,
        volume: int = 100,
        filters: Mapping[str, JSON] | None = None,
        end_ms: int | None = None,
    ) -> None:
        """Play ``track`` on the guild's player from ``start_ms`` (to ``end_ms`` when given), paused
        or not, at ``volume`` (0 to 1000), with ``filters`` (``None``: the player's own)."""

    async def set_paused(self, guild_id: GuildId, paused: bool) -> None: ...

    async def seek(self, guild_id: GuildId, ms: int) -> None: ...

    async def set_volume(self, guild_id: GuildId, volume: int) -> None: ...

    async def set_filters(self, guild_id: GuildId, filters: Mapping[str, JSON]) -> None: ...

    async def stop(self, guild_id: GuildId) -> None: ...

    async def destroy(self, guild_id: GuildId) -> None:
        """Forget the guild's player and delete it from its node (best effort)."""
