"""`vectobeat_core.autoplay`: which related tracks autoplay queues."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.tracks import tracks
from vectobeat_core.autoplay import pick_related, related_identifier, song_key
from vectobeat_core.errors import InvalidInput
from vectobeat_core.tracks import Track

_tracks = tracks(encoded=False, short=True)


def _song(identifier: str, source: str, is_stream: bool) -> Track:
    return Track(
        encoded="x", title=identifier, author="A", length=1000, identifier=identifier,
        is_stream=is_stream, is_seekable=not is_stream, uri=None, artwork_url=None, isrc=None,
        source=source, position=0,
    )  # fmt: skip


_songs = st.builds(
    _song, st.sampled_from("abcdef"), st.sampled_from(["youtube", "soundcloud"]), st.booleans()
)
"""Tracks from a small pool, so that repeats and recent ones are common."""


@given(st.lists(_songs, max_size=12), st.lists(_songs, max_size=6), st.integers(0, 6))
def test_picks_never_repeat_recent_tracks_or_each_other(
    candidates: list[Track], recent: list[Track], limit: int
) -> None:
    chosen = pick_related(candidates, recent, limit)
    keys = [song_key(t) for t in chosen]
    assert len(chosen) <= limit
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {song_key(t) for t in recent}
    assert not any(t.is_stream for t in chosen)
    # the first eligible occurrence of each song, in the candidates' order, up to the limit
    recent_keys = {song_key(t) for t in recent}
    eligible = [song_key(t) for t in candidates if not t.is_stream]
    first_seen = [k for k in dict.fromkeys(eligible) if k not in recent_keys]
    assert keys == first_seen[:limit]
    assert all(t in candidates for t in chosen)


@given(_tracks)
def test_youtube_tracks_load_their_mix_others_search_their_artist(track: Track) -> None:
    found = related_identifier(track)
    if track.source == "youtube":
        ident = track.identifier
        assert found == f"https://www.youtube.com/watch?v={ident}&list=RD{ident}"
    else:
        assert found == f"ytsearch:{track.author}"


def test_the_seed_of_a_mix_is_skipped_as_recent() -> None:
    base = _song("seed", "youtube", False)
    other = _song("other", "youtube", False)
    relinked = attrs.evolve(base, uri="https://www.youtube.com/watch?v=seed&list=RDseed")
    assert pick_related([relinked, other, other], [base], 3) == (other,)


@pytest.mark.parametrize("limit", [-1, True, 1.5])
def test_a_bad_batch_size_is_refused(limit: object) -> None:
    with pytest.raises(InvalidInput, match="whole number"):
        pick_related([], [], limit)  # type: ignore[arg-type]
