"""``GenericWebhookSink``: the alarm as plain JSON to any HTTP endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vectobeat_adapters.alarms._base import HttpSink, iso_time
from vectobeat_adapters.alarms._http import RetryPolicy, post_json
from vectobeat_core.health import Alarm
from vectobeat_core.jsontypes import JSON

if TYPE_CHECKING:
    import httpx  # loaded where a client is made: the bot may never need one

__all__ = ["GenericWebhookSink", "webhook_payload"]


def webhook_payload(alarm: Alarm, source: str) -> dict[str, JSON]:
    return {
        "key": alarm.key,
        "status": alarm.status,
        "severity": alarm.severity,
        "summary": alarm.summary,
        "at": alarm.at,
        "time": iso_time(alarm.at),
        "source": source,
    }


class GenericWebhookSink(HttpSink):
    """Implements ``AlarmSink``; an optional bearer token is sent, never logged."""

    def __init__(
        self,
        url: str,
        *,
        bearer_token: str | None = None,
        source: str = "vectobeat",
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(client, retry)
        self._url = url
        self._token = bearer_token
        self.source = source

    def __repr__(self) -> str:
        return "GenericWebhookSink(url='********')"

    async def send(self, alarm: Alarm) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        await post_json(
            self._client,
            self._url,
            webhook_payload(alarm, self.source),
            what="the alarm webhook",
            retry=self.retry,
            headers=headers,
        )

    async def ping(self) -> None:
        """A generic endpoint has no agreed health check; a configured sink is assumed up."""
        return
