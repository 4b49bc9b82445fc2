"""What operators see of the panel: a request id and one log line per request, the Prometheus
metrics of `vectobeat_panel.metrics`, and the probes ``/healthz`` (alive) and ``/readyz`` (its backends answer).

`RequestContext` is the outermost middleware: it takes the caller's ``X-Request-ID`` when it is
a short token (else makes one), answers with it, binds ``request_id``, ``method``, ``path`` and
the ``guild_id`` of a guild page to every log event of the request, and counts the request by
route template (never the raw path: bounded label values).
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vectobeat_adapters.logging_setup import bound_context
from vectobeat_adapters.metrics import CONTENT_TYPE, render
from vectobeat_panel.metrics import PanelMetrics
from vectobeat_panel.state import panel_of

__all__ = ["RequestContext", "probe_routes"]

log = logging.getLogger("vectobeat.panel.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_GUILD = re.compile(r"^/(?:api/(?:v1/)?)?guilds/(\d{1,20})(?:/|$)")
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContext:
    """Request id, log context, one ``request`` log line and the request metrics."""

    def __init__(self, app: ASGIApp, metrics: PanelMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = ""
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                supplied = value.decode("latin-1")
        request_id = supplied if _REQUEST_ID.match(supplied) else secrets.token_hex(8)
        path: str = scope["path"]
        guild = _GUILD.match(path)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        with bound_context(
            request_id=request_id,
            method=scope["method"],
            path=path,
            guild_id=int(guild.group(1)) if guild else None,
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                self.metrics.request(_route_of(scope), scope["method"], status, seconds)
                if path not in _PROBES:
                    log.info(
                        "request",
                        extra={"status": status, "duration_ms": round(seconds * 1000, 1)},
                    )


async def healthz(_: Request) -> Response:
    """The process answers (its event loop runs); dependencies are `readyz`'s business."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when every configured backend (SQL, Redis) answers, else 503 naming what is down."""
    report = await panel_of(request).services.ping_backends()
    reasons = [
        f"{name}: {detail}"
        for name, detail in report.items()
        if detail not in {"ok", "not configured"}
    ]
    return JSONResponse(
        {"ready": not reasons, "reasons": reasons}, status_code=503 if reasons else 200
    )


async def metrics(request: Request) -> Response:
    """Prometheus text of this replica's `PanelMetrics`."""
    return Response(render(panel_of(request).metrics.registry), media_type=CONTENT_TYPE)


def probe_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
        Route("/metrics", metrics, methods=["GET"], name="metrics"),
    ]
