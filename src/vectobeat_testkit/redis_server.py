"""A ``redis-server`` of one's own on a free loopback port, for tests and benches that must not
touch a shared Redis (flushing it, restarting it, filling it with guilds that repeat run to run)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

__all__ = ["RedisServerMissing", "private_redis_server"]


class RedisServerMissing(RuntimeError):
    """No ``redis-server`` binary on PATH."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _answers(port: int) -> bool:
    try:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(b"PING\r\n")
            return (await stream.receive()).startswith(b"+PONG")
    except OSError:
        return False


@asynccontextmanager
async def private_redis_server(
    directory: Path, *, ready_within: float = 10.0
) -> AsyncIterator[str]:
    """Run ``redis-server`` (no persistence, files in ``directory``) for the block; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing("redis-server is not installed")
    port = _free_port()
    process = await anyio.open_process(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with anyio.fail_after(ready_within):
            while not await _answers(port):  # noqa: ASYNC110 - another process: only polled
                await anyio.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        with anyio.fail_after(10):
            await process.wait()
        await process.aclose()
