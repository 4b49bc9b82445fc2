"""In-memory guilds, contacts, concierge and compliance requests and Stripe event ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import attrs

from vectobeat_adapters.memory._base import MemoryService
from vectobeat_adapters.storage_rules import (
    COMPLIANCE_FINAL,
    check_compliance,
    check_concierge,
    check_concierge_fields,
    check_contact_role,
    check_erasure,
    check_event_id,
)
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.jsontypes import JSON, json_value
from vectobeat_core.plans import Tier
from vectobeat_core.records import (
    CONTACT_ROLES,
    ComplianceKind,
    ComplianceRequest,
    ComplianceStatus,
    ConciergeKind,
    ConciergeRequest,
    ConciergeStatus,
    Contact,
    ContactRole,
    GuildRecord,
)

__all__ = [
    "MemoryComplianceStore",
    "MemoryConciergeStore",
    "MemoryContactStore",
    "MemoryGuildRepository",
    "MemoryStripeEventStore",
]

_Request = TypeVar("_Request", ConciergeRequest, ComplianceRequest)


def _matching(
    requests: Iterable[_Request], guild: GuildId | None, status: str | None
) -> list[_Request]:
    """The requests of ``guild`` in ``status`` (``None``: any), as the SQL stores' ``where_equal``."""
    return [
        r
        for r in requests
        if (guild is None or r.guild_id == guild) and (status is None or r.status == status)
    ]


class MemoryGuildRepository(MemoryService):
    """Implements ``GuildRepository``."""

    def __init__(self) -> None:
        self._guilds: dict[GuildId, GuildRecord] = {}

    async def get(self, guild: GuildId) -> GuildRecord | None:
        return self._guilds.get(guild)

    async def upsert(self, record: GuildRecord) -> None:
        self._guilds[record.guild_id] = record

    def _known(self, guild: GuildId) -> GuildRecord:
        old = self._guilds.get(guild)
        if old is None:
            raise NotFound(f"guild {guild} is not known to the panel")
        return old

    async def set_tier(self, guild: GuildId, tier: Tier, now: float) -> GuildRecord:
        new = attrs.evolve(self._known(guild), tier=tier, updated_at=now)
        self._guilds[guild] = new
        return new

    async def set_bot_present(self, guild: GuildId, present: bool, now: float) -> GuildRecord:
        new = attrs.evolve(self._known(guild), bot_present=present, updated_at=now)
        self._guilds[guild] = new
        return new

    async def all(self, tier: Tier | None = None) -> list[GuildRecord]:
        return [
            record
            for _, record in sorted(self._guilds.items())
            if tier is None or record.tier == tier
        ]


class MemoryContactStore(MemoryService):
    """Implements ``ContactStore`` (nothing at rest, so nothing to encrypt)."""

    def __init__(self) -> None:
        self._contacts: dict[tuple[GuildId, ContactRole], Contact] = {}

    async def put(self, contact: Contact) -> None:
        check_contact_role(contact.role)
        self._contacts[contact.guild_id, contact.role] = contact

    async def get(self, guild: GuildId, role: ContactRole) -> Contact | None:
        return self._contacts.get((guild, role))

    async def for_guild(self, guild: GuildId) -> list[Contact]:
        return [self._contacts[guild, r] for r in CONTACT_ROLES if (guild, r) in self._contacts]

    async def delete(self, guild: GuildId, role: ContactRole | None = None) -> bool:
        keys = [k for k in self._contacts if k[0] == guild and role in (None, k[1])]
        for key in keys:
            del self._contacts[key]
        return bool(keys)

    async def erase_guild(self, guild: GuildId) -> int:
        count = len(await self.for_guild(guild))
        await self.delete(guild)
        return count


