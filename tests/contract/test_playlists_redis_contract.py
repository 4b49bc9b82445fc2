"""The shared PlaylistStore contract (tests/contract/test_playlists_contract.py), run on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest

from tests.contract.conftest import Stores, memory_stores
from tests.contract.test_playlists_contract import *  # noqa: F403 - the same tests, another backend
from tests.redis_support import redis_namespace
from vectobeat_adapters.redis.playlists import RedisPlaylistStore


@pytest.fixture
async def stores() -> AsyncIterator[Stores]:
    """Overrides the SQL-side fixture: only ``playlists`` is used by this suite."""
    async with redis_namespace() as (conn, keys):
        yield attrs.evolve(
            memory_stores(), backend="redis", playlists=RedisPlaylistStore(conn, keys)
        )
