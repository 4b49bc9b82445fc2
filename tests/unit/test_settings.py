"""Settings: validation with per-field messages, plan clamping with reasons, versioned sync."""

from __future__ import annotations

import json
import math
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.settings import (
    guild_ids,
    plan_catalogues,
    plans,
    server_settings,
    settings_patches,
    settings_records,
    tiers,
    timestamps,
)
from vectobeat_core.errors import InvalidInput, InvalidSettings, StaleVersion
from vectobeat_core.ids import GuildId, RoleId
from vectobeat_core.plans import (
    ANALYTICS_LEVELS,
    AUTOMATION_LEVELS,
    PLAYBACK_QUALITIES,
    SOURCE_ACCESS_LEVELS,
    Plan,
    PlanCatalogue,
    Tier,
    default_catalogue,
    level_rank,
)
from vectobeat_core.regions import Region
from vectobeat_core.settings import (
    PLAN_GATED_FIELDS,
    SETTINGS_FIELDS,
    Clamp,
    ServerSettings,
    SettingsRecord,
    apply_update,
    changed_fields,
    clamp_to_plan,
    field_requirements,
    merge_settings,
    parse_settings,
    redact_url,
    should_apply,
)

GUILD = GuildId(123456789012345678)
CAT = default_catalogue()


def _problems(payload: Any) -> dict[str, str]:
    with pytest.raises(InvalidSettings) as info:
        parse_settings(payload)
    return info.value.problems


# --- schema and validation -------------------------------------------------------------------


def test_defaults_are_what_a_free_guild_gets() -> None:
    defaults = ServerSettings()
    assert parse_settings({}) == defaults
    clamped, clamps = clamp_to_plan(defaults, CAT.plan(Tier.FREE))
    assert clamped == defaults
    assert clamps == ()
    assert defaults.queue_limit == CAT.plan(Tier.FREE).queue_cap
    assert defaults.region is Region.AUTO


def test_to_json_has_every_field_and_role_ids_as_text() -> None:
    settings = ServerSettings(
        dj_role_ids=(RoleId(2**60),), webhook_export_events=("track_started",)
    )
    out = settings.to_json()
    assert tuple(out) == SETTINGS_FIELDS
    assert out["dj_role_ids"] == [str(2**60)]
    assert out["region"] == "auto"
    assert out["webhook_export_events"] == ["track_started"]
    assert json.loads(json.dumps(out)) == out


def test_parse_accepts_json_shapes_and_canonicalises() -> None:
    settings = parse_settings(
        {
            "region": "EU",
            "dj_role_ids": ["42", 43],
            "branding_color": "#abcdef",
            "webhook_export_url": "https://hooks.example.com/v1/x?y=1",
            "webhook_export_events": ["queue_finished", "track_started"],
            "custom_prefix": "vb!",  # retired: a stored document that has it still reads
        }
    )
    assert settings.region is Region.EU
    assert settings.dj_role_ids == (42, 43)
    assert settings.branding_color == "#ABCDEF"
    assert settings.webhook_export_events == ("queue_finished", "track_started")


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        ("queue_limit", 0, "from 1 to 100000"),
        ("queue_limit", True, "from 1 to 100000"),
        ("queue_limit", "50", "from 1 to 100000"),
        ("default_volume", 201, "from 0 to 200"),
        ("default_volume", -1, "from 0 to 200"),
        ("collaborative_queue", "yes", "true or false"),
        ("autoplay", 1, "true or false"),
        ("announcement_style", "loud", "off, minimal, rich"),
        ("region", "mars", "Unknown region 'mars'"),
        ("source_access", "everything", "standard, extended, unlimited"),
        ("playback_quality", "8k", "standard, high, lossless"),
        ("analytics_mode", "psychic", "none, basic, advanced, predictive"),
        ("automation_level", 3, "off, smart, full"),
        ("automation_window_hours", 721, "from 0 to 720"),
        ("dj_role_ids", "42", "must be a list of role ids"),
        ("dj_role_ids", list(range(1, 27)), "at most 25 roles"),
        ("dj_role_ids", [1, 1], "lists role 1 twice"),
        ("dj_role_ids", [0], "must be a Discord id"),
        ("dj_role_ids", ["12a"], "must be a Discord id"),
        ("dj_role_ids", [True], "must be a Discord id"),
        ("webhook_export_url", 5, "http(s) URL or null"),
        ("webhook_export_url", "ftp://example.com/x", "http:// or https://"),
        ("webhook_export_url", "https://", "http:// or https://"),
        ("webhook_export_url", "https://a.example/" + "x" * 2048, "at most 2048"),
        ("webhook_export_url", "https://a.example/x y", "spaces or control"),
        ("webhook_export_url", "https://a.example/\x00", "spaces or control"),
        ("webhook_export_url", "https://user:pw@a.example/", "user name or password"),
        ("webhook_export_url", "https://a.example:99999/", "not a valid URL"),
        ("webhook_export_events", "track_started", "list of event names"),
        ("webhook_export_events", ["party_started"], "unknown event 'party_started'"),
        ("webhook_export_events", [5], "unknown event 5"),
        ("webhook_export_events", ["track_started"] * 2, "twice"),
        ("branding_color", "red", "#RRGGBB"),
        ("branding_color", "#12345", "#RRGGBB"),
        ("branding_color", None, "#RRGGBB"),
    ],
)
def test_every_field_names_its_problem(field: str, value: object, expect: str) -> None:
    problems = _problems({field: value})
    assert list(problems) == [field]
    assert expect in problems[field]
    assert not problems[field].endswith(".")


