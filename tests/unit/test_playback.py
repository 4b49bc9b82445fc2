"""Positions, seeking, volume, queries and playlist limits."""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.settings import plans, server_settings
from tests.strategies.tracks import tracks
from vectobeat_core.errors import InvalidInput, LimitExceeded
from vectobeat_core.ids import UserId
from vectobeat_core.permissions import (
    MANAGE_GUILD,
    MemberFacts,
    has_dj_access,
    member_track_limit,
)
from vectobeat_core.plans import Plan, Tier, default_catalogue
from vectobeat_core.playback import (
    MAX_QUERY_LENGTH,
    SeekTarget,
    check_member_room,
    check_playlist_room,
    check_seek,
    check_volume,
    format_duration,
    parse_position,
    parse_seek,
    queue_capacity,
    search_identifier,
)
from vectobeat_core.settings import ServerSettings
from vectobeat_core.tracks import Track


@pytest.mark.parametrize(
    ("text", "ms"),
    [("0", 0), ("90", 90_000), ("1:30", 90_000), ("01:02:03", 3_723_000), (" 2:05 ", 125_000)],
)
def test_parse_position_reads_the_three_forms(text: str, ms: int) -> None:
    assert parse_position(text) == ms


@pytest.mark.parametrize("text", ["", "abc", "1:60", "1::2", "-5", "1:2:3:4", "1.5", "٣"])
def test_parse_position_rejects_anything_else(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_position(text)


@given(st.integers(0, 99 * 3600 + 59 * 60 + 59))
def test_format_then_parse_round_trips_whole_seconds(seconds: int) -> None:
    assert parse_position(format_duration(seconds * 1000)) == seconds * 1000


@given(tracks(), st.integers(-(10**9), 10**10))
def test_check_seek_accepts_exactly_the_track(track: Track, position: int) -> None:
    seekable = not track.is_stream and track.is_seekable
    if seekable and 0 <= position < track.length:
        assert check_seek(track, position) == position
    else:
        with pytest.raises(InvalidInput):
            check_seek(track, position)


def test_check_seek_message_names_the_valid_range() -> None:
    track = Track("e", "Song", "A", 213_000, "id", False, True, None, None, None, "youtube")
    with pytest.raises(InvalidInput, match=r"4:00 is past the end of Song: .* 0:00 to 3:32"):
        check_seek(track, 240_000)


@given(st.integers(-1000, 1000))
def test_volume_is_0_to_200(volume: int) -> None:
    if 0 <= volume <= 200:
        assert check_volume(volume) == volume
    else:
        with pytest.raises(InvalidInput, match="from 0 to 200"):
            check_volume(volume)


def test_search_identifier() -> None:
    assert search_identifier("https://example.test/watch?v=1") == "https://example.test/watch?v=1"
    assert search_identifier("  daft punk ") == "ytsearch:daft punk"
    for bad in ("", "   ", "x" * (MAX_QUERY_LENGTH + 1)):
        with pytest.raises(InvalidInput):
            search_identifier(bad)


@given(plans, server_settings())
def test_queue_capacity_never_exceeds_the_plan(plan: Plan, settings: ServerSettings) -> None:
    capacity = queue_capacity(plan, settings)
    assert capacity == min(plan.queue_cap, settings.queue_limit)


def test_free_guilds_hold_100_tracks() -> None:
    assert queue_capacity(default_catalogue().plan(Tier.FREE), ServerSettings()) == 100


@given(plans, st.integers(0, 200), st.integers(0, 20_000), st.booleans())
def test_playlist_room_follows_the_plan(
    plan: Plan, existing: int, count: int, replacing: bool
) -> None:
    allowed = (
        plan.playlist_limit != 0
        and plan.playlist_track_limit != 0
        and (replacing or plan.playlist_limit is None or existing < plan.playlist_limit)
        and (plan.playlist_track_limit is None or count <= plan.playlist_track_limit)
    )
    if allowed and count > 0:
        check_playlist_room(plan, existing, count, replacing=replacing)
    elif allowed:
        with pytest.raises(InvalidInput, match="nothing to save"):
            check_playlist_room(plan, existing, count, replacing=replacing)
    else:
        with pytest.raises(LimitExceeded):
            check_playlist_room(plan, existing, count, replacing=replacing)


def test_free_plan_has_no_playlists() -> None:
    free = default_catalogue().plan(Tier.FREE)
    with pytest.raises(LimitExceeded, match=r"not included in your plan \(Free\)"):
        check_playlist_room(free, 0, 1, replacing=False)
    starter = attrs.evolve(free, playlist_limit=2, playlist_track_limit=3)
    with pytest.raises(LimitExceeded, match="at most 2 playlists"):
        check_playlist_room(starter, 2, 1, replacing=False)


def test_a_position_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be text"):
        parse_position(90)  # type: ignore[arg-type]


# -- /seek: a position or a step from now ---------------------------------------------------------

_SECONDS = st.integers(0, 99 * 3600 + 59 * 60 + 59)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("83", SeekTarget(83_000)),
        ("1:23", SeekTarget(83_000)),
        ("1:02:03", SeekTarget(3_723_000)),
        ("+10", SeekTarget(10_000, relative=True)),
        ("-10", SeekTarget(-10_000, relative=True)),
        (" + 1:30 ", SeekTarget(90_000, relative=True)),
        ("-0", SeekTarget(0, relative=True)),
    ],
)
def test_parse_seek_reads_positions_and_steps(text: str, target: SeekTarget) -> None:
    assert parse_seek(text) == target


