"""The checks behind ``validate-env``: what each component needs, in what shape, and whether the
servers it names answer. Every problem carries the variable, a message and the fix.

``check_environment(env, component)`` is synchronous and reads only the mapping it is given;
``check_connections(config)`` opens the database, Redis and each Lavalink node (``--connect``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import anyio
import attrs
import httpx

from vectobeat_adapters.config import FIELDS, AppConfig, Field, read_dotenv
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.services import load_catalogue
from vectobeat_adapters.sql.engine import normalize_url, open_database
from vectobeat_core.billing import PriceCatalogue
from vectobeat_core.care import parse_staff_ids
from vectobeat_core.errors import ConfigError, InvalidInput, VectoBeatError
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, parse_node_list
from vectobeat_core.webhook_targets import parse_allowed_hosts

__all__ = [
    "COMPONENTS",
    "Problem",
    "check_connections",
    "check_environment",
    "gather_environment",
    "is_placeholder",
]

Severity = Literal["error", "warning"]
COMPONENTS = ("bot", "panel", "ops")
CONNECT_TIMEOUT = 5.0

PLACEHOLDERS = frozenset(
    {
        "changeme", "change-me", "change_me", "changethis", "replaceme", "replace-me",
        "replace_me", "your-token-here", "your_token_here", "yourtoken", "your-token",
        "your-secret-here", "your_secret_here", "your-key-here", "your_key_here", "token",
        "secret", "password", "xxx", "xxxx", "todo", "tbd", "fixme", "placeholder", "example",
        "dummy", "test", "none", "null", "...",
    }
)  # fmt: skip

REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "bot": (
        (
            "DISCORD_TOKEN",
            "set DISCORD_TOKEN to the bot token from https://discord.com/developers/applications "
            "(Bot > Reset Token); without it `vectobeat-ops up` runs the sandbox instead",
        ),
        (
            "LAVALINK_NODES",
            "list your Lavalink nodes as region:name:http(s)://host:port[:password], "
            "e.g. eu:eu-1:http://10.0.0.5:2333",
        ),
        (
            "BOT_BRIDGE_TOKEN",
            "set BOT_BRIDGE_TOKEN to the same 32+ character secret in the bot and the panel, "
            'e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))"',
        ),
    ),
    "panel": (
        (
            "DISCORD_CLIENT_ID",
            "set DISCORD_CLIENT_ID to the application id (Developer Portal > OAuth2)",
        ),
        (
            "DISCORD_CLIENT_SECRET",
            "set DISCORD_CLIENT_SECRET to the OAuth2 client secret (Developer Portal > OAuth2)",
        ),
        (
            "SESSION_SECRET",
            'set SESSION_SECRET to 32+ random characters: python3 -c "import secrets; '
            'print(secrets.token_urlsafe(32))"',
        ),
        (
            "BOT_BRIDGE_TOKEN",
            "set BOT_BRIDGE_TOKEN to the same 32+ character secret in the bot and the panel",
        ),
    ),
    "ops": (),
}

MIN_SECRET = {
    "BOT_BRIDGE_TOKEN": 32,
    "SESSION_SECRET": 32,
    "STATUS_TOKEN": 32,
    "DISCORD_CLIENT_SECRET": 16,
    "LAVALINK_PASSWORD": 8,
    "WEBHOOK_SIGNING_SECRET": 16,
    "ALARM_PAGERDUTY_ROUTING_KEY": 32,
}
PREFIXES = {
    "STRIPE_SECRET_KEY": (("sk_", "rk_"), "a Stripe secret key starts with sk_ (or rk_)"),
    "STRIPE_WEBHOOK_SECRET": (("whsec_",), "a Stripe webhook secret starts with whsec_"),
}
URL_SCHEMES = {
    "REDIS_URL": ("redis", "rediss", "unix"),
    "DISCORD_GATEWAY_URL": ("ws", "wss"),
}
DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}")
SNOWFLAKE = re.compile(r"[0-9]{15,20}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@attrs.frozen
class Problem:
    """One thing wrong with the configuration, and how to fix it."""

    variable: str
    severity: Severity
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return attrs.asdict(self)


def gather_environment(environ: Mapping[str, str], dotenv: Path) -> dict[str, str]:
    """``.env`` overlaid by the environment, as the apps read them (``ConfigError`` if unreadable)."""
    merged = dict(read_dotenv(dotenv))
    merged.update(environ)
    return merged


def _value(env: Mapping[str, str], name: str) -> str | None:
    for key in (f"VECTOBEAT_{name}", name):
        value = env.get(key)
        if value is not None and value.strip():
            return value.strip()
    return None


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is a known example value rather than a real secret."""
    lowered = value.strip().strip("\"'").lower()
    if lowered in PLACEHOLDERS:
        return True
    if lowered.startswith("<") and lowered.endswith(">"):
        return True
    return lowered.startswith(("your-", "your_", "changeme", "change-me", "replace-me", "xxxx"))


