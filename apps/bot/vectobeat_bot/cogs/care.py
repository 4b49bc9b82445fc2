"""Care: /concierge request|usage|list|acknowledge|schedule|resolve and /success
request|contact|assign (the workflows are `vectobeat_adapters.care_desk.CareDesk`'s).

Guild admins (Manage Server) request and read; only the operator's staff (``STAFF_USER_IDS``)
acknowledge, schedule, assign and resolve. Answers are ephemeral: they may hold contact details.
"""

from __future__ import annotations

from datetime import UTC, datetime

from vectobeat_adapters.care_desk import Actor, CareDesk
from vectobeat_bot.bot import guild_of, reply
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.i18n import _, locale_str, phrase_text
from vectobeat_core.care import care_label
from vectobeat_core.errors import NotBuilt
from vectobeat_core.ids import UserId
from vectobeat_core.records import ConciergeKind, ConciergeRequest, status_label

__all__ = ["CareCog", "describe_request"]


def _when(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def describe_request(request: ConciergeRequest) -> str:
    """One line: id, kind, status, hours, deadline, schedule, assignee, summary."""
    label = _(care_label(request.kind))
    parts = [
        f"#{request.request_id} {label}",
        _(status_label(request.status)),
    ]
    if request.hours:
        parts.append(f"{request.hours:g} h")
    if request.status != "resolved":
        parts.append(_("answer due {when}").format(when=_when(request.due_at)))
    if request.scheduled_at is not None:
        parts.append(_("scheduled {when}").format(when=_when(request.scheduled_at)))
    if request.assignee_name:
        parts.append(_("account manager {name}").format(name=request.assignee_name))
    return f"{' · '.join(parts)} — {request.subject}"


def _actor(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    return Actor(UserId(user.id), user.display_name or user.name)


async def _answer_staff(
    interaction: discord.Interaction, template: str, done: ConciergeRequest
) -> None:
    """Tell the staff member alone what their action made of the request (``{request}``)."""
    await reply(interaction, template.format(request=describe_request(done)), ephemeral=True)


class CareCog(CogBase):
    """Concierge time and the success pod."""

    concierge = app_commands.Group(
        name="concierge", description=locale_str("Concierge time with our staff")
    )
    success = app_commands.Group(name="success", description=locale_str("Your success pod"))

    @property
    def desk(self) -> CareDesk:
        if self.deps.care is None:
            raise NotBuilt("The care desk is not available in this bot process.")
        return self.deps.care

    async def _open(
        self,
        interaction: discord.Interaction,
        kind: ConciergeKind,
        *,
        summary: str,
        contact: str,
        details: str,
        hours: float,
    ) -> None:
        self.check_configure(
            interaction,
            _("request concierge help") if kind == "concierge" else _("request success pod help"),
        )
        held = await self.settings_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        request = await self.desk.open(
            guild_of(interaction), held.plan, kind, _actor(interaction),
            summary=summary, details=details, contact=contact, hours=hours,
        )  # fmt: skip
        text = _("Request opened: {request}").format(request=describe_request(request))
        if kind == "concierge":
            usage = await self.desk.usage(guild_of(interaction), held.plan)
            text += "\n" + _("Concierge hours: {usage}").format(usage=phrase_text(usage.phrase()))
        await reply(interaction, text, ephemeral=True)

    @concierge.command(name="request", description=locale_str("Ask our staff for concierge time"))
    @app_commands.describe(
        summary=locale_str("What you need help with"),
        hours=locale_str("How much time, in quarter hours (e.g. 1.5)"),
        contact=locale_str("How we reach you (email, Discord handle or phone)"),
        details=locale_str("Anything else we should know"),
    )
    async def concierge_request(
        self,
        interaction: discord.Interaction,
        summary: str,
        hours: float,
        contact: str,
        details: str = "",
    ) -> None:
        await self._open(
            interaction, "concierge", summary=summary, contact=contact, details=details, hours=hours
        )

    @concierge.command(
        name="usage", description=locale_str("Concierge hours used and left (30 days)")
    )
    async def concierge_usage(self, interaction: discord.Interaction) -> None:
        self.check_configure(interaction, _("see concierge usage"))
        held = await self.settings_of(interaction)
        if not held.plan.concierge:
            text = _("Concierge is not part of the {plan} plan.").format(plan=held.plan.label)
        else:
            usage = await self.desk.usage(guild_of(interaction), held.plan)
            text = _("Concierge hours ({plan}): {usage}").format(
                plan=held.plan.label, usage=phrase_text(usage.phrase())
            )
        await reply(interaction, text, ephemeral=True)

    @concierge.command(
        name="list", description=locale_str("This server's concierge and success-pod requests")
    )
    async def concierge_list(self, interaction: discord.Interaction) -> None:
        self.check_configure(interaction, _("see care requests"))
        requests = await self.desk.for_guild(guild_of(interaction))
        lines = [describe_request(r) for r in requests[:15]]
        await reply(interaction, "\n".join(lines) or _("No care requests yet."), ephemeral=True)

    @concierge.command(name="acknowledge", description=locale_str("Staff: acknowledge a request"))
    @app_commands.describe(request=locale_str("The request number (#)"))
    async def acknowledge(self, interaction: discord.Interaction, request: int) -> None:
        done = await self.desk.acknowledge(request, _actor(interaction))
        await _answer_staff(interaction, _("Acknowledged: {request}"), done)

    @concierge.command(
        name="schedule", description=locale_str("Staff: schedule a request's session")
    )
    @app_commands.describe(
        request=locale_str("The request number (#)"), when=locale_str("YYYY-MM-DD HH:MM in UTC")
    )
    async def schedule(self, interaction: discord.Interaction, request: int, when: str) -> None:
        done = await self.desk.schedule(request, _actor(interaction), when)
        await _answer_staff(interaction, _("Scheduled: {request}"), done)

    @concierge.command(name="resolve", description=locale_str("Staff: resolve a request"))
    @app_commands.describe(
        request=locale_str("The request number (#)"),
        hours=locale_str("Time actually spent (default: as requested)"),
    )
    async def resolve(
        self, interaction: discord.Interaction, request: int, hours: float | None = None
    ) -> None:
        done = await self.desk.resolve(request, _actor(interaction), hours)
        await _answer_staff(interaction, _("Resolved: {request}"), done)

    @success.command(name="request", description=locale_str("Ask your success pod for a session"))
    @app_commands.describe(
        summary=locale_str("What the session is about"),
        contact=locale_str("How we reach you (email, Discord handle or phone)"),
        details=locale_str("Anything else we should know"),
    )
    async def success_request(
        self, interaction: discord.Interaction, summary: str, contact: str, details: str = ""
    ) -> None:
        await self._open(
            interaction, "success_pod", summary=summary, contact=contact, details=details, hours=0
        )

    @success.command(name="contact", description=locale_str("Your account manager"))
    async def success_contact(self, interaction: discord.Interaction) -> None:
        held = await self.settings_of(interaction)
        if not held.plan.success_pod:
            text = _("A success pod is not part of the {plan} plan.").format(plan=held.plan.label)
        else:
            manager = await self.desk.account_manager(guild_of(interaction))
            text = (
                _(
                    "No account manager is assigned yet; open /success request and our staff "
                    "will assign one."
                )
                if manager is None
                else _("Your account manager is {name} ({mention}).").format(
                    name=manager[1], mention=f"<@{manager[0]}>"
                )
            )
        await reply(interaction, text, ephemeral=True)

    @success.command(
        name="assign", description=locale_str("Staff: assign a request's account manager")
    )
    @app_commands.describe(
        request=locale_str("The request number (#)"), manager=locale_str("The account manager")
    )
    async def assign(
        self, interaction: discord.Interaction, request: int, manager: discord.User
    ) -> None:
        who = Actor(UserId(manager.id), manager.display_name or manager.name)
        done = await self.desk.assign(request, _actor(interaction), who)
        await _answer_staff(interaction, _("Assigned: {request}"), done)
