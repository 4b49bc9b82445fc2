"""Hypothesis strategies for tracks, queue entries and player state."""

from __future__ import annotations

import attrs
from hypothesis import strategies as st

from vectobeat_core.ids import ChannelId, NodeName, UserId
from vectobeat_core.queue import REGIONS, LoopMode, PlayerState
from vectobeat_core.tracks import MAX_LONG, Track, encode_track

__all__ = ["json_values", "player_states", "texts", "tracks"]

texts = st.text(max_size=40)
"""Any text (hypothesis leaves out lone surrogates), including NUL and characters beyond the BMP."""

_ms = st.integers(min_value=0, max_value=MAX_LONG)
_short_ms = st.integers(min_value=0, max_value=10 * 60 * 60 * 1000)


@st.composite
def tracks(draw: st.DrawFn, *, encoded: bool = True, short: bool = False) -> Track:
    """A track; ``encoded`` makes ``encoded`` its real version-3 encoding."""
    is_stream = draw(st.booleans())
    track = Track(
        encoded="x",
        title=draw(texts),
        author=draw(texts),
        length=draw(_short_ms if short else _ms),
        identifier=draw(st.text(min_size=1, max_size=12)),
        is_stream=is_stream,
        is_seekable=not is_stream,
        uri=draw(st.none() | texts),
        artwork_url=draw(st.none() | texts),
        isrc=draw(st.none() | st.text(max_size=12)),
        source=draw(st.sampled_from(["youtube", "soundcloud", "http", "spotify", "deezer"])),
        position=draw(_short_ms if short else _ms),
        requester=draw(st.none() | st.integers(1, MAX_LONG).map(UserId)),
    )
    if encoded:
        return attrs.evolve(track, encoded=encode_track(track))
    return track


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


player_states = st.builds(
    PlayerState,
    position_ms=_short_ms,
    position_read_at=st.floats(0, 4e9, allow_nan=False),
    paused=st.booleans(),
    volume=st.integers(0, 200),
    loop=st.sampled_from(list(LoopMode)),
    filters=st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    voice_channel_id=st.none() | st.integers(1, MAX_LONG).map(ChannelId),
    node=st.none() | st.text(min_size=1, max_size=10).map(NodeName),
    region=st.sampled_from(REGIONS),
)
