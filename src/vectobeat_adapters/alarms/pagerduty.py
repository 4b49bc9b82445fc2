"""``PagerDutySink``: PagerDuty Events API v2 (trigger with a dedup key, resolve on recovery)."""

from __future__ import annotations

import httpx

from vectobeat_adapters.alarms._base import HttpSink, iso_time
from vectobeat_adapters.alarms._http import RetryPolicy, post_json
from vectobeat_core.errors import ConfigError
from vectobeat_core.health import Alarm
from vectobeat_core.jsontypes import JSON

__all__ = ["EVENTS_V2_URL", "PagerDutySink", "pagerduty_payload"]

EVENTS_V2_URL = "https://events.pagerduty.com/v2/enqueue"


def _component(key: str) -> dict[str, JSON]:
    """Care SLA alarms (``sla:<request>``) are the care desk's; every other one is Lavalink's."""
    if key.startswith("sla:"):
        return {"component": "care", "class": "sla_breach"}
    return {"component": "lavalink", "class": "node_health"}


def pagerduty_payload(alarm: Alarm, routing_key: str, source: str) -> dict[str, JSON]:
    """An Events v2 event: ``trigger`` carries the payload, ``resolve`` only the dedup key."""
    if alarm.status == "resolve":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": alarm.key}
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alarm.key[:255],
        "payload": {
            "summary": alarm.summary[:1024],
            "source": source,
            "severity": alarm.severity,
            "timestamp": iso_time(alarm.at),
            **_component(alarm.key),
            "group": "vectobeat",
        },
    }


class PagerDutySink(HttpSink):
    """Implements ``AlarmSink``; the routing key is a secret and never shows in repr/logs."""

    def __init__(
        self,
        routing_key: str,
        *,
        source: str = "vectobeat",
        url: str = EVENTS_V2_URL,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not routing_key.strip():
            raise ConfigError("The PagerDuty routing key is empty.")
        super().__init__(client, retry)
        self._routing_key = routing_key
        self.source = source
        self.url = url

    def __repr__(self) -> str:
        return f"PagerDutySink(routing_key='********', url={self.url!r})"

    async def send(self, alarm: Alarm) -> None:
        await post_json(
            self._client,
            self.url,
            pagerduty_payload(alarm, self._routing_key, self.source),
            what="PagerDuty",
            retry=self.retry,
        )

    async def ping(self) -> None:
        """The Events API has no read endpoint; a configured sink is assumed reachable."""
        return