def test_all_problems_are_reported_at_once_and_unknown_fields_by_name() -> None:
    problems = _problems({"queue_limit": 0, "default_volume": 500, "bass_boost": 11, 3: "x"})
    assert set(problems) == {"queue_limit", "default_volume", "bass_boost", "3"}
    assert problems["bass_boost"] == "is not a settings field"


def test_error_message_reads_well() -> None:
    with pytest.raises(InvalidSettings) as info:
        parse_settings({"default_volume": 500})
    assert (
        str(info.value)
        == "Invalid settings — default_volume: must be a whole number from 0 to 200, got 500"
    )
    assert info.value.status == 400


@pytest.mark.parametrize("payload", [None, [], "queue_limit=5"])
def test_payload_must_be_an_object(payload: object) -> None:
    assert set(_problems(payload)) == {"settings"}


def test_constructor_validates_and_requires_canonical_values() -> None:
    with pytest.raises(InvalidSettings) as info:
        ServerSettings(default_volume=500, branding_color="#abcdef", dj_role_ids=[1])  # type: ignore[arg-type]
    assert set(info.value.problems) == {"default_volume", "branding_color", "dj_role_ids"}
    assert "must be given as '#ABCDEF'" in info.value.problems["branding_color"]


def test_repr_redacts_the_webhook_url() -> None:
    settings = ServerSettings(webhook_export_url="https://discord.com/api/webhooks/1/s3cret-token")
    assert "s3cret" not in repr(settings)
    assert "https://discord.com/…" in repr(settings)
    assert redact_url(None) is None


@given(server_settings())
def test_parse_of_to_json_is_identity(settings: ServerSettings) -> None:
    assert parse_settings(json.loads(json.dumps(settings.to_json()))) == settings


# --- merge -----------------------------------------------------------------------------------


def test_merge_replaces_only_the_patched_fields() -> None:
    base = ServerSettings(default_volume=80, autoplay=True)
    merged = merge_settings(base, {"queue_limit": 50, "region": "us"})
    assert merged == attrs.evolve(base, queue_limit=50, region=Region.US)
    assert changed_fields(base, merged) == ("queue_limit", "region")


def test_merge_rejects_bad_patches_and_leaves_base_alone() -> None:
    base = ServerSettings()
    with pytest.raises(InvalidSettings) as info:
        merge_settings(base, {"queue_limit": -5, "nope": 1})
    assert set(info.value.problems) == {"queue_limit", "nope"}
    with pytest.raises(InvalidInput, match="ServerSettings as its base"):
        merge_settings({}, {})  # type: ignore[arg-type]


def test_a_retired_field_is_refused_in_a_change_and_skipped_in_stored_data() -> None:
    base = ServerSettings(default_volume=80)
    with pytest.raises(InvalidSettings) as info:
        merge_settings(base, {"custom_prefix": "!", "default_volume": 90})
    assert "was removed" in info.value.problems["custom_prefix"]
    assert "message-content intent" in info.value.problems["custom_prefix"]
    stored = {**base.to_json(), "custom_prefix": "vb!"}
    assert parse_settings(stored) == base
    assert "custom_prefix" not in base.to_json()


