"""Server settings: the schema, validation, plan clamping and versioned sync rules.

* `ServerSettings` is one guild's settings; its defaults are what a free guild gets. Constructing one
  validates every field; `parse_settings` reads a JSON payload (unknown fields rejected by name) and
  `merge_settings` applies a partial update. Both raise `InvalidSettings` with one message per field.
  A removed field (`RETIRED_FIELDS`) is skipped when stored data is read and refused in an update.
* `clamp_to_plan` lowers whatever the plan does not allow and returns a `Clamp` per change, saying why
  and which tier would allow it; `field_requirements` tells the panel which tier unlocks a value.
* `SettingsRecord` is the stored, versioned form. `apply_update` writes only over the version the
  change was based on (else `StaleVersion`); `should_apply` lets a follower accept only newer versions.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, cast
from urllib.parse import urlsplit

import attrs

from vectobeat_core import setting_rules as rules
from vectobeat_core.errors import InvalidInput, InvalidSettings, StaleVersion
from vectobeat_core.ids import GuildId, RoleId
from vectobeat_core.jsonform import dump_method, form, json_form, json_key, load_method
from vectobeat_core.jsontypes import JSON, JSONObject, snowflake
from vectobeat_core.messages import Phrase, Term, message_id
from vectobeat_core.plans import (
    ANALYTICS_LEVELS,
    AUTOMATION_LEVELS,
    PLAYBACK_QUALITIES,
    SOURCE_ACCESS_LEVELS,
    AnalyticsLevel,
    AutomationLevel,
    Plan,
    PlanCatalogue,
    PlaybackQuality,
    SourceAccess,
    Tier,
    default_catalogue,
)
from vectobeat_core.regions import Region, clamp_region
from vectobeat_core.webhook_targets import UnsafeWebhookTarget, parse_target

__all__ = [
    "ANNOUNCEMENT_STYLES",
    "MAX_AUTOMATION_WINDOW_HOURS",
    "MAX_DJ_ROLES",
    "MAX_QUEUE_LIMIT",
    "MAX_VOLUME",
    "MAX_WEBHOOK_URL_LENGTH",
    "PLAN_GATED_FIELDS",
    "RETIRED_FIELDS",
    "SETTINGS_FIELDS",
    "SETTING_HELP",
    "SETTING_LABELS",
    "WEBHOOK_EVENTS",
    "AnnouncementStyle",
    "Clamp",
    "ServerSettings",
    "SettingsRecord",
    "apply_update",
    "changed_fields",
    "clamp_to_plan",
    "field_requirements",
    "merge_settings",
    "parse_settings",
    "redact_url",
    "settings_json_schema",
    "should_apply",
]

AnnouncementStyle: TypeAlias = Literal["off", "minimal", "rich"]
ANNOUNCEMENT_STYLES: tuple[AnnouncementStyle, ...] = ("off", "minimal", "rich")
WEBHOOK_EVENTS: tuple[str, ...] = (
    "automation_action",
    "node_failover",
    "queue_finished",
    "queue_updated",
    "settings_changed",
    "track_finished",
    "track_started",
)
"""The events a guild may export to its webhook."""

MAX_QUEUE_LIMIT = 100_000
MAX_DJ_ROLES = 25
MAX_AUTOMATION_WINDOW_HOURS = 720
MAX_WEBHOOK_URL_LENGTH = 2048
MAX_ACTOR_LENGTH = 200
MAX_VOLUME = 200
"""Loudest volume, in percent (settings' default volume and the player's)."""


def redact_url(url: str | None) -> str | None:
    """``scheme://host/…``: enough to recognise an endpoint without leaking a token in its path."""
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…"


