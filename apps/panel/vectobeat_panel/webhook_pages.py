"""The guild's "Webhook deliveries" page: where exports go, the signing secret receivers verify
with, the latest attempts (event, outcome, latency, attempt, time) and a "Send test event" button
that sends a ``test`` event through the same sender the bot uses."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vectobeat_adapters.webhooks.resolve import allowed_hosts
from vectobeat_adapters.webhooks.sender import Export, WebhookSender
from vectobeat_core.webhooks import (
    DELIVERY_LOG_KEEP,
    TEST_EVENT,
    ExportEvent,
    WebhookDelivery,
    guild_secret,
)
from vectobeat_panel.settings_flow import current_settings
from vectobeat_panel.state import Panel, manager_of, panel_of, render

__all__ = ["panel_sender", "webhook_routes"]


def panel_sender(panel: Panel) -> WebhookSender:
    """A sender with the panel's configuration (test events only; the bot sends the rest)."""
    secret = panel.config.webhook_signing_secret
    return WebhookSender(
        log=panel.services.webhook_log,
        clock=panel.services.clock,
        signing_secret=secret.reveal() if secret else None,
        allowed_hosts=allowed_hosts(panel.config.webhook_allowed_hosts),
        resolver=panel.webhook_resolver,
    )


async def _page(
    request: Request, *, result: WebhookDelivery | None = None, status: int = 200
) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    _, settings = await current_settings(panel, guild.id)
    secret = panel.config.webhook_signing_secret
    context: dict[str, Any] = {
        "guild": guild,
        "url": settings.webhook_export_url,
        "events": settings.webhook_export_events,
        "analytics_mode": settings.analytics_mode,
        "signing_secret": guild_secret(secret.reveal(), guild.id) if secret else None,
        "deliveries": await panel.services.webhook_log.recent(guild.id, DELIVERY_LOG_KEEP),
        "result": result,
    }
    return render(request, "webhooks.html", context, status)


async def webhooks_page(request: Request) -> Response:
    return await _page(request)


async def webhooks_test(request: Request) -> Response:
    """Send the ``test`` event now (one attempt) and show what the receiver answered."""
    _, guild = manager_of(request)
    panel = panel_of(request)
    _, settings = await current_settings(panel, guild.id)
    url = settings.webhook_export_url
    if url is None:
        return await _page(request, status=400)
    event = ExportEvent(
        TEST_EVENT, guild.id, panel.services.clock.now(), reason="Sent from the control panel."
    )
    result = await panel_sender(panel).deliver_now(
        Export(url, event, settings.analytics_mode), attempts=1
    )
    return await _page(request, result=result, status=200 if result.ok else 502)


def webhook_routes() -> list[Route]:
    return [
        Route(
            "/guilds/{guild_id:snowflake}/webhooks", webhooks_page, methods=["GET"], name="webhooks"
        ),
        Route("/guilds/{guild_id:snowflake}/webhooks/test", webhooks_test, methods=["POST"]),
    ]
