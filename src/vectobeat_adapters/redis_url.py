"""``REDIS_URL``'s grammar, without importing redis-py (the configuration checks it, and redis is
an optional extra).

A plain URL (``redis://``, ``rediss://``, ``unix://``) names one server. A Sentinel URL names the
sentinels that watch a primary, and the primary by its service name:
``redis+sentinel://[user:password@]host1[:26379],host2[:26379]/service[/db]``
(``rediss+sentinel://`` speaks TLS to the primary). The user and password are the primary's;
sentinels protected by a password of their own take ``?sentinel_password=...``.
:attr:`RedisTarget.where` describes either kind without user or password, for messages and logs.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from vectobeat_core.errors import ConfigError

__all__ = ["SENTINEL_PORT", "SENTINEL_SCHEMES", "RedisTarget", "describe_url", "parse_redis_url"]

SENTINEL_PORT = 26379
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
_PLAIN_SCHEMES = ("redis", "rediss", "unix")
_SENTINEL_SHAPE = "redis+sentinel://[user:password@]host1:26379,host2:26379/service_name[/db]"


@attrs.frozen
class RedisTarget:
    """What ``REDIS_URL`` points at: one server, or a primary found through sentinels."""

    where: str
    """``host:port/db`` (or ``sentinel host:port,.../service/db``), never a user or password."""
    password: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    tls: bool = False
    sentinel_password: str | None = None

    @property
    def is_sentinel(self) -> bool:
        return bool(self.sentinels)


def describe_url(url: str) -> str:
    """``host:port/db`` of a Redis URL (a Sentinel URL: its sentinels and service), no password."""
    return parse_redis_url(url).where


def parse_redis_url(url: str) -> RedisTarget:
    """The target of ``url``; ``ConfigError`` saying what is wrong and the shape to use."""
    scheme, sep, _ = url.partition("://")
    if not sep or scheme not in (*_PLAIN_SCHEMES, *SENTINEL_SCHEMES):
        raise ConfigError(
            "REDIS_URL must start with redis://, rediss://, unix:// or redis+sentinel:// "
            f"(got {scheme + '://' if sep else 'no scheme'}...)."
        )
    if scheme in SENTINEL_SCHEMES:
        return _sentinel_target(url, tls=scheme.startswith("rediss"))
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL is not a valid URL ({exc}).") from None
    if scheme == "unix":
        return RedisTarget(where=f"unix:{parts.path}", password=parts.password)
    db = parts.path.strip("/") or "0"
    return RedisTarget(
        where=f"{parts.hostname or 'localhost'}:{port}/{db}",
        password=unquote(parts.password) if parts.password else None,
        username=unquote(parts.username) if parts.username else None,
        tls=scheme == "rediss",
    )


def _sentinel_target(url: str, *, tls: bool) -> RedisTarget:
    rest = url.partition("://")[2]
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    credentials, at, hosts = netloc.rpartition("@")
    if not at:
        hosts = netloc
    sentinels = tuple(_sentinel_address(part) for part in hosts.split(","))
    segments = [s for s in path.split("/") if s]
    if not segments or len(segments) > 2:
        raise ConfigError(
            f"REDIS_URL names no primary service after the sentinels; write it as {_SENTINEL_SHAPE}."
        )
    service = unquote(segments[0])
    db_text = segments[1] if len(segments) == 2 else "0"
    if not db_text.isdigit():
        raise ConfigError(f"REDIS_URL's database {db_text!r} is not a number (0-15 usually).")
    user, _, password = credentials.partition(":")
    options = parse_qs(query, keep_blank_values=False)
    unknown = sorted(set(options) - {"sentinel_password"})
    if unknown:
        raise ConfigError(
            f"REDIS_URL has unknown option(s) {', '.join(unknown)}; a Sentinel URL takes "
            "only ?sentinel_password=."
        )
    listed = ",".join(f"{host}:{port}" for host, port in sentinels)
    return RedisTarget(
        where=f"sentinel {listed}/{service}/{int(db_text)}",
        password=unquote(password) if password else None,
        sentinels=sentinels,
        service=service,
        db=int(db_text),
        username=unquote(user) if user else None,
        tls=tls,
        sentinel_password=options["sentinel_password"][0] if options else None,
    )


def _sentinel_address(text: str) -> tuple[str, int]:
    host, port = text.strip(), str(SENTINEL_PORT)
    if host.startswith("["):  # [IPv6]:port
        inner, _, tail = host[1:].partition("]")
        host, port = inner, tail.removeprefix(":") or port
    elif host.count(":") == 1:
        host, port = host.split(":")
    if not host:
        raise ConfigError(f"REDIS_URL lists an empty sentinel; write it as {_SENTINEL_SHAPE}.")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"REDIS_URL's sentinel {text.strip()!r} has no valid port (1-65535).")
    return host, int(port)