def _needed_by(field: Field, component: str) -> bool:
    return component == "all" or component in field.components


def _check_url(field: Field, value: str) -> Problem | None:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return Problem(
            field.env,
            "error",
            f"is not a valid URL ({exc})",
            "write it as scheme://host[:port]/...",
        )
    if field.env == "DATABASE_URL":
        try:
            normalize_url(value)
        except ConfigError as exc:
            return Problem(
                field.env,
                "error",
                exc.message,
                "use sqlite+aiosqlite:///./vectobeat.db, mysql+aiomysql://user:pw@host/db "
                "or postgresql+asyncpg://user:pw@host/db",
            )
        return None
    allowed = URL_SCHEMES.get(field.env, ("http", "https"))
    if parts.scheme not in allowed:
        return Problem(
            field.env,
            "error",
            f"must start with {' or '.join(s + '://' for s in allowed)} (got {parts.scheme or 'no scheme'!r})",
            f"write it as {allowed[0]}://host:port/...",
        )
    if parts.scheme != "unix" and not parts.hostname:
        return Problem(field.env, "error", "names no host", f"write it as {allowed[0]}://host:port")
    if port is not None and not 1 <= port <= 65535:  # pragma: no cover - urlsplit rejects these
        return Problem(field.env, "error", "has a port outside 1-65535", "fix the port")
    return None


def _check_int(field: Field, value: str) -> Problem | None:
    if not re.fullmatch(r"-?[0-9]+", value):
        return Problem(
            field.env, "error", f"must be a whole number, got {value!r}", "use digits only"
        )
    number = int(value)
    if field.env.endswith("_PORT") and not 0 <= number <= 65535:
        return Problem(
            field.env,
            "error",
            f"port {number} is outside 0-65535",
            "pick a port from 1024 to 65535 (0 picks a free one)",
        )
    if field.env == "SHARD_COUNT" and number < 1:
        return Problem(field.env, "error", "must be at least 1", "unset it to let Discord decide")
    return None


def _check_secret(field: Field, value: str) -> Problem | None:
    if is_placeholder(value):
        return Problem(
            field.env,
            "error",
            f"holds a placeholder value ({value[:16]!r}), not a real secret",
            f"replace it with the real {field.env.lower().replace('_', ' ')}",
        )
    if field.env == "DISCORD_TOKEN" and not DISCORD_TOKEN.fullmatch(value):
        return Problem(
            field.env,
            "error",
            f"does not look like a Discord bot token ({len(value)} characters; "
            "a token is three dot-separated base64 parts, 59+ characters)",
            "copy the token again from the Developer Portal (Bot > Reset Token); no 'Bot ' prefix",
        )
    minimum = MIN_SECRET.get(field.env)
    if minimum is not None and len(value) < minimum:
        return Problem(
            field.env,
            "error",
            f"is too short ({len(value)} characters, needs {minimum}+)",
            'generate one: python3 -c "import secrets; print(secrets.token_urlsafe(32))"',
        )
    prefix = PREFIXES.get(field.env)
    if prefix is not None and not value.startswith(prefix[0]):
        return Problem(field.env, "error", prefix[1], "copy it again from the Stripe dashboard")
    if field.env == "ENCRYPTION_KEYS":
        try:
            Keyring.from_config(value)
        except ConfigError as exc:
            return Problem(
                field.env,
                "error",
                exc.message,
                'generate a key: python3 -c "from vectobeat_adapters.crypto import Keyring; '
                'print(Keyring.generate_key())"',
            )
    return None


