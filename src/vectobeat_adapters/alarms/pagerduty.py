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


_KINDS = {
    "node": ("lavalink", "node_health"),
    "failover": ("lavalink", "failover"),
    "region": ("lavalink", "region_evacuation"),
    "shard": ("discord_gateway", "shard_promotion"),
    "webhooks": ("webhook_exports", "webhook_delivery"),
    "sla": ("care", "sla_breach"),
}
"""PagerDuty ``component`` and ``class`` by the alarm key's first part."""


def pagerduty_payload(alarm: Alarm, routing_key: str, source: str) -> dict[str, JSON]:
    """An Events v2 event: ``trigger`` carries the payload, ``resolve`` only the dedup key (the
    same one, so the incident the trigger opened is the one resolved)."""
    dedup_key = alarm.key[:255]
    if alarm.status == "resolve":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    component, kind = _KINDS.get(alarm.key.partition(":")[0], ("vectobeat", "alarm"))
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": alarm.summary[:1024],
            "source": source,
            "severity": alarm.severity,
            "timestamp": iso_time(alarm.at),
            "component": component,
            "group": "vectobeat",
            "class": kind,
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
