"""Playback quality: the Lavalink filters each level plays with, never above the plan."""

from __future__ import annotations

from hypothesis import given

from tests.strategies.settings import plans, server_settings
from vectobeat_core.plans import PLAYBACK_QUALITIES, Plan, Tier, default_catalogue
from vectobeat_core.quality import effective_quality, quality_filters
from vectobeat_core.settings import ServerSettings


@given(plans, server_settings())
def test_the_filters_follow_the_setting_clamped_to_the_plan(
    plan: Plan, settings: ServerSettings
) -> None:
    level = effective_quality(plan, settings)
    assert PLAYBACK_QUALITIES.index(level) == min(
        PLAYBACK_QUALITIES.index(plan.playback_quality),
        PLAYBACK_QUALITIES.index(settings.playback_quality),
    )
    filters = quality_filters(plan, settings)
    if level == "lossless":
        assert filters == {}
    else:
        assert set(filters) == {"lowPass"}


def test_standard_smooths_high_less_and_lossless_is_untouched() -> None:
    top = default_catalogue().plan(Tier.GROWTH)

    def smoothing(quality: str) -> float:
        low_pass = quality_filters(top, ServerSettings(playback_quality=quality))["lowPass"]  # type: ignore[arg-type]
        assert isinstance(low_pass, dict) and isinstance(low_pass["smoothing"], float)
        return low_pass["smoothing"]

    assert quality_filters(top, ServerSettings(playback_quality="standard")) == {
        "lowPass": {"smoothing": 20.0}
    }
    assert 1.0 < smoothing("high") < smoothing("standard")
    assert quality_filters(top, ServerSettings(playback_quality="lossless")) == {}
    free = default_catalogue().plan(Tier.FREE)
    assert quality_filters(free, ServerSettings(playback_quality="lossless")) == {
        "lowPass": {"smoothing": 20.0}
    }
