"""Vote-skip: who skips at once, how many votes a skip needs, and that only listeners count."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import UserId
from vectobeat_core.voting import SkipVote, votes_needed

users = st.integers(1, 40).map(UserId)


@given(listeners=st.integers(0, 500), percent=st.integers(0, 100))
def test_a_skip_needs_the_share_rounded_up_and_at_least_one_vote(
    listeners: int, percent: int
) -> None:
    needed = votes_needed(listeners, percent)
    assert needed == max(1, math.ceil(listeners * percent / 100))
    assert needed <= max(1, listeners)


@pytest.mark.parametrize(("listeners", "percent"), [(-1, 50), (3, 101), (3, -1)])
def test_impossible_counts_are_refused(listeners: int, percent: int) -> None:
    with pytest.raises(InvalidInput):
        votes_needed(listeners, percent)


@given(
    listeners=st.frozensets(users, min_size=1, max_size=12),
    voters=st.lists(users, max_size=30),
    percent=st.integers(1, 100),
)
def test_only_listeners_votes_count_and_the_skip_comes_at_the_share(
    listeners: frozenset[UserId], voters: list[UserId], percent: int
) -> None:
    vote = SkipVote(entry_id=7)
    needed = votes_needed(len(listeners), percent)
    for voter in voters:
        if voter not in listeners:
            with pytest.raises(InvalidInput, match="Join the voice channel"):
                vote.cast(voter, listeners, percent, immediate=False)
            continue
        vote, tally = vote.cast(voter, listeners, percent, immediate=False)
        assert tally.votes == len(vote.voters & listeners) and tally.needed == needed
        assert tally.skip == (tally.votes >= needed)
        if tally.skip:
            break


@given(listeners=st.frozensets(users, max_size=12), percent=st.integers(0, 100), voter=users)
def test_djs_and_requesters_skip_at_once_and_percent_zero_turns_voting_off(
    listeners: frozenset[UserId], percent: int, voter: UserId
) -> None:
    _, tally = SkipVote(1).cast(voter, listeners, percent, immediate=True)
    assert tally.skip
    _, off = SkipVote(1).cast(voter, listeners, 0, immediate=False)
    assert off.skip


def test_a_member_who_left_no_longer_counts_and_a_second_vote_is_not_counted() -> None:
    a, b, c = UserId(1), UserId(2), UserId(3)
    vote, tally = SkipVote(1).cast(a, {a, b, c}, 100, immediate=False)
    assert (tally.votes, tally.needed, tally.skip) == (1, 3, False)
    assert tally.text() == "1/3 votes to skip"
    vote, again = vote.cast(a, {a, b, c}, 100, immediate=False)
    assert not again.counted and again.votes == 1
    vote, tally = vote.cast(b, {b, c}, 100, immediate=False)  # a left the channel
    assert (tally.votes, tally.needed) == (1, 2)
    _, tally = vote.cast(c, {b, c}, 100, immediate=False)
    assert tally.skip and tally.text() == "2/2 votes to skip"
