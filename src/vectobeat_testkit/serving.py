"""Serve an aiohttp application on a TCP address: what every protocol fake does to start."""

from __future__ import annotations

import abc
import logging
from types import TracebackType
from typing import Self

from aiohttp import web

__all__ = ["AppServer", "serve"]


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    access_log: logging.Logger | None = None,
    shutdown_timeout: float = 60.0,
    reuse_address: bool | None = None,
) -> tuple[web.AppRunner, int]:
    """Listen on ``host:port`` (port 0 picks a free one): the runner and the port it is bound to.

    ``runner.cleanup()`` stops serving; a failed bind cleans up before it raises.
    """
    runner = web.AppRunner(
        app, handle_signals=False, access_log=access_log, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_address=reuse_address).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1])


class AppServer(abc.ABC):
    """Base of a fake that serves ``app()`` on ``host:port``; an async context manager."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    @abc.abstractmethod
    def app(self) -> web.Application:
        """The aiohttp application this fake serves."""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner, self.port = await serve(self.app(), self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
