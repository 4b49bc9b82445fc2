"""Audit and automation events: what happened to a guild (or a shard), when, by whom, and why.

An `AuditEvent` is JSON-safe by construction: its ``data`` is validated and deep-copied into plain
JSON values, and `AuditEvent.from_json` reads back exactly what `AuditEvent.to_json` wrote. Named
constructors build the common events with a human ``summary`` the panel's log shows as is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, NodeName, ShardId
from vectobeat_core.jsonform import dump_method, json_form, json_key, load_method
from vectobeat_core.jsontypes import JSON, JSONObject, json_object, snowflake
from vectobeat_core.plans import Tier
from vectobeat_core.regions import Region, RegionDecision
from vectobeat_core.settings import Clamp

__all__ = ["MAX_ACTOR_LENGTH", "MAX_SUMMARY_LENGTH", "AuditEvent", "AuditKind"]

MAX_SUMMARY_LENGTH = 1000
MAX_ACTOR_LENGTH = 200


class AuditKind(StrEnum):
    """What an audit event records."""

    EFFECTIVE_REGION = "effective_region"
    SETTINGS_CHANGED = "settings_changed"
    SETTINGS_CLAMPED = "settings_clamped"
    SETTINGS_CONFLICT = "settings_conflict"
    NODE_FAILOVER = "node_failover"
    NODE_RETURN = "node_return"
    REGION_UNAVAILABLE = "region_unavailable"
    SHARD_FAILOVER = "shard_failover"
    THROTTLED_COMMAND = "throttled_command"
    PLAN_CHANGED = "plan_changed"
    TOKEN_CREATED = "token_created"  # noqa: S105 (an event name, not a secret)
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 (an event name, not a secret)
    QUEUE_RESTORED = "queue_restored"
    AUTOMATION_ACTION = "automation_action"
    BILLING_EVENT = "billing_event"
    COMPLIANCE_EXPORT = "compliance_export"
    COMPLIANCE_DELETE = "compliance_delete"
    CONCIERGE_REQUEST = "concierge_request"
    PLAYBACK_CONTROL = "playback_control"


def _problem(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Audit event field {field!r} {message}")


def _at(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise _problem("at", f"must be a finite, non-negative number of seconds, got {value!r}.")
    return float(value)


def _guild(value: object) -> GuildId | None:
    if value is None:
        return None
    return GuildId(snowflake(value, "Audit event field 'guild_id'"))


def _actor(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ACTOR_LENGTH:
        raise _problem(
            "actor", f"must be null or 1 to {MAX_ACTOR_LENGTH} characters, got {value!r}."
        )
    return value


def _summary(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SUMMARY_LENGTH:
        raise _problem("summary", f"must be a sentence of 1 to {MAX_SUMMARY_LENGTH} characters.")
    return value


def _data(value: object) -> JSONObject:
    return json_object(value, "Audit event field 'data'")


@json_form(what="Audit event", strict=True)
@attrs.frozen(slots=True, unsafe_hash=False)
class AuditEvent:
    """One audit/automation log entry. ``at`` is epoch seconds; ``data`` holds JSON facts."""

    kind: AuditKind
    at: float
    guild_id: GuildId | None = attrs.field(metadata=json_key(default=None))
    actor: str | None = attrs.field(metadata=json_key(default=None))
    summary: str
    data: JSONObject = attrs.field(factory=dict, converter=_data)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.kind, AuditKind):
            raise _problem("kind", f"must be an AuditKind, got {self.kind!r}.")
        _at(self.at)
        _guild(self.guild_id)
        _actor(self.actor)
        _summary(self.summary)

    to_json = dump_method()
    from_json = load_method()
    """Read an event written by `to_json` (or sent by a bot); bad fields raise `InvalidInput`."""

    # --- named constructors ------------------------------------------------------------------

    @classmethod
    def effective_region(
        cls, guild_id: GuildId, decision: RegionDecision, node: NodeName | None, at: float
    ) -> AuditEvent:
        """Where a playback went: the region decision and the node chosen in it."""
        where = f"on node {node}" if node is not None else "with no node available"
        summary = f"Playing in {decision.effective.value} {where}."
        if decision.clamped:
            summary += f" Requested {decision.requested.value}: {decision.reason}"
        data: dict[str, JSON] = {**decision.to_json(), "node": node}
        return cls(AuditKind.EFFECTIVE_REGION, at, guild_id, None, summary, data)

    @classmethod
    def settings_changed(
        cls, guild_id: GuildId, version: int, fields: Sequence[str], actor: str, at: float
    ) -> AuditEvent:
        """A saved settings version; only field names are logged, never values (URLs hold tokens)."""
        changed = ", ".join(fields) if fields else "no fields"
        summary = f"{actor} saved settings version {version} ({changed})."
        return cls(
            AuditKind.SETTINGS_CHANGED, at, guild_id, actor, summary[:MAX_SUMMARY_LENGTH],
            {"version": version, "fields": list(fields)},
        )  # fmt: skip

    @classmethod
    def settings_clamped(
        cls,
        guild_id: GuildId,
        tier: Tier,
        clamps: Sequence[Clamp],
        at: float,
        actor: str | None = None,
    ) -> AuditEvent:
        """Settings lowered to fit the ``tier``'s plan, with each clamp's reason (in English, as
        every audit entry: the phrase is left out)."""
        fields = ", ".join(c.field for c in clamps) or "nothing"
        summary = f"Settings lowered to fit the {tier.label} plan: {fields}."
        stored: list[JSON] = [attrs.evolve(c, reason_phrase=None).to_json() for c in clamps]
        data: dict[str, JSON] = {"tier": tier.key, "clamps": stored}
        return cls(
            AuditKind.SETTINGS_CLAMPED, at, guild_id, actor, summary[:MAX_SUMMARY_LENGTH], data
        )

    @classmethod
    def node_failover(
        cls,
        guild_id: GuildId,
        from_node: NodeName,
        to_node: NodeName,
        region: Region,
        *,
        reason: str,
        at: float,
        position_ms: int = 0,
    ) -> AuditEvent:
        """A player moved off a failed node to another node of ``region``."""
        summary = f"Player moved from node {from_node} to {to_node} ({region.value}): {reason}"
        data: dict[str, JSON] = {
            "from_node": from_node, "to_node": to_node, "region": region.value,
            "reason": reason, "position_ms": position_ms,
        }  # fmt: skip
        return cls(AuditKind.NODE_FAILOVER, at, guild_id, None, summary[:MAX_SUMMARY_LENGTH], data)

    @classmethod
    def region_unavailable(
        cls,
        guild_id: GuildId,
        region: Region,
        fallback_node: NodeName,
        fallback_region: Region,
        at: float,
    ) -> AuditEvent:
        """No healthy node in the guild's region; it plays elsewhere until the region recovers."""
        summary = (
            f"No healthy node in {region.value}; playing on {fallback_node} "
            f"({fallback_region.value}) until it recovers."
        )
        data: dict[str, JSON] = {
            "region": region.value, "fallback_node": fallback_node,
            "fallback_region": fallback_region.value,
        }  # fmt: skip
        return cls(AuditKind.REGION_UNAVAILABLE, at, guild_id, None, summary, data)

    @classmethod
    def node_return(
        cls, guild_id: GuildId, from_node: NodeName, to_node: NodeName, region: Region, at: float
    ) -> AuditEvent:
        """A player moved back to its preferred region's node at a track boundary."""
        summary = f"Player returned from node {from_node} to {to_node} ({region.value})."
        data: dict[str, JSON] = {"from_node": from_node, "to_node": to_node, "region": region.value}
        return cls(AuditKind.NODE_RETURN, at, guild_id, None, summary, data)

    @classmethod
    def shard_failover(
        cls, shard_id: ShardId, previous_owner: str, new_owner: str, epoch: int, at: float
    ) -> AuditEvent:
        """A hot spare took over a stale shard lease with a higher fencing ``epoch``."""
        summary = (
            f"Shard {shard_id} taken over by {new_owner} from {previous_owner} (epoch {epoch})."
        )
        data: dict[str, JSON] = {
            "shard_id": shard_id, "previous_owner": previous_owner,
            "new_owner": new_owner, "epoch": epoch,
        }  # fmt: skip
        return cls(
            AuditKind.SHARD_FAILOVER, at, None, new_owner, summary[:MAX_SUMMARY_LENGTH], data
        )

    @classmethod
    def throttled_command(
        cls, guild_id: GuildId, actor: str, command: str, retry_after: float, at: float
    ) -> AuditEvent:
        """A command refused by a rate limit; ``retry_after`` is in seconds."""
        summary = f"/{command} by {actor} was throttled; retry after {retry_after:.1f}s."
        data: dict[str, JSON] = {"command": command, "retry_after": retry_after}
        return cls(
            AuditKind.THROTTLED_COMMAND, at, guild_id, actor, summary[:MAX_SUMMARY_LENGTH], data
        )

    @classmethod
    def automation_action(
        cls, guild_id: GuildId, action: str, reason: str, at: float, **facts: JSON
    ) -> AuditEvent:
        """Something the automation engine did by itself (``action``), and why."""
        summary = f"Automation: {action} ({reason})."
        data: dict[str, JSON] = {"action": action, "reason": reason, **facts}
        return cls(
            AuditKind.AUTOMATION_ACTION, at, guild_id, "automation",
            summary[:MAX_SUMMARY_LENGTH], data,
        )  # fmt: skip

    @classmethod
    def plan_changed(
        cls, guild_id: GuildId, old: Tier, new: Tier, at: float, actor: str | None = None
    ) -> AuditEvent:
        """A subscription moved between tiers (billing or an operator)."""
        direction = "upgraded" if new > old else "downgraded" if new < old else "renewed"
        summary = f"Plan {direction} from {old.label} to {new.label}."
        data: dict[str, JSON] = {"old": old.key, "new": new.key}
        return cls(AuditKind.PLAN_CHANGED, at, guild_id, actor, summary, data)

    @classmethod
    def queue_restored(
        cls, guild_id: GuildId, tracks: int, node: NodeName | None, at: float
    ) -> AuditEvent:
        """A player and its queue restored from a durable snapshot (restart or shard takeover)."""
        where = f" on node {node}" if node is not None else ""
        summary = f"Queue restored with {tracks} track{'s' if tracks != 1 else ''}{where}."
        data: dict[str, JSON] = {"tracks": tracks, "node": node}
        return cls(AuditKind.QUEUE_RESTORED, at, guild_id, None, summary, data)
