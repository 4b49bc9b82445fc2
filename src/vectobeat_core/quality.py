"""Playback quality: the Lavalink filters each `PlaybackQuality` level plays with.

`quality_filters` is what the bot sends with every play (and again when the setting changes):
``standard`` smooths the top end with a low-pass (as the original VectoBeat did), ``high`` with a
lighter one, ``lossless`` plays the source untouched. The guild's setting never exceeds its plan.
"""

from __future__ import annotations

from vectobeat_core.jsontypes import JSONObject
from vectobeat_core.plans import PLAYBACK_QUALITIES, Plan, PlaybackQuality
from vectobeat_core.settings import ServerSettings

__all__ = ["LOW_PASS_SMOOTHING", "effective_quality", "quality_filters"]

LOW_PASS_SMOOTHING: dict[PlaybackQuality, float | None] = {
    "standard": 20.0,
    "high": 5.0,
    "lossless": None,
}
"""Low-pass smoothing per level (``None``: no filter). Higher smooths more."""


def effective_quality(plan: Plan, settings: ServerSettings) -> PlaybackQuality:
    """The guild's playback quality: its setting, never above what its plan allows."""
    asked = PLAYBACK_QUALITIES.index(settings.playback_quality)
    return PLAYBACK_QUALITIES[min(asked, PLAYBACK_QUALITIES.index(plan.playback_quality))]


def quality_filters(plan: Plan, settings: ServerSettings) -> JSONObject:
    """The Lavalink ``filters`` object for the guild's effective quality (``{}``: untouched)."""
    smoothing = LOW_PASS_SMOOTHING[effective_quality(plan, settings)]
    return {} if smoothing is None else {"lowPass": {"smoothing": smoothing}}
