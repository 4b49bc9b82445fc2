"""``REDIS_URL``'s grammar: plain URLs and Redis Sentinel URLs, and the configuration check."""

from __future__ import annotations

import pytest

from vectobeat_adapters.config import rules
from vectobeat_adapters.redis_url import describe_url, parse_redis_url
from vectobeat_core.errors import ConfigError


def _unset(_: str) -> str | None:
    return None


def test_a_plain_url_names_one_server_without_its_password() -> None:
    target = parse_redis_url("redis://:pa%40ss@cache.internal:6380/2")
    assert target.where == "cache.internal:6380/2"
    assert target.password == "pa@ss"
    assert not target.is_sentinel
    assert describe_url("unix:///run/redis.sock") == "unix:/run/redis.sock"


def test_a_sentinel_url_names_its_sentinels_service_and_db() -> None:
    target = parse_redis_url(
        "redis+sentinel://app:pw@s1:26380,s2,[::1]:26381/mymaster/3?sentinel_password=spw"
    )
    assert target.sentinels == (("s1", 26380), ("s2", 26379), ("::1", 26381))
    assert (target.service, target.db) == ("mymaster", 3)
    assert (target.username, target.password, target.sentinel_password) == ("app", "pw", "spw")
    assert target.where == "sentinel s1:26380,s2:26379,::1:26381/mymaster/3"
    assert "pw" not in target.where
    assert not target.tls
    assert parse_redis_url("rediss+sentinel://s1/m").tls
    assert parse_redis_url("rediss+sentinel://s1/m").db == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://cache:6379", "must start with redis://"),
        ("redis+sentinel://s1:26379", "names no primary service"),
        ("redis+sentinel://s1:26379/m/x", "is not a number"),
        ("redis+sentinel://s1:26379/m/0/extra", "names no primary service"),
        ("redis+sentinel://s1:nope/m", "has no valid port"),
        ("redis+sentinel://s1:70000/m", "has no valid port"),
        ("redis+sentinel://s1,,s2/m", "lists an empty sentinel"),
        ("redis+sentinel://s1/m?ssl=true", "unknown option(s) ssl"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_redis_url(url)
    assert message in caught.value.message


def test_the_configuration_check_accepts_sentinel_urls_and_explains_bad_ones() -> None:
    assert rules.redis_url("redis+sentinel://s1:26379,s2:26379/mymaster/0", _unset) is None
    assert rules.redis_url("redis://cache:6379/0", _unset) is None
    bad = rules.redis_url("redis+sentinel://s1:26379", _unset)
    assert bad is not None
    assert "names no primary service" in bad.message
    assert "redis+sentinel://" in bad.fix
    plain = rules.redis_url("http://cache:6379", _unset)
    assert plain is not None
    assert "redis+sentinel://" in plain.message
