"""``lease_shard_ids``: which shards a bot process claims, and the settings it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from vectobeat_adapters.config import AppConfig, load_config
from vectobeat_bot.shard_leases import lease_shard_ids
from vectobeat_core.errors import ConfigError

REDIS = {"REDIS_URL": "redis://127.0.0.1:6379/0"}


def config(tmp_path: Path, **values: str) -> AppConfig:
    return load_config({}, dotenv=tmp_path / "none.env", overrides=values)


def test_without_shard_settings_there_are_no_leases(tmp_path: Path) -> None:
    assert lease_shard_ids(config(tmp_path, **REDIS, SHARD_COUNT="4")) is None


def test_shard_ids_are_parsed_sorted_and_deduplicated(tmp_path: Path) -> None:
    got = lease_shard_ids(config(tmp_path, **REDIS, SHARD_COUNT="4", SHARD_IDS=" 3, 1,1 ,"))
    assert got == [1, 3]


def test_a_spare_starts_with_no_shard(tmp_path: Path) -> None:
    found = config(tmp_path, **REDIS, SHARD_COUNT="2", SHARD_SPARE="true", SHARD_STALE_AFTER="5")
    assert found.shard_spare is True and found.shard_stale_after == 5.0
    assert found.shard_spare_max is None
    assert lease_shard_ids(found) == []
    capped = config(tmp_path, **REDIS, SHARD_COUNT="8", SHARD_SPARE="true", SHARD_SPARE_MAX="2")
    assert capped.shard_spare_max == 2 and lease_shard_ids(capped) == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_COUNT"),
        ({"SHARD_IDS": "0", "SHARD_COUNT": "2", "REDIS_URL": ""}, "REDIS_URL"),
        ({**REDIS, "SHARD_IDS": "2", "SHARD_COUNT": "2"}, "outside 0..1"),
        ({**REDIS, "SHARD_IDS": "one", "SHARD_COUNT": "2"}, "shard numbers"),
        ({**REDIS, "SHARD_IDS": ",", "SHARD_COUNT": "2"}, "names no shard"),
        (
            {**REDIS, "SHARD_SPARE": "true", "SHARD_COUNT": "2", "SHARD_SPARE_MAX": "0"},
            "at least 1",
        ),
    ],
)
def test_bad_shard_settings_are_refused(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        lease_shard_ids(config(tmp_path, **{"REDIS_URL": "redis://x:1/0", **values}))
