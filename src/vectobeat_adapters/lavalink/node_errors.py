"""How a Lavalink node's refusals read: REST errors, the version check, websocket handshakes."""

from __future__ import annotations

import json
import re

import aiohttp

from vectobeat_core.errors import NodeUnavailable

__all__ = ["NodeRequestError", "check_version", "describe_handshake_error", "error_message"]

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?\S*")


class NodeRequestError(NodeUnavailable):
    """A node answered a REST call with an error status (``http_status``; 4xx is our fault)."""

    def __init__(self, message: str, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status

    @property
    def retry_elsewhere(self) -> bool:
        """A 5xx (or 404 for a lost session) means another node may well succeed."""
        return self.http_status >= 500 or self.http_status == 404


def check_version(name: str, text: str) -> str | None:
    """``None`` when ``/version`` names Lavalink 4.x, else the reason the node is unusable."""
    shown = text.strip()[:40]
    if shown.endswith("-SNAPSHOT"):
        return None  # development builds of v4 report a commit hash
    match = _VERSION.fullmatch(shown)
    if match is None:
        return f"node {name} answered /version with {shown!r}, which is not a Lavalink version"
    if int(match.group(1)) != 4:
        return f"node {name} reports Lavalink {shown}; VectoBeat needs Lavalink v4 (4.x)"
    return None


def describe_handshake_error(exc: aiohttp.WSServerHandshakeError) -> str:
    """Why a node refused the websocket: its status and reason, and a hint for the usual ones."""
    hints = {
        400: "the node refused the handshake headers (User-Id must be the bot's user id)",
        401: "the password is wrong (Authorization)",
        403: "the password is wrong (Authorization)",
        404: "the node has no /v4/websocket: is it Lavalink v4?",
    }
    hint = hints.get(exc.status, "")
    message = (exc.message or "").strip()[:200]
    parts = [f"HTTP {exc.status}", message, hint]
    return "websocket handshake refused: " + "; ".join(part for part in parts if part)


def error_message(text: str) -> str:
    """Lavalink's error body ``message`` (or nothing when the body is not that shape)."""
    try:
        body = json.loads(text)
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else ""
