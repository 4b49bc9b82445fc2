"""The SSRF rules of webhook exports (`vectobeat_core.webhook_targets`) and their save-time use in
`merge_settings`: examples for every class of address, and properties over generated addresses."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.errors import InvalidInput, InvalidSettings
from vectobeat_core.settings import ServerSettings, merge_settings
from vectobeat_core.webhook_targets import (
    UnsafeWebhookTarget,
    address_problem,
    check_addresses,
    parse_allowed_hosts,
    parse_target,
)

BAD = [
    ("127.0.0.1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.1.1", "link-local"),
    ("100.100.100.200", "cloud metadata"),
    ("100.64.0.1", "not a public address"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "private"),  # Python counts 240/4 as private
    ("255.255.255.255", "private"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd00:ec2::254", "cloud metadata"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "cloud metadata"),
    ("::127.0.0.1", "loopback"),
    ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "cloud metadata"),
    ("2002:7f00:1::", "loopback"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "tunnelled"),
    ("64:ff9b:1::1", "tunnelled"),
]
GOOD = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "says"), BAD)
def test_non_public_addresses_are_refused_with_the_reason(address: str, says: str) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None and says in str(problem)


@pytest.mark.parametrize("address", GOOD)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_and_its_ipv6_forms_are_judged_alike(
    address: ipaddress.IPv4Address,
) -> None:
    verdict = address_problem(address) is None
    for form in (
        ipaddress.IPv6Address(f"::ffff:{address}"),  # mapped
        ipaddress.IPv6Address((0x64FF9B << 96) | int(address)),  # NAT64
    ):
        assert (address_problem(form) is None) == verdict, form


@given(st.ip_addresses())
def test_only_global_addresses_pass(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if address_problem(address) is None:
        embedded = getattr(address, "ipv4_mapped", None) or getattr(address, "sixtofour", None)
        assert (
            address.is_global
            or embedded is not None
            or address in ipaddress.ip_network("64:ff9b::/96")
        )
        assert not address.is_loopback and not address.is_link_local and not address.is_multicast


@given(st.ip_addresses(v=4))
def test_integer_forms_of_any_address_are_refused(address: ipaddress.IPv4Address) -> None:
    value = int(address)
    octets = str(address).split(".")
    for host in (
        str(value),
        hex(value),
        ".".join(f"0{int(o):o}" for o in octets),
        f"{octets[0]}.{int(octets[1]) * 65536 + int(octets[2]) * 256 + int(octets[3])}",
        f"0x{int(octets[0]):x}.{octets[1]}.{octets[2]}.{octets[3]}",
    ):
        with pytest.raises(UnsafeWebhookTarget):
            parse_target(f"https://{host}/hook")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://169.254.169.254/latest/meta-data/", "https://"),
        ("http://[::1]", "https://"),
        ("http://2130706433", "https://"),
        ("https://2130706433/", "written as a number"),
        ("https://0177.0.0.1/", "written as a number"),
        ("https://0x7f.1/", "written as a number"),
        ("https://127.1/", "written as a number"),
        ("https://[::1]/", "loopback"),
        ("https://[fe80::1%25eth0]/", "zone id"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
        ("ftp://hooks.example.com/", "https://"),
        ("https:///nohost", "needs a host"),
        ("https://bad_host!.example/", "not a valid host name"),
        ("https://hooks.example.com:0/", "port must be from 1"),
    ],
)
def test_unsafe_urls_are_refused(url: str, says: str) -> None:
    with pytest.raises(UnsafeWebhookTarget) as caught:
        parse_target(url)
    assert says in caught.value.message


def test_https_url_is_read_into_a_target() -> None:
    target = parse_target("https://Hooks.Example.com:8443/v1/x?y=1")
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/v1/x?y=1")
    assert target.authority == "hooks.example.com:8443" and not target.allow_listed
    assert parse_target("https://[2606:4700::1]/").authority == "[2606:4700::1]"


def test_allow_list_lets_http_and_internal_addresses_but_never_metadata() -> None:
    hosts = parse_allowed_hosts(" Receiver.Internal , 127.0.0.1,")
    assert hosts == {"receiver.internal", "127.0.0.1"}
    target = parse_target("http://receiver.internal:8080/hook", hosts)
    assert target.allow_listed
    assert check_addresses(target, [ipaddress.ip_address("10.0.0.5")])
    with pytest.raises(UnsafeWebhookTarget, match="cloud metadata"):
        check_addresses(target, [ipaddress.ip_address("169.254.169.254")])
    assert parse_target("http://127.0.0.1:9/x", hosts).literal == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(UnsafeWebhookTarget):
        parse_target("http://other.internal/", hosts)


def test_one_bad_address_refuses_the_host() -> None:
    target = parse_target("https://hooks.example.com/")
    good = ipaddress.ip_address("93.184.216.34")
    assert check_addresses(target, [good, good]) == (good,)
    with pytest.raises(UnsafeWebhookTarget, match=r"10\.0\.0\.7 is a private address"):
        check_addresses(target, [good, ipaddress.ip_address("10.0.0.7")])
    with pytest.raises(UnsafeWebhookTarget, match="no address"):
        check_addresses(target, [])


@pytest.mark.parametrize("entry", ["https://x.example", "x.example:80", "x.example/path", "a b"])
def test_allow_list_entries_must_be_bare_hosts(entry: str) -> None:
    with pytest.raises(InvalidInput, match="WEBHOOK_ALLOWED_HOSTS"):
        parse_allowed_hosts(entry)


def test_saving_refuses_unsafe_urls_but_stored_ones_still_read() -> None:
    base = ServerSettings()
    with pytest.raises(InvalidSettings) as caught:
        merge_settings(base, {"webhook_export_url": "http://hooks.example.com/"}, webhook_hosts=())
    assert "https://" in caught.value.problems["webhook_export_url"]
    with pytest.raises(InvalidSettings):
        merge_settings(base, {"webhook_export_url": "https://10.0.0.1/"}, webhook_hosts=())
    saved = merge_settings(
        base, {"webhook_export_url": "http://127.0.0.1:9/x"}, webhook_hosts={"127.0.0.1"}
    )
    assert saved.webhook_export_url == "http://127.0.0.1:9/x"
    # an unchanged URL is not judged again, and reading stored settings applies no save rules
    again = merge_settings(saved, {"webhook_export_url": "http://127.0.0.1:9/x"}, webhook_hosts=())
    assert again == saved
    assert merge_settings(base, {"webhook_export_url": "http://x.example/"}).webhook_export_url


@given(st.text(max_size=80), st.sampled_from(["https://", "http://", ""]))
def test_any_text_is_a_target_or_a_clear_refusal(text: str, scheme: str) -> None:
    try:
        target = parse_target(scheme + text)
    except UnsafeWebhookTarget as exc:
        refusal: str | None = exc.message
    else:
        refusal = None
    if refusal is not None:
        assert refusal.startswith("The webhook")
    else:
        assert target.scheme == "https" and target.host and 0 < target.port < 65536
        assert target.literal is None or address_problem(target.literal) is None


def test_odd_inputs_are_refused_clearly() -> None:
    import ipaddress

    with pytest.raises(InvalidInput, match="needs an IP address"):
        address_problem("127.0.0.1")  # type: ignore[arg-type]
    assert "site-local" in str(address_problem(ipaddress.IPv6Address("fec0::1")))
    with pytest.raises(UnsafeWebhookTarget, match="must be text"):
        parse_target(42)  # type: ignore[arg-type]
    with pytest.raises(UnsafeWebhookTarget, match="zone id"):
        parse_target("https://[fe80::1%25eth0]/hook")


def test_no_allow_list_is_an_empty_one() -> None:
    assert parse_allowed_hosts(None) == frozenset()
