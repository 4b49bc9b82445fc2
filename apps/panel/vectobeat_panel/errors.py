"""The ONE place where errors become responses.

A `VectoBeatError` keeps its status hint and its message (written to be shown to a person); paths
under ``/api/`` get ``{"error": ..., "status": ...}`` JSON, pages get the HTML error page. A page
request without a session is redirected to the login instead of a 401 page. A dependency that is
down, refused or too slow (`Unavailable`, or a bare timeout) is a 503 with one warning line naming
it and no traceback (`unavailable` also serves the guard middleware). Anything unexpected is logged
and answered with a generic 500 that leaks nothing.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from vectobeat_adapters.i18n import N_, current_language, error_text, problem_texts
from vectobeat_adapters.i18n import gettext as _
from vectobeat_core.errors import (
    InvalidSettings,
    NotAuthenticated,
    OutcomeUnknown,
    StaleVersion,
    Unavailable,
    VectoBeatError,
)

__all__ = [
    "RETRY_AFTER_SECONDS",
    "exception_handlers",
    "json_error",
    "plain_error_body",
    "unavailable",
]

log = logging.getLogger("vectobeat.panel")


RETRY_AFTER_SECONDS = 5
"""What a 503 asks clients to wait before trying again."""

_TITLES = {  # English; shown through ``_`` in the reader's language
    400: N_("Bad request"),
    401: N_("Sign-in required"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("Unprocessable"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
    501: N_("Not built"),
    503: N_("Unavailable"),
}


def _title(status: int) -> str:
    return _(_TITLES.get(status, N_("Error")))


def plain_error_body(status: int, message: str) -> str:
    """A tiny self-contained HTML error page (used where templates are not at hand)."""
    title = html.escape(_title(status))
    back = html.escape(_("Back to the panel"))
    return (
        f'<!doctype html><html lang="{current_language()}"><head><meta charset="utf-8">'
        f"<title>{title} · VectoBeat</title>"
        '<link rel="stylesheet" href="/static/panel.css"></head><body><main class="narrow">'
        f"<h1>{status} · {title}</h1><p>{html.escape(message)}</p>"
        f'<p><a href="/">{back}</a></p></main></body></html>'
    )


def json_error(status: int, message: str, extra: Mapping[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "status": status}
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _extra(exc: VectoBeatError) -> dict[str, Any]:
    if isinstance(exc, InvalidSettings):
        return {"problems": problem_texts(exc)}
    if isinstance(exc, StaleVersion):
        return {"expected_version": exc.expected, "current_version": exc.current}
    if isinstance(exc, OutcomeUnknown):  # the bot re-reads instead of reporting a failure
        return {"outcome": "unknown"}
    return {}


def _page(request: Request, status: int, message: str) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return HTMLResponse(plain_error_body(status, message), status_code=status)
    session = getattr(request.state, "session", None)
    context = {
        "status": status,
        "title": _title(status),
        "message": message,
        "session": session,
        "csrf": session.csrf if session is not None else "",
    }
    response: Response = templates.TemplateResponse(request, "error.html", context, status)
    return response


def unavailable(path: str, exc: BaseException) -> str:
    """Log one warning line naming the dependency that failed; the message to show for the 503."""
    if isinstance(exc, VectoBeatError):
        log.warning("dependency_unavailable", extra={"path": path, "error": exc.message})
        return error_text(exc)
    log.warning("dependency_unavailable", extra={"path": path, "error": type(exc).__name__})
    return _("A service the panel needs did not answer in time; try again in a moment.")


async def on_vectobeat_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VectoBeatError)
    if isinstance(exc, Unavailable):
        return await on_unavailable(request, exc)
    status = exc.status if 400 <= exc.status < 600 else 500
    if status >= 500:
        log.warning(
            "request_failed",
            extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc.message}"},
        )
    if _is_api(request):
        headers = {"www-authenticate": "Bearer"} if status == 401 else None
        response = json_error(status, error_text(exc), _extra(exc))
        if headers:
            response.headers.update(headers)
        return response
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return _page(request, status, error_text(exc))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    if exc.status_code == 404:
        message = _("There is nothing at this address.")
    elif exc.status_code == 405:
        message = _("{method} is not allowed here.").format(method=request.method)
    if _is_api(request):
        return json_error(exc.status_code, message)
    return _page(request, exc.status_code, message)


async def on_unavailable(request: Request, exc: Exception) -> Response:
    """A 503 for a dependency that is down or too slow (an `Unavailable` or a timeout)."""
    message = unavailable(request.url.path, exc)
    if _is_api(request):
        extra = _extra(exc) if isinstance(exc, VectoBeatError) else None
        response: Response = json_error(503, message, extra)
    else:
        response = _page(request, 503, message)
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected_error", extra={"path": request.url.path})
    message = _("An unexpected error happened; it has been logged.")
    if _is_api(request):
        return json_error(500, message)
    return HTMLResponse(plain_error_body(500, message), status_code=500)


def exception_handlers() -> dict[Any, Any]:
    """The handler table given to ``Starlette(exception_handlers=...)``."""
    return {
        VectoBeatError: on_vectobeat_error,
        HTTPException: on_http_error,
        TimeoutError: on_unavailable,
        Exception: on_unexpected,
    }


def dumps(value: object) -> str:
    """Compact JSON for the JSONL export and SSE frames."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
