"""Who the client is behind reverse proxies (the panel keys its rate limits on it).

* `parse_trusted_proxies` reads ``TRUSTED_PROXIES``: addresses and CIDR networks, comma separated.
* `client_address` walks ``X-Forwarded-For`` right to left, starting from the TCP peer: while
  the hop that reported an address is a trusted proxy, the address it reported is believed; the
  first address not a trusted proxy is the client. A peer that is not trusted is the client
  itself, whatever its headers claim (anyone can send ``X-Forwarded-For``). Every hop trusted:
  the leftmost address. An entry that is no address (``unknown``, a ``_obfuscated`` name) stops
  the walk and is the client's key as written. IPv4-mapped IPv6 addresses count as their IPv4
  form, and a port written after an address (``1.2.3.4:5678``, ``[::1]:80``) is dropped.
* `rate_key` is what a client is counted as: an IPv4 address, or the /64 network of an IPv6
  address (one host usually holds a whole /64, so counting each address would let it multiply
  its budget and the counters).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TypeAlias

from vectobeat_core.errors import ConfigError

__all__ = ["IPV6_RATE_PREFIX", "Network", "client_address", "parse_trusted_proxies", "rate_key"]

IPV6_RATE_PREFIX = 64

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(text: str | None) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``: IPs or CIDR networks, comma separated (blank: trust no proxy)."""
    if not text or not text.strip():
        return ()
    networks: list[Network] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(
                f"TRUSTED_PROXIES entry {part[:40]!r} is not an IP address or CIDR network."
            ) from None
    return tuple(networks)


def _address(text: str) -> _Address | None:
    host = text.strip()
    if host.startswith("["):  # [IPv6]:port
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:  # IPv4:port
        host = host.partition(":")[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: _Address | None, trusted: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_address(peer: str, forwarded_for: Iterable[str], trusted: tuple[Network, ...]) -> str:
    """The client's address from the TCP ``peer`` and every ``X-Forwarded-For`` header value
    (in the order received), believing only ``trusted`` proxies."""
    peer_address = _address(peer)
    if not _trusted(peer_address, trusted):
        return str(peer_address) if peer_address is not None else peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    if not hops:
        return str(peer_address)
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return hop[:64]
        if not _trusted(address, trusted):
            return str(address)
    leftmost = _address(hops[0])
    return str(leftmost) if leftmost is not None else hops[0][:64]


def rate_key(client: str) -> str:
    """The key ``client`` (an address from `client_address`) is counted under."""
    address = _address(client)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_RATE_PREFIX), strict=False))
    return client if address is None else str(address)