def _check_special(env: Mapping[str, str], field: Field, value: str) -> list[Problem]:
    if field.env == "LAVALINK_NODES":
        try:
            parse_node_list(value, _value(env, "LAVALINK_PASSWORD"))
        except InvalidInput as exc:
            return [
                Problem(
                    field.env,
                    "error",
                    exc.message,
                    "write each node as region:name:http(s)://host:port[:password] with region "
                    "us, eu or apac, comma separated, e.g. eu:eu-1:http://10.0.0.5:2333:pw",
                )
            ]
    elif field.env == "REGION" and value.lower() not in {r.value for r in Region}:
        return [
            Problem(
                field.env,
                "error",
                f"unknown region {value!r}",
                f"use one of {', '.join(r.value for r in Region)}",
            )
        ]
    elif field.env == "DISCORD_CLIENT_ID" and not SNOWFLAKE.fullmatch(value):
        return [
            Problem(
                field.env,
                "error",
                f"{value[:24]!r} is not an application id (15-20 digits)",
                "copy the Application ID from the Developer Portal (General Information)",
            )
        ]
    elif field.env == "LOG_LEVEL" and value.upper() not in LOG_LEVELS:
        return [
            Problem(
                field.env,
                "error",
                f"unknown log level {value!r}",
                "use DEBUG, INFO, WARNING or ERROR",
            )
        ]
    elif field.env == "LOG_FORMAT" and value.lower() not in {"console", "json"}:
        return [Problem(field.env, "error", f"unknown log format {value!r}", "use console or json")]
    elif field.env == "STRIPE_PRICES":
        try:
            PriceCatalogue.parse(value)
        except InvalidInput as exc:
            return [
                Problem(
                    field.env,
                    "error",
                    exc.message,
                    "write each plan for sale as tier=price_id, comma separated, with the price "
                    "ids from the Stripe dashboard (Product catalogue), e.g. "
                    "starter=price_1AbC,pro=price_2DeF; tiers are starter, pro, growth, scale, "
                    "enterprise",
                )
            ]
    elif field.env == "WEBHOOK_ALLOWED_HOSTS":
        try:
            parse_allowed_hosts(value)
        except InvalidInput as exc:
            return [
                Problem(
                    field.env,
                    "error",
                    exc.message,
                    "list bare host names or IPs, comma separated, e.g. receiver.internal,10.0.0.5",
                )
            ]
    elif field.env == "STAFF_USER_IDS":
        try:
            parse_staff_ids(value)
        except InvalidInput as exc:
            return [
                Problem(
                    field.env,
                    "error",
                    exc.message,
                    "list your staff's Discord user ids (Developer Mode > Copy User ID), comma "
                    "separated, e.g. 123456789012345678,223456789012345678",
                )
            ]
    elif field.env == "PLANS_FILE":
        try:
            load_catalogue(AppConfig(plans_file=value))
        except VectoBeatError as exc:
            return [
                Problem(
                    field.env,
                    "error",
                    exc.message,
                    "point PLANS_FILE at a readable plan matrix (JSON) or unset it",
                )
            ]
    return []


def _check_stripe(env: Mapping[str, str]) -> list[Problem]:
    """Billing needs the API key and the webhook secret together, and something to sell."""
    key = _value(env, "STRIPE_SECRET_KEY")
    hook = _value(env, "STRIPE_WEBHOOK_SECRET")
    if key is not None and hook is None:
        return [
            Problem(
                "STRIPE_WEBHOOK_SECRET",
                "error",
                "is not set while STRIPE_SECRET_KEY is: purchases would never reach the guilds",
                "add a webhook endpoint <PANEL_URL>/api/webhooks/stripe in the Stripe dashboard "
                "(Developers > Webhooks) and copy its signing secret (whsec_...) here; or unset "
                "STRIPE_SECRET_KEY to turn billing off",
            )
        ]
    if key is None and hook is not None:
        return [
            Problem(
                "STRIPE_SECRET_KEY",
                "error",
                "is not set while STRIPE_WEBHOOK_SECRET is: nobody can buy a plan",
                "copy the secret key (sk_...) from the Stripe dashboard (Developers > API keys); "
                "or unset STRIPE_WEBHOOK_SECRET to turn billing off",
            )
        ]
    if key is not None and _value(env, "STRIPE_PRICES") is None:
        return [
            Problem(
                "STRIPE_PRICES",
                "warning",
                "is not set, so billing is on but no plan is for sale",
                "list the plans for sale as tier=price_id, e.g. starter=price_1AbC,pro=price_2DeF",
            )
        ]
    return []


