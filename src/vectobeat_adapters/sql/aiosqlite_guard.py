"""aiosqlite connections whose close cannot hang: a narrow guard around aiosqlite 0.22.

aiosqlite runs each connection on a worker thread that ends at the first stop request it reads.
When a query is cancelled mid-flight, SQLAlchemy terminates the connection by running aiosqlite's
graceful ``close()`` (shielded) alongside a force ``stop()``. ``close()`` then queues a second stop
that the exited thread never answers, so it waits forever; ``asyncio.run`` cancelling it at exit
waits forever too (the bot hung after logging ``stopping``). `StopOnceConnection` asks its thread to
stop once: every ``stop()`` (and a ``close()`` after one) waits for that single request instead.

`use_stop_once_connections(engine)` makes an engine open its SQLite connections this way.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy import event

from vectobeat_adapters.sql.async_core import AsyncEngine

__all__ = ["StopOnceConnection", "connect", "use_stop_once_connections"]


class StopOnceConnection(aiosqlite.Connection):
    """An aiosqlite connection whose worker thread is asked to stop exactly once."""

    def __init__(self, connector: Any, iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._thread.daemon = True  # as SQLAlchemy makes its own aiosqlite threads
        self._stop_requested = False
        self._stopped: asyncio.Future[Any] | None = None

    def stop(self) -> asyncio.Future[Any] | None:
        """Ask the thread to stop (the first time); a future done once it has closed the file.

        Each caller gets its own future: cancelling one waiter never cancels the request."""
        if not self._stop_requested:
            self._stop_requested = True
            self._stopped = super().stop()
        stopped = self._stopped
        if stopped is None:  # no event loop (garbage collection): nothing to wait on
            return None
        waiter: asyncio.Future[Any] = stopped.get_loop().create_future()

        def release(_: asyncio.Future[Any]) -> None:
            if not waiter.done():
                waiter.set_result(None)

        stopped.add_done_callback(release)
        return waiter

    async def close(self) -> None:
        """Close the connection; after a ``stop()`` the thread closes it on its way out."""
        if not self._stop_requested:
            await super().close()
            return
        waiter = self.stop()
        if waiter is not None:
            await waiter


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> StopOnceConnection:
    """``aiosqlite.connect`` (not yet awaited) making a `StopOnceConnection`."""

    def connector() -> sqlite3.Connection:
        opened: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return opened

    return StopOnceConnection(connector, iter_chunk_size)


def use_stop_once_connections(engine: AsyncEngine) -> None:
    """Open ``engine``'s aiosqlite connections as `StopOnceConnection` (URL options kept)."""

    def creator(_dialect: Any, _record: Any, _cargs: list[Any], cparams: dict[str, Any]) -> None:
        cparams["async_creator_fn"] = connect  # the dialect calls it with the URL's arguments

    event.listen(engine.sync_engine, "do_connect", creator)
