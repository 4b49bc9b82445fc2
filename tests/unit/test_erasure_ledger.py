"""The erasure ledger's rules (`vectobeat_core.erasures`): whatever way and order erasures reach a
bot (pushed notices, pages of the record read from its cursor, repeats of both, restarts that
read the ledger back from its JSON, local failures that are retried), each erasure is applied
exactly once successfully, nothing is applied again once it succeeded, and a full read of the
record leaves the cursor at its end with nothing ahead. A bot that started with no data owes
nothing to the erasures placed before it started (``since``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.erasures import ErasedGuilds, Erasure, ErasureLedger, sent_after
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId

# the record: places may be skipped (a place handed out and rolled back is never used)
RECORD = [Erasure(seq, GuildId(1000 + seq), float(seq)) for seq in (1, 2, 4, 5, 7, 8, 9)]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("notice"), st.sampled_from(RECORD), st.booleans()),
        st.tuples(st.just("page"), st.integers(0, len(RECORD)), st.booleans()),
        st.tuples(st.just("retry"), st.just(RECORD[0]), st.booleans()),
        st.tuples(st.just("restart"), st.just(RECORD[0]), st.just(False)),
    ),
    max_size=30,
)


@given(steps, st.sampled_from([None, 0.0, 4.5]))
def test_every_erasure_is_applied_once_whatever_the_order(
    plan: list[tuple[str, object, bool]], since: float | None
) -> None:
    ledger = ErasureLedger(since=since)
    applied: list[int] = []  # successful local erasures, by place

    def apply(erasure: Erasure, fails: bool) -> bool:
        assert erasure.seq not in applied, "applied again after it succeeded"
        if not fails:
            applied.append(erasure.seq)
        return not fails

    def read_page(size: int, fails: bool) -> None:
        nonlocal ledger
        for erasure in [e for e in RECORD if e.seq > ledger.cursor][:size]:
            ok = apply(erasure, fails) if ledger.due(erasure) else True
            ledger = ledger.read(erasure, failed=not ok)

    for kind, what, fails in plan:
        if kind == "notice":
            assert isinstance(what, Erasure)
            if ledger.due(what):
                ledger = ledger.noticed(what, failed=not apply(what, fails))
            else:
                assert ledger.noticed(what) == ledger
        elif kind == "page":
            assert isinstance(what, int)
            read_page(what, fails)
        elif kind == "retry":
            for erasure in ledger.retry:
                ledger = ledger.retried(erasure, failed=not apply(erasure, fails))
        else:
            ledger = ErasureLedger.from_json(ledger.to_json())  # a restart
        assert ledger.withheld == {e.guild_id for e in ledger.retry}

    # then a catch-up that works: retries first, then the whole record
    for erasure in ledger.retry:
        ledger = ledger.retried(erasure, failed=not apply(erasure, False))
    read_page(len(RECORD), False)
    assert sorted(applied) == [e.seq for e in RECORD if e.erased_at >= (since or 0.0)]
    assert ledger == ErasureLedger(RECORD[-1].seq, since=since)
    assert not any(ledger.due(e) for e in RECORD)


def test_erasures_and_ledgers_read_back_from_their_json() -> None:
    erasure = RECORD[1]
    assert erasure.to_json() == {"seq": 2, "guild_id": "1002", "erased_at": 2.0}
    assert Erasure.from_json(erasure.to_json()) == erasure
    ledger = ErasureLedger(4, frozenset({7, 5}), (erasure,))
    assert ledger.to_json() == {"cursor": 4, "ahead": [5, 7], "retry": [erasure.to_json()]}
    assert ErasureLedger.from_json(ledger.to_json()) == ledger
    assert ErasureLedger().to_json() == {"cursor": 0}
    assert ErasureLedger(since=3.5).to_json() == {"cursor": 0, "since": 3.5}
    for bad in ({"seq": 0, "guild_id": "1", "erased_at": 1.0}, {"seq": 1, "guild_id": "x"}):
        with pytest.raises(InvalidInput):
            Erasure.from_json(bad)
    with pytest.raises(InvalidInput):
        ErasureLedger.from_json({"cursor": "1"})


GUILDS = [GuildId(1001), GuildId(1002), GuildId(1003)]


@given(
    st.lists(st.tuples(st.sampled_from(GUILDS), st.integers(0, 20).map(float)), max_size=12),
    st.sampled_from(GUILDS),
    st.one_of(st.none(), st.integers(-1, 21).map(float)),
)
def test_nothing_written_before_an_applied_erasure_is_kept(
    plan: list[tuple[GuildId, float]], guild: GuildId, written_at: float | None
) -> None:
    """Whatever order a guild's erasures are applied in, data of the guild is kept only when
    written after the latest of them (an unknown time is not after); other guilds' data is."""
    erased = ErasedGuilds()
    for seq, (erased_guild, at) in enumerate(plan, start=1):
        erased = erased.erasing(Erasure(seq, erased_guild, at))
    times = [at for g, at in plan if g == guild]
    expected = not times or (written_at is not None and written_at > max(times))
    assert erased.keeps(guild, written_at) is expected
    assert erased.erased_at(guild) == (max(times) if times else None)
    assert len(erased.latest) == len({g for g, _ in plan})


