"""Sign-in with Discord (OAuth2 code + PKCE + state), server-side sessions, sign-out.

* ``GET /login`` shows the sign-in page; ``GET /auth/discord`` starts a login: a fresh ``state`` and
  PKCE verifier are kept server-side, the browser gets only a signed, short-lived cookie naming the
  state, and is sent to Discord.
* ``GET /auth/callback`` checks ``state`` against that cookie (constant time), exchanges the code,
  creates the session and sets the signed session cookie (HttpOnly, SameSite=Lax, Secure on https);
  a sign-in cancelled on Discord, expired or refused shows the sign-in page again with the reason.
* ``POST /logout`` (CSRF-checked) revokes the session server-side and clears the cookie;
  ``POST /logout/all`` revokes every session of the user.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from vectobeat_adapters.i18n import error_text
from vectobeat_core.errors import InvalidInput, NotAuthenticated
from vectobeat_panel.oauth import pkce_pair
from vectobeat_panel.redirects import local_path
from vectobeat_panel.security import SESSION_COOKIE
from vectobeat_panel.sessions import PendingLogin, Session
from vectobeat_panel.state import Panel, panel_of, render

__all__ = ["LOGIN_COOKIE", "auth_routes", "safe_next", "set_session_cookie"]

log = logging.getLogger("vectobeat.panel.auth")
LOGIN_COOKIE = "vb_login"


_NOT_AFTER_LOGIN = ("/login", "/logout", "/auth/")
"""Where a sign-in never leads on to: the sign-in itself (an old callback URL would loop)."""


def safe_next(raw: str | None) -> str:
    """Where a sign-in leads on to: a path on this panel, never back into the sign-in."""
    target = local_path(raw, "/guilds")
    return "/guilds" if target.startswith(_NOT_AFTER_LOGIN) else target


def _login_signer(panel: Panel) -> TimestampSigner:
    return TimestampSigner(panel.signer.secret_keys[-1], salt="vectobeat-login")


def set_session_cookie(panel: Panel, response: Response, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        panel.signer.sign(session.id).decode(),
        max_age=int(panel.options.session_ttl),
        httponly=True,
        samesite="lax",
        secure=panel.secure_cookies,
        path="/",
    )


async def login_page(request: Request) -> Response:
    if request.state.session is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    panel = panel_of(request)
    next_path = safe_next(request.query_params.get("next"))
    return render(
        request,
        "login.html",
        {"next": next_path, "configured": panel.oauth.configured, "error": None},
    )


async def start_login(request: Request) -> Response:
    panel = panel_of(request)
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    next_path = safe_next(request.query_params.get("next"))
    target = panel.oauth.authorize_url(state=state, challenge=challenge)
    await panel.sessions.put_pending(
        PendingLogin(state, verifier, next_path, panel.clock() + panel.options.login_ttl)
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        _login_signer(panel).sign(state).decode(),
        max_age=int(panel.options.login_ttl),
        httponly=True,
        samesite="lax",
        secure=panel.secure_cookies,
        path="/auth/",
    )
    return response


async def callback(request: Request) -> Response:
    """Discord's answer: signed in and on to where the sign-in began, or the sign-in page again
    saying why not (cancelled on Discord, expired, from another browser)."""
    try:
        return await _complete_login(request)
    except (InvalidInput, NotAuthenticated) as exc:
        panel = panel_of(request)
        context = {
            "next": "/guilds",
            "configured": panel.oauth.configured,
            "error": error_text(exc),
        }
        response = render(request, "login.html", context, exc.status)
        response.delete_cookie(LOGIN_COOKIE, path="/auth/")
        return response


async def _complete_login(request: Request) -> Response:
    panel = panel_of(request)
    params = request.query_params
    if params.get("error"):
        raise NotAuthenticated("Discord sign-in was cancelled or refused; you can try again.")
    state, code = params.get("state", ""), params.get("code", "")
    if not state or not code or len(state) > 200 or len(code) > 200:
        raise InvalidInput("The sign-in answer from Discord is incomplete; please try again.")
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    try:
        expected = _login_signer(panel).unsign(cookie, max_age=int(panel.options.login_ttl))
    except (SignatureExpired, BadSignature):
        raise InvalidInput("This sign-in expired or began in another browser; try again.") from None
    if not hmac.compare_digest(expected, state.encode()):
        raise InvalidInput("The sign-in state does not match; please try again.")
    pending = await panel.sessions.pop_pending(state, now=panel.clock())
    if pending is None:
        raise InvalidInput("This sign-in was already used or expired; please try again.")
    identity = await panel.oauth.identify(code=code, verifier=pending.verifier)
    session = await panel.sessions.create(
        user_id=identity.user_id,
        username=identity.username,
        avatar=identity.avatar,
        guilds=identity.managed,
        now=panel.clock(),
        ttl=panel.options.session_ttl,
    )
    log.info("login", extra={"user_id": identity.user_id, "guilds": len(identity.managed)})
    response = RedirectResponse(pending.next_path, status_code=303)
    set_session_cookie(panel, response, session)
    response.delete_cookie(LOGIN_COOKIE, path="/auth/")
    return response


def _signed_out() -> Response:
    """Back to the login page, with this browser's session cookie cleared."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    panel = panel_of(request)
    session: Session | None = request.state.session
    if session is not None:
        await panel.sessions.revoke(session.id)
    return _signed_out()


async def logout_everywhere(request: Request) -> Response:
    """Revoke every session of the signed-in user (all browsers), then clear this cookie."""
    panel = panel_of(request)
    session: Session | None = request.state.session
    if session is not None:
        count = await panel.sessions.revoke_user(session.user_id)
        log.info("logout_everywhere", extra={"user_id": session.user_id, "sessions": count})
    return _signed_out()


def auth_routes() -> list[Route]:
    return [
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/auth/discord", start_login, methods=["GET"], name="auth_start"),
        Route("/auth/callback", callback, methods=["GET"], name="auth_callback"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/logout/all", logout_everywhere, methods=["POST"], name="logout_all"),
    ]
