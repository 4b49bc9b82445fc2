"""Hypothesis strategies for plans, regions, server settings, settings records and audit data."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.ids import GuildId, RoleId
from vectobeat_core.jsontypes import JSON, MAX_SNOWFLAKE
from vectobeat_core.plans import (
    ANALYTICS_LEVELS,
    AUTOMATION_LEVELS,
    PLAYBACK_QUALITIES,
    QUEUE_SYNC_MODES,
    SOURCE_ACCESS_LEVELS,
    Plan,
    PlanCatalogue,
    Tier,
    default_catalogue,
)
from vectobeat_core.regions import Region
from vectobeat_core.settings import (
    ANNOUNCEMENT_STYLES,
    MAX_AUTOMATION_WINDOW_HOURS,
    MAX_DJ_ROLES,
    MAX_QUEUE_LIMIT,
    WEBHOOK_EVENTS,
    ServerSettings,
    SettingsRecord,
)

__all__ = [
    "audit_events",
    "guild_ids",
    "json_objects",
    "plan_catalogues",
    "plans",
    "regions",
    "role_ids",
    "server_settings",
    "settings_patches",
    "settings_records",
    "tiers",
    "timestamps",
    "webhook_urls",
]

tiers = st.sampled_from(Tier)
regions = st.sampled_from(Region)
plans = tiers.map(lambda tier: default_catalogue().plan(tier))
"""A plan of the shipped matrix."""

guild_ids = st.integers(1, MAX_SNOWFLAKE).map(GuildId)
role_ids = st.integers(1, MAX_SNOWFLAKE).map(RoleId)
timestamps = st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False)

_host = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True)
_path = st.from_regex(r"(/[A-Za-z0-9_.~-]{0,12}){0,4}", fullmatch=True)
webhook_urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}{path}",
    st.sampled_from(["http", "https"]),
    _host,
    _path,
)
_colors = st.from_regex(r"#[0-9A-F]{6}", fullmatch=True)


@st.composite
def server_settings(draw: st.DrawFn) -> ServerSettings:
    """Any valid settings, plan limits ignored (so clamping has something to do)."""
    return ServerSettings(
        queue_limit=draw(st.integers(1, MAX_QUEUE_LIMIT)),
        collaborative_queue=draw(st.booleans()),
        member_track_limit=draw(st.integers(0, MAX_QUEUE_LIMIT)),
        dj_role_ids=tuple(draw(st.lists(role_ids, max_size=MAX_DJ_ROLES, unique=True))),
        default_volume=draw(st.integers(0, 200)),
        autoplay=draw(st.booleans()),
        announcement_style=draw(st.sampled_from(ANNOUNCEMENT_STYLES)),
        region=draw(regions),
        source_access=draw(st.sampled_from(SOURCE_ACCESS_LEVELS)),
        playback_quality=draw(st.sampled_from(PLAYBACK_QUALITIES)),
        analytics_mode=draw(st.sampled_from(ANALYTICS_LEVELS)),
        automation_level=draw(st.sampled_from(AUTOMATION_LEVELS)),
        automation_window_hours=draw(st.integers(0, MAX_AUTOMATION_WINDOW_HOURS)),
        webhook_export_url=draw(st.none() | webhook_urls),
        webhook_export_events=tuple(draw(st.lists(st.sampled_from(WEBHOOK_EVENTS), unique=True))),
        branding_color=draw(_colors),
    )


@st.composite
def settings_patches(draw: st.DrawFn) -> dict[str, JSON]:
    """A valid partial update in JSON form (a subset of some settings' fields)."""
    full = draw(server_settings()).to_json()
    keys = draw(st.lists(st.sampled_from(sorted(full)), unique=True))
    return {key: full[key] for key in keys}


@st.composite
def settings_records(draw: st.DrawFn) -> SettingsRecord:
    return SettingsRecord(
        guild_id=draw(guild_ids),
        version=draw(st.integers(1, 2**31)),
        settings=draw(server_settings()),
        updated_at=draw(timestamps),
        updated_by=draw(st.text(min_size=1, max_size=20).filter(str.strip)),
    )


def _ranked(draw: st.DrawFn, values: st.SearchStrategy[Any], key: Any = None) -> list[Any]:
    drawn = draw(st.lists(values, min_size=len(Tier), max_size=len(Tier)))
    return sorted(drawn, key=key)


@st.composite
def plan_catalogues(draw: st.DrawFn) -> PlanCatalogue:
    """A random but valid (monotonic, consistent) plan matrix."""
    counts = st.integers(0, 10**6)
    limits = st.none() | counts

    def level(levels: tuple[str, ...]) -> list[Any]:
        return _ranked(draw, st.sampled_from(levels), levels.index)

    columns: dict[str, list[Any]] = {
        "queue_cap": _ranked(draw, st.integers(1, 10**6)),
        "playlist_limit": _ranked(draw, limits, lambda v: (v is None, v or 0)),
        "playlist_track_limit": _ranked(draw, limits, lambda v: (v is None, v or 0)),
        "region_pinning": _ranked(draw, st.booleans()),
        "concierge": _ranked(draw, st.booleans()),
        "concierge_hours": _ranked(draw, counts),
        "sla_minutes": _ranked(
            draw, st.none() | st.integers(1, 10**5), lambda v: (v is not None, -(v or 0))
        ),
        "success_pod": _ranked(draw, st.booleans()),
        "source_access": level(SOURCE_ACCESS_LEVELS),
        "playback_quality": level(PLAYBACK_QUALITIES),
        "analytics": level(ANALYTICS_LEVELS),
        "automation": level(AUTOMATION_LEVELS),
        "automation_window_hours": _ranked(draw, counts),
        "webhook_exports": _ranked(draw, st.booleans()),
        "stay_connected": _ranked(draw, st.booleans()),
        "api_tokens": _ranked(draw, counts),
        "queue_sync": level(QUEUE_SYNC_MODES),
        "snapshot_ttl_seconds": _ranked(draw, st.integers(1, 10**8)),
    }
    built: list[Plan] = []
    for i, tier in enumerate(Tier):
        row = {name: column[i] for name, column in columns.items()}
        if not row["concierge"]:
            row["concierge_hours"] = 0
        if row["automation"] == "off":
            row["automation_window_hours"] = 0
        built.append(Plan(tier=tier, **row))
    return PlanCatalogue(plans=tuple(built), source="<generated>")


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_objects = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        _scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    max_size=4,
)
"""JSON objects as ``json.loads`` would return them (finite numbers, string keys)."""


audit_events = st.builds(
    AuditEvent,
    kind=st.sampled_from(AuditKind),
    at=timestamps,
    guild_id=st.none() | guild_ids,
    actor=st.none() | st.text(min_size=1, max_size=20).filter(str.strip),
    summary=st.text(min_size=1, max_size=50).filter(str.strip),
    data=json_objects,
)
"""Any valid audit event."""
