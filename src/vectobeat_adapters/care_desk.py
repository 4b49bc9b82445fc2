"""`CareDesk`: the concierge, success-pod and account-contact workflows the bot and the panel share.

A guild admin opens requests (the plan gate, the rolling concierge budget and the SLA deadline are
the core's, `vectobeat_core.care`); only the configured staff (``STAFF_USER_IDS``) acknowledge,
schedule, assign and resolve them. Every step is an audit event (``concierge_request`` with the
request id), which is the request's timeline. SLA breaches are claimed once across processes
(`ConciergeStore.claim_sla_alarm`) before anyone alarms them.
"""

from __future__ import annotations

import attrs

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.services import Services
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.care import (
    ConciergeUsage,
    account_manager,
    care_label,
    check_contact,
    check_hours,
    check_request_text,
    concierge_usage,
    parse_staff_ids,
    parse_when,
    require_action,
    require_care,
    require_hours_left,
    require_staff,
    sla_breaches,
    sla_due_at,
)
from vectobeat_core.errors import ConfigError, InvalidInput, NotFound, PermissionDenied
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Plan, PlanCatalogue
from vectobeat_core.ports import AuditLog, Clock, ConciergeStore, ContactStore
from vectobeat_core.records import (
    ConciergeKind,
    ConciergeRequest,
    Contact,
    ContactRole,
)

__all__ = ["Actor", "CareDesk", "care_staff"]

TIMELINE_SCAN = 1000
"""How many of a guild's latest care audit events a timeline reads."""


def care_staff(config: AppConfig) -> frozenset[UserId]:
    """``STAFF_USER_IDS`` as user ids; an unreadable list is a `ConfigError`."""
    try:
        return parse_staff_ids(config.staff_user_ids)
    except InvalidInput as exc:
        raise ConfigError(
            f"{exc.message} Fix STAFF_USER_IDS (Discord user ids, comma separated)."
        ) from None


@attrs.frozen
class Actor:
    """Who acts: a Discord user id and the name the timeline shows."""

    user_id: UserId
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.user_id})"[:200]