@given(server_settings(), settings_patches())
def test_merge_applies_exactly_the_patch(base: ServerSettings, patch: dict[str, Any]) -> None:
    merged = merge_settings(base, patch)
    assert merged.to_json() == {**base.to_json(), **patch}
    assert set(changed_fields(base, merged)) <= set(patch)


# --- plan clamping ---------------------------------------------------------------------------


def test_pro_guild_is_clamped_with_reasons() -> None:
    asked = ServerSettings(
        queue_limit=900,
        region=Region.EU,
        playback_quality="lossless",
        webhook_export_url="https://hooks.example.com/secret/abc",
        webhook_export_events=("track_started",),
    )
    clamped, clamps = clamp_to_plan(asked, CAT.plan(Tier.PRO), CAT)
    assert (clamped.queue_limit, clamped.region, clamped.playback_quality) == (
        500,
        Region.AUTO,
        "high",
    )
    assert clamped.webhook_export_url == asked.webhook_export_url  # Pro has webhook exports
    by_field = {c.field: c for c in clamps}
    assert list(by_field) == ["queue_limit", "region", "playback_quality"]
    assert by_field["queue_limit"] == Clamp(
        field="queue_limit",
        requested=900,
        effective=500,
        reason="Queue limit 900 is above your plan (Pro), which allows 500; it needs Growth or higher.",
        required_tier=Tier.GROWTH,
    )
    assert by_field["region"].reason.startswith("Your plan (Pro) plays on auto")
    assert by_field["region"].to_json()["required_tier"] == "growth"


def test_free_guild_loses_webhook_exports_without_leaking_the_url() -> None:
    asked = ServerSettings(
        webhook_export_url="https://hooks.example.com/secret/abc",
        webhook_export_events=("queue_finished",),
        analytics_mode="predictive",
        automation_level="full",
        automation_window_hours=100,
        source_access="unlimited",
    )
    clamped, clamps = clamp_to_plan(asked, CAT.plan(Tier.FREE))
    assert clamped.webhook_export_url is None
    assert clamped.webhook_export_events == ()
    fields = [c.field for c in clamps]
    assert fields == [
        "source_access",
        "analytics_mode",
        "automation_level",
        "automation_window_hours",
        "webhook_export_url",
        "webhook_export_events",
    ]
    url_clamp = clamps[4]
    assert url_clamp.requested == "https://hooks.example.com/…"
    assert url_clamp.effective is None
    assert (
        url_clamp.reason
        == "Webhook exports are not included in your plan (Free); it needs Pro or higher."
    )
    assert "secret" not in json.dumps([c.to_json() for c in clamps])


def test_values_no_plan_allows_say_so() -> None:
    clamped, clamps = clamp_to_plan(ServerSettings(queue_limit=50_000), CAT.plan(Tier.ENTERPRISE))
    assert clamped.queue_limit == 10_000
    assert clamps[0].required_tier is None
    assert clamps[0].reason.endswith("no plan allows it.")
    assert clamps[0].to_json()["required_tier"] is None


def test_clamp_rejects_wrong_arguments() -> None:
    with pytest.raises(InvalidInput, match="needs ServerSettings"):
        clamp_to_plan({}, CAT.plan(Tier.FREE))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="needs a Plan"):
        clamp_to_plan(ServerSettings(), Tier.FREE)  # type: ignore[arg-type]


def _within(settings: ServerSettings, plan: Plan) -> bool:
    return (
        settings.queue_limit <= plan.queue_cap
        and (not settings.region.pinned or plan.region_pinning)
        and level_rank(SOURCE_ACCESS_LEVELS, settings.source_access)
        <= level_rank(SOURCE_ACCESS_LEVELS, plan.source_access)
        and level_rank(PLAYBACK_QUALITIES, settings.playback_quality)
        <= level_rank(PLAYBACK_QUALITIES, plan.playback_quality)
        and level_rank(ANALYTICS_LEVELS, settings.analytics_mode)
        <= level_rank(ANALYTICS_LEVELS, plan.analytics)
        and level_rank(AUTOMATION_LEVELS, settings.automation_level)
        <= level_rank(AUTOMATION_LEVELS, plan.automation)
        and settings.automation_window_hours <= plan.automation_window_hours
        and (
            plan.webhook_exports
            or (settings.webhook_export_url is None and not settings.webhook_export_events)
        )
    )


