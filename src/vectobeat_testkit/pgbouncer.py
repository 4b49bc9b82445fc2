"""A ``pgbouncer`` of one's own in transaction pooling mode on a free loopback port, in front of a
PostgreSQL server (trust authentication), for tests of ``DATABASE_URL``'s ``?pgbouncer=true``.

PgBouncer refuses to run as root; as root it is started as the ``postgres`` user (``-u``), with
its files in a directory that user may read and write.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from vectobeat_testkit.free_port import free_port

__all__ = ["PgBouncerMissing", "private_pgbouncer"]


class PgBouncerMissing(RuntimeError):
    """No ``pgbouncer`` binary on PATH (Debian: ``apt-get install pgbouncer``)."""


async def _listening(port: int) -> bool:
    try:
        async with await anyio.connect_tcp("127.0.0.1", port):
            return True
    except OSError:
        return False


def _config(
    folder: Path, port: int, upstream_port: int, server_connections: int, user: str
) -> Path:
    conf = folder / "pgbouncer.ini"
    (folder / "users.txt").write_text(f'"{user}" ""\n')  # trust: the user must be listed
    conf.write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={upstream_port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {server_connections}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
        "max_client_conn = 200\nserver_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    return conf


@asynccontextmanager
async def private_pgbouncer(
    upstream_port: int = 5432,
    *,
    user: str = "root",
    server_connections: int = 3,
    ready_within: float = 10.0,
) -> AsyncIterator[int]:
    """Run PgBouncer (transaction pooling, ``server_connections`` per database and user, ``user``
    let in without a password) for the block; its port. Fewer server connections than clients is
    the point: they are shared."""
    binary = shutil.which("pgbouncer")
    if binary is None:
        raise PgBouncerMissing("pgbouncer is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="vb-pgbouncer-") as name:
        folder = Path(name)
        conf = _config(folder, port, upstream_port, server_connections, user)
        command = [binary, "-q", str(conf)]
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            for path in (folder, conf, folder / "users.txt"):
                os.chown(path, account.pw_uid, account.pw_gid)
            command = [binary, "-q", "-u", "postgres", str(conf)]
        process = await anyio.open_process(command, stdout=subprocess.DEVNULL)
        try:
            with anyio.fail_after(ready_within):
                while not await _listening(port):
                    if process.returncode is not None:
                        raise RuntimeError(f"pgbouncer exited with {process.returncode}")
                    await anyio.sleep(0.05)
            yield port
        finally:
            if process.returncode is None:
                process.terminate()
            with anyio.fail_after(10):
                await process.wait()
            await process.aclose()
