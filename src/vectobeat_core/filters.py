"""Audio filters: the presets as data, Lavalink v4's ranges, and how effects stack and merge.

* `filter_problems` checks a Lavalink ``filters`` object against Lavalink v4's documented ranges
  (equalizer bands 0-14 with gain -0.25..1.0, timescale values > 0, tremolo frequency > 0 and
  depth in (0, 1], vibrato frequency in (0, 14] and depth in (0, 1], low-pass smoothing > 1, ...);
  `check_filters` raises `InvalidInput` with the first problem.
* An *effect* is one named part of the filters a member chose (``"nightcore"``:
  ``{"timescale": {...}}``). `Effects` stacks them: a new effect replaces whatever earlier effect
  set the same Lavalink filter, so ``bassboost`` then ``8d`` plays both, ``nightcore`` then
  ``vaporwave`` plays vaporwave.
* `merge_filters` lays the effects over the playback quality's filters (`vectobeat_core.quality`);
  where both set a low-pass, the stronger smoothing wins, so a member never undoes the quality.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.jsontypes import JSON, JSONObject
from vectobeat_core.messages import Phrase, Term, message_id

__all__ = [
    "EQUALIZER_BANDS",
    "EQUALIZER_PRESETS",
    "MAX_GAIN",
    "MIN_GAIN",
    "PRESETS",
    "Effects",
    "Preset",
    "band_effect",
    "check_filters",
    "effect_labels",
    "equalizer_effect",
    "filter_problems",
    "merge_filters",
    "preset_effect",
    "timescale_effect",
]

EQUALIZER_BANDS: Final = 15
MIN_GAIN: Final = -0.25
MAX_GAIN: Final = 1.0
MAX_VIBRATO_FREQUENCY: Final = 14.0


@attrs.frozen(slots=True)
class Preset:
    """A named effect: what it is called (a message id: ``/filter``'s choices show it), what it
    does, and the Lavalink filters it sets."""

    label: str
    description: str
    filters: Mapping[str, JSON]


def _eq(*gains: float) -> dict[str, JSON]:
    return {"equalizer": [{"band": band, "gain": gain} for band, gain in enumerate(gains)]}


EQUALIZER_PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        "flat": Preset(message_id("flat"), "every band at 0", _eq(*([0.0] * EQUALIZER_BANDS))),
        "bass": Preset(
            message_id("bass"), "low bands up", _eq(0.3, 0.25, 0.2, 0.1, 0.05, *([0.0] * 10))
        ),
        "treble": Preset(
            message_id("treble"),
            "high bands up",
            _eq(*([0.0] * 9), 0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
        ),
        "pop": Preset(
            message_id("pop"),
            "mids forward",
            _eq(
                -0.02,
                -0.01,
                0.08,
                0.1,
                0.15,
                0.1,
                0.03,
                -0.02,
                -0.035,
                -0.05,
                -0.05,
                -0.05,
                -0.05,
                -0.05,
                -0.05,
            ),
        ),
        "rock": Preset(
            message_id("rock"),
            "lows and highs up",
            _eq(
                0.3,
                0.25,
                0.2,
                0.1,
                0.05,
                -0.05,
                -0.15,
                -0.2,
                -0.1,
                -0.05,
                0.05,
                0.1,
                0.2,
                0.25,
                0.3,
            ),
        ),
        "classical": Preset(
            message_id("classical"),
            "gentle highs",
            _eq(
                0.375,
                0.35,
                0.125,
                0.0,
                0.0,
                0.125,
                0.55,
                0.05,
                0.125,
                0.25,
                0.2,
                0.25,
                0.3,
                0.25,
                0.3,
            ),
        ),
        "electronic": Preset(
            message_id("electronic"),
            "punchy lows, bright highs",
            _eq(
                0.375,
                0.35,
                0.125,
                0.0,
                0.0,
                -0.125,
                -0.125,
                0.0,
                0.25,
                0.125,
                0.15,
                0.2,
                0.25,
                0.35,
                0.4,
            ),
        ),
        "soft": Preset(
            message_id("soft"),
            "highs down",
            _eq(*([0.0] * 8), -0.05, -0.1, -0.15, -0.2, -0.2, -0.25, -0.25),
        ),
    }
)
"""The named 15-band equalizer settings of ``/filter equalizer`` (labelled in lower case: an
effect reads ``Equalizer: bass``)."""

PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        "bassboost": Preset(
            message_id("Bass boost"),
            "the low bands up",
            _eq(0.2, 0.15, 0.1, 0.05, 0.0, *([0.0] * 10)),
        ),
        "nightcore": Preset(
            message_id("Nightcore"),
            "faster and higher",
            {"timescale": {"speed": 1.2, "pitch": 1.2, "rate": 1.0}},
        ),
        "vaporwave": Preset(
            message_id("Vaporwave"),
            "slower and lower",
            {"timescale": {"speed": 0.85, "pitch": 0.8, "rate": 1.0}},
        ),
        "8d": Preset(
            message_id("8D"), "the sound circles around you", {"rotation": {"rotationHz": 0.2}}
        ),
        "karaoke": Preset(
            message_id("Karaoke"),
            "the lead vocals cut",
            {
                "karaoke": {
                    "level": 1.0,
                    "monoLevel": 1.0,
                    "filterBand": 220.0,
                    "filterWidth": 100.0,
                }
            },
        ),
        "tremolo": Preset(
            message_id("Tremolo"),
            "a wavering volume",
            {"tremolo": {"frequency": 4.0, "depth": 0.75}},
        ),
        "vibrato": Preset(
            message_id("Vibrato"),
            "a wavering pitch",
            {"vibrato": {"frequency": 4.0, "depth": 0.75}},
        ),
        "lowpass": Preset(
            message_id("Low-pass"), "muffled highs", {"lowPass": {"smoothing": 40.0}}
        ),
    }
)
"""The presets of ``/filter preset``, by the name a member picks."""


# --- Lavalink's ranges --------------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _object_problems(
    name: str, value: JSON, rules: Mapping[str, tuple[str, float | None, float | None, bool]]
) -> list[str]:
    """Problems of one filter object whose fields are numbers; each rule is
    ``(shown range, low, high, low exclusive)`` (``None``: unbounded)."""
    if not isinstance(value, dict):
        return [f"Filter '{name}' must be an object"]
    problems: list[str] = []
    for key, raw in value.items():
        rule = rules.get(key)
        if rule is None:
            problems.append(f"Filter '{name}' has no field '{key}'")
            continue
        shown, low, high, exclusive = rule
        number = _number(raw)
        if number is None:
            problems.append(f"{name}.{key} must be a number, got {raw!r}")
            continue
        too_low = low is not None and (number <= low if exclusive else number < low)
        too_high = high is not None and number > high
        if too_low or too_high:
            problems.append(f"{name}.{key} must be {shown}, got {raw!r}")
    return problems


_ANY = ("a number", None, None, False)
_POSITIVE = ("greater than 0", 0.0, None, True)
_UNIT = ("greater than 0 and at most 1", 0.0, 1.0, True)
_MIX = ("from 0 to 1", 0.0, 1.0, False)
_RULES: Mapping[str, Mapping[str, tuple[str, float | None, float | None, bool]]] = {
    "karaoke": dict.fromkeys(("level", "monoLevel", "filterBand", "filterWidth"), _ANY),
    "timescale": dict.fromkeys(("speed", "pitch", "rate"), _POSITIVE),
    "tremolo": {"frequency": _POSITIVE, "depth": _UNIT},
    "vibrato": {
        "frequency": ("greater than 0 and at most 14", 0.0, MAX_VIBRATO_FREQUENCY, True),
        "depth": _UNIT,
    },
    "rotation": {"rotationHz": _ANY},
    "distortion": dict.fromkeys(
        (
            "sinOffset",
            "sinScale",
            "cosOffset",
            "cosScale",
            "tanOffset",
            "tanScale",
            "offset",
            "scale",
        ),
        _ANY,
    ),
    "channelMix": dict.fromkeys(("leftToLeft", "leftToRight", "rightToLeft", "rightToRight"), _MIX),
    "lowPass": {"smoothing": ("greater than 1", 1.0, None, True)},
}


def _equalizer_problems(value: JSON) -> list[str]:
    if not isinstance(value, list):
        return ["Filter 'equalizer' must be a list of bands"]
    problems: list[str] = []
    seen: set[int] = set()
    for item in value:
        if not isinstance(item, dict):
            problems.append("Each equalizer band must be an object with band and gain")
            continue
        band, gain = item.get("band"), _number(item.get("gain"))
        if isinstance(band, bool) or not isinstance(band, int) or not 0 <= band < EQUALIZER_BANDS:
            problems.append(f"Equalizer band must be 0 to {EQUALIZER_BANDS - 1}, got {band!r}")
        elif band in seen:
            problems.append(f"Equalizer band {band} is given twice")
        else:
            seen.add(band)
        if gain is None or not MIN_GAIN <= gain <= MAX_GAIN:
            problems.append(
                f"Equalizer gain must be from {MIN_GAIN} to {MAX_GAIN}, got {item.get('gain')!r}"
            )
    return problems


def filter_problems(filters: object) -> list[str]:
    """Every way ``filters`` breaks Lavalink v4's filters object (empty: it is valid)."""
    if not isinstance(filters, Mapping):
        return ["Filters must be an object"]
    problems: list[str] = []
    for name, value in filters.items():
        if name == "volume":
            number = _number(value)
            if number is None or not 0.0 <= number <= 5.0:
                problems.append(f"volume must be from 0.0 to 5.0, got {value!r}")
        elif name == "equalizer":
            problems += _equalizer_problems(value)
        elif name == "pluginFilters":
            if not isinstance(value, dict):
                problems.append("Filter 'pluginFilters' must be an object")
        elif name in _RULES:
            problems += _object_problems(name, value, _RULES[name])
        else:
            problems.append(f"Unknown filter '{name}'")
    return problems


def check_filters(filters: Mapping[str, JSON]) -> JSONObject:
    """``filters`` as a plain dict if Lavalink accepts it; else `InvalidInput` with the problem."""
    problems = filter_problems(filters)
    if problems:
        raise InvalidInput(problems[0].rstrip(".") + ".")
    return dict(filters)


# --- effects ------------------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Effects:
    """The effects a guild plays with, in the order they were chosen (name -> filters)."""

    chosen: tuple[tuple[str, JSONObject], ...] = ()

    # Its JSON is by hand, not by jsonform: a name -> filters object (not one of fields), each
    # part checked against Lavalink's filter ranges when read.
    @classmethod
    def from_json(cls, value: object) -> Effects:
        """Read `to_json`'s form; a part that Lavalink would refuse raises `InvalidInput`."""
        if not isinstance(value, Mapping):
            raise InvalidInput("Stored effects must be an object of name -> filters.")
        chosen: list[tuple[str, JSONObject]] = []
        for name, filters in value.items():
            if not isinstance(name, str) or not isinstance(filters, Mapping) or not filters:
                raise InvalidInput(f"Stored effect {name!r} must name some filters.")
            chosen.append((name, check_filters(filters)))
        return cls(tuple(chosen))

    def to_json(self) -> JSONObject:
        return {name: dict(filters) for name, filters in self.chosen}

    def with_effect(self, name: str, filters: Mapping[str, JSON]) -> Effects:
        """These effects with ``name`` added last; an earlier effect setting one of the same
        Lavalink filters loses them (and goes when it has none left)."""
        added = check_filters(filters)
        if not added:
            raise InvalidInput("An effect must set at least one filter.")
        kept: list[tuple[str, JSONObject]] = []
        for other, parts in self.chosen:
            rest = {k: v for k, v in parts.items() if k not in added}
            if other != name and rest:
                kept.append((other, rest))
        return Effects((*kept, (name, added)))

    def filters(self) -> JSONObject:
        """The Lavalink filters of all effects together."""
        out: JSONObject = {}
        for _, parts in self.chosen:
            out.update(parts)
        return out

    def labels(self) -> tuple[Phrase, ...]:
        """What a member reads: each effect's label (``Nightcore``, ``Equalizer: bass``)."""
        return tuple(_label(name) for name, _ in self.chosen)

    def names(self) -> tuple[str, ...]:
        """The labels in English."""
        return tuple(str(label) for label in self.labels())

    def __bool__(self) -> bool:
        return bool(self.chosen)


_KIND_LABELS = {"equalizer": message_id("Equalizer (custom)"), "timescale": message_id("Timescale")}


def _label(name: str) -> Phrase:
    if name in PRESETS:
        return Phrase(PRESETS[name].label)
    kind, _, detail = name.partition(":")
    if kind == "equalizer" and detail in EQUALIZER_PRESETS:
        preset = Term(EQUALIZER_PRESETS[detail].label)
        return Phrase(message_id("Equalizer: {preset}"), {"preset": preset})
    return Phrase(_KIND_LABELS.get(kind, name))


def effect_labels(stored: object) -> tuple[Phrase, ...]:
    """The labels of stored effects (a snapshot's ``effects``); unreadable ones are left out."""
    if not isinstance(stored, Mapping):
        return ()
    return tuple(_label(name) for name in stored if isinstance(name, str))


def preset_effect(name: str) -> tuple[str, JSONObject]:
    """The effect of preset ``name``; an unknown name raises `InvalidInput` listing the presets."""
    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise InvalidInput(f"Unknown filter preset {name!r}: choose one of {', '.join(PRESETS)}.")
    return name.strip().lower(), dict(preset.filters)


def equalizer_effect(name: str) -> tuple[str, JSONObject]:
    """The equalizer effect of the named preset (``bass``, ``rock``, ...)."""
    preset = EQUALIZER_PRESETS.get(name.strip().lower())
    if preset is None:
        raise InvalidInput(
            f"Unknown equalizer preset {name!r}: choose one of {', '.join(EQUALIZER_PRESETS)}."
        )
    return f"equalizer:{name.strip().lower()}", dict(preset.filters)


def band_effect(current: Effects, band: int, gain: float) -> tuple[str, JSONObject]:
    """The guild's equalizer with one band set to ``gain`` (the others kept)."""
    problems = _equalizer_problems([{"band": band, "gain": gain}])
    if problems:
        raise InvalidInput(problems[0] + ".")
    bands: dict[int, JSON] = {}
    equalizer = current.filters().get("equalizer")
    for item in equalizer if isinstance(equalizer, list) else []:
        number = item.get("band") if isinstance(item, dict) else None
        if isinstance(number, int) and not isinstance(number, bool) and isinstance(item, dict):
            bands[number] = item.get("gain")
    bands[band] = float(gain)
    ordered: list[JSON] = [{"band": b, "gain": bands[b]} for b in sorted(bands)]
    return "equalizer", {"equalizer": ordered}


def timescale_effect(speed: float, pitch: float, rate: float) -> tuple[str, JSONObject]:
    """A timescale effect; a value Lavalink refuses raises `InvalidInput` naming it."""
    return "timescale", check_filters(
        {"timescale": {"speed": float(speed), "pitch": float(pitch), "rate": float(rate)}}
    )


def merge_filters(quality: Mapping[str, JSON], effects: Effects) -> JSONObject:
    """The filters a guild plays with: the quality's, then the effects' over them; a low-pass in
    both keeps the stronger smoothing (a member's effect never undoes the playback quality)."""
    merged: JSONObject = dict(quality)
    for key, value in effects.filters().items():
        if key == "lowPass" and key in merged:
            merged[key] = max(merged[key], value, key=_smoothing)
        else:
            merged[key] = value
    return merged


def _smoothing(value: JSON) -> float:
    found = _number(value.get("smoothing")) if isinstance(value, dict) else None
    return 0.0 if found is None else found
