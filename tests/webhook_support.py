"""A real webhook receiver on 127.0.0.1 for tests: records every request, answers scripted
statuses, can be slow on a path, and checks signatures with the core's `verify`."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import attrs
from aiohttp import web

from vectobeat_adapters.webhooks.resolve import Resolver
from vectobeat_core.ids import GuildId
from vectobeat_core.webhooks import EVENT_HEADER, SIGNATURE_HEADER, guild_secret, verify
from vectobeat_testkit.serving import AppServer

SIGNING_SECRET = "test-signing-secret-0123456789"


def fixed_resolver(names: dict[str, list[str]]) -> Resolver:
    """A resolver answering from ``names`` (change the dict to change the answer)."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in names:
            raise OSError(f"unknown host {host}")
        return list(names[host])

    return resolve


@attrs.define
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def signed_for(self, guild: int, *, now: float) -> bool:
        return verify(
            guild_secret(SIGNING_SECRET, GuildId(guild)),
            self.headers.get(SIGNATURE_HEADER, ""),
            self.body,
            now=now,
        )


class WebhookReceiver(AppServer):
    """Answers 200 unless ``statuses[path]`` holds statuses to answer first; ``delay[path]``
    holds the answer of that path for that many seconds."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 0)
        self.received: list[Received] = []
        self.statuses: dict[str, list[int]] = {}
        self.delay: dict[str, float] = {}
        self._release = anyio.Event()

    async def close(self) -> None:
        self._release.set()  # slow answers end now, so the server stops at once
        await super().close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def got(self, event: str) -> bool:
        return any(r.headers.get(EVENT_HEADER) == event for r in self.received)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        path = request.path
        if path in self.delay:
            with anyio.move_on_after(self.delay[path]):
                await self._release.wait()
        self.received.append(Received(path, dict(request.headers), body))
        pending = self.statuses.get(path)
        status = pending.pop(0) if pending else 200
        return web.Response(status=status, text="ok")
