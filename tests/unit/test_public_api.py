"""The public facade of vectobeat_core is deliberate: adding or removing a name is a visible change."""

from __future__ import annotations

import vectobeat_core
from vectobeat_core import errors

EXPECTED = {
    # errors
    "BridgeUnavailable", "ConfigError", "Conflict", "InvalidInput", "InvalidPlanMatrix",
    "InvalidSettings", "InvalidSnapshot", "InvalidTrack", "LimitExceeded", "NodeUnavailable",
    "NotAuthenticated", "NotBuilt", "NotEnabled", "NotFound", "OutcomeUnknown", "PermissionDenied",
    "PositionOutOfRange",
    "QueueEmpty", "QueueFull", "StaleVersion", "StorageUnavailable", "Unavailable",
    "VectoBeatError",
    # ids
    "ChannelId", "EntryId", "GuildId", "NodeName", "RoleId", "ShardId", "UserId",
    # tracks and queue
    "Track", "decode_track", "encode_track",
    "GuildQueue", "LoopMode", "PlayerState", "QueueEntry", "QueuePage", "QueueSnapshot",
    # plans, regions, settings, audit
    "Plan", "PlanCatalogue", "Tier", "default_catalogue", "parse_plan_matrix",
    "Region", "RegionDecision", "clamp_region",
    "Clamp", "ServerSettings", "SettingsRecord", "apply_update", "clamp_to_plan",
    "field_requirements", "merge_settings", "parse_settings", "should_apply",
    "AuditEvent", "AuditKind",
    # routing, health, shards, status
    "MigrationPlan", "NodeChoice", "NodeSpec", "NodeStats", "NodeView", "PlayerPlacement",
    "choose_node", "extrapolate_position", "parse_node_list", "plan_migration", "plan_return",
    "Alarm", "AlarmThrottle", "HealthPolicy", "NodeHealth", "NodeStatus", "ProbeResult", "observe",
    "Lease", "Promotion", "plan_claim", "plan_promotion", "plan_renew",
    "build_status", "readiness",
}  # fmt: skip


def test_all_is_pinned_and_sorted() -> None:
    assert set(vectobeat_core.__all__) == EXPECTED
    assert list(vectobeat_core.__all__) == sorted(vectobeat_core.__all__)


def test_every_exported_name_resolves() -> None:
    for name in vectobeat_core.__all__:
        assert getattr(vectobeat_core, name) is not None, name


def test_every_error_is_a_vectobeat_error() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(vectobeat_core, name), vectobeat_core.VectoBeatError)
