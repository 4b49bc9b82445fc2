"""GuildQueue rules, errors that name the problem, and the snapshot format."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.tracks import player_states, tracks
from vectobeat_core._blocklist import BlockList
from vectobeat_core.errors import (
    InvalidInput,
    InvalidSnapshot,
    InvalidTrack,
    LimitExceeded,
    PositionOutOfRange,
    QueueEmpty,
    QueueFull,
    VectoBeatError,
)
from vectobeat_core.ids import ChannelId, EntryId, GuildId, NodeName, UserId
from vectobeat_core.queue import (
    MAX_ENTRY_ID,
    GuildQueue,
    LoopMode,
    PlayerState,
    QueueEntry,
    QueuePage,
    QueueSnapshot,
)
from vectobeat_core.tracks import Track

GUILD = GuildId(1234)


def make_track(n: int, *, length: int = 1000, stream: bool = False, uri: str | None = "") -> Track:
    return Track(
        encoded=f"enc{n}",
        title=f"Song {n}",
        author="Artist",
        length=length,
        identifier=f"id{n}",
        is_stream=stream,
        is_seekable=not stream,
        uri=f"https://example.test/{n}" if uri == "" else uri,
        artwork_url=None,
        isrc=None,
        source="youtube",
        requester=UserId(7),
    )


def filled(count: int, **kwargs: Any) -> GuildQueue:
    queue = GuildQueue(GUILD, **kwargs)
    queue.add_many(make_track(n) for n in range(1, count + 1))
    return queue


def titles(queue: GuildQueue) -> list[str]:
    return [entry.track.title for entry in queue]


class TestAdding:
    def test_add_end_and_position(self) -> None:
        queue = filled(3)
        entry = queue.add(make_track(9), position=1)
        assert titles(queue) == ["Song 9", "Song 1", "Song 2", "Song 3"]
        assert entry.entry_id == 4
        queue.add(make_track(10), position=5)
        assert titles(queue)[-1] == "Song 10"

    def test_duplicates_get_distinct_increasing_ids(self) -> None:
        queue = GuildQueue(GUILD)
        track = make_track(1)
        first, second = queue.add(track), queue.add(track)
        assert first.track == second.track
        assert first != second
        assert first.entry_id < second.entry_id

    def test_add_many_is_all_or_nothing(self) -> None:
        queue = filled(8, capacity=10)
        version = queue.version
        with pytest.raises(QueueFull, match=r"holds 8 of 10 tracks, so 3 more tracks .*2 free"):
            queue.add_many([make_track(n) for n in range(3)])
        assert len(queue) == 8
        assert queue.version == version
        queue.add_many([make_track(n) for n in range(2)])
        with pytest.raises(QueueFull, match="1 more track cannot"):
            queue.add(make_track(1))

    def test_add_many_large_batch_at_position(self) -> None:
        queue = filled(5)
        queue.add_many([make_track(100 + n) for n in range(40)], position=3)
        assert titles(queue)[:3] == ["Song 1", "Song 2", "Song 100"]
        assert titles(queue)[-4:] == ["Song 139", "Song 3", "Song 4", "Song 5"]
        assert len(queue) == 45

    def test_add_many_empty(self) -> None:
        queue = filled(2)
        assert queue.add_many([]) == ()
        assert queue.version == 1

    @pytest.mark.parametrize("position", [0, 5, -1])
    def test_add_position_out_of_range_says_range(self, position: int) -> None:
        with pytest.raises(PositionOutOfRange, match=r"choose 1-4"):
            filled(3).add(make_track(1), position=position)

    def test_add_rejects_non_tracks(self) -> None:
        with pytest.raises(InvalidTrack, match="Only tracks can be queued"):
            GuildQueue(GUILD).add("song")  # type: ignore[arg-type]
        with pytest.raises(InvalidTrack):
            GuildQueue(GUILD).add_many([make_track(1), 3])  # type: ignore[list-item]


class TestPlaying:
    def test_next_off(self) -> None:
        queue = filled(2)
        assert queue.next() == QueueEntry(EntryId(1), make_track(1))
        assert queue.next() == QueueEntry(EntryId(2), make_track(2))
        assert queue.next() is None
        assert queue.next() is None
        assert [e.entry_id for e in queue.history] == [1, 2]

    def test_next_loop_track_repeats(self) -> None:
        queue = filled(2)
        queue.next()
        queue.set_loop(LoopMode.TRACK)
        assert queue.next() == queue.next() == queue.current
        assert queue.current is not None
        assert queue.current.entry_id == 1

    def test_next_loop_queue_cycles(self) -> None:
        queue = filled(3)
        queue.set_loop("queue")
        played = [entry.entry_id for entry in (queue.next() for _ in range(7)) if entry]
        assert played == [1, 2, 3, 1, 2, 3, 1]

    def test_skip(self) -> None:
        queue = filled(5)
        queue.next()
        entry = queue.skip(3)
        assert entry is not None
        assert entry.entry_id == 4
        assert [e.entry_id for e in queue.history] == [1, 2, 3]
        with pytest.raises(PositionOutOfRange, match="Skip count 2 is out of range: choose 1-1"):
            queue.skip(2)
        assert queue.skip() is not None
        assert queue.skip() is None
        with pytest.raises(QueueEmpty, match="Nothing is playing"):
            queue.skip()

    def test_skip_before_anything_played(self) -> None:
        queue = filled(3)
        entry = queue.skip(2)
        assert entry is not None and entry.entry_id == 2
        assert [e.entry_id for e in queue.history] == [1]

    def test_jump_keeps_earlier_entries(self) -> None:
        queue = filled(4)
        queue.next()
        assert queue.jump(3).entry_id == 4
        assert [e.entry_id for e in queue] == [2, 3]
        with pytest.raises(PositionOutOfRange, match="choose 1-2"):
            queue.jump(3)

    def test_previous(self) -> None:
        queue = filled(3)
        queue.next()
        queue.next()
        assert queue.previous().entry_id == 1
        assert [e.entry_id for e in queue] == [2, 3]
        with pytest.raises(QueueEmpty, match="no previous track"):
            queue.previous()

    def test_previous_under_loop_queue_undoes_the_wrap(self) -> None:
        queue = filled(2)
        queue.set_loop(LoopMode.QUEUE)
        queue.next()
        queue.next()
        assert [e.entry_id for e in queue] == [1]
        queue.previous()
        assert [e.entry_id for e in queue] == [2]
        assert queue.current is not None
        assert queue.current.entry_id == 1

    def test_previous_to_the_playing_entry_restarts_it(self) -> None:
        queue = filled(1)
        queue.set_loop(LoopMode.QUEUE)
        queue.next()
        queue.skip()
        assert queue.previous().entry_id == 1
        assert queue.current is not None
        assert queue.current.entry_id == 1
        assert len(queue) == 0

    def test_previous_takes_a_looped_entry_out_of_the_middle(self) -> None:
        queue = filled(2)
        queue.set_loop(LoopMode.QUEUE)
        queue.next()
        queue.next()  # 1 went back to the end
        queue.add(make_track(3))
        queue.set_loop(LoopMode.OFF)
        assert [e.entry_id for e in queue] == [1, 3]
        queue.previous()
        assert [e.entry_id for e in queue] == [2, 3]

    def test_previous_after_stop(self) -> None:
        queue = filled(2)
        queue.next()
        queue.stop()
        assert queue.previous().entry_id == 1
        assert [e.entry_id for e in queue] == [2]

    def test_history_is_bounded(self) -> None:
        queue = filled(10, history_limit=3)
        for _ in range(10):
            queue.next()
        assert [e.entry_id for e in queue.history] == [7, 8, 9]
        assert queue.history_limit == 3

    def test_stop(self) -> None:
        queue = filled(1)
        queue.next()
        queue.stop()
        assert queue.current is None
        with pytest.raises(QueueEmpty, match="Nothing is playing"):
            queue.stop()

    def test_loop_mode_rejects_unknown(self) -> None:
        with pytest.raises(InvalidInput, match="off, track or queue"):
            GuildQueue(GUILD).set_loop("forever")


class TestEditing:
    def test_remove_and_range(self) -> None:
        queue = filled(6)
        assert queue.remove(2).entry_id == 2
        assert [e.entry_id for e in queue.remove_range(2, 3)] == [3, 4]
        assert [e.entry_id for e in queue] == [1, 5, 6]
        with pytest.raises(InvalidInput, match="backwards"):
            queue.remove_range(3, 1)
        with pytest.raises(PositionOutOfRange, match="End position 4 is out of range: choose 1-3"):
            queue.remove_range(1, 4)

    def test_large_range_removal(self) -> None:
        queue = filled(2000)
        removed = queue.remove_range(10, 1500)
        assert len(removed) == 1491
        assert len(queue) == 509
        assert queue.at(10).entry_id == 1501
        assert queue.total_duration() == 509 * 1000

    def test_remove_from_empty_says_so(self) -> None:
        with pytest.raises(PositionOutOfRange, match="the queue is empty"):
            GuildQueue(GUILD).remove(1)

    def test_move(self) -> None:
        queue = filled(4)
        assert queue.move(1, 4).entry_id == 1
        assert [e.entry_id for e in queue] == [2, 3, 4, 1]
        with pytest.raises(PositionOutOfRange, match="Target position 5"):
            queue.move(1, 5)

    @given(st.integers(), st.integers(0, 50))
    def test_shuffle_is_seeded_and_keeps_current(self, seed: int, size: int) -> None:
        first, second = filled(size), filled(size)
        for queue in (first, second):
            queue.next()
            queue.shuffle(seed)
        assert list(first) == list(second)
        assert first.current is not None or size == 0
        assert first.current == second.current
        assert sorted(e.entry_id for e in first) == list(range(2, size + 1))

    @given(st.integers(), st.integers(2, 80))
    def test_unshuffle_restores_the_order_before_the_shuffle(self, seed: int, size: int) -> None:
        queue = filled(size)
        queue.next()
        before = list(queue)
        queue.shuffle(seed)
        assert queue.unshuffled == tuple(e.entry_id for e in before)
        assert queue.unshuffle() == len(before)
        assert list(queue) == before
        assert queue.snapshot(PlayerState(), 1.0).unshuffled is None  # nothing left to undo
        with pytest.raises(InvalidInput, match="no shuffle to undo"):
            queue.unshuffle()

    @given(
        st.integers(),
        st.integers(2, 40),
        st.lists(st.tuples(st.sampled_from(["add", "remove", "next"]), st.integers(0, 10**6))),
    )
    def test_unshuffle_after_changes_keeps_survivors_in_order_then_new_entries(
        self, seed: int, size: int, changes: list[tuple[str, int]]
    ) -> None:
        queue = filled(size)
        original = [e.entry_id for e in queue]
        queue.shuffle(seed)
        for kind, number in changes:
            if kind == "add":
                queue.add(make_track(1000 + number), number % (len(queue) + 1) + 1)
            elif len(queue) and kind == "remove":
                queue.remove(number % len(queue) + 1)
            elif len(queue):
                queue.next()
        now = [e.entry_id for e in queue]
        survivors = [i for i in original if i in now]
        added = [i for i in now if i not in original]
        if not survivors:
            with pytest.raises(InvalidInput, match="no longer be undone"):
                queue.unshuffle()
            assert queue.unshuffled is None
            return
        assert queue.unshuffle() == len(survivors)
        assert [e.entry_id for e in queue] == survivors + added
        assert queue.total_duration() == sum(
            e.track.length for e in (*queue, *([queue.current] if queue.current else []))
        )

    def test_a_cleared_queue_has_no_shuffle_to_undo(self) -> None:
        queue = filled(5)
        queue.shuffle(3)
        queue.clear()
        queue.add(make_track(9))
        with pytest.raises(InvalidInput, match="no shuffle to undo"):
            queue.unshuffle()

    def test_the_undo_survives_a_snapshot(self) -> None:
        queue = filled(6)
        before = list(queue)
        queue.shuffle(11)
        snapshot = queue.snapshot(PlayerState(), 1.0)
        restored = GuildQueue.restore(
            QueueSnapshot.from_json(json.loads(json.dumps(snapshot.to_json())))
        )
        assert restored.unshuffled == snapshot.unshuffled == tuple(e.entry_id for e in before)
        restored.unshuffle()
        assert list(restored) == before
        plain = filled(2).snapshot(PlayerState(), 1.0).to_json()
        assert "u" not in plain  # no shuffle, nothing stored
        assert QueueSnapshot.from_json(plain).unshuffled is None
        with pytest.raises(InvalidSnapshot, match="unshuffled"):
            QueueSnapshot.from_json({**plain, "u": ["x"]})

    def test_clear(self) -> None:
        queue = filled(5)
        queue.next()
        assert queue.clear() == 4
        assert len(queue) == 0
        assert queue.total_duration() == 1000

    def test_dedupe_by_uri_or_identifier(self) -> None:
        queue = GuildQueue(GUILD)
        queue.add_many(
            [
                make_track(1),
                make_track(2),
                make_track(1),
                make_track(3, uri=None),
                make_track(3, uri=None),
            ]
        )
        queue.next()
        queue.add(make_track(1))
        assert queue.dedupe() == 3
        assert titles(queue) == ["Song 2", "Song 3"]

    def test_positions_take_anything_with_index(self) -> None:
        class Two:
            def __index__(self) -> int:
                return 2

        queue = filled(3)
        assert queue.at(Two()).entry_id == 2
        assert queue.page(Two(), per_page=Two()).start == 3
        assert queue.remove(Two()).entry_id == 2

    @pytest.mark.parametrize("bad", [None, 5, ["off"]])
    def test_loop_mode_of_the_wrong_type(self, bad: Any) -> None:
        with pytest.raises(InvalidInput, match="Loop mode must be off, track or queue"):
            GuildQueue(GUILD).set_loop(bad)

    @pytest.mark.parametrize("bad", [None, "1", 1.5, True])
    def test_positions_must_be_whole_numbers(self, bad: Any) -> None:
        queue = filled(3)
        for call in (queue.remove, queue.jump, queue.at, queue.skip, queue.shuffle):
            with pytest.raises(InvalidInput, match="must be a whole number"):
                call(bad)


class TestReading:
    def test_durations_skip_streams(self) -> None:
        queue = GuildQueue(GUILD)
        assert queue.total_duration() == 0
        assert queue.remaining_duration(0) == 0
        queue.add_many([make_track(1, length=5000), make_track(2, stream=True, length=2**63 - 1)])
        queue.add(make_track(3, length=2000))
        assert queue.total_duration() == 7000
        queue.next()
        assert queue.remaining_duration(1500) == 3500 + 2000
        assert queue.remaining_duration(9000) == 2000
        assert queue.remove(1).track.is_stream
        assert queue.total_duration() == 7000
        with pytest.raises(PositionOutOfRange, match="Playback position -1"):
            queue.remaining_duration(-1)

    def test_page(self) -> None:
        queue = filled(25)
        page = queue.page(3, per_page=10)
        assert (page.page, page.pages, page.total, page.start) == (3, 3, 25, 21)
        assert [e.entry_id for e in page.items] == [21, 22, 23, 24, 25]
        with pytest.raises(PositionOutOfRange, match="Page 4 is out of range: choose 1-3"):
            queue.page(4)
        with pytest.raises(PositionOutOfRange, match="Entries per page 0"):
            queue.page(1, per_page=0)

    def test_empty_queue_has_one_empty_page(self) -> None:
        page = GuildQueue(GUILD).page(1)
        assert (page.items, page.pages, page.total) == ((), 1, 0)

    def test_long_queue_lookup_and_iteration(self) -> None:
        queue = filled(5000)
        assert queue.at(2600).entry_id == 2600
        queue.add(make_track(0), position=2600)
        assert queue.at(2600).track.title == "Song 0"
        assert queue.at(2601).entry_id == 2600
        assert queue.move(2600, 1).track.title == "Song 0"
        assert next(e.entry_id for e in queue.page(260, per_page=10).items) == 2590
        while len(queue) > 1:
            queue.remove(len(queue) // 2 + 1)
        assert len(list(queue)) == 1

    def test_merge_of_a_small_block_into_a_full_one(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("vectobeat_core._blocklist._LOAD", 512)
        queue = filled(1100)  # blocks of 512, 512 and 76
        for _ in range(500):
            queue.add(make_track(0), position=600)  # the middle block grows to 1012
        expected = [e.entry_id for e in queue]
        del expected[-1]
        queue.remove(len(queue))  # the small last block merges, then splits
        assert [e.entry_id for e in queue] == expected
        assert queue.at(1500).entry_id == expected[1499]

    def test_block_split_on_insert(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("vectobeat_core._blocklist._LOAD", 4)
        queue = filled(20)
        for n in range(12):
            queue.add(make_track(100 + n), position=3)
        assert len(queue) == 32
        assert queue.at(3).track.title == "Song 111"
        assert [e.entry_id for e in queue][-1] == 20

    def test_streams_and_edge_paths(self) -> None:
        queue = GuildQueue(GUILD)
        stream = make_track(1, stream=True, length=2**63 - 1)
        queue.add(stream)
        queue.add(make_track(2))
        assert queue.jump(1).track == stream  # nothing was playing
        assert queue.total_duration() == 1000
        assert queue.loop is LoopMode.OFF
        with pytest.raises(PositionOutOfRange, match="Source position 2"):
            queue.move(2, 1)
        queue.stop()
        assert queue.dedupe() == 0

    def test_repr_and_len(self) -> None:
        queue = filled(2)
        assert len(queue) == 2
        assert "upcoming=2" in repr(queue)
        assert queue.next_entry_id == 3

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"capacity": 0}, "Queue capacity 0"),
            ({"history_limit": -1}, "History limit -1"),
            ({"capacity": "10"}, "must be a whole number"),
        ],
    )
    def test_constructor_rejects(self, kwargs: dict[str, Any], message: str) -> None:
        with pytest.raises(InvalidInput, match=message):
            GuildQueue(GUILD, **kwargs)

    def test_guild_id_must_be_a_number(self) -> None:
        with pytest.raises(InvalidInput, match="Guild id"):
            GuildQueue("x")  # type: ignore[arg-type]


def _snapshot_queue() -> GuildQueue:
    queue = filled(4)
    queue.next()
    queue.next()
    queue.set_loop(LoopMode.QUEUE)
    return queue


PLAYER = PlayerState(
    position_ms=1234,
    position_read_at=1_700_000_000.5,
    paused=False,
    volume=80,
    filters={"timescale": {"speed": 1.1}, "eq": [1, 2]},
    voice_channel_id=ChannelId(99),
    node=NodeName("eu-1"),
    region="eu",
)


class TestSnapshot:
    def test_round_trip_through_json_text(self) -> None:
        queue = _snapshot_queue()
        snapshot = queue.snapshot(PLAYER, now=1_700_000_001.0)
        data = json.loads(json.dumps(snapshot.to_json()))
        assert QueueSnapshot.from_json(data) == snapshot
        assert snapshot.player.loop is LoopMode.QUEUE
        restored = GuildQueue.restore(QueueSnapshot.from_json(data), capacity=10)
        assert list(restored) == list(queue)
        assert restored.current == queue.current
        assert restored.history == queue.history
        assert restored.version == queue.version
        assert restored.add(make_track(5)).entry_id == 5

    @given(player_states, st.lists(tracks(), max_size=5), st.integers(0, 5))
    def test_snapshot_restore_is_identity(
        self, player: PlayerState, batch: list[Track], played: int
    ) -> None:
        queue = GuildQueue(GUILD)
        queue.add_many(batch)
        for _ in range(played):
            queue.next()
        snapshot = queue.snapshot(player, now=5.0)
        assert QueueSnapshot.from_json(snapshot.to_json()) == snapshot
        assert GuildQueue.restore(snapshot).snapshot(player, now=5.0) == snapshot

    def test_entry_json_is_public_for_stores(self) -> None:
        entry = QueueEntry(EntryId(3), make_track(1))
        assert QueueEntry.from_json(json.loads(json.dumps(entry.to_json()))) == entry

    def test_position_at(self) -> None:
        assert PLAYER.position_at(1_700_000_002.5) == 1234 + 2000
        assert PLAYER.position_at(0.0) == 1234
        assert attrs.evolve(PLAYER, paused=True).position_at(1_800_000_000.0) == 1234

    def test_compact(self) -> None:
        data = PlayerState().to_json()
        assert data == {"pos": 0, "at": 0.0, "vol": 100, "loop": "off", "reg": "auto"}

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda d: [], "must be a JSON object"),
            (lambda d: {**d, "k": "other"}, "not a VectoBeat queue snapshot"),
            (lambda d: {k: v for k, v in d.items() if k != "k"}, "not a VectoBeat queue"),
            (lambda d: {**d, "v": 2}, "version 2 is not supported"),
            (lambda d: {k: v for k, v in d.items() if k != "q"}, "missing field.*q"),
            (lambda d: {**d, "g": None}, "'guild_id' must be a Discord id"),
            (lambda d: {**d, "g": "abc"}, "'guild_id' must be a Discord id"),
            (lambda d: {**d, "n": -1}, "version counter must be a whole number"),
            (lambda d: {**d, "q": {}}, "'entries' must be a list"),
            (lambda d: {**d, "h": [1]}, "must be an object with 'id' and 't'"),
            (lambda d: {**d, "q": [{"id": 0, "t": {}}]}, "entry id must be in 1-"),
            (lambda d: {**d, "q": [{"id": "1", "t": {}}]}, "entry id must be a positive"),
            (lambda d: {**d, "q": [{"id": 9, "t": {"e": 1}}]}, "Queue entry 9: Stored track"),
            (lambda d: {**d, "x": 0}, "next entry id"),
            (lambda d: {**d, "at": "now"}, "taken_at must be a number"),
            (lambda d: {**d, "at": float("inf")}, "taken_at must be a finite"),
            (lambda d: {**d, "p": []}, "player state must be a JSON object"),
            (
                lambda d: {**d, "p": {**d["p"], "loop": "x"}},
                "'loop' must be one of off, track, queue",
            ),
            (lambda d: {**d, "p": {**d["p"], "vol": 201}}, "volume must be a whole number"),
            (lambda d: {**d, "p": {**d["p"], "pause": 1}}, "'paused' must be true or false"),
            (lambda d: {**d, "p": {**d["p"], "vc": 0}}, "voice_channel_id"),
            (lambda d: {**d, "p": {**d["p"], "node": ""}}, "node must be a non-empty"),
            (lambda d: {**d, "p": {**d["p"], "reg": "mars"}}, "region must be one of"),
            (lambda d: {**d, "p": {**d["p"], "f": []}}, "'filters' must be a JSON object"),
            (lambda d: {**d, "p": {**d["p"], "f": {"a": {1: 2}}}}, "non-string key"),
            (lambda d: {**d, "p": {**d["p"], "f": {"a": float("nan")}}}, "non-finite"),
            (lambda d: {**d, "p": {**d["p"], "f": {"a": {1}}}}, "holds a set"),
        ],
    )
    def test_from_json_rejects(self, mutate: Any, message: str) -> None:
        data = _snapshot_queue().snapshot(PLAYER, now=1.0).to_json()
        with pytest.raises(InvalidSnapshot, match=message):
            QueueSnapshot.from_json(mutate(data))

    def test_deep_filters_rejected(self) -> None:
        deep: Any = 1
        for _ in range(40):
            deep = [deep]
        with pytest.raises(InvalidSnapshot, match="nested too deeply"):
            PlayerState(filters={"x": deep})

    def test_restore_rejects_inconsistent_snapshots(self) -> None:
        snapshot = _snapshot_queue().snapshot(PLAYER, now=1.0)
        twice = attrs.evolve(snapshot, entries=snapshot.entries + snapshot.entries[:1])
        with pytest.raises(InvalidSnapshot, match="same entry id twice"):
            GuildQueue.restore(twice)
        assert snapshot.current is not None
        playing_twice = attrs.evolve(snapshot, entries=(snapshot.current, *snapshot.entries))
        with pytest.raises(InvalidSnapshot, match="same entry id twice"):
            GuildQueue.restore(playing_twice)
        with pytest.raises(InvalidSnapshot, match="next entry id"):
            GuildQueue.restore(attrs.evolve(snapshot, next_entry_id=2))
        with pytest.raises(InvalidSnapshot, match="needs a QueueSnapshot"):
            GuildQueue.restore({})  # type: ignore[arg-type]

    def test_snapshot_rejects_bad_arguments(self) -> None:
        queue = _snapshot_queue()
        with pytest.raises(InvalidInput, match="needs a PlayerState"):
            queue.snapshot({}, now=1.0)  # type: ignore[arg-type]
        with pytest.raises(InvalidSnapshot, match="Snapshot time must be a finite"):
            queue.snapshot(PLAYER, now=-1.0)

    def test_player_state_rejects_bad_loop(self) -> None:
        with pytest.raises(InvalidSnapshot, match="loop must be a LoopMode"):
            PlayerState(loop="off")  # type: ignore[arg-type]

    def test_entry_ids_run_out_cleanly(self) -> None:
        snapshot = GuildQueue(GUILD).snapshot(PLAYER, now=1.0)
        queue = GuildQueue.restore(attrs.evolve(snapshot, next_entry_id=MAX_ENTRY_ID))
        assert queue.add(make_track(1)).entry_id == MAX_ENTRY_ID
        with pytest.raises(LimitExceeded, match="all 4294967295 entry ids"):
            queue.add(make_track(2))
        with pytest.raises(LimitExceeded, match="entry ids"):
            queue.add_many([make_track(2)])
        assert [e.entry_id for e in queue] == [MAX_ENTRY_ID]
        data = queue.snapshot(PLAYER, now=1.0).to_json()
        data["q"][0]["id"] = MAX_ENTRY_ID + 1
        with pytest.raises(InvalidSnapshot, match="entry id must be in 1-4294967295"):
            QueueSnapshot.from_json(data)

    def test_errors_are_vectobeat_errors(self) -> None:
        assert issubclass(InvalidSnapshot, VectoBeatError)
        assert issubclass(QueueFull, VectoBeatError)


class TestBlockList:
    """The block list behind the queue against a plain list, with tiny blocks."""

    @given(
        ops=st.lists(
            st.tuples(
                st.sampled_from(["append", "insert", "pop", "popleft", "find"]),
                st.integers(0, 10**6),
            ),
            max_size=300,
        )
    )
    @pytest.mark.parametrize("scan", [0, 2, 1000], ids=["tree", "both", "count"])
    def test_agrees_with_a_list(self, scan: int, ops: list[tuple[str, int]]) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("vectobeat_core._blocklist._LOAD", 4)
            patch.setattr("vectobeat_core._blocklist._COMPACT", 3)
            patch.setattr("vectobeat_core._blocklist._SCAN", scan)
            items = BlockList()
            model: list[int] = []
            track = make_track(1)
            next_id = 1
            for op, number in ops:
                if op == "append" or (op != "insert" and not model):
                    items.append(next_id, track)
                    model.append(next_id)
                    next_id += 1
                elif op == "insert":
                    index = number % (len(model) + 1)
                    items.insert(index, next_id, track)
                    model.insert(index, next_id)
                    next_id += 1
                elif op == "pop":
                    index = number % len(model)
                    assert items.pop(index)[0] == model.pop(index)
                elif op == "popleft":
                    assert items.popleft()[0] == model.pop(0)
                else:
                    wanted = model[number % len(model)] if number % 3 else next_id + number
                    expect = model.index(wanted) if wanted in model else None
                    assert items.find(wanted) == expect
                assert items.size == len(model)
                assert [entry_id for entry_id, _ in items] == model == items.all_ids()
                if items.full:
                    assert all(len(block) == items.load for block in items.tracks[1:-1])
                if model:
                    at = number % len(model)
                    block, offset = items.locate(at)
                    assert items.ids[block][offset] == model[at]
                    assert list(items.slice(at, len(model))[0]) == model[at:]
                    stop = min(len(model), at + 2)
                    assert list(items.slice(at, stop)[0]) == model[at:stop]

    def test_compacts_before_splitting_or_merging_into_the_first_block(self) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("vectobeat_core._blocklist._LOAD", 4)
            items = BlockList()
            track = make_track(1)
            items.reset(range(1, 13), [track] * 12)  # blocks of 4, 4, 4
            items.popleft()
            assert items.head == 1
            items.pop(3)  # the middle block shrinks to 3, then 0 < 4 // 4 is not reached
            for _ in range(3):
                items.pop(3)  # the middle block empties and merges into the (compacted) first
            assert items.head == 0
            assert items.all_ids() == [2, 3, 4, 9, 10, 11, 12]
            items.popleft()
            for n in range(6):
                items.insert(1, 100 + n, track)  # the first block outgrows 8 and splits
            assert items.head == 0
            assert items.all_ids() == [3, 105, 104, 103, 102, 101, 100, 4, 9, 10, 11, 12]

    def test_merge_that_overflows_splits_and_last_block_drops(self) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("vectobeat_core._blocklist._LOAD", 8)
            patch.setattr("vectobeat_core._blocklist._SCAN", 0)  # the tree is kept throughout
            items = BlockList()
            track = make_track(1)
            items.reset(range(1, 33), [track] * 32)  # blocks of 8
            for n in range(8):
                items.insert(8, 100 + n, track)  # the second block grows to 16
            expected = items.all_ids()
            for _ in range(7):
                assert items.pop(24)[0] == expected.pop(24)  # the third block shrinks to 1 ...
            assert [len(block) for block in items.tracks] == [8, 8, 9, 8]  # ... merges, splits
            assert items.all_ids() == expected
            items.reset(range(1, 18), [track] * 17)  # blocks of 8, 8 and 1
            assert items.pop(16) == (17, track)
            assert [len(block) for block in items.tracks] == [8, 8]
            assert items.tree and sum(items.tree) == 0  # the second block left the tree
            block, offset = items.locate(12)
            assert items.ids[block][offset] == 13
            assert (items.find(13), items.find(3), items.find(17)) == (12, 2, None)

    def test_full_middle_blocks_are_found_by_arithmetic_until_one_changes(self) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("vectobeat_core._blocklist._LOAD", 4)
            items = BlockList()
            track = make_track(1)
            for entry_id in range(1, 15):
                items.append(entry_id, track)  # blocks of 4, 4, 4, 2
            items.popleft()
            assert bool(items.full)  # bool(): mypy would keep the narrowing past the inserts
            assert [items.locate(index) for index in (2, 3, 6, 7, 10)] == [
                (0, 3),
                (1, 0),
                (1, 3),
                (2, 0),
                (2, 3),
            ]
            items.insert(12, 99, track)  # the last block grows to 3 ...
            items.insert(12, 98, track)
            items.insert(12, 97, track)  # ... and to 5, past the load
            items.append(100, track)  # a new last block: the old one (5) is a middle block now
            assert not items.full
            assert items.all_ids()[12:] == [97, 98, 99, 14, 100]
            block, offset = items.locate(13)
            assert items.ids[block][offset] == 98
            items.reset(range(1, 13), [track] * 12)
            assert bool(items.full)
            items.pop(5)  # a middle removal
            assert not items.full
            block, offset = items.locate(5)
            assert items.ids[block][offset] == 7
            assert [items.popleft()[0] for _ in range(4)] == [1, 2, 3, 4]  # the first block ...
            assert [len(block) for block in items.tracks] == [3, 4]  # ... is dropped: a rebuild
            assert items.full

    def test_appends_grow_the_tree_and_front_takes_compact(self) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("vectobeat_core._blocklist._LOAD", 4)
            patch.setattr("vectobeat_core._blocklist._COMPACT", 3)
            patch.setattr("vectobeat_core._blocklist._SCAN", 2)
            items = BlockList()
            track = make_track(1)
            for entry_id in range(1, 21):
                items.append(entry_id, track)  # blocks of 4: past 2 middle blocks, a tree
                assert bool(items.tree) == (len(items.tracks) - 2 > 2)
            assert [len(block) for block in items.tracks] == [4] * 5
            assert [items.popleft()[0] for _ in range(3)] == [1, 2, 3]
            assert (items.head, items.tracks[0]) == (0, [track])  # cut off at 3
            ids, tracks = items.slice(2, 15)  # across four blocks
            assert list(ids) == list(range(6, 19))
            assert len(tracks) == 13
            for index in range(items.size):
                block, offset = items.locate(index)
                assert items.ids[block][offset] == index + 4

    def test_loop_queue_sends_a_stream_back(self) -> None:
        queue = GuildQueue(GUILD)
        queue.set_loop(LoopMode.QUEUE)
        queue.add(make_track(1, stream=True))
        assert queue.next() is not None
        assert queue.next() is not None
        assert queue.total_duration() == 0

    def test_values_are_equal_hashable_and_read_only(self) -> None:
        queue = filled(3)
        page = queue.page(1, per_page=2)
        entries = (QueueEntry(EntryId(1), make_track(1)), QueueEntry(EntryId(2), make_track(2)))
        ids, tracks = (EntryId(1), EntryId(2)), (make_track(1), make_track(2))
        assert (page.items, page.entry_ids, page.tracks) == (entries, ids, tracks)
        assert page == QueuePage(ids, tracks, page=1, pages=2, per_page=2, total=3, start=1)
        assert page != QueuePage(ids, tracks, page=1, pages=2, per_page=2, total=4, start=1)
        assert (page.per_page, page != (entries, 1, 2, 2, 3, 1)) == (2, True)
        same = QueuePage(ids, tracks, page=1, pages=2, per_page=2, total=3, start=1)
        assert hash(page) == hash(same)
        assert hash(page.items[0]) == hash(entries[0])
        assert entries[0] != QueueEntry(EntryId(1), make_track(2)) and entries[0] != (1, None)
        assert repr(entries[0]).startswith("QueueEntry(entry_id=1, track=Track(")
        assert repr(page).startswith("QueuePage(entry_ids=(1, 2), tracks=(Track(")
        with pytest.raises(InvalidInput, match="one entry id per track, got 1 ids for 2 tracks"):
            QueuePage(ids[:1], tracks, page=1, pages=1, per_page=2, total=2, start=1)
        with pytest.raises(AttributeError):
            page.items[0].entry_id = EntryId(9)  # type: ignore[misc]
        with pytest.raises(AttributeError):
            page.total = 9  # type: ignore[misc]
