"""Where a webhook export may go (the SSRF rules). Pure: addresses come in already resolved.

* `parse_target` reads a webhook URL: https only (http only for hosts on the operator's
  allow-list), no user info, no host written as an integer (``2130706433``, ``0177.0.0.1``,
  ``0x7f.1``), and a literal IP must be public.
* `address_problem` says why one address must not be contacted: loopback, private, link-local,
  unique-local, multicast, reserved, unspecified, shared (CGNAT), a cloud metadata address, or an
  IPv4-mapped / -compatible / NAT64 / 6to4 form of any of those; ``None`` when it is public.
* `check_addresses` applies that to every address a host resolved to: one bad address refuses the
  whole host (a resolver may answer differently next time). Allow-listed hosts skip the
  public-address rule but never reach a cloud metadata address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable
from typing import TypeAlias
from urllib.parse import urlsplit

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.messages import Phrase, message_id

__all__ = [
    "METADATA_ADDRESSES",
    "IPAddress",
    "UnsafeWebhookTarget",
    "WebhookTarget",
    "address_problem",
    "check_addresses",
    "normalise_host",
    "parse_allowed_hosts",
    "parse_target",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
"""Cloud instance-metadata endpoints: never contacted, not even for allow-listed hosts."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_HOST_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")


class UnsafeWebhookTarget(InvalidInput):
    """A webhook URL or one of its addresses is not allowed (the message says which and why)."""


def normalise_host(host: str) -> str:
    """Lower case, without IPv6 brackets or a trailing dot (how allow-list entries compare)."""
    return host.strip().strip("[]").rstrip(".").lower()


def parse_allowed_hosts(text: str | None) -> frozenset[str]:
    """The operator's allow-list (``WEBHOOK_ALLOWED_HOSTS``): host names or IPs, comma separated."""
    if text is None:
        return frozenset()
    hosts = set()
    for part in text.split(","):
        host = normalise_host(part)
        if not host:
            continue
        if "/" in host or " " in host or (":" in host and _literal(host) is None):
            raise InvalidInput(
                f"WEBHOOK_ALLOWED_HOSTS entry {part.strip()!r} must be a host name or an IP "
                "address, without scheme, port or path."
            )
        hosts.add(host)
    return frozenset(hosts)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d (deprecated "compatible")
        return ipaddress.IPv4Address(int(address))
    return None


_FLAGS = (
    ("is_unspecified", message_id("{address} is unspecified")),
    ("is_loopback", message_id("{address} is a loopback address")),
    ("is_link_local", message_id("{address} is a link-local address")),
    ("is_multicast", message_id("{address} is a multicast address")),
    ("is_private", message_id("{address} is a private address")),
    ("is_reserved", message_id("{address} is a reserved address")),
)


def address_problem(address: IPAddress) -> Phrase | None:
    """Why ``address`` must not be contacted, or ``None`` when it is a public address."""
    if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        raise InvalidInput(f"address_problem needs an IP address, got {type(address).__name__}.")
    shown = {"address": str(address)}
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return Phrase(message_id("{address} carries a zone id"), shown)
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner is None:
                return None
            return Phrase(message_id("{address} embeds {problem}"), {**shown, "problem": inner})
        if address.teredo is not None or address in _NAT64_LOCAL:
            return Phrase(message_id("{address} is a tunnelled address"), shown)
    if address in METADATA_ADDRESSES:
        return Phrase(message_id("{address} is a cloud metadata address"), shown)
    for flag, template in _FLAGS:
        if getattr(address, flag):
            return Phrase(template, shown)
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return Phrase(message_id("{address} is a site-local address"), shown)
    if address in _SHARED or not address.is_global:
        return Phrase(message_id("{address} is not a public address"), shown)
    return None


@attrs.frozen(slots=True)
class WebhookTarget:
    """A checked webhook URL: where to connect (``host``, ``port``) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    allow_listed: bool
    literal: IPAddress | None

    @property
    def authority(self) -> str:
        """The ``Host`` header value: the name as written, the port only when not the default."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"


def _numeric_host(host: str) -> bool:
    """Whether a resolver would read ``host`` as an IPv4 address (its last label is a number)."""
    last = host.rsplit(".", 1)[-1]
    return bool(_NUMERIC_LABEL.fullmatch(last))


def parse_target(url: str, allowed_hosts: Collection[str] = ()) -> WebhookTarget:
    """Check ``url`` by the rules above; `UnsafeWebhookTarget` says what is wrong."""
    if not isinstance(url, str):
        raise UnsafeWebhookTarget(
            message_id("A webhook URL must be text, got {kind}."), kind=type(url).__name__
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeWebhookTarget(message_id("The webhook URL is not a valid URL.")) from None
    raw_host = parts.hostname or ""
    host = normalise_host(raw_host)
    if not host:
        raise UnsafeWebhookTarget(message_id("The webhook URL needs a host."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookTarget(
            message_id("The webhook URL must not carry a user name or password.")
        )
    if port == 0:
        raise UnsafeWebhookTarget(message_id("The webhook URL's port must be from 1 to 65535."))
    allowed = host in {normalise_host(h) for h in allowed_hosts}
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allowed):
        raise UnsafeWebhookTarget(
            message_id(
                "The webhook URL must start with https:// (plain http:// only for hosts the operator "
                "allows in WEBHOOK_ALLOWED_HOSTS)."
            )
        )
    literal = _literal(host)
    if literal is None:
        if "%" in host:
            raise UnsafeWebhookTarget(
                message_id("The webhook URL's host must not carry a zone id.")
            )
        if _numeric_host(host):
            raise UnsafeWebhookTarget(
                message_id(
                    "The webhook host {host} is written as a number; write the address as "
                    "a.b.c.d, or better, use a host name."
                ),
                host=repr(raw_host),
            )
        if not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
            raise UnsafeWebhookTarget(
                message_id("The webhook host {host} is not a valid host name."), host=repr(raw_host)
            )
    target = WebhookTarget(
        url=url,
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        allow_listed=allowed,
        literal=literal,
    )
    if literal is not None:
        check_addresses(target, [literal])
    return target


def check_addresses(target: WebhookTarget, addresses: Iterable[IPAddress]) -> tuple[IPAddress, ...]:
    """Every address ``target``'s host resolved to, if all may be contacted; else refuse."""
    found = tuple(dict.fromkeys(addresses))
    if not found:
        raise UnsafeWebhookTarget(
            message_id("The webhook host {host} has no address."), host=repr(target.host)
        )
    for address in found:
        checked = not target.allow_listed or address in METADATA_ADDRESSES
        problem = address_problem(address) if checked else None
        if problem is not None:
            raise UnsafeWebhookTarget(
                message_id(
                    "The webhook host {host} is refused: {problem}. Exports go only to public "
                    "addresses (an operator may allow internal hosts in WEBHOOK_ALLOWED_HOSTS)."
                ),
                host=repr(target.host),
                problem=problem,
            )
    return found
