"""What every handler can reach: the `Panel` (config, services, sessions, OAuth, templates) and the
per-request helpers that read the session and check guild access.

Guild ids in paths use the ``snowflake`` convertor (registered here, before any route is built):
1 to 20 ASCII digits, so any other id is a 404 from the router, before a lookup or a login check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import attrs
from cachetools import LRUCache
from itsdangerous import BadSignature, Signer
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from vectobeat_adapters.care_desk import care_staff
from vectobeat_adapters.compliance.desk import ComplianceDesk
from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.services import Services
from vectobeat_adapters.webhooks.resolve import Resolver
from vectobeat_core.errors import (
    ConfigError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
)
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.jsontypes import snowflake
from vectobeat_core.routing import NodeSpec
from vectobeat_panel.changes import ChangeFeed
from vectobeat_panel.chart import NodeHistory
from vectobeat_panel.control_desk import ControlDesk
from vectobeat_panel.metrics import PanelMetrics
from vectobeat_panel.oauth import DiscordOAuth
from vectobeat_panel.security import RateLimits
from vectobeat_panel.sessions import ManagedGuild, Session, SessionStore

__all__ = [
    "Panel",
    "PanelOptions",
    "current_session",
    "manager_of",
    "panel_of",
    "panel_of_app",
    "render",
]

HERE = Path(__file__).parent


class SnowflakeConvertor(Convertor[int]):
    """A path segment of 1 to 20 ASCII digits (``int``'s convertor takes any length)."""

    regex = "[0-9]{1,20}"

    def convert(self, value: str) -> int:
        return int(value)  # at most 20 ASCII digits: cannot fail

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("snowflake", SnowflakeConvertor())


@attrs.frozen
class PanelOptions:
    """Tunables of one panel app (the defaults suit production)."""

    rate_limits: RateLimits = attrs.Factory(RateLimits)
    max_body_bytes: int = 64 * 1024
    session_ttl: float = 12 * 3600.0
    login_ttl: float = 600.0
    long_poll_max: float = 30.0
    sse_interval: float = 1.0
    sse_max_seconds: float = 300.0
    sample_interval: float = 30.0
    nodes_cache_seconds: float = 1.0
    control_wait: float = 8.0
    """How long a web playback control waits for the bot's answer."""


@attrs.define
class Panel:
    """The panel's resources; ``services`` is set by the lifespan (or given by the caller)."""

    config: AppConfig
    options: PanelOptions
    sessions: SessionStore
    oauth: DiscordOAuth
    signer: Signer
    templates: Jinja2Templates
    history: NodeHistory
    changes: ChangeFeed
    clock: Callable[[], float] = time.time
    node_specs: tuple[NodeSpec, ...] = ()
    node_cache: tuple[float, list[dict[str, Any]], bytes] | None = None
    controls: ControlDesk = attrs.Factory(ControlDesk)
    webhook_resolver: Resolver | None = None
    """Resolves webhook hosts (``None``: the system resolver); tests put a fake here."""
    metrics: PanelMetrics = attrs.Factory(PanelMetrics)
    closing: anyio.Event = attrs.Factory(anyio.Event)
    """Set when the server stops: live streams and long polls end at once instead of holding
    the shutdown until they time out."""
    compliance: ComplianceDesk | None = None
    """The compliance desk, opened by the lifespan with the services."""
    _services: Services | None = None
    _verified: LRUCache[str, str] = attrs.Factory(lambda: LRUCache(maxsize=10_000))

    @property
    def services(self) -> Services:
        if self._services is None:
            raise StorageUnavailable("The panel's services are not open yet; try again shortly.")
        return self._services

    def attach(self, services: Services | None) -> None:
        self._services = services

    def close(self) -> None:
        """The server is stopping: end live streams and long polls now (they would hold it)."""
        self.closing.set()
        self.changes.close()
        self.controls.close()

    @property
    def secure_cookies(self) -> bool:
        return self.config.panel_url.startswith("https://")

    def session_id_from_cookie(self, cookie: str | None) -> str | None:
        """The session id in a signed cookie; verified signatures are remembered (bounded)."""
        if not cookie or len(cookie) > 200:
            return None
        known = self._verified.get(cookie)
        if known is not None:
            return known
        try:
            session_id = self.signer.unsign(cookie).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        self._verified[cookie] = session_id
        return session_id

    async def resolve_session(self, cookie: str | None) -> Session | None:
        session_id = self.session_id_from_cookie(cookie)
        if session_id is None:
            return None
        return await self.sessions.get(session_id, now=self.clock())


def panel_of(request: Request) -> Panel:
    return panel_of_app(request.app)


def panel_of_app(app: Any) -> Panel:
    """The `Panel` of an app made by ``create_app``."""
    panel: Panel = app.state.panel
    return panel


def current_session(request: Request) -> Session:
    """The signed-in session, or `NotAuthenticated` (401 for APIs, a login redirect for pages)."""
    session: Session | None = request.state.session
    if session is None:
        raise NotAuthenticated("Sign in with Discord to use the control panel.")
    return session


def guild_id_param(request: Request, name: str = "guild_id") -> GuildId:
    """The guild id in the path, a Discord id (the core's `snowflake` rule), else 404."""
    try:
        return GuildId(snowflake(request.path_params.get(name), "The guild id"))
    except InvalidInput:
        raise NotFound("There is no such guild.") from None


def manager_of(request: Request) -> tuple[Session, ManagedGuild]:
    """The session and the guild in the path, if the user manages it; else 401/403."""
    session = current_session(request)
    guild = session.guild(guild_id_param(request))
    if guild is None:
        raise PermissionDenied(
            "You do not manage this guild (you need Manage Server or Administrator)."
        )
    return session, guild


def _staff(config: AppConfig) -> frozenset[UserId]:
    """The care staff, for the nav's "Care desk" link (an unreadable list: nobody; the care
    pages themselves report it)."""
    try:
        return care_staff(config)
    except ConfigError:
        return frozenset()


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a page with the common context (session, CSRF token, nav)."""
    panel = panel_of(request)
    session: Session | None = request.state.session
    base: dict[str, Any] = {
        "session": session,
        "csrf": session.csrf if session is not None else "",
        "path": request.url.path,
        "staff": session is not None and session.user_id in _staff(panel.config),
    }
    base.update(context)
    response: Response = panel.templates.TemplateResponse(request, template, base, status)
    return response
