"""Audio filters: Lavalink v4's ranges, how effects stack, and the merge with playback quality."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.errors import InvalidInput, InvalidSnapshot
from vectobeat_core.filters import (
    EQUALIZER_PRESETS,
    PRESETS,
    Effects,
    band_effect,
    check_filters,
    effect_labels,
    equalizer_effect,
    filter_problems,
    merge_filters,
    preset_effect,
    timescale_effect,
)
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSONObject
from vectobeat_core.queue import GuildQueue, PlayerState
from vectobeat_panel.queue_pages import queue_view

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid_lavalink_filters(name: str) -> None:
    assert filter_problems(dict(PRESETS[name].filters)) == []


@pytest.mark.parametrize("name", sorted(EQUALIZER_PRESETS))
def test_every_equalizer_preset_sets_the_15_bands_in_range(name: str) -> None:
    bands = EQUALIZER_PRESETS[name].filters["equalizer"]
    assert isinstance(bands, list) and len(bands) == 15
    assert filter_problems({"equalizer": bands}) == []


@given(band=st.integers(-5, 20), gain=finite)
def test_an_equalizer_band_is_valid_exactly_in_lavalinks_range(band: int, gain: float) -> None:
    valid = 0 <= band <= 14 and -0.25 <= gain <= 1.0
    assert (filter_problems({"equalizer": [{"band": band, "gain": gain}]}) == []) == valid


@given(speed=finite, pitch=finite, rate=finite)
def test_timescale_values_must_be_above_zero(speed: float, pitch: float, rate: float) -> None:
    valid = speed > 0 and pitch > 0 and rate > 0
    if valid:
        name, filters = timescale_effect(speed, pitch, rate)
        assert name == "timescale" and filters["timescale"] == {
            "speed": speed,
            "pitch": pitch,
            "rate": rate,
        }
    else:
        with pytest.raises(InvalidInput, match=r"timescale\.\w+ must be greater than 0"):
            timescale_effect(speed, pitch, rate)


@given(frequency=finite, depth=finite)
def test_tremolo_and_vibrato_ranges(frequency: float, depth: float) -> None:
    tremolo_ok = frequency > 0 and 0 < depth <= 1
    vibrato_ok = 0 < frequency <= 14 and 0 < depth <= 1
    value = {"frequency": frequency, "depth": depth}
    assert (filter_problems({"tremolo": value}) == []) == tremolo_ok
    assert (filter_problems({"vibrato": value}) == []) == vibrato_ok


@given(smoothing=finite)
def test_low_pass_smoothing_must_exceed_one(smoothing: float) -> None:
    assert (filter_problems({"lowPass": {"smoothing": smoothing}}) == []) == (smoothing > 1.0)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"volume": 6.0}, "volume must be from 0.0 to 5.0, got 6.0"),
        ({"channelMix": {"leftToLeft": 1.5}}, "channelMix.leftToLeft must be from 0 to 1"),
        ({"timescale": {"speed": "fast"}}, "timescale.speed must be a number"),
        ({"timescale": {"tempo": 1.0}}, "Filter 'timescale' has no field 'tempo'"),
        ({"echo": {}}, "Unknown filter 'echo'"),
        (
            {"equalizer": [{"band": 3, "gain": 0.1}, {"band": 3, "gain": 0.2}]},
            "band 3 is given twice",
        ),
        ({"rotation": {"rotationHz": math.inf}}, "rotation.rotationHz must be a number"),
    ],
)
def test_problems_name_the_field_and_the_range(filters: JSONObject, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace(".", r"\.").replace("(", r"\(")):
        check_filters(filters)


def test_effects_stack_and_one_setting_the_same_filter_replaces_the_earlier() -> None:
    effects = Effects().with_effect(*preset_effect("bassboost")).with_effect(*preset_effect("8d"))
    assert effects.names() == ("Bass boost", "8D")
    assert set(effects.filters()) == {"equalizer", "rotation"}
    effects = effects.with_effect(*preset_effect("nightcore")).with_effect(
        *preset_effect("vaporwave")
    )
    assert effects.names() == ("Bass boost", "8D", "Vaporwave")
    effects = effects.with_effect(*equalizer_effect("rock"))  # replaces the bass boost's bands
    assert effects.names() == ("8D", "Vaporwave", "Equalizer: rock")


def test_one_band_changes_the_current_equalizer_and_keeps_the_other_bands() -> None:
    effects = Effects().with_effect(*equalizer_effect("bass"))
    effects = effects.with_effect(*band_effect(effects, 14, 0.5))
    bands = effects.filters()["equalizer"]
    assert isinstance(bands, list) and len(bands) == 15
    assert bands[0] == {"band": 0, "gain": 0.3} and bands[14] == {"band": 14, "gain": 0.5}
    assert effects.names() == ("Equalizer (custom)",)
    with pytest.raises(InvalidInput, match=r"Equalizer gain must be from -0\.25 to 1\.0, got 2\.0"):
        band_effect(effects, 1, 2.0)
    with pytest.raises(InvalidInput, match="Equalizer band must be 0 to 14, got 15"):
        band_effect(effects, 15, 0.1)


def test_unknown_preset_names_list_the_choices() -> None:
    with pytest.raises(InvalidInput, match="choose one of bassboost, nightcore"):
        preset_effect("loud")
    with pytest.raises(InvalidInput, match="choose one of flat, bass"):
        equalizer_effect("jazz")


@given(quality=st.floats(1.01, 100.0), user=st.floats(1.01, 100.0))
def test_merge_keeps_the_quality_and_the_stronger_low_pass(quality: float, user: float) -> None:
    effects = Effects().with_effect("lowpass", {"lowPass": {"smoothing": user}})
    effects = effects.with_effect(*preset_effect("nightcore"))
    merged = merge_filters({"lowPass": {"smoothing": quality}}, effects)
    assert merged["lowPass"] == {"smoothing": max(quality, user)}
    assert merged["timescale"] == PRESETS["nightcore"].filters["timescale"]
    assert merge_filters({"lowPass": {"smoothing": quality}}, Effects()) == {
        "lowPass": {"smoothing": quality}
    }


def test_effects_survive_their_json_form_and_bad_stored_ones_are_refused() -> None:
    effects = (
        Effects()
        .with_effect(*preset_effect("karaoke"))
        .with_effect(*timescale_effect(1.1, 0.9, 1.0))
    )
    assert Effects.from_json(effects.to_json()) == effects
    assert tuple(map(str, effect_labels(effects.to_json()))) == ("Karaoke", "Timescale")
    assert effect_labels("garbage") == ()
    with pytest.raises(InvalidInput):
        Effects.from_json({"timescale": {"timescale": {"speed": -1.0}}})
    with pytest.raises(InvalidInput):
        Effects.from_json({"empty": {}})


def test_snapshots_keep_the_effects_and_older_snapshots_read_without_them() -> None:
    effects = Effects().with_effect(*preset_effect("nightcore")).to_json()
    player = PlayerState(filters=merge_filters({}, Effects.from_json(effects)), effects=effects)
    again = PlayerState.from_json(player.to_json())
    assert again.effects == effects and again.filters == player.filters
    older = player.to_json()
    del older["fx"]
    assert PlayerState.from_json(older).effects == {}
    with pytest.raises(InvalidSnapshot):
        PlayerState(effects={"x": math.nan})


def test_the_panels_live_queue_names_the_effects() -> None:
    queue = GuildQueue(GuildId(1), 10)
    effects = Effects().with_effect(*preset_effect("8d")).with_effect(*equalizer_effect("pop"))
    snapshot = queue.snapshot(PlayerState(effects=effects.to_json()), 5.0)
    assert queue_view(snapshot)["player"]["filters"] == ["8D", "Equalizer: pop"]
