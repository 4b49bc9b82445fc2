"""``create_app(config)``: the panel as one Starlette app with explicit routes, one guard
middleware and a lifespan that opens the services once (or uses the ones it is given)."""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import anyio
import attrs
import httpx
import tenacity
from itsdangerous import Signer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from vectobeat_adapters.config import AppConfig, Secret, node_specs
from vectobeat_adapters.retrying import failure, supervise
from vectobeat_adapters.services import Services, http_timeout, open_services, store_timeout
from vectobeat_core.errors import ConfigError, VectoBeatError
from vectobeat_core.forwarding import parse_trusted_proxies
from vectobeat_core.playback import format_duration
from vectobeat_core.routing import NodeSpec
from vectobeat_panel.audit_pages import audit_routes
from vectobeat_panel.auth import auth_routes
from vectobeat_panel.billing import billing_routes
from vectobeat_panel.bridge import bridge_routes
from vectobeat_panel.care_pages import care_routes
from vectobeat_panel.changes import ChangeFeed
from vectobeat_panel.chart import NodeHistory
from vectobeat_panel.compliance_pages import compliance_desk, compliance_routes
from vectobeat_panel.control_pages import control_routes
from vectobeat_panel.errors import exception_handlers
from vectobeat_panel.guilds import guild_routes
from vectobeat_panel.languages import LanguageMiddleware, install_translations, language_routes
from vectobeat_panel.oauth import DiscordOAuth
from vectobeat_panel.observability import RequestContext, probe_routes
from vectobeat_panel.openapi import openapi_routes
from vectobeat_panel.queue_pages import queue_routes
from vectobeat_panel.rate_limits import RateLimiter
from vectobeat_panel.routing_pages import read_node_rows, record_samples, routing_routes
from vectobeat_panel.security import PanelGuard
from vectobeat_panel.sessions import MemorySessionStore, SessionStore
from vectobeat_panel.settings_flow import announce_erasure
from vectobeat_panel.settings_pages import settings_routes
from vectobeat_panel.shared_sessions import CacheSessionStore
from vectobeat_panel.state import HERE, Panel, PanelOptions, panel_of
from vectobeat_panel.tokens import token_routes
from vectobeat_panel.webhook_pages import webhook_routes
from vectobeat_panel.wording import install_filters

__all__ = ["build_routes", "create_app", "session_key"]

log = logging.getLogger("vectobeat.panel")


def _when(value: float | None) -> str:
    if value is None:
        return "—"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["when"] = _when
    install_filters(templates.env.filters)
    templates.env.filters["duration"] = format_duration
    install_translations(templates)
    return templates


def _node_specs(config: AppConfig) -> tuple[NodeSpec, ...]:
    if not config.lavalink_nodes:
        return ()
    # the panel only shows names and regions; it never connects, so any password will do
    shown = attrs.evolve(config, lavalink_password=config.lavalink_password or Secret("unused"))
    try:
        return node_specs(shown)
    except ConfigError as exc:
        log.warning("lavalink_nodes_unreadable", extra={"error": exc.message})
        return ()


async def health(request: Request) -> Response:
    """Each backend the panel needs (sql, redis), with its state; 503 when one is down."""
    report = await panel_of(request).services.ping_backends()
    dependencies = {
        name: {"state": "up"} if detail == "ok" else {"state": "down", "error": detail}
        for name, detail in report.items()
        if detail != "not configured"
    }
    ok = all(d["state"] == "up" for d in dependencies.values())
    body = {"status": "ok" if ok else "degraded", "dependencies": dependencies}
    return JSONResponse(body, status_code=200 if ok else 503)


def build_routes() -> list[BaseRoute]:
    """Every route of the panel, in one explicit list."""
    return [  # the busiest APIs first: Starlette matches routes in order
        *routing_routes(),
        *bridge_routes(),
        *guild_routes(),
        *auth_routes(),
        *settings_routes(),
        *queue_routes(),
        *control_routes(),
        *audit_routes(),
        *token_routes(),
        *webhook_routes(),
        *compliance_routes(),
        *billing_routes(),
        *care_routes(),
        *language_routes(),
        *openapi_routes(),
        Route("/api/health", health, methods=["GET"], name="health"),
        *probe_routes(),
        Route("/favicon.ico", _favicon, methods=["GET"], name="favicon"),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]


