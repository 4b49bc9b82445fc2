"""`vectobeat_core.shards.shard_of`: Discord's routing of a guild to a shard."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.shards import shard_of


def test_discords_formula() -> None:
    guild = (5 << 22) | 12345  # a snowflake whose timestamp part is 5
    assert shard_of(guild, 4) == 1
    assert shard_of(guild, 1) == 0


def test_unknown_without_a_guild_or_a_shard_count() -> None:
    assert shard_of(None, 4) is None
    assert shard_of(123 << 22, None) is None
    assert shard_of(123 << 22, 0) is None


@given(st.integers(min_value=0, max_value=2**63 - 1), st.integers(min_value=1, max_value=4096))
def test_always_a_shard_of_the_count(guild: int, count: int) -> None:
    shard = shard_of(guild, count)
    assert shard is not None and 0 <= shard < count
