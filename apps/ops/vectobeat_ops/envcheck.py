"""The checks behind ``validate-env``: what each component needs, in what shape, and whether the
servers it names answer. Every problem carries the variable, a message and the fix.

``check_environment(env, component)`` is synchronous and reads only the mapping it is given;
``check_connections(config)`` opens the database, Redis and each Lavalink node (``--connect``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import anyio
import attrs
import httpx

from vectobeat_adapters.config import (
    FIELDS,
    AppConfig,
    Field,
    Lookup,
    gather_environment,
    is_placeholder,
    lookup_in,
    node_specs,
)
from vectobeat_adapters.sql.engine import open_database
from vectobeat_core.errors import ConfigError, VectoBeatError
from vectobeat_core.jsonform import dump_method
from vectobeat_core.routing import NodeSpec

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


@attrs.frozen
class Problem:
    """One thing wrong with the configuration, and how to fix it."""

    variable: str
    severity: Severity
    message: str
    fix: str

    to_json = dump_method()


def _needed_by(field: Field, component: str) -> bool:
    return component == "all" or component in field.components


def _required_by(field: Field, components: tuple[str, ...]) -> bool:
    return not set(field.required_by).isdisjoint(components)


def _check_stripe(lookup: Lookup) -> list[Problem]:
    """Billing needs the API key and the webhook secret together, and something to sell."""
    key = lookup("STRIPE_SECRET_KEY")
    hook = lookup("STRIPE_WEBHOOK_SECRET")
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
    if key is not None and lookup("STRIPE_PRICES") is None:
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
    lookup = lookup_in(env)
    for field in FIELDS:
        if not _needed_by(field, component):
            continue
        value = lookup(field.env)
        if value is None:
            if _required_by(field, components):
                fix = field.unset_fix or f"set {field.env}"
                problems.append(Problem(field.env, "error", "is not set", fix))
            continue
        invalid = field.invalid(value, lookup)
        if invalid is not None:
            problems.append(Problem(field.env, "error", invalid.message, invalid.fix))
    if component in ("panel", "all"):
        problems.extend(_check_stripe(lookup))
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
        try:
            specs = node_specs(config)
        except ConfigError:
            specs = ()  # already reported by check_environment
        async with httpx.AsyncClient() as client:
            for spec in specs:
                found = await _check_node(client, spec)
                if found is not None:
                    problems.append(found)
    return problems
