"""The testkit's fault proxy against a loopback echo server: each mode does what it says."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from vectobeat_testkit.faultproxy import FaultProxy

pytestmark = pytest.mark.anyio


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    received.append(b"")
    try:
        while data := await reader.read(1024):
            received[-1] += data
            writer.write(data)
            await writer.drain()
    except ConnectionResetError:
        return  # the proxy reset the upstream side: expected in cut and reset modes
    writer.close()


received: list[bytes] = []


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    received.clear()
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, FaultProxy(port) as fault:
        yield fault


async def _connect(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", proxy.port)


async def _roundtrip(proxy: FaultProxy, payload: bytes = b"ping") -> bytes:
    reader, writer = await _connect(proxy)
    writer.write(payload)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(1024), 1)
    finally:
        writer.close()


async def test_pass_forwards_both_ways(proxy: FaultProxy) -> None:
    assert await _roundtrip(proxy) == b"ping"


async def test_cut_resets_open_and_new_connections(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    writer.write(b"a")
    assert await reader.read(1) == b"a"
    proxy.cut()
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1), 1)
    reader, writer = await _connect(proxy)
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), 1)
    proxy.heal()
    assert await _roundtrip(proxy) == b"ping"


async def test_blackhole_holds_bytes_until_healed(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    proxy.blackhole()
    writer.write(b"held")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(4), 0.2)
    proxy.heal()
    assert await asyncio.wait_for(reader.readexactly(4), 1) == b"held"
    writer.close()


async def test_slow_delays_but_delivers(proxy: FaultProxy) -> None:
    proxy.slow(0.05)
    assert await _roundtrip(proxy) == b"ping"


async def test_reset_after_request_delivers_the_request_and_loses_the_answer(
    proxy: FaultProxy,
) -> None:
    proxy.reset_after_request()
    reader, writer = await _connect(proxy)
    writer.write(b"apply-me")
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1024), 1)
    assert received[-1] == b"apply-me"


def test_in_thread_serves_a_blocking_client() -> None:
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def echo_once() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(16))

    threading.Thread(target=echo_once, daemon=True).start()
    with (
        FaultProxy(port).in_thread() as fault,
        socket.create_connection(("127.0.0.1", fault.port), timeout=2) as client,
    ):
        client.sendall(b"hi")
        assert client.recv(16) == b"hi"
    listener.close()
