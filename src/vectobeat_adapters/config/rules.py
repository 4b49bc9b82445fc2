"""The checks configuration variables declare (`vectobeat_adapters.config.fields.Check`): URL
shapes, ports, secrets (placeholders, lengths, prefixes) and the values with their own grammar.

Each returns an `Invalid` with the fix, or ``None``; the grammar itself stays where it is used
(the core's parsers, the SQL URL normaliser, the keyring), so a check can never disagree with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from vectobeat_adapters.config.fields import Check, Invalid, Lookup
from vectobeat_core.billing import PriceCatalogue
from vectobeat_core.care import parse_staff_ids
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.forwarding import parse_trusted_proxies
from vectobeat_core.regions import Region
from vectobeat_core.webhook_targets import parse_allowed_hosts

__all__ = [
    "GENERATE_SECRET",
    "at_least",
    "database_url",
    "discord_token",
    "encryption_keys",
    "grammar",
    "min_length",
    "one_of",
    "plans_file",
    "port",
    "prefixed",
    "redis_url",
    "region",
    "snowflake",
    "staff_user_ids",
    "trusted_proxies",
    "url",
]

GENERATE_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'  # noqa: S105 - a command, not a secret
_DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")
_SNOWFLAKE = re.compile(r"[0-9]{15,20}")


def url(*schemes: str) -> Check:
    """A URL with one of ``schemes`` (http/https when none are named) and a host."""
    allowed = schemes or ("http", "https")

    def check(value: str, _: Lookup) -> Invalid | None:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            return Invalid(f"is not a valid URL ({exc})", "write it as scheme://host[:port]/...")
        if parts.scheme not in allowed:
            got = parts.scheme or "no scheme"
            return Invalid(
                f"must start with {' or '.join(s + '://' for s in allowed)} (got {got!r})",
                f"write it as {allowed[0]}://host:port/...",
            )
        if parts.scheme != "unix" and not parts.hostname:
            return Invalid("names no host", f"write it as {allowed[0]}://host:port")
        return None

    return check


_plain_redis_url = url("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel")


def redis_url(value: str, lookup: Lookup) -> Invalid | None:
    """One Redis server's URL, or a Sentinel URL (its own parser decides)."""
    from vectobeat_adapters.redis_url import SENTINEL_SCHEMES, parse_redis_url  # noqa: PLC0415

    if not value.startswith(tuple(s + "://" for s in SENTINEL_SCHEMES)):
        return _plain_redis_url(value, lookup)
    return grammar(
        parse_redis_url,
        "write it as redis+sentinel://[user:password@]host1:26379,host2:26379/service_name[/db]",
    )(value, lookup)


def database_url(value: str, _: Lookup) -> Invalid | None:
    """A URL the SQL adapter can open (its own normaliser decides)."""
    from vectobeat_adapters.sql.engine import normalize_url  # noqa: PLC0415 - SQLAlchemy, lazily

    try:
        normalize_url(value)
    except VectoBeatError as exc:
        return Invalid(
            exc.message,
            "use sqlite+aiosqlite:///./vectobeat.db, mysql+aiomysql://user:pw@host/db "
            "or postgresql+asyncpg://user:pw@host/db",
        )
    return None


def port(value: str, _: Lookup) -> Invalid | None:
    """A TCP port; 0 lets the system pick a free one."""
    number = int(value)
    if not 0 <= number <= 65535:
        return Invalid(
            f"port {number} is outside 0-65535",
            "pick a port from 1024 to 65535 (0 picks a free one)",
        )
    return None


def at_least(minimum: int, fix: str) -> Check:
    """A number of at least ``minimum``."""

    def check(value: str, _: Lookup) -> Invalid | None:
        return Invalid(f"must be at least {minimum}", fix) if float(value) < minimum else None

    return check


def between(minimum: int, maximum: int, fix: str) -> Check:
    """A number from ``minimum`` to ``maximum``, both included."""

    def check(value: str, _: Lookup) -> Invalid | None:
        if minimum <= float(value) <= maximum:
            return None
        return Invalid(f"must be from {minimum} to {maximum}", fix)

    return check


