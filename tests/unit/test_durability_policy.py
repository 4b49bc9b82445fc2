"""Journal replay rules: the latest entry per guild, in sequence order, idempotent, and never
taking a stored snapshot back in time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.durability import Durability, JournalStamp, replay_order, store_is_newer
from vectobeat_core.ids import GuildId

stamps = st.lists(
    st.builds(
        JournalStamp,
        st.integers(1, 5).map(GuildId),
        st.integers(1, 10_000),
        st.floats(0, 1e6, allow_nan=False),
    ),
    max_size=40,
    unique_by=lambda s: s.seq,
)
stored = st.dictionaries(st.integers(1, 5).map(GuildId), st.floats(0, 1e6, allow_nan=False))


@given(stamps)
def test_replay_takes_the_latest_entry_per_guild_in_sequence_order(
    entries: list[JournalStamp],
) -> None:
    order = replay_order(entries)
    assert [e.seq for e in order] == sorted(e.seq for e in order)
    assert {e.guild_id for e in order} == {e.guild_id for e in entries}
    for entry in order:
        assert entry.seq == max(e.seq for e in entries if e.guild_id == entry.guild_id)
    assert replay_order(order) == order
    assert replay_order(reversed(entries)) == order


@given(stamps, stored)
def test_replaying_twice_changes_nothing_and_never_goes_back_in_time(
    entries: list[JournalStamp], store: dict[GuildId, float]
) -> None:
    def replay(state: dict[GuildId, float]) -> dict[GuildId, float]:
        state = dict(state)
        for entry in replay_order(entries):
            if not store_is_newer(entry, state.get(entry.guild_id)):
                state[entry.guild_id] = entry.taken_at
        return state

    once = replay(store)
    assert replay(once) == once
    for guild, taken_at in store.items():
        assert once[guild] >= taken_at
    for entry in replay_order(entries):
        assert once[entry.guild_id] == max(entry.taken_at, store.get(entry.guild_id, -1.0))


def test_only_not_saved_is_unsaved() -> None:
    assert Durability.STORED.saved and Durability.JOURNALED.saved
    assert not Durability.NOT_SAVED.saved