class MemoryConciergeStore(MemoryService):
    """Implements ``ConciergeStore``."""

    def __init__(self) -> None:
        self._requests: dict[int, ConciergeRequest] = {}

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
        check_concierge(kind, subject)
        check_concierge_fields(hours, contact)
        # no await from the check to the insert: one event loop runs them as one step
        if admit is not None:
            admit([r for r in self._requests.values() if r.guild_id == guild])
        request = ConciergeRequest(
            request_id=len(self._requests) + 1,
            guild_id=guild,
            kind=kind,
            subject=subject,
            body=body,
            requested_by=requested_by,
            status="open",
            created_at=now,
            due_at=due_at,
            hours=hours,
            contact=contact,
        )
        self._requests[request.request_id] = request
        return request

    async def get(self, request_id: int) -> ConciergeRequest | None:
        return self._requests.get(request_id)

    def _known(self, request_id: int) -> ConciergeRequest:
        old = self._requests.get(request_id)
        if old is None:
            raise NotFound(f"concierge request {request_id} does not exist")
        return old

    async def set_status(
        self, request_id: int, status: ConciergeStatus, now: float, hours: float | None = None
    ) -> ConciergeRequest:
        check_concierge(status=status)
        old = self._known(request_id)
        if hours is not None:
            check_concierge_fields(hours)
        new = attrs.evolve(
            old,
            status=status,
            resolved_at=now if status == "resolved" else None,
            hours=old.hours if hours is None else hours,
        )
        self._requests[request_id] = new
        return new

    async def schedule(self, request_id: int, at: float) -> ConciergeRequest:
        new = attrs.evolve(self._known(request_id), scheduled_at=at)
        self._requests[request_id] = new
        return new

    async def assign(self, request_id: int, user: UserId, name: str) -> ConciergeRequest:
        check_concierge_fields(0, name=name)
        new = attrs.evolve(self._known(request_id), assignee_id=user, assignee_name=name)
        self._requests[request_id] = new
        return new

    async def claim_sla_alarm(self, request_id: int, now: float) -> bool:
        old = self._requests.get(request_id)
        if old is None or old.sla_alarmed_at is not None:
            return False
        self._requests[request_id] = attrs.evolve(old, sla_alarmed_at=now)
        return True

    async def find(
        self, guild: GuildId | None = None, status: ConciergeStatus | None = None
    ) -> list[ConciergeRequest]:
        found = _matching(self._requests.values(), guild, status)
        return sorted(found, key=lambda r: (r.due_at, r.request_id))

    async def erase_guild(self, guild: GuildId) -> int:
        ids = [rid for rid, request in self._requests.items() if request.guild_id == guild]
        for rid in ids:
            del self._requests[rid]
        return len(ids)

    async def overdue(self, now: float) -> list[ConciergeRequest]:
        found = [r for r in self._requests.values() if r.overdue(now)]
        return sorted(found, key=lambda r: (r.due_at, r.request_id))


class MemoryComplianceStore(MemoryService):
    """Implements ``ComplianceStore``."""

    def __init__(self) -> None:
        self._requests: dict[int, ComplianceRequest] = {}
        self._erasures: dict[int, Erasure] = {}
        """Each placed deletion's place in the erasure record, by request id."""

    async def open(
        self,
        guild: GuildId,
        kind: ComplianceKind,
        *,
        requested_by: UserId,
        email: str,
        now: float,
    ) -> ComplianceRequest:
        check_compliance(kind)
        request = ComplianceRequest(
            request_id=len(self._requests) + 1,
            guild_id=guild,
            kind=kind,
            requested_by=requested_by,
            email=email,
            status="pending",
            detail="",
            created_at=now,
        )
        self._requests[request.request_id] = request
        return request

    async def get(self, request_id: int) -> ComplianceRequest | None:
        return self._requests.get(request_id)

    async def set_status(
        self, request_id: int, status: ComplianceStatus, now: float, detail: str = ""
    ) -> ComplianceRequest:
        check_compliance(status=status, detail=detail)
        old = self._requests.get(request_id)
        if old is None:
            raise NotFound(f"compliance request {request_id} does not exist")
        completed_at = now if status in COMPLIANCE_FINAL else None
        new = attrs.evolve(old, status=status, detail=detail, completed_at=completed_at)
        self._requests[request_id] = new
        return new

    async def find(
        self, guild: GuildId | None = None, status: ComplianceStatus | None = None
    ) -> list[ComplianceRequest]:
        found = _matching(self._requests.values(), guild, status)
        return sorted(found, key=lambda r: (r.created_at, r.request_id))

    async def record_erasure(self, request_id: int, now: float) -> Erasure:
        request = self._requests.get(request_id)
        if request is None:
            raise NotFound(f"compliance request {request_id} does not exist")
        check_erasure(request.kind)
        placed = self._erasures.get(request_id)
        if placed is None:
            seq = 1 + max((e.seq for e in self._erasures.values()), default=0)
            placed = self._erasures[request_id] = Erasure(seq, request.guild_id, now)
        return placed

    async def erasures_since(self, cursor: int, limit: int) -> list[Erasure]:
        return sorted((e for e in self._erasures.values() if e.seq > cursor), key=lambda e: e.seq)[
            :limit
        ]


class MemoryStripeEventStore(MemoryService):
    """Implements ``StripeEventStore``."""

    def __init__(self) -> None:
        self._events: dict[str, tuple[str, JSON, float]] = {}

    async def record_once(
        self, event_id: str, event_type: str, payload: JSON, *, now: float
    ) -> bool:
        check_event_id(event_id, event_type)
        if event_id in self._events:
            return False
        self._events[event_id] = (event_type, json_value(payload, "Stripe event payload"), now)
        return True

    async def seen(self, event_id: str) -> bool:
        return event_id in self._events
