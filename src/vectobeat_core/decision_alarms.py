"""Alarms for decisions taken without a person: a hot spare's promotion and a webhook export
that has been failing for an hour (node failovers and evacuations: `vectobeat_core.displacement`).

Every alarm here has a trigger and the resolve that clears it under the same key (PagerDuty's
``dedup_key``): a promotion resolves once the spare serves the shard, a webhook outage at the
guild's next successful delivery.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import Alarm
from vectobeat_core.ids import GuildId, ShardId

__all__ = [
    "WEBHOOK_OUTAGE_S",
    "WebhookOutages",
    "promotion_alarm",
    "promotion_settled_alarm",
    "webhook_outage_key",
]

WEBHOOK_OUTAGE_S = 3600.0
"""How long a guild's webhook deliveries must keep failing before it is an alarm."""


def _promotion_key(shard: ShardId) -> str:
    return f"shard:{int(shard)}:promoted"


def promotion_alarm(shard: ShardId, owner: str, epoch: int, at: float) -> Alarm:
    """A hot spare took over ``shard`` (its owner's lease went stale): open until it serves it."""
    summary = (
        f"Shard {int(shard)} lost its owner: hot spare {owner} took it over (lease epoch {epoch})"
        " and is connecting it"
    )
    return Alarm(_promotion_key(shard), "error", summary, "trigger", at)


def promotion_settled_alarm(shard: ShardId, owner: str, guilds: int, at: float) -> Alarm:
    """The spare serves ``shard`` now, its guilds' players restored: resolves the promotion."""
    summary = f"Shard {int(shard)} is served by {owner}; {guilds} guild(s) restored"
    return Alarm(_promotion_key(shard), "info", summary, "resolve", at)


def webhook_outage_key(guild: GuildId) -> str:
    return f"webhooks:{int(guild)}:failing"


def _check_threshold(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise InvalidInput(f"{attribute.name} must be a positive number of seconds")


@attrs.define
class WebhookOutages:
    """Each guild's run of failed webhook deliveries: `record` every attempt, `alarms` says what
    to send now (a trigger once a run lasts ``threshold_s``, a resolve at the first success
    after a trigger)."""

    threshold_s: float = attrs.field(default=WEBHOOK_OUTAGE_S, validator=_check_threshold)
    _failing_since: dict[GuildId, float] = attrs.field(factory=dict, init=False)
    _open: set[GuildId] = attrs.field(factory=set, init=False)
    _recovered: set[GuildId] = attrs.field(factory=set, init=False)

    def record(self, guild: GuildId, ok: bool, at: float) -> None:
        """One delivery attempt of ``guild`` at ``at``: delivered (``ok``) or not."""
        if ok:
            self._failing_since.pop(guild, None)
            if guild in self._open:
                self._recovered.add(guild)
        else:
            self._failing_since.setdefault(guild, at)

    def seed(self, guild: GuildId, newest_first: Sequence[tuple[bool, float]]) -> None:
        """Resume ``guild``'s run from its logged attempts (``(ok, at)``, newest first), so an
        outage that began before a restart keeps its start: the oldest failure after the latest
        success (or the oldest kept attempt when every kept one failed)."""
        start: float | None = None
        for ok, at in newest_first:
            if ok:
                break
            start = at
        if start is not None:
            since = self._failing_since.get(guild)
            self._failing_since[guild] = start if since is None else min(since, start)

    def failing_since(self, guild: GuildId) -> float | None:
        return self._failing_since.get(guild)

    def alarms(self, now: float) -> list[Alarm]:
        """Triggers for runs that reached the threshold, resolves for guilds delivering again."""
        out: list[Alarm] = []
        for guild in sorted(self._recovered):
            self._open.discard(guild)
            summary = f"Webhook exports of guild {int(guild)} are delivered again"
            out.append(Alarm(webhook_outage_key(guild), "info", summary, "resolve", now))
        self._recovered.clear()
        for guild, since in sorted(self._failing_since.items()):
            if guild in self._open or now - since < self.threshold_s:
                continue
            self._open.add(guild)
            minutes = int((now - since) // 60)
            summary = (
                f"Webhook exports of guild {int(guild)} have failed for {minutes} minute(s) "
                "(see the panel's Webhook deliveries page)"
            )
            out.append(Alarm(webhook_outage_key(guild), "warning", summary, "trigger", now))
        return out
