"""Opening the alarm sinks the configuration names (``ALARM_*``), for any process that alarms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from vectobeat_adapters.alarms.discord_webhook import DiscordWebhookSink
from vectobeat_adapters.alarms.pagerduty import PagerDutySink
from vectobeat_adapters.alarms.webhook import GenericWebhookSink
from vectobeat_adapters.config import AppConfig
from vectobeat_core.ports import AlarmSink

__all__ = ["open_alarm_sinks"]


@asynccontextmanager
async def open_alarm_sinks(config: AppConfig) -> AsyncIterator[list[tuple[str, AlarmSink]]]:
    """Every configured alarm sink, named, open for the block (none configured: an empty list)."""
    async with AsyncExitStack() as stack:
        sinks: list[tuple[str, AlarmSink]] = []
        if config.alarm_discord_webhook_url:
            url = config.alarm_discord_webhook_url.reveal()
            sinks.append(
                ("discord webhook", await stack.enter_async_context(DiscordWebhookSink(url)))
            )
        if config.alarm_pagerduty_routing_key:
            key = config.alarm_pagerduty_routing_key.reveal()
            sink = PagerDutySink(key, url=config.alarm_pagerduty_url)
            sinks.append(("pagerduty", await stack.enter_async_context(sink)))
        if config.alarm_webhook_url:
            sinks.append(
                (
                    "webhook",
                    await stack.enter_async_context(GenericWebhookSink(config.alarm_webhook_url)),
                )
            )
        yield sinks
