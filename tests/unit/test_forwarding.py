"""`vectobeat_core.forwarding`: TRUSTED_PROXIES and X-Forwarded-For, read right to left."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.errors import ConfigError
from vectobeat_core.forwarding import client_address, parse_trusted_proxies, rate_key

PROXIES = parse_trusted_proxies("10.0.0.0/8, 192.168.1.10,fd00::/8")

public_v4 = st.ip_addresses(v=4).filter(lambda a: a.is_global).map(str)
trusted_v4 = st.integers(0, 2**24 - 1).map(lambda n: str(ipaddress.IPv4Address(0x0A000000 + n)))


def test_parse_reads_addresses_and_networks_and_blank_trusts_nobody() -> None:
    assert [str(n) for n in PROXIES] == ["10.0.0.0/8", "192.168.1.10/32", "fd00::/8"]
    assert parse_trusted_proxies(None) == ()
    assert parse_trusted_proxies(" , ") == ()
    assert parse_trusted_proxies("10.1.2.3/8") == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "proxy.internal", "1.2.3", "::g"])
def test_parse_names_a_bad_entry(bad: str) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES entry"):
        parse_trusted_proxies(f"10.0.0.1,{bad}")


@given(client=public_v4, spoofed=st.lists(public_v4, max_size=3), hops=st.lists(trusted_v4))
def test_behind_trusted_proxies_the_client_is_the_first_untrusted_from_the_right(
    client: str, spoofed: list[str], hops: list[str]
) -> None:
    # whatever the client wrote itself (spoofed) sits left of what our proxies appended
    header = ", ".join([*spoofed, client, *hops])
    assert client_address("10.0.0.5", [header], PROXIES) == client


@given(peer=public_v4, claimed=public_v4)
def test_an_untrusted_peer_is_the_client_whatever_it_claims(peer: str, claimed: str) -> None:
    assert client_address(peer, [claimed], PROXIES) == peer
    assert client_address(peer, [claimed], ()) == peer


def test_edge_cases() -> None:
    # several headers count as one list, in the order received
    assert client_address("10.0.0.5", ["198.51.100.1", "10.0.0.9"], PROXIES) == "198.51.100.1"
    # no header from a trusted peer: the peer; every hop trusted: the leftmost
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["10.1.1.1, 192.168.1.10"], PROXIES) == "10.1.1.1"
    # ports and brackets are dropped, IPv4-mapped IPv6 is its IPv4 form
    assert client_address("10.0.0.5", ["198.51.100.7:4242"], PROXIES) == "198.51.100.7"
    assert client_address("10.0.0.5", ["[2001:db8::1]:443"], PROXIES) == "2001:db8::1"
    assert client_address("::ffff:10.0.0.5", ["::ffff:198.51.100.2"], PROXIES) == "198.51.100.2"
    # an entry that is no address stops the walk and is the key as written
    assert client_address("10.0.0.5", ["198.51.100.1, unknown"], PROXIES) == "unknown"
    # a peer that is no address (a unix socket) is the key
    assert client_address("unix", ["198.51.100.1"], PROXIES) == "unix"


@given(address=st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None))
def test_an_ipv6_client_counts_as_its_64(address: ipaddress.IPv6Address) -> None:
    key = rate_key(str(address))
    assert ipaddress.ip_network(key).prefixlen == 64
    assert address in ipaddress.ip_network(key)


def test_ipv4_and_non_addresses_count_as_themselves() -> None:
    assert rate_key("198.51.100.7") == "198.51.100.7"
    assert rate_key("unknown") == "unknown"
    assert rate_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert (
        rate_key("2001:db8:1:2:aaaa::1") == rate_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    )
