"""Queue benchmark: GuildQueue against pomice.Queue (2.11) and wavelink.Queue (3.5).

Every library runs the same workloads in the same process at 1k, 10k and 100k queued tracks:
append, next, remove at random positions, move, jump, shuffle, lookup by position and a mixed
workload shaped like a music bot's (`MIX`: mostly append and next, page views, occasional
play-at / remove / move / jump / lookup at random positions; one plan replayed on every library).
Peer operations a library lacks are emulated with its public API (noted in the table).
Memory per queued track is measured with tracemalloc against pomice's Track. The last line printed
is one JSON object with every figure and ratio.

Timings are process CPU time with the garbage collector paused (as ``timeit`` does): best of three
runs (the mixed workload on a freshly filled queue each time; one run for the workloads that
consume the queue), over `ROUNDS` rounds in which the libraries take turns; the same for every
library.

Run: ``python bench/queue_bench.py`` (``--quick``: 1k only; ``--sizes 10000,100000``;
``--ops mixed,move``).
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import pomice
import wavelink

import vectobeat_core.queue
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import GuildQueue
from vectobeat_core.tracks import Track, encode_track

SIZES = (1_000, 10_000, 100_000)
ROUNDS = 3
"""Every workload runs this many rounds, each library once per round in turn; the best counts."""
OPS = ("append", "next", "remove", "move", "jump", "shuffle", "lookup", "mixed")
EMULATED = {
    "pomice": {
        "remove": "del q[i] (Queue.remove(track) is an O(n) search by equality)",
        "move": "t = q[i]; del q[i]; q.put_at_index(j, t)",
        "jump": "t = q[i]; del q[i] (Queue.jump(track) searches by equality and drops the head)",
        "lookup": "q[i]",
        "page": "q.get_queue()[start:start + 10] (Queue.__getitem__ takes no slices)",
    },
    "wavelink": {
        "move": "t = q.get_at(i); q.put_at(j, t)",
        "jump": "q.get_at(i)",
        "lookup": "q[i]",
        "page": "q[start:start + 10]",
    },
}


def payload(i: int) -> dict[str, Any]:
    """A Lavalink v4 track object with a real version-3 encoding."""
    ident = f"v{i:010d}"
    track = Track(
        encoded="",
        title=f"Artist {i % 97} - Song number {i}",
        author=f"Artist {i % 97}",
        length=180_000 + i % 120_000,
        identifier=ident,
        is_stream=False,
        is_seekable=True,
        uri=f"https://www.youtube.com/watch?v={ident}",
        artwork_url=f"https://i.ytimg.com/vi/{ident}/maxresdefault.jpg",
        isrc=None,
        source="youtube",
    )
    info = track.to_lavalink()
    info["encoded"] = encode_track(track)
    return info


class Adapter(Protocol):
    name: str

    def make(self, data: dict[str, Any]) -> object: ...
    def new(self) -> object: ...
    def append(self, q: Any, t: Any) -> None: ...
    def insert(self, q: Any, i: int, t: Any) -> None: ...
    def next(self, q: Any) -> None: ...
    def remove(self, q: Any, i: int) -> None: ...
    def move(self, q: Any, i: int, j: int) -> None: ...
    def jump(self, q: Any, i: int) -> None: ...
    def shuffle(self, q: Any, seed: int) -> None: ...
    def lookup(self, q: Any, i: int) -> object: ...
    def page(self, q: Any, i: int, per_page: int) -> list[str]: ...
    def size(self, q: Any) -> int: ...


class Ours:
    """GuildQueue; positions are 1-based."""

    name = "GuildQueue"

    def make(self, data: dict[str, Any]) -> object:
        return Track.from_lavalink(data)

    def new(self) -> object:
        return GuildQueue(GuildId(1))

    def append(self, q: GuildQueue, t: Track) -> None:
        q.add(t)

    def insert(self, q: GuildQueue, i: int, t: Track) -> None:
        q.add(t, i + 1)

    def next(self, q: GuildQueue) -> None:
        q.next()

    def remove(self, q: GuildQueue, i: int) -> None:
        q.remove(i + 1)

    def move(self, q: GuildQueue, i: int, j: int) -> None:
        q.move(i + 1, j + 1)

    def jump(self, q: GuildQueue, i: int) -> None:
        q.jump(i + 1)

    def shuffle(self, q: GuildQueue, seed: int) -> None:
        q.shuffle(seed)

    def lookup(self, q: GuildQueue, i: int) -> object:
        return q.at(i + 1)

    def page(self, q: GuildQueue, i: int, per_page: int) -> list[str]:
        return [track.title for track in q.page(i // per_page + 1, per_page).tracks]

    def size(self, q: GuildQueue) -> int:
        return len(q)


class Pomice:
    name = "pomice"

    def make(self, data: dict[str, Any]) -> object:
        return pomice.Track(
            track_id=data["encoded"], info=data["info"], track_type=pomice.TrackType.YOUTUBE
        )

    def new(self) -> object:
        return pomice.Queue()

    def append(self, q: Any, t: Any) -> None:
        q.put(t)

    def insert(self, q: Any, i: int, t: Any) -> None:
        q.put_at_index(i, t)

    def next(self, q: Any) -> None:
        q.get()

    def remove(self, q: Any, i: int) -> None:
        del q[i]

    def move(self, q: Any, i: int, j: int) -> None:
        t = q[i]
        del q[i]
        q.put_at_index(j, t)

    def jump(self, q: Any, i: int) -> None:
        del q[i]

    def shuffle(self, q: Any, seed: int) -> None:
        q.shuffle()

    def lookup(self, q: Any, i: int) -> object:
        return q[i]

    def page(self, q: Any, i: int, per_page: int) -> list[str]:
        start = i // per_page * per_page
        return [t.title for t in q.get_queue()[start : start + per_page]]

    def size(self, q: Any) -> int:
        return len(q)


class Wavelink:
    name = "wavelink"

    def make(self, data: dict[str, Any]) -> object:
        return wavelink.Playable(cast(Any, data))

    def new(self) -> object:
        return wavelink.Queue()

    def append(self, q: Any, t: Any) -> None:
        q.put(t)

    def insert(self, q: Any, i: int, t: Any) -> None:
        q.put_at(i, t)

    def next(self, q: Any) -> None:
        q.get()

    def remove(self, q: Any, i: int) -> None:
        q.delete(i)

    def move(self, q: Any, i: int, j: int) -> None:
        q.put_at(j, q.get_at(i))

    def jump(self, q: Any, i: int) -> None:
        q.get_at(i)

    def shuffle(self, q: Any, seed: int) -> None:
        q.shuffle()

    def lookup(self, q: Any, i: int) -> object:
        return q[i]

    def page(self, q: Any, i: int, per_page: int) -> list[str]:
        start = i // per_page * per_page
        return [t.title for t in q[start : start + per_page]]

    def size(self, q: Any) -> int:
        return len(q)


def filled(lib: Adapter, tracks: Sequence[object], size: int) -> Any:
    q = lib.new()
    for t in tracks[:size]:
        lib.append(q, t)
    return q


def per_op(
    fn: Callable[[], None], ops: int, repeat: int = 3, setup: Callable[[], None] | None = None
) -> float:
    """Best-of-``repeat`` seconds per operation; ``setup`` (untimed) runs before each run."""
    times: list[float] = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        gc.collect()
        gc.disable()  # as timeit does: the same for every library
        try:
            start = time.process_time()  # CPU time: less disturbed by other busy processes
            fn()
            times.append((time.process_time() - start) / ops)
        finally:
            gc.enable()
    return min(times)


def run_op(lib: Adapter, op: str, tracks: Sequence[object], size: int, ops: int) -> float:
    rnd = random.Random(size * 31 + len(op))
    spare = tracks[size : size + ops] if len(tracks) >= size + ops else tracks[:ops]
    if op == "append":

        def body() -> None:
            q = lib.new()
            for t in tracks[:size]:
                lib.append(q, t)

        return per_op(body, size)
    q = filled(lib, tracks, size)
    if op == "next":
        # the queue loses one entry per call; refill after each run keeps the size near ``size``
        def nxt() -> None:
            for _ in range(ops):
                lib.next(q)

        return per_op(nxt, ops, repeat=1)
    if op == "remove":
        idx = [rnd.randrange(size - k) for k in range(ops)]

        def rem() -> None:
            for i in idx:
                lib.remove(q, i)

        return per_op(rem, ops, repeat=1)
    if op == "move":
        pairs = [(rnd.randrange(size), rnd.randrange(size)) for _ in range(ops)]

        def mov() -> None:
            for i, j in pairs:
                lib.move(q, i, j)

        return per_op(mov, ops)
    if op == "jump":
        idx = [rnd.randrange(size - k) for k in range(ops)]

        def jmp() -> None:
            for i in idx:
                lib.jump(q, i)

        return per_op(jmp, ops, repeat=1)
    if op == "shuffle":

        def shf() -> None:
            for seed in range(ops):
                lib.shuffle(q, seed)

        return per_op(shf, ops)
    if op == "lookup":
        idx = [rnd.randrange(size) for _ in range(ops)]

        def look() -> None:
            for i in idx:
                lib.lookup(q, i)

        return per_op(look, ops)
    # mixed: what a music bot's queue sees (the same plan for every library). Mostly /play
    # (append) and tracks ending (next), with /queue page views (each title read, as a bot
    # renders them) and occasional play-at, remove, move, jump and lookup at random positions.
    plan: list[tuple[int, int, int]] = []
    length = size
    for k in range(ops):
        roll = rnd.random()
        if roll < MIX_CUTS[0]:
            plan.append((0, 0, k))
            length += 1
        elif roll < MIX_CUTS[1]:
            plan.append((2, 0, 0))
            length -= 1
        elif roll < MIX_CUTS[2]:
            plan.append((6, rnd.randrange(max(1, length)), 0))
        elif roll < MIX_CUTS[3]:
            plan.append((3, rnd.randrange(length), 0))
            length -= 1
        elif roll < MIX_CUTS[4]:
            plan.append((4, rnd.randrange(length), rnd.randrange(length)))
        elif roll < MIX_CUTS[5]:
            plan.append((1, rnd.randrange(length + 1), k))
            length += 1
        elif roll < MIX_CUTS[6]:
            plan.append((7, rnd.randrange(length), 0))
            length -= 1
        else:
            plan.append((5, rnd.randrange(length), 0))

    state = [q]

    def refill() -> None:
        state[0] = filled(lib, tracks, size)

    def mixed() -> None:
        q = state[0]
        for kind, a, b in plan:
            if kind == 0:
                lib.append(q, spare[b % len(spare)])
            elif kind == 2:
                lib.next(q)
            elif kind == 6:
                lib.page(q, a, 10)
            elif kind == 3:
                lib.remove(q, a)
            elif kind == 4:
                lib.move(q, a, b)
            elif kind == 1:
                lib.insert(q, a, spare[b % len(spare)])
            elif kind == 7:
                lib.jump(q, a)
            else:
                lib.lookup(q, a)

    return per_op(mixed, ops, setup=refill)


MIX = {
    "append": 0.36,
    "next": 0.27,
    "page": 0.10,
    "remove": 0.08,
    "move": 0.07,
    "insert": 0.05,
    "jump": 0.03,
    "lookup": 0.04,
}
"""Shares of the mixed workload (in this order); adds and removals nearly balance."""
MIX_CUTS = [sum(list(MIX.values())[: k + 1]) for k in range(len(MIX))]


def ops_for(op: str, size: int) -> int:
    if op == "append":
        return size
    if op == "shuffle":
        return 20 if size <= 10_000 else 3
    if op in ("next", "remove", "jump"):
        return min(size // 2, 5_000)
    if op == "mixed":
        return 20_000 if size <= 10_000 else 10_000
    return 5_000


def memory_per_track(
    lib: Adapter, payloads: Sequence[dict[str, Any]], raw: Sequence[str]
) -> dict[str, float]:
    """Bytes per queued track: (a) objects only, input dicts kept alive elsewhere;
    (b) retained when each track is parsed from its JSON text and the parsed dict dropped."""
    count = len(payloads)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    q = lib.new()
    for data in payloads:
        lib.append(q, lib.make(data))
    gc.collect()
    objects = (tracemalloc.get_traced_memory()[0] - before) / count
    del q
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    q = lib.new()
    for text in raw:
        lib.append(q, lib.make(json.loads(text)))
    gc.collect()
    retained = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    del q
    return {"objects": round(objects, 1), "from_json": round(retained, 1)}


def main() -> None:
    sizes: tuple[int, ...] = SIZES[:1] if "--quick" in sys.argv else SIZES
    if "--sizes" in sys.argv:
        sizes = tuple(int(n) for n in sys.argv[sys.argv.index("--sizes") + 1].split(","))
    ops_wanted: tuple[str, ...] = OPS
    if "--ops" in sys.argv:
        ops_wanted = tuple(sys.argv[sys.argv.index("--ops") + 1].split(","))
    libs: list[Adapter] = [Ours(), Pomice(), Wavelink()]
    biggest = max(sizes)
    payloads = [payload(i) for i in range(biggest + 5_000)]
    made = {lib.name: [lib.make(p) for p in payloads] for lib in libs}
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for size in sizes:
        for op in ops_wanted:
            ops = ops_for(op, size)
            row = results.setdefault(f"{op}@{size}", {})
            for turn in range(ROUNDS):  # libraries take turns, so a busy spell hits them alike
                for lib in libs[turn % len(libs) :] + libs[: turn % len(libs)]:
                    took = run_op(lib, op, made[lib.name], size, ops)
                    row[lib.name] = min(row.get(lib.name, took), took)
    elapsed = time.perf_counter() - started

    mem_n = 20_000
    raw = [json.dumps(p) for p in payloads[:mem_n]]
    memory = {lib.name: memory_per_track(lib, payloads[:mem_n], raw) for lib in libs}

    compiled = not vectobeat_core.queue.__file__.endswith(".py")
    build = "compiled with mypyc" if compiled else "interpreted (an editable or pure install)"
    print(f"GuildQueue build: {build}")
    print(f"{'workload':<18}{'GuildQueue':>14}{'pomice':>14}{'wavelink':>14}{'x best peer':>14}")
    ratios: dict[str, float] = {}
    for key, row in results.items():
        best_peer = min(row["pomice"], row["wavelink"])
        ratios[key] = round(best_peer / row["GuildQueue"], 2)
        cells = "".join(
            f"{row[name] * 1e6:>12.2f}us" for name in ("GuildQueue", "pomice", "wavelink")
        )
        print(f"{key:<18}{cells}{ratios[key]:>13.2f}x")
    print()
    growth: dict[str, float] = {}
    for op in ("remove", "move", "jump", "lookup", "next", "append"):
        if op not in ops_wanted:
            continue
        lo, hi = f"{op}@{min(sizes)}", f"{op}@{max(sizes)}"
        growth[op] = round(results[hi]["GuildQueue"] / results[lo]["GuildQueue"], 2)
    print(
        "GuildQueue per-op growth 1k -> 100k (target <= 3x): "
        + ", ".join(f"{op} {g}x" for op, g in growth.items())
    )
    lookup_floor: dict[str, float] = {}
    if "lookup" in growth:  # pomice's lookup is a plain list index: what memory alone adds
        lo, hi = f"lookup@{min(sizes)}", f"lookup@{max(sizes)}"
        lookup_floor = {
            name: round(results[hi][name] / results[lo][name], 2) for name in ("pomice", "wavelink")
        }
        print(
            "  the peers' lookup (a list index) grew "
            + ", ".join(f"{name} {g}x" for name, g in lookup_floor.items())
        )
    print(f"memory per queued track over {mem_n} tracks (bytes):")
    for name, figures in memory.items():
        print(
            f"  {name:<12} objects only {figures['objects']:>8.1f}   parsed from JSON {figures['from_json']:>8.1f}"
        )
    mem_ratio = {
        kind: round(memory["GuildQueue"][kind] / memory["pomice"][kind], 3)
        for kind in ("objects", "from_json")
    }
    print(
        f"  GuildQueue / pomice: objects {mem_ratio['objects']}, from JSON {mem_ratio['from_json']} (target <= 0.5)"
    )
    print("mixed workload: " + ", ".join(f"{op} {share:.0%}" for op, share in MIX.items()))
    print("emulated peer operations:")
    for peer, notes in EMULATED.items():
        for op, how in notes.items():
            print(f"  {peer}.{op}: {how}")
    print(f"timed section took {elapsed:.1f}s")
    mixed = {str(size): ratios.get(f"mixed@{size}", 0.0) for size in sizes}
    summary = {
        "guildqueue_compiled": compiled,
        "per_op_seconds": results,
        "speedup_vs_best_peer": ratios,
        "guildqueue_growth_1k_to_max": growth,
        "peer_lookup_growth_1k_to_max": lookup_floor,
        "memory_bytes_per_track": memory,
        "memory_ratio_vs_pomice": mem_ratio,
        "mixed_speedup": mixed,
        "targets": {
            "mixed_10k_ge_2x": mixed.get("10000", 0.0) >= 2,
            "mixed_100k_ge_5x": mixed.get("100000", 0.0) >= 5,
            "growth_le_3x": all(
                g <= 3 for op, g in growth.items() if op in ("remove", "move", "jump", "lookup")
            ),
            "memory_le_half": mem_ratio["objects"] <= 0.5,
        },
        "emulated": EMULATED,
        "mix": MIX,
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
