"""The panel's guard: one pure-ASGI middleware for security headers, rate limits, body size, the
session lookup and CSRF.

* Headers on every response: a CSP without inline scripts or styles (images from any https
  origin: track artwork comes from the sources' CDNs), ``frame-ancestors 'none'``,
  ``nosniff``, a strict referrer policy.
* Rate limits per client address and class (login, control-panel API, bot bridge): see
  `vectobeat_panel.rate_limits`. The address is the TCP peer's, or, when the peer is one of
  ``TRUSTED_PROXIES``, the client its ``X-Forwarded-For`` names; an IPv6 client counts as its /64
  (`vectobeat_core.forwarding`).
* A request body larger than the limit is refused with 413 before a handler sees it.
* A session store that is down or too slow answers 503 (not a traceback), like the handlers do.
* Browser requests that change state (POST/PUT/PATCH/DELETE outside the bearer-token APIs) must carry
  the session-bound CSRF token, as the ``X-CSRF-Token`` header or a ``csrf_token`` form field.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from vectobeat_core.errors import Unavailable
from vectobeat_core.forwarding import Network, client_address, rate_key
from vectobeat_panel.errors import RETRY_AFTER_SECONDS, plain_error_body, unavailable
from vectobeat_panel.rate_limits import RateLimiter, RateLimits, limit_class
from vectobeat_panel.sessions import Session

__all__ = [
    "CSP",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "PanelGuard",
    "RateLimiter",
    "RateLimits",
    "bearer_exempt",
    "request_client",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
SessionResolver = Callable[[str | None], Awaitable[Session | None]]

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "vb_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "
    "https:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
_API_NO_STORE = (b"cache-control", b"no-store")


def bearer_exempt(path: str) -> bool:
    """Paths authenticated by a bearer token or a webhook signature (no cookies): no CSRF."""
    return path.startswith(("/api/bot/", "/api/v1/", "/api/webhooks/"))


def _cookie(header: bytes | None, name: str) -> str | None:
    if header is None:
        return None
    for part in header.decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def request_client(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The client address of a request: its peer, or whom trusted proxies forwarded it for."""
    peer = str((scope.get("client") or ("unknown", 0))[0])
    if not trusted:
        return peer
    forwarded = [
        value.decode("latin-1") for key, value in scope["headers"] if key == b"x-forwarded-for"
    ]
    return client_address(peer, forwarded, trusted)


class PanelGuard:
    """The one security middleware (pure ASGI, so it costs little per request)."""

    WEBHOOK_MAX_BODY = 1024 * 1024
    """Stripe events (an invoice with many lines) outgrow the form/API limit; they are signed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        resolve_session: SessionResolver,
        limiter: RateLimiter,
        max_body_bytes: int,
        hsts: bool,
        trusted_proxies: tuple[Network, ...] = (),
    ) -> None:
        self.app = app
        self._resolve = resolve_session
        self._limiter = limiter
        self._trusted = trusted_proxies
        self._max_body = max_body_bytes
        hsts_header = ((b"strict-transport-security", b"max-age=31536000"),) if hsts else ()
        self._page_headers = _HEADERS + hsts_header
        self._api_headers = _HEADERS + hsts_header + (_API_NO_STORE,)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        added = self._api_headers if path.startswith("/api/") else self._page_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                own = {k for k, _ in headers if k == b"cache-control"}
                headers.extend(h for h in added if h[0] not in own)
                message["headers"] = headers
            await send(message)

        kind = limit_class(path)
        if kind is not None and not await self._limiter.allow(
            kind, rate_key(request_client(scope, self._trusted))
        ):
            await self._fail(scope, send_with_headers, 429, "Too many requests; slow down.")
            return
        cookie_header: bytes | None = None
        declared: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"cookie":
                cookie_header = value
            elif key == b"content-length":
                declared = value
        limit = (
            max(self._max_body, self.WEBHOOK_MAX_BODY)
            if path.startswith("/api/webhooks/")
            else self._max_body
        )
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._fail(scope, send_with_headers, 413, self._too_big(limit))
            return
        state = scope.setdefault("state", {})
        no_session = (
            bearer_exempt(path)
            or path.startswith("/static/")
            or path in ("/api/health", "/favicon.ico")
        )
        try:
            state["session"] = (
                None if no_session else await self._resolve(_cookie(cookie_header, SESSION_COOKIE))
            )
        except (Unavailable, TimeoutError) as exc:
            await self._fail(scope, send_with_headers, 503, unavailable(path, exc))
            return
        if scope["method"] not in UNSAFE:
            await self.app(scope, receive, send_with_headers)
            return
        body = await self._read_body(receive, limit)
        if body is None:
            await self._fail(scope, send_with_headers, 413, self._too_big(limit))
            return
        if not bearer_exempt(path) and not self._csrf_ok(scope, state["session"], body):
            await self._fail(
                scope, send_with_headers, 403, "Missing or wrong CSRF token; reload the page."
            )
            return
        await self.app(scope, _replay(body, receive), send_with_headers)

    @staticmethod
    def _too_big(limit: int) -> str:
        return f"Request body too large (limit {limit} bytes)."

    @staticmethod
    async def _read_body(receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks)
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _csrf_ok(scope: Scope, session: Session | None, body: bytes) -> bool:
        if session is None:
            return False
        supplied = _header(scope, CSRF_HEADER.encode())
        content_type = _header(scope, b"content-type") or ""
        if supplied is None and content_type.startswith("application/x-www-form-urlencoded"):
            try:
                fields = parse_qs(body.decode("utf-8"), max_num_fields=200)
            except (UnicodeDecodeError, ValueError):
                return False
            values = fields.get(CSRF_FIELD)
            supplied = values[0] if values else None
        if supplied is None:
            return False
        return hmac.compare_digest(supplied.encode(), session.csrf.encode())

    @staticmethod
    async def _fail(scope: Scope, send: Send, status: int, message: str) -> None:
        if scope["path"].startswith("/api/"):
            body = json.dumps({"error": message, "status": status}).encode()
            content_type = b"application/json"
        else:
            body = plain_error_body(status, message).encode()
            content_type = b"text/html; charset=utf-8"
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if status == 429:
            headers.append((b"retry-after", b"10"))
        elif status == 503:
            headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
