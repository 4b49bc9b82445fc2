"""Billing: buy a plan with Stripe Checkout, manage it in the Customer Portal, and Stripe's webhook.

* ``POST /guilds/{id}/billing/checkout`` (form ``tier``, CSRF-checked by the guard) redirects a
  guild manager to Stripe Checkout; a guild already on a paid plan is sent to the portal instead.
* ``POST /guilds/{id}/billing/portal`` redirects to the Customer Portal (change plan, card, cancel).
* ``POST /api/webhooks/stripe`` takes the raw body and its ``Stripe-Signature``: 400 when the
  signature is wrong or stale, 200 for a replayed event (no second effect). A plan change
  re-clamps the guild's settings at once; the new version goes to the bots' change feed.

The `StripeBilling` used is ``app.state.billing`` when set (tests, custom wiring), else one built
from the panel's config on first use.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from vectobeat_adapters.stripe_billing import StripeBilling
from vectobeat_core.errors import Conflict, InvalidInput
from vectobeat_core.plans import Tier
from vectobeat_panel.settings_flow import guild_plan
from vectobeat_panel.state import manager_of, panel_of

__all__ = ["WEBHOOK_PATH", "billing_of", "billing_routes"]

WEBHOOK_PATH = "/api/webhooks/stripe"


def billing_of(request: Request) -> StripeBilling:
    """The app's `StripeBilling` (``app.state.billing``), built from the config once."""
    billing: StripeBilling | None = getattr(request.app.state, "billing", None)
    if billing is None:
        billing = StripeBilling.from_config(panel_of(request).config)
        request.app.state.billing = billing
    return billing


def _guild_url(request: Request, guild_id: int, outcome: str) -> str:
    base = panel_of(request).config.panel_url.rstrip("/")
    return f"{base}/guilds/{guild_id}?billing={outcome}"


async def checkout(request: Request) -> Response:
    _, guild = manager_of(request)
    form = await request.form(max_files=0, max_fields=8)
    raw = form.get("tier")
    if not isinstance(raw, str) or not raw:
        raise InvalidInput("Choose a plan to buy ('tier').")
    tier = Tier.parse(raw)
    _, plan = await guild_plan(panel_of(request), guild.id)
    if plan.tier is not Tier.FREE:
        raise Conflict(
            "{guild} already has the {plan} plan; change it in the billing portal.",
            guild=guild.name,
            plan=plan.label,
        )
    session = await billing_of(request).checkout_session(
        guild.id,
        tier,
        guild_name=guild.name,
        success_url=_guild_url(request, guild.id, "success"),
        cancel_url=_guild_url(request, guild.id, "cancelled"),
    )
    return RedirectResponse(session.url, status_code=303)


async def portal(request: Request) -> Response:
    _, guild = manager_of(request)
    session = await billing_of(request).portal_session(
        guild.id, return_url=_guild_url(request, guild.id, "portal")
    )
    return RedirectResponse(session.url, status_code=303)


async def stripe_webhook(request: Request) -> Response:
    panel = panel_of(request)
    outcome = await billing_of(request).apply_webhook(
        await request.body(),
        request.headers.get("stripe-signature"),
        panel.services,
        panel.clock(),
    )
    if outcome.change is not None and outcome.settings_version is not None:
        panel.changes.append(outcome.change.guild_id, outcome.settings_version)
    return JSONResponse({"received": True, "replay": outcome.replay})


def billing_routes() -> list[Route]:
    return [
        Route(
            "/guilds/{guild_id:snowflake}/billing/checkout",
            checkout,
            methods=["POST"],
            name="billing_checkout",
        ),
        Route(
            "/guilds/{guild_id:snowflake}/billing/portal",
            portal,
            methods=["POST"],
            name="billing_portal",
        ),
        Route(WEBHOOK_PATH, stripe_webhook, methods=["POST"], name="stripe_webhook"),
    ]
