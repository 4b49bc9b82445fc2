"""One log line, not a traceback, for a PostgreSQL connect abandoned by a timeout.

When a connect to a silent server is cancelled (``STORE_TIMEOUT`` ran out) at the moment asyncpg's
socket is being set up, asyncpg's SSL negotiation protocol is closed with a future nobody awaits
any more, holding ``ConnectionError('unexpected connection_lost() call')``; asyncio then logs
"Future exception was never retrieved" with a traceback. The request that waited already got its
503, so :func:`quiet_abandoned_connects` logs that one case as a single warning line and hands every
other loop error to the handler that was installed before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["quiet_abandoned_connects"]

log = logging.getLogger("vectobeat.sql")

_UNOBSERVED = "Future exception was never retrieved"


def _abandoned_connect(context: dict[str, Any]) -> bool:
    error = context.get("exception")
    return (
        context.get("message") == _UNOBSERVED
        and isinstance(error, ConnectionError)
        and "connection_lost()" in str(error)
    )


@contextmanager
def quiet_abandoned_connects() -> Iterator[None]:
    """While the block runs, log abandoned asyncpg connects as one warning line on this loop."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if _abandoned_connect(context):
            log.warning("database_connect_abandoned", extra={"error": str(context["exception"])})
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    try:
        yield
    finally:
        if loop.get_exception_handler() is handler:
            loop.set_exception_handler(previous)
