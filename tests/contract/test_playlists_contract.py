"""PlaylistStore contract: names unique per guild ignoring case (every backend)."""

from __future__ import annotations

import anyio
import attrs
import pytest

from tests.contract.conftest import Stores
from vectobeat_core.errors import Conflict, InvalidInput, NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.records import Playlist

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
OTHER = GuildId(998_877_665_544_332_211)
OWNER = UserId(111_222_333_444_555_666)
T0 = 1_700_000_000.0


def playlist(name: str, guild: GuildId = GUILD, tracks: int = 3) -> Playlist:
    return Playlist(
        guild_id=guild,
        name=name,
        owner_id=OWNER,
        tracks=tuple(f"QAAAjQIAJVJpY2sgQXN0bGV5{i:04d}" for i in range(tracks)),
        created_at=T0,
        updated_at=T0,
    )


async def test_create_get_any_case(stores: Stores) -> None:
    saved = playlist("Chill Vibes ☕")
    await stores.playlists.create(saved)
    assert await stores.playlists.get(GUILD, "Chill Vibes ☕") == saved
    assert await stores.playlists.get(GUILD, "CHILL VIBES ☕") == saved
    assert await stores.playlists.get(GUILD, "chill  vibes ☕") == saved
    assert await stores.playlists.get(OTHER, "Chill Vibes ☕") is None
    await stores.playlists.ping()


async def test_names_are_unique_per_guild_ignoring_case(stores: Stores) -> None:
    await stores.playlists.create(playlist("Road Trip"))
    with pytest.raises(Conflict, match="names ignore case"):
        await stores.playlists.create(playlist("road trip", tracks=1))
    await stores.playlists.create(playlist("ROAD TRIP", guild=OTHER))
    stored = await stores.playlists.get(GUILD, "road trip")
    assert stored is not None and len(stored.tracks) == 3


async def test_accents_and_case_are_distinct_from_other_letters(stores: Stores) -> None:
    await stores.playlists.create(playlist("Café"))
    await stores.playlists.create(playlist("Cafe"))
    names = [p.name for p in await stores.playlists.for_guild(GUILD)]
    assert sorted(names) == ["Cafe", "Café"]


async def test_replace_delete_and_listing(stores: Stores) -> None:
    await stores.playlists.create(playlist("b-side"))
    await stores.playlists.create(playlist("A-Side", tracks=1000))
    big = await stores.playlists.get(GUILD, "a-side")
    assert big is not None and len(big.tracks) == 1000

    renamed = attrs.evolve(playlist("B-SIDE", tracks=1), updated_at=T0 + 10)
    await stores.playlists.replace(renamed)
    after = await stores.playlists.get(GUILD, "b-side")
    assert after is not None
    assert (after.name, after.tracks, after.created_at, after.updated_at) == (
        "B-SIDE",
        renamed.tracks,
        T0,
        T0 + 10,
    )
    assert [p.name for p in await stores.playlists.for_guild(GUILD)] == ["A-Side", "B-SIDE"]

    with pytest.raises(NotFound):
        await stores.playlists.replace(playlist("missing"))
    assert await stores.playlists.delete(GUILD, "a-SIDE")
    assert not await stores.playlists.delete(GUILD, "a-side")
    assert [p.name for p in await stores.playlists.for_guild(GUILD)] == ["B-SIDE"]


async def test_blank_or_long_names_are_refused() -> None:
    with pytest.raises(InvalidInput):
        playlist("   ")
    with pytest.raises(InvalidInput):
        playlist("x" * 101)


async def test_concurrent_creates_of_one_name_have_one_winner(stores: Stores) -> None:
    outcomes: list[str] = []

    async def create(n: int) -> None:
        try:
            await stores.playlists.create(playlist("Party" if n % 2 else "PARTY", tracks=n))
        except Conflict:
            outcomes.append("conflict")
        else:
            outcomes.append("created")

    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(create, n)
    assert sorted(outcomes) == ["conflict"] * 19 + ["created"]
    assert len(await stores.playlists.for_guild(GUILD)) == 1
