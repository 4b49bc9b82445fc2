"""The decision alarms' rules: a webhook outage triggers once after an hour of failures and
resolves at the next success; a promotion and a failover each resolve under their trigger's key."""

from __future__ import annotations

import pytest

from vectobeat_adapters.alarms import pagerduty_payload
from vectobeat_core.decision_alarms import (
    WebhookOutages,
    promotion_alarm,
    promotion_settled_alarm,
    webhook_outage_key,
)
from vectobeat_core.displacement import failover_alarm, failover_resolved_alarm
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import Alarm
from vectobeat_core.ids import GuildId, ShardId
from vectobeat_core.regions import Region

G = GuildId(7)


def test_failures_shorter_than_the_threshold_raise_nothing() -> None:
    outages = WebhookOutages(threshold_s=3600)
    outages.record(G, False, 0.0)
    outages.record(G, False, 3000.0)
    assert outages.alarms(3599.0) == []
    assert outages.failing_since(G) == 0.0


def test_an_hour_of_failures_triggers_once_and_a_success_resolves() -> None:
    outages = WebhookOutages(threshold_s=3600)
    outages.record(G, False, 0.0)
    [trigger] = outages.alarms(3600.0)
    assert (trigger.key, trigger.status) == (webhook_outage_key(G), "trigger")
    assert "60 minute(s)" in trigger.summary
    outages.record(G, False, 4000.0)
    assert outages.alarms(5000.0) == []  # still open: not sent again
    outages.record(G, True, 5001.0)
    [resolve] = outages.alarms(5002.0)
    assert (resolve.key, resolve.status) == (webhook_outage_key(G), "resolve")
    assert outages.alarms(9000.0) == [] and outages.failing_since(G) is None


def test_a_success_before_the_threshold_restarts_the_run_without_an_alarm() -> None:
    outages = WebhookOutages(threshold_s=100)
    outages.record(G, False, 0.0)
    outages.record(G, True, 50.0)
    outages.record(G, False, 60.0)
    assert outages.alarms(150.0) == []
    assert [a.status for a in outages.alarms(160.0)] == ["trigger"]


def test_seeding_resumes_the_run_from_the_oldest_failure_after_the_latest_success() -> None:
    outages = WebhookOutages(threshold_s=3600)
    outages.seed(G, [(False, 900.0), (False, 500.0), (True, 400.0), (False, 100.0)])
    assert outages.failing_since(G) == 500.0
    assert outages.alarms(4099.0) == []
    assert [a.status for a in outages.alarms(4100.0)] == ["trigger"]


def test_seeding_from_a_log_whose_latest_attempt_succeeded_starts_no_run() -> None:
    outages = WebhookOutages(threshold_s=10)
    outages.seed(G, [(True, 50.0), (False, 1.0)])
    outages.seed(GuildId(8), [])
    assert outages.failing_since(G) is None and outages.failing_since(GuildId(8)) is None
    assert outages.alarms(1000.0) == []


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_threshold_must_be_positive_and_finite(bad: float) -> None:
    with pytest.raises(InvalidInput):
        WebhookOutages(threshold_s=bad)


def test_promotion_and_failover_resolve_under_their_trigger_key() -> None:
    shard = ShardId(3)
    opened = promotion_alarm(shard, "spare-1", 4, 1.0)
    closed = promotion_settled_alarm(shard, "spare-1", 12, 2.0)
    assert opened.key == closed.key == "shard:3:promoted"
    assert (opened.status, closed.status) == ("trigger", "resolve")
    assert "epoch 4" in opened.summary and "12 guild(s)" in closed.summary
    failed = failover_alarm(
        "eu-1", Region.EU, players=5, moved=5, stranded=0, out_of_region=0, at=1.0
    )
    back = failover_resolved_alarm("eu-1", Region.EU, 2.0)
    assert failed.key == back.key == "failover:eu-1" and back.status == "resolve"


def test_pagerduty_names_what_each_alarm_is_about_and_resolves_the_same_key() -> None:
    opened = promotion_alarm(ShardId(3), "spare-1", 4, 1.0)
    event = pagerduty_payload(opened, "key", "vectobeat")
    payload = event["payload"]
    assert isinstance(payload, dict)
    assert (payload["component"], payload["class"]) == ("discord_gateway", "shard_promotion")
    long = Alarm("webhooks:" + "9" * 300, "warning", "s", "trigger", 1.0)
    closed = Alarm(long.key, "info", "s", "resolve", 2.0)
    first, last = (pagerduty_payload(a, "key", "v") for a in (long, closed))
    assert first["dedup_key"] == last["dedup_key"] and len(str(first["dedup_key"])) == 255
