"""The panel's pre-bound listening socket (``vectobeat-ops up``) yields connections with Nagle off:
asyncio sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP, and without it an answer
written as headers then body waited for the client's delayed ACK (about 40 ms a response)."""

from __future__ import annotations

import asyncio
import socket

from vectobeat_ops.up import bind_port


def test_connections_on_the_bound_port_have_nodelay() -> None:
    async def check() -> int:
        sock = bind_port("127.0.0.1", 0, "test", "TEST_PORT")
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                raw = transport.get_extra_info("socket")
                accepted.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        async with server:
            port = sock.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            value = await asyncio.wait_for(accepted, 5)
            writer.close()
        return value

    assert asyncio.run(check()) != 0
