"""``DiscordWebhookSink``: alarms as an embed posted to a Discord channel webhook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from vectobeat_adapters.alarms._base import HttpSink, iso_time
from vectobeat_adapters.alarms._http import AlarmDeliveryError, RetryPolicy, post_json
from vectobeat_core.health import Alarm
from vectobeat_core.jsontypes import JSON

if TYPE_CHECKING:
    import httpx  # loaded where a client is made: the bot may never need one

__all__ = ["DiscordWebhookSink", "discord_payload"]

_COLOURS = {"critical": 0xE74C3C, "error": 0xE67E22, "warning": 0xF1C40F, "info": 0x3498DB}
_RESOLVED = 0x2ECC71


def discord_payload(alarm: Alarm, username: str) -> dict[str, JSON]:
    """The webhook body: one embed, no mentions parsed (an alarm never pings anyone)."""
    resolved = alarm.status == "resolve"
    embed: dict[str, JSON] = {
        "title": ("Resolved: " if resolved else "Alarm: ") + alarm.key,
        "description": alarm.summary[:4000],
        "color": _RESOLVED if resolved else _COLOURS.get(alarm.severity, 0xE74C3C),
        "timestamp": iso_time(alarm.at),
        "fields": [
            {"name": "Severity", "value": alarm.severity, "inline": True},
            {"name": "Status", "value": "resolved" if resolved else "triggered", "inline": True},
        ],
        "footer": {"text": "VectoBeat health checker"},
    }
    return {"username": username, "embeds": [embed], "allowed_mentions": {"parse": []}}


class DiscordWebhookSink(HttpSink):
    """Implements ``AlarmSink``; the webhook URL holds a token, so it never shows in repr/logs."""

    def __init__(
        self,
        webhook_url: str,
        *,
        username: str = "VectoBeat",
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(client, retry)
        self._url = webhook_url
        self.username = username

    def __repr__(self) -> str:
        return "DiscordWebhookSink(webhook_url='********')"

    async def send(self, alarm: Alarm) -> None:
        await post_json(
            self._client,
            self._url,
            discord_payload(alarm, self.username),
            what="the Discord webhook",
            retry=self.retry,
        )

    async def ping(self) -> None:
        """``GET`` on a webhook URL answers its details when the webhook exists."""
        import httpx  # noqa: PLC0415 - see the module's TYPE_CHECKING import

        try:
            with anyio.fail_after(self.retry.timeout_s):
                response = await self._client.get(self._url)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise AlarmDeliveryError(
                f"the Discord webhook is unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code >= 300:
            raise AlarmDeliveryError(f"the Discord webhook answered HTTP {response.status_code}")