@given(server_settings(), plan_catalogues(), tiers)
def test_clamping_never_exceeds_the_plan_and_is_idempotent(
    settings: ServerSettings, cat: PlanCatalogue, tier: Tier
) -> None:
    plan = cat.plan(tier)
    clamped, clamps = clamp_to_plan(settings, plan, cat)
    assert _within(clamped, plan)
    assert clamp_to_plan(clamped, plan, cat) == (clamped, ())
    assert {c.field for c in clamps} == set(changed_fields(settings, clamped))
    assert (clamped == settings) == (clamps == ())
    for clamp in clamps:
        assert clamp.required_tier is None or clamp.required_tier > tier
        untouched = {f for f in SETTINGS_FIELDS if f not in PLAN_GATED_FIELDS}
        assert clamp.field not in untouched


@given(server_settings(), tiers)
def test_a_higher_tier_never_clamps_more(settings: ServerSettings, tier: Tier) -> None:
    _, lower = clamp_to_plan(settings, CAT.plan(tier))
    for higher in list(CAT)[tier:]:
        _, more = clamp_to_plan(settings, higher)
        assert {c.field for c in more} <= {c.field for c in lower}


@given(server_settings(), tiers)
def test_field_requirements_agree_with_clamping(settings: ServerSettings, tier: Tier) -> None:
    _, clamps = clamp_to_plan(settings, CAT.plan(tier))
    clamped_fields = {c.field for c in clamps}
    for field in SETTINGS_FIELDS:
        needed = field_requirements(field, settings.to_json()[field])
        allowed = needed is not None and needed <= tier
        assert allowed == (field not in clamped_fields), field


def test_field_requirements_for_the_panel() -> None:
    assert field_requirements("region", "EU") is Tier.GROWTH
    assert field_requirements("region", "auto") is Tier.FREE
    assert field_requirements("playback_quality", "lossless") is Tier.GROWTH
    assert field_requirements("queue_limit", 250) is Tier.STARTER
    assert field_requirements("queue_limit", 10**5) is None
    assert field_requirements("webhook_export_events", ["track_started"]) is Tier.PRO
    assert field_requirements("autoplay", True) is Tier.FREE
    with pytest.raises(InvalidInput, match="Unknown settings field 'volume'"):
        field_requirements("volume", 5)
    with pytest.raises(InvalidSettings) as info:
        field_requirements("region", "mars")
    assert set(info.value.problems) == {"region"}


# --- versioned sync --------------------------------------------------------------------------


def test_create_then_update_counts_versions() -> None:
    first = apply_update(None, 0, ServerSettings(), now=100.0, actor="panel:1", guild_id=GUILD)
    assert (first.version, first.updated_at, first.updated_by) == (1, 100.0, "panel:1")
    second = apply_update(
        first, 1, ServerSettings(autoplay=True), now=101, actor="bot", guild_id=GUILD
    )
    assert second.version == 2
    assert second.settings.autoplay
    assert type(second.updated_at) is float


def test_stale_writes_are_conflicts_with_both_versions() -> None:
    first = apply_update(None, 0, ServerSettings(), now=1.0, actor="a", guild_id=GUILD)
    with pytest.raises(StaleVersion) as info:
        apply_update(first, 0, ServerSettings(), now=2.0, actor="b", guild_id=GUILD)
    assert (info.value.expected, info.value.current, info.value.status) == (0, 1, 409)
    assert "changed by someone else" in str(info.value)
    with pytest.raises(StaleVersion):
        apply_update(None, 3, ServerSettings(), now=2.0, actor="b", guild_id=GUILD)


