"""uvicorn for the panel: stopping ends the live-queue streams and the bots' long polls first.

uvicorn waits for open connections before it stops; an open live-queue tab (a stream of up to
``sse_max_seconds``) or a bot's long poll (up to ``long_poll_max``) would hold Ctrl-C, a SIGTERM or
a rolling deploy for minutes. `ClosingServer` closes them as its shutdown begins, and requests
still in flight get `GRACEFUL_SHUTDOWN_SECONDS`.
"""

from __future__ import annotations

import socket

import uvicorn

from vectobeat_panel.state import panel_of_app

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "ClosingServer"]

GRACEFUL_SHUTDOWN_SECONDS = 2
"""How long a request in flight may finish once the panel stops (then uvicorn cancels it)."""


class ClosingServer(uvicorn.Server):
    """A uvicorn server for ``create_app``'s app that ends the panel's streams as it stops."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        panel_of_app(self.config.app).close()
        await super().shutdown(sockets)
