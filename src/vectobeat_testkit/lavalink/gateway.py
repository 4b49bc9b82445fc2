"""``/v4/websocket``: Lavalink's handshake rules, then ready/stats/playerUpdate/event ops.

Handshake as Lavalink's ``HandshakeInterceptorImpl``: a wrong or missing ``Authorization`` is
401, a missing, empty, zero (or here also non-numeric) ``User-Id`` is 400, and a ``Session-Id``
naming a paused resumable session resumes it (``Session-Resumed: true``). A missing
``Client-Name`` is only logged by Lavalink; the fake accepts it too unless the node was made
with ``require_client_name=True`` (then 400).
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from vectobeat_testkit.lavalink.rest import ENGINE, OPTIONS
from vectobeat_testkit.lavalink.session import Connection

__all__ = ["websocket"]

log = logging.getLogger(__name__)


async def websocket(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    options = request.app[OPTIONS]
    authorization = request.headers.get("Authorization", "")
    if not hmac.compare_digest(authorization.encode(), options.password.encode()):
        return web.Response(status=401)
    user_id = request.headers.get("User-Id", "").strip()
    if not user_id.isdigit() or int(user_id) == 0:
        return web.Response(status=400)
    client_name = request.headers.get("Client-Name")
    if client_name is None:
        if options.require_client_name:
            return web.Response(status=400)
        log.warning("lavalink.fake.no_client_name")
    session_id = request.headers.get("Session-Id")
    resumable = engine.sessions.get(session_id) if session_id else None
    resumed = resumable is not None and resumable.paused
    ws = web.WebSocketResponse(autoping=True)
    ws.headers["Session-Resumed"] = "true" if resumed else "false"
    await ws.prepare(request)
    connection = Connection(ws, request, engine.faults.gate)
    if resumed and resumable is not None:
        session = resumable
    else:
        session = engine.new_session(int(user_id), client_name)
    engine.connect(session, connection, resumed=resumed)
    try:
        async for _message in ws:
            pass  # v4 clients send nothing on the websocket; Lavalink ignores what they do
    finally:
        engine.disconnect(session, connection)
        await connection.finish()
    return ws
