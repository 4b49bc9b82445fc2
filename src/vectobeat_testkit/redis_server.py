"""A ``redis-server`` of one's own on a free loopback port, for tests and benches that must not
touch a shared Redis (flushing it, restarting it, filling it with guilds that repeat run to run);
and a Sentinel-watched primary with one replica (`private_sentinel_group`), to fail it over."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
import attrs
from anyio.abc import Process

from vectobeat_testkit.free_port import free_port

__all__ = ["RedisServerMissing", "SentinelGroup", "private_redis_server", "private_sentinel_group"]


class RedisServerMissing(RuntimeError):
    """No ``redis-server`` binary on PATH."""


async def _answers(port: int) -> bool:
    try:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(b"PING\r\n")
            return (await stream.receive()).startswith(b"+PONG")
    except OSError:
        return False


def _binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissing("redis-server is not installed")
    return binary


@asynccontextmanager
async def _server(args: Sequence[str], port: int, ready_within: float) -> AsyncIterator[Process]:
    process = await anyio.open_process([_binary(), *args], stdout=subprocess.DEVNULL)
    try:
        with anyio.fail_after(ready_within):
            while not await _answers(port):  # noqa: ASYNC110 - another process: only polled
                await anyio.sleep(0.05)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        with anyio.fail_after(10):
            await process.wait()
        await process.aclose()


def _data_args(port: int, directory: Path) -> list[str]:
    return ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(directory)]  # fmt: skip


@asynccontextmanager
async def private_redis_server(
    directory: Path, *, ready_within: float = 10.0
) -> AsyncIterator[str]:
    """Run ``redis-server`` (no persistence, files in ``directory``) for the block; its URL."""
    port = free_port()
    async with _server(_data_args(port, directory), port, ready_within):
        yield f"redis://127.0.0.1:{port}/0"


@attrs.define
class SentinelGroup:
    """A primary, its replica and one sentinel watching them as ``service``."""

    primary_port: int
    replica_port: int
    sentinel_port: int
    service: str
    _primary: Process

    @property
    def url(self) -> str:
        """The ``redis+sentinel://`` URL of the group (database 0)."""
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.service}/0"

    def kill_primary(self) -> None:
        """SIGKILL the primary, as a crashed host would go."""
        self._primary.kill()


@asynccontextmanager
async def private_sentinel_group(
    directory: Path,
    *,
    service: str = "vectobeat",
    down_after_ms: int = 500,
    ready_within: float = 20.0,
) -> AsyncIterator[SentinelGroup]:
    """A primary, a replica of it and a sentinel (quorum 1) on free ports for the block; the
    replica is in sync and known to the sentinel before the group is yielded."""
    ports = [free_port() for _ in range(3)]
    primary_port, replica_port, sentinel_port = ports
    for name in ("primary", "replica", "sentinel"):
        (directory / name).mkdir(exist_ok=True)
    conf = directory / "sentinel" / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {directory / 'sentinel'}\n"
        f"sentinel monitor {service} 127.0.0.1 {primary_port} 1\n"
        f"sentinel down-after-milliseconds {service} {down_after_ms}\n"
        f"sentinel failover-timeout {service} 5000\n"
    )
    async with AsyncExitStack() as stack:
        primary = await stack.enter_async_context(
            _server(_data_args(primary_port, directory / "primary"), primary_port, ready_within)
        )
        replica_args = [*_data_args(replica_port, directory / "replica"),
                        "--replicaof", "127.0.0.1", str(primary_port)]  # fmt: skip
        await stack.enter_async_context(_server(replica_args, replica_port, ready_within))
        await stack.enter_async_context(
            _server([str(conf), "--sentinel"], sentinel_port, ready_within)
        )
        replica = f"127.0.0.1:{replica_port}".encode()
        with anyio.fail_after(ready_within):
            while not (  # noqa: ASYNC110 - other processes: only polled
                b"master_link_status:up" in await _command(replica_port, b"INFO replication")
                and replica
                in await _command(sentinel_port, f"SENTINEL REPLICAS {service}".encode())
            ):
                await anyio.sleep(0.1)
        yield SentinelGroup(primary_port, replica_port, sentinel_port, service, primary)


async def _command(port: int, command: bytes) -> bytes:
    """One inline command's raw reply (enough to look for a marker in it)."""
    try:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(command + b"\r\n")
            with anyio.move_on_after(1.0):
                return await stream.receive(65536)
    except OSError:
        pass
    return b""
