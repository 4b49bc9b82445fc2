"""A TCP fault proxy for Redis, SQL or HTTP: pass, cut, blackhole, slow, or reset after a request.

Put it between a client and a real server (``FaultProxy(upstream_port=6379)``) and point the client
at ``proxy.port``. The mode applies to every connection, open or new:

- ``heal()``: bytes pass both ways (the default).
- ``cut()``: every open connection is reset and new ones are reset as soon as they are accepted,
  as when the server's host goes away.
- ``blackhole()``: connections stay open (new ones are accepted) but no byte passes either way, as
  with a dropped route or a frozen server: clients see only their own timeouts.
- ``slow(seconds)``: every chunk is held ``seconds`` before it is forwarded.
- ``reset_after_request()``: what the client sends reaches the server, then the client's connection
  is reset before the answer arrives: the request was applied and the client cannot know it.

Two ways to run it: ``async with FaultProxy(...)`` inside a test's event loop, or
``with FaultProxy(...).in_thread()`` for a test whose client is another process (the proxy gets
its own event loop in a daemon thread; the mode switches are thread-safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Literal, Self

__all__ = ["FaultProxy", "Mode"]

Mode = Literal["pass", "cut", "blackhole", "slow", "reset_after_request"]

_CHUNK = 65536


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), not FIN: the peer sees 'connection reset'."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                _abort(writer)
        for task in self.tasks:
            task.cancel()


class FaultProxy:
    """A loopback TCP proxy in front of ``upstream_host:upstream_port`` with switchable faults."""

    def __init__(
        self,
        upstream_port: int,
        *,
        upstream_host: str = "127.0.0.1",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.host, self.port = host, port
        self.mode: Mode = "pass"
        self.delay = 0.0
        self.connections = 0
        """Connections accepted so far (in any mode)."""
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    # -- switches (callable from any thread) ---------------------------------------------------

    def heal(self) -> None:
        """Let bytes pass again (open connections that were blackholed resume)."""
        self._switch("pass")

    def cut(self) -> None:
        """Reset every open connection and every new one."""
        self._switch("cut")

    def blackhole(self) -> None:
        """Keep connections open, pass nothing."""
        self._switch("blackhole")

    def slow(self, seconds: float) -> None:
        """Hold every chunk ``seconds`` before forwarding it."""
        if seconds < 0:
            raise ValueError("delay must not be negative")
        self.delay = seconds
        self._switch("slow")

    def reset_after_request(self) -> None:
        """Forward what clients send, then reset them before the answer reaches them."""
        self._switch("reset_after_request")

    def _switch(self, mode: Mode) -> None:
        loop = self._loop
        if loop is None:
            self.mode = mode
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._apply(mode)
        else:
            done = threading.Event()

            def apply() -> None:
                self._apply(mode)
                done.set()

            loop.call_soon_threadsafe(apply)
            done.wait(5)

    def _apply(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "cut":
            for link in list(self._links):
                link.abort()
            self._links.clear()
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    # -- serving -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        for link in list(self._links):
            link.abort()
        self._links.clear()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

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

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[Self]:
        """Serve from a daemon thread with its own event loop for the ``with`` block."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(target=loop.run_forever, name="fault-proxy", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(5)
            ready.set()
            yield self
        finally:
            if ready.is_set():
                asyncio.run_coroutine_threadsafe(self.close(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()

    @property
    def url_host(self) -> str:
        """``host:port`` to put in a client's URL."""
        return f"{self.host}:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "cut":
            _abort(writer)
            return
        link = _Link(writer)
        self._links.add(link)
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            self._links.discard(link)
            _abort(writer)
            return
        link.upstream = up_writer
        upstream = asyncio.ensure_future(self._pump(link, reader, up_writer, to_server=True))
        downstream = asyncio.ensure_future(self._pump(link, up_reader, writer, to_server=False))
        link.tasks = [upstream, downstream]
        try:
            await asyncio.gather(upstream, downstream, return_exceptions=True)
        finally:
            self._links.discard(link)
            link.abort()

    async def _pump(
        self,
        link: _Link,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        to_server: bool,
    ) -> None:
        while True:
            data = await reader.read(_CHUNK)
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            await self._gate(to_server=to_server)
            if self.mode == "reset_after_request" and not to_server:
                link.abort()
                return
            writer.write(data)
            await writer.drain()

    async def _gate(self, *, to_server: bool) -> None:
        """Wait while the mode holds bytes back; raise to end the link when cut."""
        while True:
            mode, changed = self.mode, self._changed
            if mode == "cut":
                raise ConnectionResetError("cut by the fault proxy")
            if mode == "blackhole" and changed is not None:
                await changed.wait()
                continue
            if mode == "slow":
                await asyncio.sleep(self.delay)
            return