@pytest.mark.parametrize("text", ["", "+", "-", "+-5", "--5", "1:60", "+1:60", "ten", "+1.5", "5s"])
def test_parse_seek_rejects_anything_else_naming_the_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_seek(text)
    assert "+10" in info.value.message or "59" in info.value.message


@given(_SECONDS, st.sampled_from(["", "+", "-"]))
def test_parse_seek_round_trips_format_duration(seconds: int, sign: str) -> None:
    target = parse_seek(sign + format_duration(seconds * 1000))
    assert target.relative == bool(sign)
    assert target.ms == (-1 if sign == "-" else 1) * seconds * 1000


@given(_SECONDS, st.integers(0, 10**9), st.booleans())
def test_a_step_resolves_from_the_position_and_never_below_zero(
    seconds: int, position: int, back: bool
) -> None:
    step = parse_seek(("-" if back else "+") + str(seconds))
    resolved = step.resolve(position)
    assert resolved == max(0, position + (-seconds if back else seconds) * 1000)
    assert parse_seek(str(seconds)).resolve(position) == seconds * 1000  # absolute ignores it


def _seek_form(text: str) -> bool:
    """The oracle: an optional sign, then ss, mm:ss or hh:mm:ss with 0-59 after each colon."""
    rest = text.strip()
    if rest[:1] in ("+", "-"):
        rest = rest[1:].strip()
    if not re.fullmatch(r"[0-9]{1,6}(?::[0-9]{1,2}){0,2}", rest):
        return False
    return all(int(part) < 60 for part in rest.split(":")[1:])


@given(st.text(alphabet=" +-0123456789:a٣\t", max_size=12))
def test_parse_seek_accepts_exactly_its_forms(text: str) -> None:
    try:
        parse_seek(text)
    except InvalidInput:
        assert not _seek_form(text)
    else:
        assert _seek_form(text)


# -- the per-member queue limit -------------------------------------------------------------------


@given(st.none() | st.integers(0, 500), st.integers(0, 500), st.integers(1, 200))
def test_member_room_refuses_exactly_what_passes_the_limit(
    limit: int | None, queued: int, adding: int
) -> None:
    over = bool(limit) and queued + adding > (limit or 0)
    if over:
        with pytest.raises(LimitExceeded) as info:
            check_member_room(limit, queued, adding)
        noun = "track" if limit == 1 else "tracks"
        assert f"at most {limit} {noun} queued" in info.value.message
        assert f"you have {queued}" in info.value.message
    else:
        check_member_room(limit, queued, adding)


@given(server_settings(), st.booleans(), st.booleans())
def test_djs_are_exempt_from_the_member_limit(
    settings: ServerSettings, manager: bool, has_role: bool
) -> None:
    roles = settings.dj_role_ids[:1] if has_role else ()
    member = MemberFacts(UserId(5), roles, permissions=MANAGE_GUILD if manager else 0)
    limit = member_track_limit(member, settings)
    if has_dj_access(member, settings) or not settings.member_track_limit:
        assert limit is None
    else:
        assert limit == settings.member_track_limit