@pytest.mark.parametrize(
    ("kwargs", "expect"),
    [
        ({"base_version": -1}, "'base_version' must be a whole number of at least 0"),
        ({"base_version": True}, "'base_version'"),
        ({"now": math.nan}, "'now' must be a finite number"),
        ({"now": -1.0}, "'now' must not be negative"),
        ({"now": "soon"}, "'now' must be a finite number"),
        ({"actor": ""}, "'updated_by' must be 1 to 200"),
        ({"actor": "x" * 201}, "'updated_by'"),
        ({"guild_id": 0}, "'guild_id' must be a Discord id"),
        ({"new": {}}, "'settings' must be ServerSettings"),
    ],
)
def test_apply_update_rejects_bad_input(kwargs: dict[str, Any], expect: str) -> None:
    args: dict[str, Any] = {
        "base_version": 0, "new": ServerSettings(), "now": 1.0, "actor": "a", "guild_id": GUILD,
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(InvalidInput) as info:
        apply_update(None, **args)
    assert expect in str(info.value)


def test_apply_update_rejects_another_guilds_record_and_non_records() -> None:
    first = apply_update(None, 0, ServerSettings(), now=1.0, actor="a", guild_id=GUILD)
    with pytest.raises(InvalidInput, match="cannot be updated as guild 7"):
        apply_update(first, 1, ServerSettings(), now=2.0, actor="a", guild_id=GuildId(7))
    with pytest.raises(InvalidInput, match="needs a SettingsRecord"):
        apply_update({"version": 1}, 1, ServerSettings(), now=2.0, actor="a", guild_id=GUILD)  # type: ignore[arg-type]


@given(st.lists(st.integers(0, 6), max_size=12), timestamps)
def test_only_writes_based_on_the_current_version_apply(bases: list[int], now: float) -> None:
    record: SettingsRecord | None = None
    for i, base in enumerate(bases):
        held = 0 if record is None else record.version
        try:
            new = apply_update(
                record, base, ServerSettings(default_volume=i), now=now, actor="x", guild_id=GUILD
            )
        except StaleVersion:
            assert base != held
            continue
        assert base == held
        assert new.version == held + 1
        assert should_apply(held or None, new.version)
        assert not should_apply(new.version, new.version)
        record = new


@given(st.none() | st.integers(0, 100), st.integers(1, 100))
def test_followers_apply_only_strictly_newer_versions(held: int | None, incoming: int) -> None:
    assert should_apply(held, incoming) == (held is None or incoming > held)


@pytest.mark.parametrize(("held", "incoming"), [(None, 0), (-1, 3), (1, True), ("1", 2), (1, 1.5)])
def test_should_apply_rejects_bad_versions(held: object, incoming: object) -> None:
    with pytest.raises(InvalidInput, match="version"):
        should_apply(held, incoming)  # type: ignore[arg-type]


@given(settings_records())
def test_records_round_trip_through_json(record: SettingsRecord) -> None:
    assert SettingsRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


@pytest.mark.parametrize(
    ("mutate", "error", "expect"),
    [
        (lambda d: d.pop("version"), InvalidInput, r"missing field\(s\): version"),
        (lambda d: d.update(extra=1), InvalidInput, r"unknown field\(s\): extra"),
        (lambda d: d.update(version=0), InvalidInput, "'version'"),
        (lambda d: d.update(guild_id="abc"), InvalidInput, "'guild_id'"),
        (lambda d: d.update(updated_at=math.inf), InvalidInput, "'updated_at'"),
        (lambda d: d.update(updated_by=None), InvalidInput, "'updated_by'"),
        (lambda d: d.update(settings={"queue_limit": 0}), InvalidSettings, "queue_limit"),
        (lambda d: d.update(settings=[]), InvalidSettings, "settings"),
    ],
)
def test_record_from_json_names_bad_fields(
    mutate: Any, error: type[Exception], expect: str
) -> None:
    payload = apply_update(None, 0, ServerSettings(), now=1.0, actor="a", guild_id=GUILD).to_json()
    mutate(payload)
    with pytest.raises(error, match=expect):
        SettingsRecord.from_json(payload)


def test_record_from_json_needs_an_object() -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        SettingsRecord.from_json([])


@given(guild_ids, server_settings())
def test_records_keep_snowflakes_exact_in_json(guild: GuildId, settings: ServerSettings) -> None:
    record = apply_update(None, 0, settings, now=0.0, actor="a", guild_id=guild)
    assert record.to_json()["guild_id"] == str(guild)
    assert SettingsRecord.from_json(record.to_json()).guild_id == guild


def test_plans_strategy_draws_shipped_plans() -> None:
    @given(plans)
    def check(plan: Plan) -> None:
        assert CAT.plan(plan.tier) == plan

    check()


@given(st.permutations(list(range(1, 9))), st.none() | st.integers(0, 8))
def test_a_follower_only_ever_moves_forward(arrivals: list[int], start: int | None) -> None:
    held = start
    for incoming in arrivals:
        if should_apply(held, incoming):
            assert held is None or incoming > held
            held = incoming
    assert held == max(8, start or 0)


def test_changed_fields_needs_two_settings() -> None:
    with pytest.raises(InvalidInput, match="compares two ServerSettings"):
        changed_fields(ServerSettings(), {})  # type: ignore[arg-type]
