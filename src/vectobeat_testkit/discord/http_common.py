"""Discord's HTTP conventions for the fake: error shape, rate-limit headers, body parsing."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from .state import Json

__all__ = ["DiscordHTTPError", "RateLimiter", "form_error", "json_response", "read_body"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DiscordHTTPError(Exception):
    """Raised by handlers; rendered as Discord's ``{"code", "message", "errors"?}`` body."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> Json:
        data: Json = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def form_error(field: str, code: str, message: str) -> DiscordHTTPError:
    """A 400 "Invalid Form Body" (50035) naming one field, like Discord's validation errors."""
    errors: Json = {}
    node = errors
    parts = field.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = {"_errors": [{"code": code, "message": message}]}
    return DiscordHTTPError(400, 50035, "Invalid Form Body", errors)


def json_response(data: Any, status: int = 200) -> web.Response:
    # exactly "application/json", no charset: discord.py compares the header verbatim
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(status=status, body=body, headers={"Content-Type": "application/json"})


async def read_body(request: web.Request) -> tuple[Json, list[str]]:
    """The JSON body (or multipart ``payload_json``) and the uploaded file names."""
    if request.content_type.startswith("multipart/"):
        body: Json = {}
        files: list[str] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                files.append(part.filename or part.name or "file")
                await part.release()
        return body, files
    raw = await request.read()
    if not raw:
        return {}, []
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise DiscordHTTPError(400, 50109, "The request body contains invalid JSON.") from exc
    if not isinstance(data, dict | list):
        raise DiscordHTTPError(400, 50109, "The request body contains invalid JSON.")
    return (data if isinstance(data, dict) else {"__list__": data}), []


class RateLimiter:
    """Fixed-window buckets keyed by route template and major parameter, with Discord's headers."""

    MAJOR = ("channel_id", "guild_id", "webhook_id", "interaction_id")

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._windows: dict[str, tuple[float, int]] = {}
        self.forced: list[float] = []

    def middleware(self) -> Any:
        @web.middleware
        async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not request.path.startswith("/api"):
                return await handler(request)
            route = request.match_info.route.resource
            template = route.canonical if route is not None else request.path
            bucket = hashlib.sha1(f"{request.method} {template}".encode()).hexdigest()[:16]  # noqa: S324
            major = next((request.match_info[m] for m in self.MAJOR if m in request.match_info), "")
            key, now = f"{bucket}:{major}", self.clock()
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, used = now, 0
            used += 1
            self._windows[key] = (start, used)
            reset_after = max(0.001, start + self.window - now)
            headers = {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(max(0, self.limit - used)),
                "X-RateLimit-Reset": f"{start + self.window:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": bucket,
            }
            if self.forced or used > self.limit:
                retry_after = self.forced.pop(0) if self.forced else reset_after
                headers.update(
                    {
                        "X-RateLimit-Scope": "user",
                        "Retry-After": str(max(1, round(retry_after))),
                        "Via": "1.1 google",
                    }
                )
                headers["X-RateLimit-Remaining"] = "0"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                }
                response: web.StreamResponse = json_response(body, 429)
            else:
                response = await self._call(handler, request)
            response.headers.update(headers)
            return response

        return rate_limit

    @staticmethod
    async def _call(handler: Handler, request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except DiscordHTTPError as exc:
            return json_response(exc.body(), exc.status)
        except web.HTTPNotFound:
            return json_response({"message": "404: Not Found", "code": 0}, 404)
        except web.HTTPMethodNotAllowed:
            return json_response({"message": "405: Method Not Allowed", "code": 0}, 405)
