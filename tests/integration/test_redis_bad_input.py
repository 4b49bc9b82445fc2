"""Bad input against real Redis: foreign, malformed and wrong-version snapshots, refused or lost
connections. Each gives a clear error naming what and where; nothing already stored is damaged."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import anyio
import pytest
from tests.conftest import service_url
from tests.redis_support import make_track, redis_namespace

from vectobeat_adapters.redis.connection import RedisConnection, RedisSettings, open_redis
from vectobeat_adapters.redis.keys import RedisKeys
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_adapters.redis.settings_channel import RedisSettingsChannel
from vectobeat_core.errors import ConfigError, InvalidSnapshot, StorageUnavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.ports import SettingsChange, SettingsResync
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot
from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = pytest.mark.anyio

G = GuildId(4242)


@pytest.fixture
async def redis() -> AsyncIterator[tuple[RedisConnection, RedisKeys]]:
    async with redis_namespace() as pair:
        yield pair


def snapshot(guild: int = G, size: int = 5) -> QueueSnapshot:
    queue = GuildQueue(GuildId(guild))
    queue.add_many([make_track(i) for i in range(size)])
    queue.next()
    return queue.snapshot(PlayerState(), 1_700_000_000.0)


async def dump(conn: RedisConnection, keys: RedisKeys, guild: int = G) -> tuple[object, ...]:
    client = conn.client
    meta, entries = keys.queue_meta(guild), keys.queue_entries(guild)
    kinds = (await client.type(meta), await client.type(entries))
    meta_value = await client.get(meta) if kinds[0] == b"string" else await client.dump(meta)
    entry_value = (
        await client.hgetall(entries) if kinds[1] == b"hash" else await client.dump(entries)
    )
    return (*kinds, meta_value, entry_value)


async def tamper(conn: RedisConnection, keys: RedisKeys, **changes: object) -> None:
    raw = await conn.client.get(keys.queue_meta(G))
    assert isinstance(raw, bytes)
    meta = json.loads(raw)
    meta.update(changes)
    await conn.client.set(keys.queue_meta(G), json.dumps(meta))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"hello", "does not hold JSON"),
        (b"[1, 2]", "not a VectoBeat"),
        (b'{"queue": []}', "storage layout None"),
        (b'{"L": 1, "k": "someone.else"}', "not a VectoBeat queue snapshot"),
    ],
)
async def test_foreign_values_are_named_and_left_alone(
    redis: tuple[RedisConnection, RedisKeys], raw: bytes, expected: str
) -> None:
    conn, keys = redis
    store = RedisQueueStore(conn, keys)
    await conn.client.set(keys.queue_meta(G), raw)
    await conn.client.zadd(keys.queue_index(), {str(G): 1.0})
    with pytest.raises(InvalidSnapshot, match=expected) as info:
        await store.load(G)
    assert keys.queue_meta(G) in str(info.value)
    assert await conn.client.get(keys.queue_meta(G)) == raw
    restored = await store.load_all()
    assert restored.snapshots == ()
    assert len(restored.invalid) == 1
    assert await conn.client.get(keys.queue_meta(G)) == raw


async def test_wrong_version_and_broken_parts(redis: tuple[RedisConnection, RedisKeys]) -> None:
    conn, keys = redis
    store = RedisQueueStore(conn, keys)
    good = snapshot()
    await store.save(good, None)
    cases: list[tuple[dict[str, object], str]] = [
        ({"v": 2}, "version 2 is not supported"),
        ({"L": 7}, "storage layout 7"),
        ({"q": "1-99999999999"}, "does not match the stored entries"),
        ({"q": "2,x"}, "malformed"),
        ({"c": 77}, "entry 77 is missing"),
        ({"g": "999"}, "holds the snapshot of guild 999"),
    ]
    for changes, expected in cases:
        await store.save(good, None)
        await tamper(conn, keys, **changes)
        before = await dump(conn, keys)
        with pytest.raises(InvalidSnapshot, match=expected) as info:
            await store.load(G)
        assert keys.queue_meta(G) in str(info.value)
        assert await dump(conn, keys) == before
    await store.save(good, None)
    await conn.client.hset(keys.queue_entries(G), "2", b'{"e": 1}')
    with pytest.raises(InvalidSnapshot, match="entry 2"):
        await store.load(G)


async def test_a_foreign_key_type_is_never_overwritten(
    redis: tuple[RedisConnection, RedisKeys],
) -> None:
    conn, keys = redis
    store = RedisQueueStore(conn, keys)
    await conn.client.hset(keys.queue_meta(G), "someone", "else")
    before = await dump(conn, keys)
    with pytest.raises(InvalidSnapshot, match="holds a foreign type"):
        await store.load(G)
    with pytest.raises(InvalidSnapshot, match="left untouched"):
        await store.save(snapshot(), None)
    assert await dump(conn, keys) == before


async def test_a_bad_neighbour_does_not_stop_the_restore(
    redis: tuple[RedisConnection, RedisKeys],
) -> None:
    conn, keys = redis
    store = RedisQueueStore(conn, keys)
    good = snapshot(guild=1)
    await store.save(good, None)
    await store.save(snapshot(), None)
    await tamper(conn, keys, v=99)
    restored = await store.load_all()
    assert restored.snapshots == (good,)
    assert next(str(error) for error in restored.invalid).startswith(
        f"Redis key {keys.queue_meta(G)}"
    )


def _free_port(listen: bool) -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    if listen:
        sock.listen()
    return sock, sock.getsockname()[1]


async def test_a_refused_connection_is_a_clear_error_without_the_password() -> None:
    sock, port = _free_port(listen=False)
    sock.close()
    url = f"redis://user:hunter2secret@127.0.0.1:{port}/3"
    with pytest.raises(StorageUnavailable) as info:
        async with open_redis(url, RedisSettings(retries=1, backoff_base=0.01)):
            pass
    message = str(info.value)
    assert f"127.0.0.1:{port}/3" in message
    assert "hunter2secret" not in message
    assert "Gave up after 1 retries" in message


async def test_a_silent_server_times_out_with_a_clear_error() -> None:
    sock, port = _free_port(listen=True)
    with sock:
        settings = RedisSettings(command_timeout=0.2, connect_timeout=0.2, retries=1)
        with pytest.raises(StorageUnavailable, match=f"127.0.0.1:{port}/0: ping failed"):
            async with open_redis(f"redis://127.0.0.1:{port}/0", settings):
                pass


async def test_wrong_credentials_and_urls() -> None:
    url = service_url("redis")
    host = url.split("://", 1)[1]
    with pytest.raises(StorageUnavailable, match="authentication failed") as info:
        async with open_redis(f"redis://nobody:wrongpass1@{host}"):
            pass
    assert "wrongpass1" not in str(info.value)
    with pytest.raises(ConfigError, match="redis://"):
        async with open_redis("http://127.0.0.1:6379"):
            pass


async def _kill_clients(conn: RedisConnection, name: str) -> int:
    killed = 0
    for client in await conn.client.client_list():
        if client.get("name") == name:
            killed += int(await conn.client.client_kill_filter(_id=client["id"]))
    return killed


async def test_connection_loss_is_retried_for_reads() -> None:
    url = service_url("redis")
    name = "vbtest-loss"
    async with (
        redis_namespace() as (admin, keys),
        open_redis(url, RedisSettings(client_name=name, backoff_base=0.01)) as conn,
    ):
        store = RedisQueueStore(conn, keys)
        await store.save(snapshot(), None)
        assert await _kill_clients(admin, name) >= 1
        assert await store.load(G) == snapshot()  # retried on a fresh connection


def _redis_port() -> int:
    return urlsplit(service_url("redis")).port or 6379


async def test_a_publish_on_a_connection_that_died_before_sending_is_sent_on_a_fresh_one() -> None:
    # Nothing was sent on the dead connection, so sending on a new one cannot apply it twice.
    async with (
        redis_namespace() as (admin, keys),
        FaultProxy(_redis_port()) as proxy,
        open_redis(f"redis://{proxy.url_host}/0", RedisSettings(backoff_base=0.01)) as conn,
    ):
        listener = RedisSettingsChannel(admin, keys, poll_seconds=0.05)
        channel = RedisSettingsChannel(conn, keys)
        async with listener.subscribe() as events:
            proxy.cut()
            await anyio.sleep(0.05)
            proxy.heal()
            assert await channel.publish(SettingsChange(G, 1)) == 1
            with anyio.fail_after(5):
                assert await anext(events) == SettingsChange(G, 1)


async def test_a_publish_whose_answer_is_lost_is_reported_as_maybe_applied() -> None:
    # PUBLISH is not idempotent: a request that reached Redis and lost its answer is not retried
    # and not called failed, since it was applied.
    async with (
        redis_namespace() as (admin, keys),
        FaultProxy(_redis_port()) as proxy,
        open_redis(f"redis://{proxy.url_host}/0", RedisSettings(backoff_base=0.01)) as conn,
    ):
        listener = RedisSettingsChannel(admin, keys, poll_seconds=0.05)
        channel = RedisSettingsChannel(conn, keys)
        async with listener.subscribe() as events:
            proxy.reset_after_request()
            with pytest.raises(StorageUnavailable, match="may or may not have been applied"):
                await channel.publish(SettingsChange(G, 1))
            with anyio.fail_after(5):
                assert await anext(events) == SettingsChange(G, 1)  # it was applied
            proxy.heal()
            assert await channel.publish(SettingsChange(G, 2)) == 1  # the next call reconnects


async def test_the_settings_subscriber_reconnects_and_says_so() -> None:
    url = service_url("redis")
    name = "vbtest-pubsub"
    async with (
        redis_namespace() as (admin, keys),
        open_redis(url, RedisSettings(client_name=name, backoff_base=0.01)) as conn,
    ):
        channel = RedisSettingsChannel(conn, keys, poll_seconds=0.05)
        publisher = RedisSettingsChannel(admin, keys)
        async with channel.subscribe() as events:
            await publisher.publish(SettingsChange(G, 1))
            assert await anext(events) == SettingsChange(G, 1)
            assert await _kill_clients(admin, name) >= 1
            with anyio.fail_after(10):
                assert await anext(events) == SettingsResync()
            await publisher.publish(SettingsChange(G, 2))
            with anyio.fail_after(10):
                assert await anext(events) == SettingsChange(G, 2)


async def test_a_lost_entries_hash_makes_the_next_write_whole(
    redis: tuple[RedisConnection, RedisKeys],
) -> None:
    conn, keys = redis
    store = RedisQueueStore(conn, keys)
    queue = GuildQueue(G)
    queue.add_many([make_track(i) for i in range(20)])
    await store.save(queue.snapshot(PlayerState(), 1.0), None)
    await conn.client.delete(keys.queue_entries(G))  # e.g. evicted by maxmemory
    queue.add(make_track(99))
    await store.save(queue.snapshot(PlayerState(), 2.0), None)
    assert await store.load(G) == queue.snapshot(PlayerState(), 2.0)
