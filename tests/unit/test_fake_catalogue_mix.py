"""The fake node's catalogue serves YouTube mixes the way YouTube does (what autoplay loads)."""

from __future__ import annotations

from typing import Any

from vectobeat_core.autoplay import related_identifier
from vectobeat_testkit.lavalink.catalogue import MIX_SIZE, Catalogue


def titles(result: dict[str, Any]) -> list[str]:
    return [t["info"]["title"] for t in result["data"]["tracks"]]


def test_a_mix_is_the_seed_then_the_same_author_then_others_after_it() -> None:
    catalogue = Catalogue()
    a1 = catalogue.add("A1", "A", 1000)
    catalogue.add("B1", "B", 1000)
    catalogue.add("A2", "A", 1000)
    catalogue.add("S1", "A", 1000, source="soundcloud")
    catalogue.add("A0", "A", 1000)
    result = catalogue.load(related_identifier(a1.as_track()))
    assert result["loadType"] == "playlist"
    assert titles(result) == ["A1", "A2", "A0", "B1"]
    assert result["data"]["info"] == {"name": "Mix - A1", "selectedTrack": 0}


def test_a_mix_holds_at_most_mix_size_tracks() -> None:
    catalogue = Catalogue()
    seed = catalogue.add("Seed", "A", 1000)
    for i in range(MIX_SIZE + 5):
        catalogue.add(f"T{i}", "A", 1000)
    assert len(titles(catalogue.load(related_identifier(seed.as_track())))) == MIX_SIZE


def test_unknown_or_mismatched_mixes_load_empty() -> None:
    catalogue = Catalogue()
    seed = catalogue.add("Seed", "A", 1000, identifier="abc")
    other = catalogue.add("Other", "A", 1000, identifier="xyz", source="soundcloud")
    base = "https://www.youtube.com/watch?v="
    for identifier in (
        f"{base}nope&list=RDnope",  # not in the catalogue
        f"{base}abc&list=RDxyz",  # not the seed's own mix
        f"{base}xyz&list=RDxyz",  # not a YouTube track
    ):
        assert catalogue.load(identifier)["loadType"] == "empty", identifier
    assert seed.source == "youtube" and other.source == "soundcloud"