@attrs.frozen
class CareDesk:
    """The care workflows over the concierge, contact and audit stores."""

    requests: ConciergeStore
    contacts: ContactStore
    audit: AuditLog
    clock: Clock
    catalogue: PlanCatalogue
    staff: frozenset[UserId]

    @classmethod
    def of(cls, services: Services, config: AppConfig) -> CareDesk:
        """The desk over ``services`` with the configured staff."""
        return cls(
            services.concierge,
            services.contacts,
            services.audit,
            services.clock,
            services.catalogue,
            care_staff(config),
        )

    def is_staff(self, user: UserId) -> bool:
        return user in self.staff

    # --- guild side -----------------------------------------------------------------------

    async def open(
        self,
        guild: GuildId,
        plan: Plan,
        kind: ConciergeKind,
        actor: Actor,
        *,
        summary: str,
        details: str,
        contact: str,
        hours: float,
    ) -> ConciergeRequest:
        """Open a request if the plan offers it and (concierge) its hours fit the budget."""
        require_care(plan, kind, self.catalogue)
        summary, details, contact = check_request_text(summary, details, contact)
        hours = check_hours(hours, kind)
        now = self.clock.now()
        due = sla_due_at(plan, now)

        def within_budget(existing: list[ConciergeRequest]) -> None:
            require_hours_left(concierge_usage(plan, existing, now), hours)

        request = await self.requests.open(
            guild, kind, subject=summary, body=details, requested_by=actor.user_id, now=now,
            due_at=due, hours=hours, contact=contact,
            admit=within_budget if kind == "concierge" else None,
        )  # fmt: skip
        await self._record(request, actor, "requested", f"{hours:g} h" if hours else "")
        return request

    async def usage(self, guild: GuildId, plan: Plan) -> ConciergeUsage:
        return concierge_usage(plan, await self.requests.find(guild), self.clock.now())

    async def for_guild(
        self, guild: GuildId, kind: ConciergeKind | None = None
    ) -> list[ConciergeRequest]:
        """The guild's requests, newest first."""
        found = [r for r in await self.requests.find(guild) if kind in (None, r.kind)]
        return sorted(found, key=lambda r: (-r.created_at, -r.request_id))

    async def request_of(self, request_id: int, guild: GuildId | None = None) -> ConciergeRequest:
        """The request, else `NotFound` (also when it belongs to another guild than ``guild``)."""
        found = await self.requests.get(request_id)
        if found is None or (guild is not None and found.guild_id != guild):
            raise NotFound("There is no care request #{number} here.", number=request_id)
        return found

    async def account_manager(self, guild: GuildId) -> tuple[UserId, str] | None:
        return account_manager(await self.requests.find(guild))

    # --- staff side -----------------------------------------------------------------------

    async def queue(self) -> list[ConciergeRequest]:
        """Every unresolved request, the most urgent first, then the resolved ones."""
        found = await self.requests.find()
        return sorted(found, key=lambda r: (r.status == "resolved", r.due_at, r.request_id))

    async def acknowledge(self, request_id: int, actor: Actor) -> ConciergeRequest:
        request = await self._for_staff(request_id, actor, "acknowledge")
        done = await self.requests.set_status(request.request_id, "in_progress", self.clock.now())
        await self._record(done, actor, "acknowledged")
        return done

    async def schedule(self, request_id: int, actor: Actor, when: str) -> ConciergeRequest:
        request = await self._for_staff(request_id, actor, "schedule")
        at = parse_when(when, self.clock.now())
        done = await self.requests.schedule(request.request_id, at)
        await self._record(done, actor, "scheduled", f"for {when.strip()} UTC")
        return done

    async def assign(self, request_id: int, actor: Actor, manager: Actor) -> ConciergeRequest:
        request = await self._for_staff(request_id, actor, "assign")
        if not self.is_staff(manager.user_id):
            raise PermissionDenied(
                "{name} is not VectoBeat staff (STAFF_USER_IDS).", name=manager.name
            )
        done = await self.requests.assign(request.request_id, manager.user_id, manager.name)
        await self._record(done, actor, "assigned", f"to {manager.name}")
        return done

    async def resolve(
        self, request_id: int, actor: Actor, hours: float | None = None
    ) -> ConciergeRequest:
        """Resolve; ``hours`` (when given) is the time actually spent, charged to the budget."""
        request = await self._for_staff(request_id, actor, "resolve")
        charged = None if hours is None else check_hours(hours, request.kind)
        done = await self.requests.set_status(
            request.request_id, "resolved", self.clock.now(), hours=charged
        )
        await self._record(done, actor, "resolved", f"{done.hours:g} h" if done.hours else "")
        return done

    async def claim_breaches(self) -> list[ConciergeRequest]:
        """Requests past their SLA that this process is the first to alarm (each once)."""
        now = self.clock.now()
        claimed = []
        for request in sla_breaches(await self.requests.overdue(now), now):
            if await self.requests.claim_sla_alarm(request.request_id, now):
                await self._record(request, None, "missed its SLA")
                claimed.append(request)
        return claimed

    async def _for_staff(self, request_id: int, actor: Actor, action: str) -> ConciergeRequest:
        require_staff(self.staff, actor.user_id)
        request = await self.request_of(request_id)
        require_action(request, action)
        return request

    # --- timeline -------------------------------------------------------------------------

    async def timeline(self, request: ConciergeRequest) -> list[AuditEvent]:
        """Every step of ``request``, oldest first."""
        events = await self.audit.recent(
            request.guild_id, TIMELINE_SCAN, kinds=[AuditKind.CONCIERGE_REQUEST]
        )
        mine = [e for e in events if e.data.get("request_id") == request.request_id]
        mine.reverse()  # recent() is newest first; equal times keep the order they happened in
        return sorted(mine, key=lambda e: e.at)

    async def _record(
        self, request: ConciergeRequest, actor: Actor | None, what: str, detail: str = ""
    ) -> None:
        by = "" if actor is None else f" by {actor.name}"
        extra = f" ({detail})" if detail else ""
        summary = (
            f"{care_label(request.kind)} request #{request.request_id} {what}{by}{extra}: "
            f"{request.subject}"
        )
        await self.audit.append(
            AuditEvent(
                kind=AuditKind.CONCIERGE_REQUEST,
                at=self.clock.now(),
                guild_id=request.guild_id,
                actor=None if actor is None else actor.label,
                summary=summary[:1000],
                data={"request_id": request.request_id, "action": what, "kind": request.kind},
            )
        )

    # --- account contacts -----------------------------------------------------------------

    async def visible_contacts(self, guild: GuildId, viewer: UserId) -> list[Contact]:
        """Staff see every contact; anyone else only those they entered themselves."""
        found = await self.contacts.for_guild(guild)
        if self.is_staff(viewer):
            return found
        return [c for c in found if c.entered_by == viewer]

    async def save_contact(
        self,
        guild: GuildId,
        role: ContactRole,
        actor: Actor,
        *,
        name: str,
        email: str,
        phone: str,
    ) -> Contact:
        """Save the guild's ``role`` contact (the caller checked the actor owns the guild)."""
        name, email, phone_or_none = check_contact(name, email, phone)
        contact = Contact(guild, name, email, phone_or_none, self.clock.now(), role, actor.user_id)
        await self.contacts.put(contact)
        return contact
