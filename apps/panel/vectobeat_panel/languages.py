"""The panel in the reader's language: the ``vb_lang`` cookie (set by the switcher in the page
footer), else the browser's ``Accept-Language``, else English. `LanguageMiddleware` chooses it
once per request (templates, error pages and messages all read it); ``/language`` switches it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from vectobeat_adapters.i18n import (
    LANGUAGES,
    N_,
    current_language,
    gettext,
    language_from_accept,
    language_from_tag,
    ngettext,
    pgettext,
    use_language,
)
from vectobeat_core.errors import InvalidInput
from vectobeat_panel.redirects import local_path

__all__ = [
    "COOKIE",
    "SCRIPT_MESSAGES",
    "LanguageMiddleware",
    "install_translations",
    "language_routes",
    "request_language",
    "script_texts",
]

COOKIE = "vb_lang"
SCRIPT_MESSAGES = (
    N_("; showing the first {count}"),
    N_("Are you sure?"),
    N_("Clear"),
    N_("Copied"),
    N_("Down"),
    N_("Move"),
    N_("Move to position"),
    N_("Nothing is playing."),
    N_("Now playing"),
    N_("Pause"),
    N_("Paused"),
    N_("Playback controls"),
    N_("Playing"),
    N_("Position in the track"),
    N_("Previous"),
    N_("Queue controls"),
    N_("Remove"),
    N_("Remove every upcoming track?"),
    N_("Resume"),
    N_("Seek"),
    N_("Seek to"),
    N_("Set"),
    N_("Shuffle"),
    N_("Skip"),
    N_("Something went wrong."),
    N_("The panel did not answer; the change may or may not have been made."),
    N_("Up"),
    N_("Volume"),
    N_("filters"),
    N_("loop"),
    N_("node"),
    N_("none"),
    N_("volume"),
    N_("{count} track queued"),
    N_("{count} tracks queued"),
)
"""Every text ``static/panel.js`` shows (its ``t("...")`` calls; a test keeps the two equal)."""
_YEAR = 365 * 24 * 3600


def request_language(scope: Scope) -> str | None:
    """The language a request asks for: its ``vb_lang`` cookie, else its Accept-Language."""
    accept: str | None = None
    chosen: str | None = None
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, cookie = part.strip().partition("=")
                if name == COOKIE:
                    chosen = language_from_tag(cookie)
        elif key == b"accept-language":
            accept = value.decode("latin-1")
    return chosen or language_from_accept(accept)


class LanguageMiddleware:
    """Serve each HTTP request in its language (a context variable for its whole handling)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with use_language(request_language(scope)):
            await self.app(scope, receive, send)


def install_translations(templates: Jinja2Templates) -> None:
    """``{% trans %}`` and ``_()`` in the templates translate into the request's language."""
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext
    )
    env.globals["language"] = current_language
    env.globals["languages"] = LANGUAGES
    env.globals["script_texts"] = script_texts


def script_texts() -> dict[str, str]:
    """panel.js's texts in the request's language (``<body data-texts>``)."""
    return {message: gettext(message) for message in SCRIPT_MESSAGES}


async def switch_language(request: Request) -> Response:
    """``GET /language?set=de&next=/guilds``: remember the choice in a cookie and go back."""
    wanted = request.query_params.get("set", "")
    language = language_from_tag(wanted)
    if language is None or language != wanted:
        raise InvalidInput(
            "{language} is not a language of this panel; choose one of: {choices}.",
            language=repr(wanted[:20]),
            choices=", ".join(LANGUAGES),
        )
    response = RedirectResponse(local_path(request.query_params.get("next"), "/"), status_code=303)
    response.set_cookie(
        COOKIE,
        language,
        max_age=_YEAR,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def language_routes() -> list[Route]:
    return [Route("/language", switch_language, methods=["GET"], name="language")]
