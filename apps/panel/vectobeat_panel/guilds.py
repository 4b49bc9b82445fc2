"""The guild list (only guilds the user manages; the bot's absence marked with an invite link) and
a guild's overview page with its "Plan & billing" section. Authorization is checked per guild on
every request (`manager_of`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Plan, Tier
from vectobeat_panel.billing import billing_of
from vectobeat_panel.sessions import ManagedGuild
from vectobeat_panel.settings_flow import guild_plan
from vectobeat_panel.state import Panel, current_session, manager_of, panel_of, render

__all__ = ["billing_view", "guild_routes", "guild_rows"]


async def guild_rows(panel: Panel, guilds: tuple[ManagedGuild, ...]) -> list[dict[str, Any]]:
    """One row per managed guild: name, plan, whether the bot is there, and the invite link."""
    rows: list[dict[str, Any]] = []
    for guild in sorted(guilds, key=lambda g: g.name.casefold()):
        record, plan = await guild_plan(panel, guild.id)
        present = record is not None and record.bot_present
        rows.append(
            {
                "id": str(guild.id),
                "name": guild.name,
                "owner": guild.owner,
                "plan": plan.tier.key,
                "plan_label": plan.label,
                "bot_present": present,
                "invite_url": None if present else panel.oauth.invite_url(GuildId(guild.id)),
            }
        )
    return rows


_OUTCOMES = {
    "success": ("ok", "Thank you! The new plan applies as soon as Stripe confirms the payment."),
    "cancelled": ("", "Checkout was cancelled; nothing was charged."),
    "portal": ("", "Back from the billing portal; plan changes apply once Stripe confirms them."),
}
"""Fixed messages for the ``?billing=`` outcome Stripe sends the browser back with."""


def billing_view(request: Request, plan: Plan) -> dict[str, Any]:
    """The "Plan & billing" section: whether billing is on, the tiers to buy, the portal button."""
    outcome = _OUTCOMES.get(request.query_params.get("billing", ""))
    try:
        billing = billing_of(request)
    except InvalidInput:  # unreadable STRIPE_PRICES; `vectobeat-ops validate-env` explains it
        billing = None
    enabled = billing is not None and billing.enabled
    paid = plan.tier is not Tier.FREE
    offers = (
        [{"key": t.key, "label": t.label} for t in billing.prices.tiers]
        if billing is not None and enabled and not paid
        else []
    )
    return {
        "enabled": enabled,
        "paid": paid,
        "offers": offers,
        "portal": enabled and paid,
        "outcome": {"kind": outcome[0], "message": outcome[1]} if outcome else None,
    }


async def home(request: Request) -> Response:
    target = "/guilds" if request.state.session is not None else "/login"
    return RedirectResponse(target, status_code=303)


async def guild_list(request: Request) -> Response:
    session = current_session(request)
    rows = await guild_rows(panel_of(request), session.guilds)
    return render(request, "guilds.html", {"guilds": rows})


async def guild_list_api(request: Request) -> Response:
    session = current_session(request)
    rows = await guild_rows(panel_of(request), session.guilds)
    return JSONResponse({"guilds": rows})


async def guild_overview(request: Request) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    record, plan = await guild_plan(panel, guild.id)
    present = record is not None and record.bot_present
    return render(
        request,
        "guild.html",
        {
            "guild": guild,
            "plan": plan,
            "billing": billing_view(request, plan),
            "bot_present": present,
            "invite_url": None if present else panel.oauth.invite_url(guild.id),
        },
    )


def guild_routes() -> list[Route]:
    return [
        Route("/", home, methods=["GET"], name="home"),
        Route("/guilds", guild_list, methods=["GET"], name="guilds"),
        Route("/guilds/{guild_id:snowflake}", guild_overview, methods=["GET"], name="guild"),
        Route("/api/control-panel/guilds", guild_list_api, methods=["GET"], name="api_guilds"),
    ]