# a guild may be erased more than once: places 1..9 erase three guilds in turn
SHARED = [Erasure(seq, GUILDS[seq % 3], float(seq)) for seq in (1, 2, 4, 5, 7, 8, 9)]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["notice", "page", "retry"]),
            st.sampled_from(SHARED),  # the notice's erasure
            st.integers(0, len(SHARED)),  # the page's size
            st.booleans(),  # whether the local erasures of this step fail
        ),
        max_size=25,
    ),
    st.sampled_from([None, 4.5]),
)
def test_the_panel_keeps_data_only_from_a_bot_that_applied_the_erasure(
    plan: list[tuple[str, Erasure, int, bool]], since: float | None
) -> None:
    """Whatever a bot applied of the record (notices ahead, pages, failures retried), the
    panel's rule (`sent_after`, with `ErasureLedger.applied` as the bot sends it) takes data of a
    guild only when the bot applied that guild's erasure (or owed nothing to it: ``since``);
    once the bot caught up, it takes it again. Without a tombstone it always takes it; from a
    bot that does not follow the record, never."""
    ledger = ErasureLedger(since=since)
    done: set[int] = set()  # successfully applied here, by place

    def apply(erasure: Erasure, fails: bool) -> bool:
        if not fails:
            done.add(erasure.seq)
        return not fails

    def check() -> None:
        for erasure in SHARED:
            owed = since is None or erasure.erased_at >= since
            if sent_after(erasure, ledger.applied(erasure.guild_id)):
                assert erasure.seq in done or not owed, (erasure, ledger)
            assert not sent_after(erasure, None)
            assert sent_after(None, ledger.applied(erasure.guild_id))

    for kind, erasure, size, fails in plan:
        if kind == "notice":
            if ledger.due(erasure):
                ledger = ledger.noticed(erasure, failed=not apply(erasure, fails))
        elif kind == "page":
            for read in [e for e in SHARED if e.seq > ledger.cursor][:size]:
                ok = apply(read, fails) if ledger.due(read) else True
                ledger = ledger.read(read, failed=not ok)
        else:
            for failed in ledger.retry:
                ledger = ledger.retried(failed, failed=not apply(failed, fails))
        check()
    for failed in ledger.retry:
        ledger = ledger.retried(failed, failed=not apply(failed, False))
    for read in [e for e in SHARED if e.seq > ledger.cursor]:
        ledger = ledger.read(read, failed=not (apply(read, False) if ledger.due(read) else True))
    check()
    assert all(sent_after(e, ledger.applied(e.guild_id)) for e in SHARED)


@given(st.integers(1, 50), st.one_of(st.none(), st.integers(0, 60)), st.integers(0, 10))
def test_sent_after_is_the_records_order(seq: int, applied: int | None, more: int) -> None:
    """Data is taken exactly when the bot applied the record up to the erasure's place or past
    it; applying more never makes it refused."""
    tombstone = Erasure(seq, GUILDS[0], 1.0)
    assert sent_after(tombstone, applied) is (applied is not None and applied >= seq)
    if applied is not None and sent_after(tombstone, applied):
        assert sent_after(tombstone, applied + more)
