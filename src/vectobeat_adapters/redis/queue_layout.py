"""How one queue snapshot is laid out in Redis: a small meta document plus a hash of entries.

``meta`` is the snapshot's own JSON (``QueueSnapshot.to_json``) with the entry lists (and the order
before the last shuffle, ``"u"``) replaced by compact id strings (``"1-40,42,45-50"``: runs of
consecutive ids collapse) and the current entry by its id, plus ``"L"`` (this layout's version) and ``"w"`` (the tag of the write that produced it).
The entries hash maps each entry id (decimal) to its track JSON, once even when an id appears in
several lists. A snapshot whose lists disagree about an id's track is stored inline (lists kept).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

import attrs

from vectobeat_core.errors import InvalidSnapshot, InvalidTrack
from vectobeat_core.ids import EntryId
from vectobeat_core.queue import QueueEntry, QueueSnapshot
from vectobeat_core.tracks import Track

__all__ = ["LAYOUT", "Layout", "dumps", "join_snapshot", "pack_ids", "split_snapshot", "unpack_ids"]

LAYOUT = 1
_LISTS = ("q", "h")
MAX_UNSHUFFLED = 1_000_000
"""Most ids a stored pre-shuffle order may unpack to (ten times the largest queue limit)."""


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def pack_ids(ids: Iterable[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3,5"`` (only ascending runs collapse; order is kept)."""
    parts: list[str] = []
    start = prev = None
    for value in ids:
        if prev is not None and value == prev + 1:
            prev = value
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = value
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def unpack_ids(text: str, limit: int, where: str) -> list[int]:
    """Inverse of `pack_ids`; refuses more than ``limit`` ids so a foreign value cannot balloon."""
    out: list[int] = []
    if not text:
        return out
    try:
        for part in text.split(","):
            low, sep, high = part.partition("-")
            first = int(low)
            last = int(high) if sep else first
            if last < first or len(out) + (last - first + 1) > limit:
                raise InvalidSnapshot(
                    f"{where}: the entry order does not match the stored entries."
                )
            out.extend(range(first, last + 1))
    except ValueError:
        raise InvalidSnapshot(f"{where}: the entry order {text[:40]!r} is malformed.") from None
    return out


class Layout:
    """A snapshot split for storage: ``meta`` (without the write tag) and ``entries`` by id."""

    __slots__ = ("entries", "meta")

    def __init__(self, meta: dict[str, Any], entries: dict[int, Track]) -> None:
        self.meta = meta
        self.entries = entries


def split_snapshot(snapshot: QueueSnapshot) -> Layout:
    """Split ``snapshot``; falls back to an inline meta (empty ``entries``) if ids are ambiguous."""
    entries: dict[int, Track] = {}
    everything = [*snapshot.entries, *snapshot.history]
    if snapshot.current is not None:
        everything.append(snapshot.current)
    for entry in everything:
        seen = entries.setdefault(entry.entry_id, entry.track)
        if seen is not entry.track and seen != entry.track:
            meta = snapshot.to_json()
            meta["L"] = LAYOUT
            return Layout(meta, {})
    meta = snapshot.to_json()
    meta["q"] = pack_ids(entry.entry_id for entry in snapshot.entries)
    meta["h"] = pack_ids(entry.entry_id for entry in snapshot.history)
    meta["c"] = None if snapshot.current is None else snapshot.current.entry_id
    if snapshot.unshuffled is not None:
        meta["u"] = pack_ids(snapshot.unshuffled)
    meta["L"] = LAYOUT
    return Layout(meta, entries)


def _json(raw: bytes, problem: str) -> Any:
    """``raw`` decoded as JSON; bytes that are not JSON (or not UTF-8) raise ``InvalidSnapshot``."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSnapshot(problem) from None


def parse_meta(raw: bytes, where: str) -> dict[str, Any]:
    """Decode a stored meta document; anything foreign raises ``InvalidSnapshot`` naming ``where``."""
    meta = _json(raw, f"{where} does not hold JSON (not a VectoBeat queue snapshot).")
    if not isinstance(meta, dict):
        raise InvalidSnapshot(f"{where} does not hold a JSON object (not a VectoBeat snapshot).")
    if meta.get("L") != LAYOUT:
        raise InvalidSnapshot(
            f"{where} has storage layout {meta.get('L')!r}, expected {LAYOUT} "
            "(foreign or from another VectoBeat version)."
        )
    return meta


def join_snapshot(meta_raw: bytes, entries_raw: bytes, where: str) -> QueueSnapshot:
    """Rebuild and validate a snapshot from its meta and its entries as one JSON object
    (``{"<id>": track, ...}``, assembled by the read script); bad data raises ``InvalidSnapshot``."""
    meta = parse_meta(meta_raw, where)
    tracks = _json(entries_raw, f"{where}: its entries hash holds a value that is not JSON.")
    if not isinstance(tracks, dict):
        raise InvalidSnapshot(f"{where}: its entries hash is not a map of entries.")
    decoded: dict[int, QueueEntry] = {}

    def entry(entry_id: int) -> QueueEntry:
        found = decoded.get(entry_id)
        if found is None:
            track = tracks.get(str(entry_id))
            if track is None or entry_id < 1:
                raise InvalidSnapshot(
                    f"{where}: entry {entry_id} is missing from the entries hash."
                )
            try:
                found = QueueEntry(EntryId(entry_id), Track.from_json(track))
            except InvalidTrack as exc:
                raise InvalidSnapshot(f"{where}: queue entry {entry_id}: {exc.message}") from None
            decoded[entry_id] = found
        return found

    limit = len(tracks)
    shell = dict(meta)
    lists: dict[str, tuple[QueueEntry, ...]] = {}
    for name in _LISTS:
        value = meta.get(name)
        if isinstance(value, str):
            lists[name] = tuple(entry(i) for i in unpack_ids(value, limit, where))
            shell[name] = []
    unshuffled = meta.get("u")
    if isinstance(unshuffled, str):
        shell["u"] = unpack_ids(unshuffled, MAX_UNSHUFFLED, where)
    current = meta.get("c")
    by_id = isinstance(current, int) and not isinstance(current, bool)
    if by_id:
        shell["c"] = None
    try:
        # Validates every field except the entries, which were built (and validated) above.
        snapshot = QueueSnapshot.from_json(shell)
    except (InvalidSnapshot, InvalidTrack) as exc:
        raise InvalidSnapshot(f"{where}: {exc.message}") from None
    return attrs.evolve(
        snapshot,
        current=entry(cast("int", current)) if by_id else snapshot.current,
        entries=lists.get("q", snapshot.entries),
        history=lists.get("h", snapshot.history),
    )
