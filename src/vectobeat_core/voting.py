"""Vote-skip: when a member's ``/skip`` skips at once, and when it is a vote that needs more.

* A DJ (`vectobeat_core.permissions.has_dj_access`) and the member who requested the current
  track skip at once; so does everyone while the guild's ``vote_skip_percent`` is 0 (voting off).
* Anyone else votes. The skip happens once the votes of members still listening (in the bot's
  voice channel, bots excluded) reach ``vote_skip_percent`` of those listeners, rounded up, at
  least one. A member who left the channel no longer counts, and `SkipVote` belongs to one queue
  entry: a new track starts a new vote.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import UserId

__all__ = ["SkipVote", "VoteTally", "votes_needed"]


def votes_needed(listeners: int, percent: int) -> int:
    """How many votes skip a track ``listeners`` people hear: ``percent`` of them, rounded up,
    at least one (0 percent: one, voting is off)."""
    if isinstance(listeners, bool) or not isinstance(listeners, int) or listeners < 0:
        raise InvalidInput(f"Listeners must be a whole number of at least 0, got {listeners!r}.")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise InvalidInput(f"The vote-skip share must be 0 to 100 percent, got {percent!r}.")
    return max(1, -(-listeners * percent // 100))


@attrs.frozen(slots=True)
class VoteTally:
    """What a ``/skip`` came to: skip now, or ``votes`` of ``needed`` so far."""

    skip: bool
    votes: int
    needed: int
    counted: bool = True
    """False when the member had already voted for this track."""

    def text(self) -> str:
        """``2/3 votes to skip``."""
        return f"{self.votes}/{self.needed} votes to skip"


@attrs.frozen(slots=True)
class SkipVote:
    """The votes to skip one queue entry (``entry_id``); immutable, `cast` returns the next."""

    entry_id: int
    voters: frozenset[UserId] = frozenset()

    def cast(
        self,
        voter: UserId,
        listeners: Collection[UserId],
        percent: int,
        *,
        immediate: bool,
    ) -> tuple[SkipVote, VoteTally]:
        """``voter``'s skip: at once when ``immediate`` (a DJ, the requester) or voting is off,
        else a vote counted among ``listeners`` (which must include the voter)."""
        heard = frozenset(listeners)
        if immediate or percent == 0:
            return self, VoteTally(True, 0, votes_needed(len(heard), percent))
        if voter not in heard:
            raise InvalidInput(
                "Join the voice channel the bot plays in to vote for a skip "
                "(only listeners may vote)."
            )
        counted = voter not in self.voters
        voters = self.voters | {voter}
        votes = len(voters & heard)
        needed = votes_needed(len(heard), percent)
        return SkipVote(self.entry_id, voters), VoteTally(votes >= needed, votes, needed, counted)
