"""Pinned guilds playing outside their region: the rule, the bounded summary, and the alarms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.displacement import (
    displaced_summary,
    displacement,
    displacement_reason,
    evacuation_alarms,
    failover_alarm,
)
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.regions import PINNED_REGIONS, Region

regions = st.sampled_from(list(Region))
counts = st.dictionaries(regions, st.integers(min_value=0, max_value=50))


@given(regions, st.sampled_from(PINNED_REGIONS))
def test_displaced_exactly_when_pinned_and_elsewhere(wanted: Region, actual: Region) -> None:
    found = displacement(GuildId(7), wanted, actual, "eu-1")
    assert (found is not None) == (wanted.pinned and actual is not wanted)
    if found is not None:
        assert found.to_json()["reason"] == str(displacement_reason(wanted))


def test_reason_says_where_and_when_it_returns() -> None:
    assert str(displacement_reason(Region.APAC)) == (
        "apac has no healthy Lavalink node; it returns at a track change once apac is healthy"
    )


@given(st.sets(st.integers(min_value=1, max_value=10**6), max_size=40), st.integers(0, 10))
def test_summary_counts_all_and_lists_the_first_n_by_guild(ids: set[int], limit: int) -> None:
    items = [displacement(GuildId(i), Region.APAC, Region.EU, "eu-1") for i in ids]
    summary = displaced_summary([d for d in items if d is not None], limit)
    assert summary["count"] == len(ids)
    guilds = summary["guilds"]
    assert isinstance(guilds, list)
    assert [g["guild_id"] for g in guilds if isinstance(g, dict)] == [
        str(i) for i in sorted(ids)[:limit]
    ]
    assert len(guilds) == min(limit, len(ids))


def test_summary_rejects_a_negative_limit() -> None:
    with pytest.raises(InvalidInput):
        displaced_summary([], -1)


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000))
def test_failover_alarm_is_one_alarm_per_node_with_counts(
    moved: int, stranded: int, extra: int, out: int
) -> None:
    players = moved + stranded + extra
    alarm = failover_alarm(
        "eu-1", Region.EU, players=players, moved=moved, stranded=stranded, out_of_region=out,
        at=5.0,
    )  # fmt: skip
    assert alarm.key == "failover:eu-1" and alarm.status == "trigger"
    assert f"{moved} of {players} player(s) moved" in alarm.summary
    assert (f"{stranded} found no healthy node" in alarm.summary) == (stranded > 0)
    assert alarm.severity == ("critical" if stranded else "error")


def test_failover_alarm_rejects_counts_that_do_not_add_up() -> None:
    with pytest.raises(InvalidInput):
        failover_alarm("eu-1", Region.EU, players=1, moved=1, stranded=1, out_of_region=0, at=0.0)


@given(counts, counts)
def test_evacuation_alarms_trigger_on_first_and_resolve_on_last(
    before: dict[Region, int], after: dict[Region, int]
) -> None:
    alarms = {a.key: a for a in evacuation_alarms(before, after, 1.0)}
    for region in PINNED_REGIONS:
        was, now = before.get(region, 0), after.get(region, 0)
        alarm = alarms.get(f"region:{region.value}:evacuated")
        if was == 0 and now > 0:
            assert alarm is not None and alarm.status == "trigger"
            assert f"{now} pinned guild(s)" in alarm.summary
        elif was > 0 and now == 0:
            assert alarm is not None and alarm.status == "resolve"
        else:
            assert alarm is None
    assert "region:auto:evacuated" not in alarms
