"""Alarm sinks (``AlarmSink``): Discord webhook embeds, PagerDuty Events API v2, generic JSON.

Each is an async context manager over an httpx client (its own unless one is passed), posts with
a deadline per attempt and retries with jittered back-off (`RetryPolicy`); de-duplication and
rate limiting are `AlarmDispatcher`'s (the core's ``AlarmThrottle``); `open_alarm_sinks` opens
the ones the configuration names.
"""

from __future__ import annotations

from vectobeat_adapters.alarms._http import AlarmDeliveryError, RetryPolicy
from vectobeat_adapters.alarms.configured import open_alarm_sinks
from vectobeat_adapters.alarms.discord_webhook import DiscordWebhookSink, discord_payload
from vectobeat_adapters.alarms.dispatch import AlarmDispatcher
from vectobeat_adapters.alarms.pagerduty import EVENTS_V2_URL, PagerDutySink, pagerduty_payload
from vectobeat_adapters.alarms.webhook import GenericWebhookSink, webhook_payload

__all__ = [
    "EVENTS_V2_URL",
    "AlarmDeliveryError",
    "AlarmDispatcher",
    "DiscordWebhookSink",
    "GenericWebhookSink",
    "PagerDutySink",
    "RetryPolicy",
    "discord_payload",
    "open_alarm_sinks",
    "pagerduty_payload",
    "webhook_payload",
]