_RULES: dict[str, rules.Rule] = {
    "queue_limit": rules.whole(1, MAX_QUEUE_LIMIT),
    "collaborative_queue": rules.flag,
    "member_track_limit": rules.whole(0, MAX_QUEUE_LIMIT),
    "dj_role_ids": rules.role_ids(MAX_DJ_ROLES),
    "default_volume": rules.whole(0, MAX_VOLUME),
    "autoplay": rules.flag,
    "stay_connected": rules.flag,
    "vote_skip_percent": rules.whole(0, 100),
    "announcement_style": rules.choice(ANNOUNCEMENT_STYLES),
    "region": rules.region,
    "source_access": rules.choice(SOURCE_ACCESS_LEVELS),
    "playback_quality": rules.choice(PLAYBACK_QUALITIES),
    "analytics_mode": rules.choice(ANALYTICS_LEVELS),
    "automation_level": rules.choice(AUTOMATION_LEVELS),
    "automation_window_hours": rules.whole(0, MAX_AUTOMATION_WINDOW_HOURS),
    "webhook_export_url": rules.http_url(MAX_WEBHOOK_URL_LENGTH),
    "webhook_export_events": rules.names(WEBHOOK_EVENTS),
    "branding_color": rules.colour,
}
SETTINGS_FIELDS: tuple[str, ...] = tuple(_RULES)
"""Every settings field, in schema order."""


