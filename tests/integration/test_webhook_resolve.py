"""Resolving a webhook host at save and send: the system resolver (``localhost`` from the hosts
file, no network needed), a resolver that hangs, one that fails and one that answers nonsense."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from vectobeat_adapters.webhooks.resolve import WebhookResolveError, check_url
from vectobeat_core.webhook_targets import UnsafeWebhookTarget

pytestmark = pytest.mark.anyio


async def test_the_system_resolver_is_used_and_loopback_refused() -> None:
    with pytest.raises(UnsafeWebhookTarget, match="loopback"):
        await check_url("https://localhost/hook", ())
    target = await check_url("http://localhost:9/hook", {"localhost"})
    assert target.allow_listed and target.port == 9


async def test_a_hanging_resolver_times_out_clearly() -> None:
    async def hang(host: str, port: int) -> Sequence[str]:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    with pytest.raises(WebhookResolveError, match=r"did not resolve within 0\.05 s"):
        await check_url("https://slow.example.com/", (), resolver=hang, timeout_s=0.05)


async def test_resolver_failures_and_nonsense_are_clear_errors() -> None:
    async def fail(host: str, port: int) -> Sequence[str]:
        raise OSError(-2, "Name or service not known")

    async def nonsense(host: str, port: int) -> Sequence[str]:
        return ["not-an-address"]

    async def nothing(host: str, port: int) -> Sequence[str]:
        return []

    with pytest.raises(WebhookResolveError, match="does not resolve"):
        await check_url("https://gone.example.com/", (), resolver=fail)
    with pytest.raises(WebhookResolveError, match="non-address"):
        await check_url("https://odd.example.com/", (), resolver=nonsense)
    with pytest.raises(UnsafeWebhookTarget, match="no address"):
        await check_url("https://empty.example.com/", (), resolver=nothing)
