"""Over HTTPS the sender connects to the address it checked, yet TLS still authenticates the host
name: SNI and the certificate check use the name, and a certificate for another name fails."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from tests.tls_support import certificate
from tests.webhook_support import SIGNING_SECRET, fixed_resolver

from vectobeat_adapters.memory.webhook_log import MemoryWebhookDeliveryLog
from vectobeat_adapters.services import SystemClock
from vectobeat_adapters.webhooks.sender import Export, WebhookSender
from vectobeat_core.ids import GuildId
from vectobeat_core.webhooks import ExportEvent

pytestmark = pytest.mark.anyio

HOST = "hooks.example.com"
OTHER = "other.example.com"


@asynccontextmanager
async def tls_receiver(cert: Path, key: Path, seen: dict[str, list[str]]) -> AsyncIterator[int]:
    """An HTTPS receiver on 127.0.0.1 recording the SNI names and Host headers it got."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def on_sni(_sock: object, name: str | None, _ctx: object) -> None:
        seen["sni"].append(str(name))

    context.sni_callback = on_sni

    async def handle(request: web.Request) -> web.Response:
        seen["host"].append(request.headers.get("Host", ""))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


def sender(trust: Path) -> WebhookSender:
    return WebhookSender(
        log=MemoryWebhookDeliveryLog(),
        clock=SystemClock(),
        signing_secret=SIGNING_SECRET,
        allowed_hosts=(HOST, OTHER),
        resolver=fixed_resolver({HOST: ["127.0.0.1"], OTHER: ["127.0.0.1"]}),
        tls=ssl.create_default_context(cafile=str(trust)),
    )


def job(port: int, host: str = HOST) -> Export:
    return Export(f"https://{host}:{port}/hook", ExportEvent("test", GuildId(1), 1.0), "none")


async def test_https_goes_to_the_checked_address_with_the_name_in_sni_and_host(
    tmp_path: Path,
) -> None:
    cert, key = certificate(tmp_path, HOST)
    seen: dict[str, list[str]] = {"sni": [], "host": []}
    async with tls_receiver(cert, key, seen) as port:
        record = await sender(cert).deliver_now(job(port))
    assert record.status_code == 200, record.outcome
    assert seen == {"sni": [HOST], "host": [f"{HOST}:{port}"]}


async def test_a_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path, "elsewhere.example.com")
    seen: dict[str, list[str]] = {"sni": [], "host": []}
    async with tls_receiver(cert, key, seen) as port:
        record = await sender(cert).deliver_now(job(port), attempts=1)
    assert record.error is not None and "transport error" in record.error
    assert seen["host"] == []  # nothing was sent over the unverified connection


async def test_two_names_on_one_address_each_get_their_own_handshake(tmp_path: Path) -> None:
    """Connections are keyed by IP: reusing one would send OTHER's event over HOST's session."""
    cert, key = certificate(tmp_path, HOST, OTHER)
    seen: dict[str, list[str]] = {"sni": [], "host": []}
    webhooks = sender(cert)
    async with tls_receiver(cert, key, seen) as port, anyio.create_task_group() as tg:
        await tg.start(webhooks.run)
        webhooks.submit(job(port))
        webhooks.submit(job(port, OTHER))  # the same guild: sent after the first, in order
        with anyio.fail_after(10):
            while len(seen["host"]) < 2:  # noqa: ASYNC110 - the receiver is fed by the sender
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    assert seen["sni"] == [HOST, OTHER]
    assert seen["host"] == [f"{HOST}:{port}", f"{OTHER}:{port}"]
