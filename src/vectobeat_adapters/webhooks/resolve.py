"""Resolving a webhook host with a deadline, then checking every address it got (SSRF rules).

`checked_addresses` is called at save (the panel) and again before every attempt (the sender), so
a host whose DNS answer changes to an internal address after it was saved is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Collection, Sequence

import anyio

from vectobeat_core.errors import ConfigError, InvalidInput, Unavailable
from vectobeat_core.webhook_targets import (
    IPAddress,
    WebhookTarget,
    check_addresses,
    parse_allowed_hosts,
    parse_target,
)

__all__ = [
    "Resolver",
    "WebhookResolveError",
    "allowed_hosts",
    "check_url",
    "checked_addresses",
    "system_resolver",
]

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses as text``; the system resolver, or a fake in tests."""


class WebhookResolveError(Unavailable):
    """The webhook host could not be resolved (in time)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (TCP)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _parse(addresses: Sequence[str]) -> list[IPAddress]:
    parsed: list[IPAddress] = []
    for text in addresses:
        try:
            parsed.append(ipaddress.ip_address(str(text).split("%", 1)[0]))
        except ValueError:
            raise WebhookResolveError(
                "The resolver answered a non-address {text}.", text=repr(text)
            ) from None
    return parsed


async def checked_addresses(
    target: WebhookTarget, *, resolver: Resolver | None = None, timeout_s: float = 3.0
) -> tuple[IPAddress, ...]:
    """``target``'s addresses, all checked; `UnsafeWebhookTarget` or `WebhookResolveError`."""
    if target.literal is not None:
        return check_addresses(target, [target.literal])
    resolve = resolver or system_resolver
    try:
        with anyio.fail_after(timeout_s):
            answered = await resolve(target.host, target.port)
    except TimeoutError:
        raise WebhookResolveError(
            "The webhook host {host} did not resolve within {seconds} s.",
            host=repr(target.host),
            seconds=format(timeout_s, "g"),
        ) from None
    except OSError as exc:
        raise WebhookResolveError(
            "The webhook host {host} does not resolve ({problem}).",
            host=repr(target.host),
            problem=exc.strerror or exc,
        ) from None
    return check_addresses(target, _parse(answered))


async def check_url(
    url: str,
    allowed_hosts: Collection[str],
    *,
    resolver: Resolver | None = None,
    timeout_s: float = 3.0,
) -> WebhookTarget:
    """Parse ``url`` and check every address its host resolves to (the save-time check)."""
    target = parse_target(url, allowed_hosts)
    await checked_addresses(target, resolver=resolver, timeout_s=timeout_s)
    return target


def allowed_hosts(text: str | None) -> frozenset[str]:
    """``WEBHOOK_ALLOWED_HOSTS`` read; a malformed entry is a `ConfigError` naming it."""
    try:
        return parse_allowed_hosts(text)
    except InvalidInput as exc:
        raise ConfigError(exc.message) from None