async def _favicon(_: Request) -> Response:
    """Browsers ask for /favicon.ico on pages without a <link rel=icon> (JSON, the probes)."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def _sample_nodes(panel: Panel) -> None:
    while True:
        try:
            record_samples(panel, await read_node_rows(panel))
        except VectoBeatError as exc:
            log.warning("node_sample_failed", extra={"error": exc.message})
        await anyio.sleep(panel.options.sample_interval)


async def _follow_channel(panel: Panel) -> None:
    """Feed changes published by other panel replicas into this one's long-poll feed; a lost
    subscription is taken up again a second later."""

    async def follow() -> None:
        async with panel.services.settings_channel.subscribe() as events:
            async for event in events:
                guild_id = getattr(event, "guild_id", None)
                version = getattr(event, "version", None)
                if guild_id is not None and isinstance(version, int):
                    panel.changes.append(guild_id, version)

    await supervise(
        follow,
        retry=tenacity.retry_if_exception_type(VectoBeatError),
        wait=tenacity.wait_fixed(1.0),
        idle=functools.partial(anyio.sleep, 1.0),
        before_sleep=lambda state: log.warning(
            "settings_channel_lost", extra={"error": str(failure(state))}
        ),
    )


def _share_rate_limits(limiter: RateLimiter, services: Services) -> None:
    """Count rate limits in Redis when the services have it (every replica shares them)."""
    if services.redis is None:
        return
    # limits is the panel's extra and Redis an optional one: imported only when configured
    from vectobeat_adapters.redis.rate_limit_storage import rate_limit_storage  # noqa: PLC0415

    limiter.share(rate_limit_storage(*services.redis))


SESSION_SECRET_MIN = 32


def session_key(config: AppConfig) -> str:
    """The key that signs session cookies: ``SESSION_SECRET``. Only the sandbox (no
    ``DISCORD_TOKEN``) may fall back to a per-process random key; in production every replica
    must sign with the same key, so a missing or short secret is a ``ConfigError`` at start."""
    if (
        config.session_secret is not None
        and len(config.session_secret.reveal()) >= SESSION_SECRET_MIN
    ):
        return config.session_secret.reveal()
    if config.discord_token is not None:
        raise ConfigError(
            "SESSION_SECRET is required when DISCORD_TOKEN is set (production): every panel "
            f"replica signs sessions with it; set it to {SESSION_SECRET_MIN}+ random characters"
        )
    log.warning("session_secret_missing_or_short: sandbox, using a per-process random key")
    return secrets.token_urlsafe(48)


def create_app(
    config: AppConfig,
    services: Services | None = None,
    *,
    options: PanelOptions | None = None,
    sessions: SessionStore | None = None,
    discord_transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The panel app. Without ``services`` the lifespan opens them from ``config`` once."""
    opts = options or PanelOptions()
    trusted_proxies = parse_trusted_proxies(config.trusted_proxies)
    limiter = RateLimiter(opts.rate_limits, timeout=store_timeout(config))
    secret = session_key(config)
    client_secret = config.discord_client_secret
    panel = Panel(
        config=config,
        options=opts,
        sessions=sessions or MemorySessionStore(),
        oauth=DiscordOAuth(
            api_base=config.discord_api_base,
            client_id=config.discord_client_id,
            client_secret=client_secret.reveal() if client_secret else None,
            redirect_uri=config.panel_url.rstrip("/") + "/auth/callback",
            transport=discord_transport,
            timeout=http_timeout(config),
        ),
        signer=Signer(secret, salt="vectobeat-session"),
        templates=_templates(),
        history=NodeHistory(),
        changes=ChangeFeed(),
        clock=clock,
        node_specs=_node_specs(config),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            opened = services
            if opened is None:
                opened = await stack.enter_async_context(open_services(config))
            panel.attach(opened)
            _share_rate_limits(limiter, opened)
            if sessions is None and opened.redis_configured:  # replicas share sessions
                panel.sessions = CacheSessionStore(
                    opened.telemetry, session_ttl=opts.session_ttl, login_ttl=opts.login_ttl
                )
            panel.compliance = compliance_desk(
                config, opened, secret, functools.partial(announce_erasure, panel)
            )
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(panel.compliance.run)  # start-up never waits for the store
                tasks.start_soon(_sample_nodes, panel)
                if opened.redis_configured:
                    tasks.start_soon(_follow_channel, panel)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
            limiter.share(None)
            panel.attach(None)

    if services is not None:
        panel.attach(services)
        _share_rate_limits(limiter, services)
    guard = Middleware(
        PanelGuard,
        resolve_session=panel.resolve_session,
        limiter=limiter,
        max_body_bytes=opts.max_body_bytes,
        hsts=config.panel_url.startswith("https://"),
        trusted_proxies=trusted_proxies,
    )
    app = Starlette(
        routes=build_routes(),
        middleware=[
            Middleware(RequestContext, metrics=panel.metrics),
            Middleware(LanguageMiddleware),
            guard,
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.panel = panel
    app.state.templates = panel.templates
    return app