def min_length(minimum: int) -> Check:
    """A secret of at least ``minimum`` characters."""

    def check(value: str, _: Lookup) -> Invalid | None:
        if len(value) < minimum:
            return Invalid(
                f"is too short ({len(value)} characters, needs {minimum}+)",
                f"generate one: {GENERATE_SECRET}",
            )
        return None

    return check


def prefixed(prefixes: tuple[str, ...], message: str, fix: str) -> Check:
    """A key that starts with one of ``prefixes`` (``message`` says which)."""

    def check(value: str, _: Lookup) -> Invalid | None:
        return None if value.startswith(prefixes) else Invalid(message, fix)

    return check


def discord_token(value: str, _: Lookup) -> Invalid | None:
    """Three dot-separated base64 parts, as the Developer Portal shows a bot token."""
    if _DISCORD_TOKEN.fullmatch(value):
        return None
    return Invalid(
        f"does not look like a Discord bot token ({len(value)} characters; "
        "a token is three dot-separated base64 parts, 59+ characters)",
        "copy the token again from the Developer Portal (Bot > Reset Token); no 'Bot ' prefix",
    )


def snowflake(value: str, _: Lookup) -> Invalid | None:
    """A Discord application id."""
    if _SNOWFLAKE.fullmatch(value):
        return None
    return Invalid(
        f"{value[:24]!r} is not an application id (15-20 digits)",
        "copy the Application ID from the Developer Portal (General Information)",
    )


def encryption_keys(value: str, _: Lookup) -> Invalid | None:
    """Keys the keyring accepts."""
    from vectobeat_adapters.crypto import Keyring  # noqa: PLC0415 - cryptography, lazily

    return grammar(
        Keyring.from_config,
        'generate a key: python3 -c "from vectobeat_adapters.crypto import Keyring; '
        'print(Keyring.generate_key())"',
    )(value, _)


def region(value: str, _: Lookup) -> Invalid | None:
    """A region name or ``auto``."""
    names = [r.value for r in Region]
    if value.lower() in names:
        return None
    return Invalid(f"unknown region {value!r}", f"use one of {', '.join(names)}")


def one_of(what: str, choices: tuple[str, ...], fix: str) -> Check:
    """One of ``choices`` (case-insensitive)."""
    lowered = {c.lower() for c in choices}

    def check(value: str, _: Lookup) -> Invalid | None:
        return None if value.lower() in lowered else Invalid(f"unknown {what} {value!r}", fix)

    return check


def grammar(parse: Callable[[str], object], fix: str) -> Check:
    """A value its own parser accepts; the parser's message says what is wrong."""

    def check(value: str, _: Lookup) -> Invalid | None:
        try:
            parse(value)
        except VectoBeatError as exc:
            return Invalid(exc.message, fix)
        return None

    return check


def _read_plans(value: str) -> object:
    from vectobeat_adapters.config.model import AppConfig  # noqa: PLC0415 - the model uses us
    from vectobeat_adapters.services import load_catalogue  # noqa: PLC0415 - heavy, lazily

    return load_catalogue(AppConfig(plans_file=value))


plans_file = grammar(_read_plans, "point PLANS_FILE at a readable plan matrix (JSON) or unset it")
stripe_prices = grammar(
    PriceCatalogue.parse,
    "write each plan for sale as tier=price_id, comma separated, with the price ids from the "
    "Stripe dashboard (Product catalogue), e.g. starter=price_1AbC,pro=price_2DeF; tiers are "
    "starter, pro, growth, scale, enterprise",
)
staff_user_ids = grammar(
    parse_staff_ids,
    "list your staff's Discord user ids (Developer Mode > Copy User ID), comma separated, "
    "e.g. 123456789012345678,223456789012345678",
)
trusted_proxies = grammar(
    parse_trusted_proxies,
    "list the proxies' addresses or networks, comma separated, e.g. 10.0.0.0/8,192.168.1.10",
)
allowed_hosts = grammar(
    parse_allowed_hosts,
    "list bare host names or IPs, comma separated, e.g. receiver.internal,10.0.0.5",
)