def settings_json_schema() -> JSONObject:
    """The JSON Schema of a settings object, from the very rules `parse_settings` applies
    (a fresh dict each call)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: copy.deepcopy(rule.schema) for name, rule in _RULES.items()},
    }


RETIRED_FIELDS: dict[str, str] = {
    "custom_prefix": message_id(
        "was removed: VectoBeat answers slash commands only (prefix commands would need "
        "Discord's privileged message-content intent)"
    ),
}
"""Fields that no longer exist: stored documents that still hold one are read without it; a
change that names one is refused with this reason."""


@attrs.frozen(slots=True)
class ServerSettings:
    """One guild's settings; the defaults are a free guild's. Invalid values raise `InvalidSettings`.

    Values must be canonical (tuples, upper-case colours); `parse_settings` canonicalises JSON input.
    """

    queue_limit: int = 100
    collaborative_queue: bool = True
    member_track_limit: int = 0
    dj_role_ids: tuple[RoleId, ...] = ()
    default_volume: int = 100
    autoplay: bool = False
    stay_connected: bool = False
    vote_skip_percent: int = 50
    announcement_style: AnnouncementStyle = "minimal"
    region: Region = Region.AUTO
    source_access: SourceAccess = "standard"
    playback_quality: PlaybackQuality = "standard"
    analytics_mode: AnalyticsLevel = "none"
    automation_level: AutomationLevel = "off"
    automation_window_hours: int = 0
    webhook_export_url: str | None = attrs.field(
        default=None, repr=lambda url: repr(redact_url(url))
    )
    webhook_export_events: tuple[str, ...] = ()
    branding_color: str = "#5865F2"

    def __attrs_post_init__(self) -> None:
        problems: dict[str, str | Phrase] = {}
        for field, rule in _RULES.items():
            value = getattr(self, field)
            try:
                canonical = rule.check(value)
            except rules.SettingProblem as exc:
                problems[field] = exc.phrase
                continue
            if canonical != value or type(canonical) is not type(value):
                problems[field] = Phrase(
                    message_id("must be given as {canonical}, got {value}"),
                    {"canonical": repr(canonical), "value": repr(value)},
                )
        if problems:
            raise InvalidSettings(problems)

    to_json = dump_method()
    """A JSON object of every field (role ids as decimal text); `parse_settings` reads it back."""


def _read_fields(payload: object, *, stored: bool) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidSettings(
            {
                "settings": Phrase(
                    message_id("must be an object of fields, got {kind}"),
                    {"kind": type(payload).__name__},
                )
            }
        )
    problems: dict[str, str | Phrase] = {}
    values: dict[str, Any] = {}
    for key, raw in payload.items():
        if key in RETIRED_FIELDS:
            if not stored:
                problems[key] = RETIRED_FIELDS[key]
            continue
        rule = _RULES.get(key) if isinstance(key, str) else None
        if rule is None:
            problems[str(key)] = message_id("is not a settings field")
            continue
        try:
            values[key] = rule.check(raw)
        except rules.SettingProblem as exc:
            problems[key] = exc.phrase
    if problems:
        raise InvalidSettings(problems)
    return values


def parse_settings(payload: Mapping[str, object]) -> ServerSettings:
    """Read settings from JSON; missing fields take the free defaults, unknown ones are rejected
    (`RETIRED_FIELDS` are skipped: a document stored before their removal still reads)."""
    return ServerSettings(**_read_fields(payload, stored=True))


def merge_settings(
    base: ServerSettings,
    patch: Mapping[str, object],
    *,
    webhook_hosts: Collection[str] | None = None,
) -> ServerSettings:
    """``base`` with the fields in ``patch`` replaced (each validated like `parse_settings`).

    A save passes ``webhook_hosts`` (the operator's allow-list): a changed ``webhook_export_url``
    must then pass `vectobeat_core.webhook_targets.parse_target` (https, no integer-form or
    non-public literal host). Stored settings are read without it, so nothing saved is lost.
    """
    if not isinstance(base, ServerSettings):
        raise InvalidInput(
            f"merge_settings needs ServerSettings as its base, got {type(base).__name__}."
        )
    values = _read_fields(patch, stored=False)
    url = values.get("webhook_export_url")
    if webhook_hosts is not None and url is not None and url != base.webhook_export_url:
        try:
            parse_target(url, webhook_hosts)
        except UnsafeWebhookTarget as exc:
            raise InvalidSettings({"webhook_export_url": exc.phrase(clause=True)}) from None
    return attrs.evolve(base, **values)


def changed_fields(old: ServerSettings, new: ServerSettings) -> tuple[str, ...]:
    """The fields whose values differ, in schema order (for the audit log and history)."""
    if not isinstance(old, ServerSettings) or not isinstance(new, ServerSettings):
        raise InvalidInput("changed_fields compares two ServerSettings.")
    return tuple(f for f in _RULES if getattr(old, f) != getattr(new, f))


# --- plan clamping ---------------------------------------------------------------------------


@attrs.frozen(slots=True)
class _Gate:
    allows: Callable[[Plan, Any], bool]
    ceiling: Callable[[Plan], object]


def _level_allows(levels: tuple[str, ...], attr: str) -> Callable[[Plan, Any], bool]:
    return lambda plan, value: levels.index(value) <= levels.index(getattr(plan, attr))


_GATES: dict[str, _Gate] = {
    "queue_limit": _Gate(lambda p, v: v <= p.queue_cap, lambda p: p.queue_cap),
    "region": _Gate(lambda p, v: not v.pinned or p.region_pinning, lambda p: Region.AUTO),
    "source_access": _Gate(
        _level_allows(SOURCE_ACCESS_LEVELS, "source_access"), lambda p: p.source_access
    ),
    "playback_quality": _Gate(
        _level_allows(PLAYBACK_QUALITIES, "playback_quality"), lambda p: p.playback_quality
    ),
    "analytics_mode": _Gate(_level_allows(ANALYTICS_LEVELS, "analytics"), lambda p: p.analytics),
    "automation_level": _Gate(
        _level_allows(AUTOMATION_LEVELS, "automation"), lambda p: p.automation
    ),
    "automation_window_hours": _Gate(
        lambda p, v: v <= p.automation_window_hours, lambda p: p.automation_window_hours
    ),
    "stay_connected": _Gate(lambda p, v: not v or p.stay_connected, lambda p: False),
    "webhook_export_url": _Gate(lambda p, v: v is None or p.webhook_exports, lambda p: None),
    "webhook_export_events": _Gate(lambda p, v: not v or p.webhook_exports, lambda p: ()),
}
PLAN_GATED_FIELDS: tuple[str, ...] = tuple(_GATES)
"""The settings fields whose allowed values depend on the plan."""


@attrs.frozen(slots=True)
class Clamp:
    """One value `clamp_to_plan` lowered: what was asked, what applies, why, and which tier would
    allow the request (``None``: no plan does). Webhook URLs appear redacted. ``reason`` is in
    English, ``reason_phrase`` the same as a `Phrase` (left out of equality: it says nothing
    more)."""

    field: str
    requested: JSON
    effective: JSON
    reason: str
    required_tier: Tier | None
    reason_phrase: Phrase | None = attrs.field(default=None, eq=False, metadata=json_key(omit=True))

    to_json = dump_method()

    @property
    def why(self) -> Phrase:
        """The reason to show: `reason_phrase`, else `reason` as it is (a clamp from a panel
        that sent no phrase)."""
        return self.reason_phrase or Phrase(self.reason)


def _shown(field: str, value: object) -> JSON:
    if field == "webhook_export_url":
        return redact_url(cast(str | None, value))
    return cast(JSON, form(ServerSettings).dump_field(field, value))


def _lowest_allowing(catalogue: PlanCatalogue, gate: _Gate, value: object) -> Tier | None:
    return catalogue.lowest_tier_with(lambda plan: gate.allows(plan, value))


def _needs(tier: Tier | None) -> Phrase:
    if tier is None:
        return Phrase(message_id("no plan allows it"))
    return Phrase(message_id("it needs {tier} or higher"), {"tier": tier.label})


_MISSING_FEATURES = {
    "stay_connected": message_id("24/7 mode is not included in your plan ({plan}); {needs}."),
    "webhook_export_url": message_id(
        "Webhook exports are not included in your plan ({plan}); {needs}."
    ),
}
_MISSING_FEATURES["webhook_export_events"] = _MISSING_FEATURES["webhook_export_url"]


def _clamp_reason(
    field: str, value: Any, plan: Plan, catalogue: PlanCatalogue, required: Tier | None
) -> Phrase:
    """Why ``value`` of ``field`` was lowered to what ``plan`` allows."""
    if field == "region":
        return clamp_region(plan, value, catalogue).why
    needs = _needs(required)
    if field in _MISSING_FEATURES:
        return Phrase(_MISSING_FEATURES[field], {"plan": plan.label, "needs": needs})
    return Phrase(
        message_id(
            "{setting} {requested} is above your plan ({plan}), which allows {allowed}; {needs}."
        ),
        {
            "setting": Term(SETTING_LABELS[field]),
            "requested": _shown(field, value),
            "plan": plan.label,
            "allowed": _shown(field, _GATES[field].ceiling(plan)),
            "needs": needs,
        },
    )


def clamp_to_plan(
    settings: ServerSettings, plan: Plan, catalogue: PlanCatalogue | None = None
) -> tuple[ServerSettings, tuple[Clamp, ...]]:
    """Lower every value ``plan`` does not allow; return the result and one `Clamp` per change.

    Idempotent: clamping clamped settings changes nothing. ``catalogue`` (default: the shipped
    one) names the tier that would allow each request.
    """
    if not isinstance(settings, ServerSettings):
        raise InvalidInput(f"clamp_to_plan needs ServerSettings, got {type(settings).__name__}.")
    if not isinstance(plan, Plan):
        raise InvalidInput(f"clamp_to_plan needs a Plan, got {type(plan).__name__}.")
    catalogue = catalogue or default_catalogue()
    changes: dict[str, Any] = {}
    clamps: list[Clamp] = []
    for field, gate in _GATES.items():
        value = getattr(settings, field)
        if gate.allows(plan, value):
            continue
        effective = gate.ceiling(plan)
        required = _lowest_allowing(catalogue, gate, value)
        reason = _clamp_reason(field, value, plan, catalogue, required)
        changes[field] = effective
        clamps.append(
            Clamp(
                field=field,
                requested=_shown(field, value),
                effective=_shown(field, effective),
                reason=str(reason),
                required_tier=required,
                reason_phrase=reason,
            )
        )
    return attrs.evolve(settings, **changes), tuple(clamps)


def field_requirements(
    field: str, value: object, catalogue: PlanCatalogue | None = None
) -> Tier | None:
    """The lowest tier whose plan allows ``value`` for ``field`` (``None``: no plan does).

    Fields no plan restricts need `Tier.FREE`. Invalid values raise `InvalidSettings`.
    """
    rule = _RULES.get(field) if isinstance(field, str) else None
    if rule is None:
        raise InvalidInput(f"Unknown settings field {field!r}.")
    try:
        canonical = rule.check(value)
    except rules.SettingProblem as exc:
        raise InvalidSettings({field: exc.phrase}) from None
    gate = _GATES.get(field)
    if gate is None:
        return Tier.FREE
    return _lowest_allowing(catalogue or default_catalogue(), gate, canonical)


# --- versioned sync --------------------------------------------------------------------------


def _record_problem(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Settings record field {field!r} {message}")


def _version(value: object, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _record_problem(
            field, f"must be a whole number of at least {minimum}, got {value!r}."
        )
    return value


def _timestamp(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _record_problem(field, f"must be a finite number of seconds, got {value!r}.")
    if value < 0:
        raise _record_problem(field, f"must not be negative, got {value!r}.")
    return float(value)


def _actor(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ACTOR_LENGTH:
        raise _record_problem(
            field, f"must be 1 to {MAX_ACTOR_LENGTH} characters naming who, got {value!r}."
        )
    return value


def _guild(value: object) -> GuildId:
    return GuildId(snowflake(value, "Settings record field 'guild_id'"))


def _stored_settings(value: object) -> ServerSettings:
    return parse_settings(cast(Mapping[str, object], value))


@json_form(what="Settings record", strict=True)
@attrs.frozen(slots=True)
class SettingsRecord:
    """Stored settings of a guild: ``version`` counts writes from 1; ``updated_at`` is epoch seconds."""

    guild_id: GuildId
    version: int
    settings: ServerSettings = attrs.field(metadata=json_key(load=_stored_settings))
    updated_at: float
    updated_by: str

    def __attrs_post_init__(self) -> None:
        _guild(self.guild_id)
        _version(self.version, "version", 1)
        if not isinstance(self.settings, ServerSettings):
            raise _record_problem(
                "settings", f"must be ServerSettings, got {type(self.settings).__name__}."
            )
        _timestamp(self.updated_at, "updated_at")
        _actor(self.updated_by, "updated_by")

    to_json = dump_method()
    from_json = load_method()
    """Read a record written by `to_json`; bad fields raise `InvalidInput`/`InvalidSettings`."""


def apply_update(
    current: SettingsRecord | None,
    base_version: int,
    new: ServerSettings,
    *,
    now: float,
    actor: str,
    guild_id: GuildId,
) -> SettingsRecord:
    """Write ``new`` over ``current`` if the edit was based on the current version.

    ``base_version`` 0 means "creating" (no record yet). A stale base raises `StaleVersion`
    (HTTP 409); the result has ``version = current.version + 1``.
    """
    base = _version(base_version, "base_version", 0)
    gid = _guild(guild_id)
    if current is not None and not isinstance(current, SettingsRecord):
        raise InvalidInput(
            f"apply_update needs a SettingsRecord or None, got {type(current).__name__}."
        )
    held = 0 if current is None else current.version
    if current is not None and current.guild_id != gid:
        raise InvalidInput(
            f"Settings of guild {current.guild_id} cannot be updated as guild {gid}."
        )
    if base != held:
        raise StaleVersion("This server's settings", base, held)
    return SettingsRecord(
        guild_id=gid,
        version=held + 1,
        settings=new,
        updated_at=_timestamp(now, "now"),
        updated_by=actor,
    )


def should_apply(held_version: int | None, incoming_version: int) -> bool:
    """True only when ``incoming_version`` is strictly newer than what a follower holds."""
    incoming = _version(incoming_version, "incoming_version", 1)
    if held_version is None:
        return True
    return incoming > _version(held_version, "held_version", 0)


SETTING_HELP: Mapping[str, str] = MappingProxyType(
    {
        "queue_limit": message_id("Most tracks a queue holds (the plan caps it)."),
        "collaborative_queue": message_id(
            "Everyone may add tracks; off: only DJs and the requester of a track may change the queue."
        ),
        "member_track_limit": message_id(
            "Most upcoming tracks one member may have queued (0: no limit); DJs are exempt."
        ),
        "dj_role_ids": message_id(
            "Roles whose members may skip, remove and reorder anyone's tracks (role ids, separated by commas or spaces)."
        ),
        "default_volume": message_id("Volume a new player starts at, 0 to 200 (%)."),
        "stay_connected": message_id(
            "24/7 mode: the bot stays in its voice channel with an empty queue, in an empty channel and after restarts (plan-gated)."
        ),
        "vote_skip_percent": message_id(
            "Share of the listeners in the bot's voice channel (bots excluded) who must vote before a member who is neither a DJ nor the track's requester skips it; 0 turns voting off."
        ),
        "autoplay": message_id(
            "When the queue runs out, play the last track's mix (or its artist), none of the recent tracks."
        ),
        "announcement_style": message_id(
            "Each next track, in the channel of the last /play: rich (card with buttons), minimal (one line) or off."
        ),
        "branding_color": message_id("Colour of the bot's cards, #RRGGBB."),
        "region": message_id(
            "Where the audio node plays; auto picks the least loaded (pinning is plan-gated)."
        ),
        "source_access": message_id(
            "Where /play searches and which links it takes: standard is YouTube and SoundCloud; extended adds Spotify, Apple Music, Deezer (if the node has them); unlimited allows any source, direct links too."
        ),
        "playback_quality": message_id(
            "Standard smooths the highs with a low-pass filter, high filters lightly, lossless plays the source untouched."
        ),
        "analytics_mode": message_id(
            "How much track detail queue telemetry and webhook exports carry."
        ),
        "automation_level": message_id(
            "smart: slows command floods, skips duplicate tracks, leaves empty channels; full: also restarts a stalled queue and re-joins dropped voice; off: none of these."
        ),
        "automation_window_hours": message_id(
            "A track played within this many hours is skipped as a duplicate (0: only tracks still queued)."
        ),
        "webhook_export_url": message_id(
            "An https:// endpoint on a public address that receives each selected event as signed JSON, as detailed as Analytics allows."
        ),
        "webhook_export_events": message_id("Which events are sent to the webhook URL."),
    }
)
"""What each server setting does, in one line: the panel's settings page and
docs/configuration.md show it."""
assert set(SETTING_HELP) == set(SETTINGS_FIELDS), "every setting says what it does"

SETTING_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "queue_limit": message_id("Queue limit"),
        "collaborative_queue": message_id("Collaborative queue"),
        "member_track_limit": message_id("Tracks per member"),
        "dj_role_ids": message_id("DJ roles"),
        "default_volume": message_id("Default volume"),
        "autoplay": message_id("Autoplay"),
        "stay_connected": message_id("24/7 mode"),
        "vote_skip_percent": message_id("Vote-skip share (%)"),
        "announcement_style": message_id("Now-playing messages"),
        "branding_color": message_id("Embed colour"),
        "region": message_id("Region"),
        "source_access": message_id("Source access"),
        "playback_quality": message_id("Playback quality"),
        "analytics_mode": message_id("Analytics"),
        "automation_level": message_id("Automation"),
        "automation_window_hours": message_id("Automation window (hours)"),
        "webhook_export_url": message_id("Webhook URL"),
        "webhook_export_events": message_id("Exported events"),
    }
)
"""Each server setting's name for people (the panel shows these, never the keys)."""
assert set(SETTING_LABELS) == set(SETTINGS_FIELDS), "every setting has a name for people"
