"""The panel served inside the ``up`` process (uvicorn without its own signal handling).

Imported only by ``up``, so the rest of ``vectobeat-ops`` works without the panel's extras.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Generator

import anyio
import uvicorn

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.services import Services
from vectobeat_panel.app import create_app
from vectobeat_panel.serving import GRACEFUL_SHUTDOWN_SECONDS, ClosingServer

__all__ = ["PanelServer"]


class _QuietServer(ClosingServer):
    """uvicorn without its own signal handling: ``up`` owns Ctrl-C and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class PanelServer:
    """The panel app over a socket ``up`` already bound."""

    def __init__(self, config: AppConfig, services: Services) -> None:
        self._server = _QuietServer(
            uvicorn.Config(
                create_app(config, services),
                log_level="warning",
                log_config=None,  # logging_setup renders uvicorn's logs
                lifespan="on",
                proxy_headers=False,
                server_header=False,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
        )

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    @property
    def failed(self) -> bool:
        return bool(self._server.should_exit) and not self._server.started

    async def serve(self, sock: socket.socket) -> None:
        """Serve until `stop`; shielded so the panel always shuts down gracefully."""
        with anyio.CancelScope(shield=True):
            await self._server.serve([sock])

    async def stop(self) -> None:
        """Stop serving (open live-queue streams and long polls end at once: `ClosingServer`)."""
        self._server.should_exit = True
