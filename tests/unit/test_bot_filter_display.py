"""The filters a guild plays with are shown: in /nowplaying's text and the rich announcement."""

from __future__ import annotations

from tests.redis_support import make_track
from vectobeat_bot.embeds import track_embed
from vectobeat_bot.formatting import effects_line, now_playing_text
from vectobeat_core.filters import Effects, equalizer_effect, preset_effect
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue
from vectobeat_core.settings import ServerSettings

EFFECTS = Effects().with_effect(*preset_effect("nightcore")).with_effect(*equalizer_effect("bass"))


def test_now_playing_names_the_effects_and_says_when_there_are_none() -> None:
    queue = GuildQueue(GuildId(1), 10)
    queue.add_many([make_track(1), make_track(2)])
    queue.next()
    text = now_playing_text(queue, None, EFFECTS)
    assert "Filters: Nightcore, Equalizer: bass." in text.splitlines()
    assert "Filters" not in now_playing_text(queue, None, Effects())
    assert effects_line(Effects()) == "Filters: none (the playback quality's own only)."


def test_the_rich_announcement_has_a_filters_field_only_with_effects() -> None:
    with_effects = track_embed(make_track(1), ServerSettings(), EFFECTS).to_dict()
    fields = {f["name"]: f["value"] for f in with_effects.get("fields", [])}
    assert fields["Filters"] == "Nightcore, Equalizer: bass"
    plain = track_embed(make_track(1), ServerSettings()).to_dict()
    assert "Filters" not in {f["name"] for f in plain.get("fields", [])}