def check_environment(env: Mapping[str, str], component: str = "all") -> list[Problem]:
    """Every problem of ``env`` for ``component`` (bot, panel, ops or all), errors first."""
    problems: list[Problem] = []
    components = COMPONENTS if component == "all" else (component,)
    required: dict[str, str] = {}
    for name in components:
        for variable, fix in REQUIRED[name]:
            required.setdefault(variable, fix)
    for field in FIELDS:
        if not _needed_by(field, component):
            continue
        value = _value(env, field.env)
        if value is None:
            if field.env in required:
                problems.append(Problem(field.env, "error", "is not set", required[field.env]))
            continue
        single: Problem | None = None
        if field.kind == "url":
            single = _check_url(field, value)
        elif field.kind == "int":
            single = _check_int(field, value)
        if single is None and field.secret:
            single = _check_secret(field, value)
        if single is not None:
            problems.append(single)
            continue
        problems.extend(_check_special(env, field, value))
    if component in ("panel", "all"):
        problems.extend(_check_stripe(env))
    known = {f"VECTOBEAT_{f.env}" for f in FIELDS}
    for key in sorted(env):
        if (
            key.startswith("VECTOBEAT_")
            and key not in known
            and key != "VECTOBEAT_REQUIRE_SERVICES"
        ):
            problems.append(
                Problem(
                    key,
                    "warning",
                    "is not a VectoBeat setting (a typo?)",
                    "see docs/configuration.md for the names",
                )
            )
    return sorted(problems, key=lambda p: (p.severity != "error",))


async def _check_database(url: str) -> Problem | None:
    try:
        with anyio.fail_after(CONNECT_TIMEOUT):
            async with open_database(url) as db:
                await db.ping()
    except TimeoutError:
        message = f"no answer within {CONNECT_TIMEOUT:g} s"
    except VectoBeatError as exc:
        message = exc.message
    else:
        return None
    return Problem(
        "DATABASE_URL",
        "error",
        f"the database is unreachable: {message}",
        "start the database server, check host, port, user and password in DATABASE_URL, "
        "then run `vectobeat-ops db upgrade`",
    )


async def _check_redis(url: str) -> Problem | None:
    from vectobeat_adapters.redis import open_redis  # noqa: PLC0415 - redis is an optional extra

    try:
        with anyio.fail_after(CONNECT_TIMEOUT):
            async with open_redis(url):
                pass
    except TimeoutError:
        message = f"no answer within {CONNECT_TIMEOUT:g} s"
    except VectoBeatError as exc:
        message = exc.message
    else:
        return None
    return Problem(
        "REDIS_URL",
        "error",
        f"Redis is unreachable: {message}",
        "start Redis or fix REDIS_URL (redis://[:password@]host:6379/0); unset it for one process",
    )


async def _check_node(client: httpx.AsyncClient, spec: NodeSpec) -> Problem | None:
    try:
        with anyio.fail_after(CONNECT_TIMEOUT):
            response = await client.get(
                f"{spec.uri}/version", headers={"Authorization": spec.password}
            )
    except (TimeoutError, httpx.HTTPError) as exc:
        message = f"no answer from {spec.uri} ({type(exc).__name__})"
    else:
        if response.status_code in (401, 403):
            message = f"{spec.uri} refused the password (HTTP {response.status_code})"
        elif response.status_code != 200:
            message = f"{spec.uri} answered HTTP {response.status_code}"
        elif not response.text.strip().startswith("4."):
            message = (
                f"{spec.uri} runs Lavalink {response.text.strip()[:20]!r}, VectoBeat needs 4.x"
            )
        else:
            return None
    return Problem(
        "LAVALINK_NODES",
        "error",
        f"node {spec.name} ({spec.region.value}): {message}",
        "start the node or fix its host, port and password in LAVALINK_NODES",
    )


async def check_connections(
    config: AppConfig, *, skip: frozenset[str] = frozenset()
) -> list[Problem]:
    """Reachability of the database, Redis (when set) and every Lavalink node; variables in
    ``skip`` (already reported as malformed) are not tried."""
    problems: list[Problem] = []
    found = None if "DATABASE_URL" in skip else await _check_database(config.database_url)
    if found is not None:
        problems.append(found)
    if config.redis_url and "REDIS_URL" not in skip:
        found = await _check_redis(config.redis_url)
        if found is not None:
            problems.append(found)
    if config.lavalink_nodes and not skip & {"LAVALINK_NODES", "LAVALINK_PASSWORD"}:
        password = config.lavalink_password.reveal() if config.lavalink_password else None
        try:
            specs = parse_node_list(config.lavalink_nodes, password)
        except InvalidInput:
            specs = ()  # already reported by check_environment
        async with httpx.AsyncClient() as client:
            for spec in specs:
                found = await _check_node(client, spec)
                if found is not None:
                    problems.append(found)
    return problems
