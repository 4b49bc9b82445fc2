"""The live queue of a guild: rendered from its latest snapshot (works without JavaScript), then
kept current with server-sent events. Snapshots come from the bot's ``queue-sync`` pushes (kept in
the telemetry cache) or, failing that, the durable queue store. While those are unavailable the
stream stays open and sends ``event: unavailable`` with the reason each tick instead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vectobeat_adapters.telemetry_names import QUEUE_SYNC_DOCUMENT
from vectobeat_core.errors import InvalidInput, Unavailable
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import QueueEntry, QueueSnapshot
from vectobeat_panel.errors import dumps, unavailable
from vectobeat_panel.state import Panel, manager_of, panel_of, render

__all__ = ["QUEUE_SYNC_DOCUMENT", "SYNC_CAP", "latest_snapshot", "queue_routes", "queue_view"]


SYNC_CAP = 50
"""At most this many upcoming tracks are kept from a queue-sync payload."""


def _entry(entry: QueueEntry, position: int | None = None) -> dict[str, Any]:
    track = entry.track
    row: dict[str, Any] = {
        "title": track.title,
        "author": track.author,
        "length_ms": track.length,
        "is_stream": track.is_stream,
        "uri": track.uri if track.uri and track.uri.startswith(("https://", "http://")) else None,
    }
    if position is not None:
        row["position"] = position
    return row


def queue_view(snapshot: QueueSnapshot | None) -> dict[str, Any]:
    """What the queue page and the queue API show (no encoded tracks, no ids)."""
    if snapshot is None:
        return {"version": None, "current": None, "upcoming": [], "total": 0, "player": None}
    player = snapshot.player
    return {
        "version": snapshot.version,
        "taken_at": snapshot.taken_at,
        "current": None if snapshot.current is None else _entry(snapshot.current),
        "upcoming": [_entry(e, i) for i, e in enumerate(snapshot.entries[:SYNC_CAP], start=1)],
        "total": len(snapshot.entries),
        "player": {
            "paused": player.paused,
            "volume": player.volume,
            "loop": player.loop.value,
            "position_ms": player.position_ms,
            "node": player.node,
            "region": player.region,
        },
    }


async def latest_snapshot(panel: Panel, guild_id: GuildId) -> QueueSnapshot | None:
    services = panel.services
    document = await services.telemetry.get(QUEUE_SYNC_DOCUMENT.format(guild=guild_id))
    synced: QueueSnapshot | None = None
    if document is not None:
        try:
            synced = QueueSnapshot.from_json(document)
        except InvalidInput:
            synced = None
    try:
        stored = await services.queues.load(guild_id)
    except InvalidInput:
        stored = None
    candidates = [s for s in (synced, stored) if s is not None]
    return max(candidates, key=lambda s: s.taken_at, default=None)


async def queue_page(request: Request) -> Response:
    _, guild = manager_of(request)
    view = queue_view(await latest_snapshot(panel_of(request), guild.id))
    return render(request, "queue.html", {"guild": guild, "queue": view})


async def queue_api(request: Request) -> Response:
    _, guild = manager_of(request)
    return JSONResponse(queue_view(await latest_snapshot(panel_of(request), guild.id)))


async def queue_events(request: Request) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    path = request.url.path

    async def stream() -> AsyncIterator[str]:
        last: tuple[int, float] | None = None
        deadline = panel.clock() + panel.options.sse_max_seconds
        yield "retry: 3000\n\n"
        while panel.clock() < deadline:
            try:
                snapshot = await latest_snapshot(panel, guild.id)
            except Unavailable as exc:  # the stream stays open: the next tick may succeed
                last = None
                yield f"event: unavailable\ndata: {dumps({'error': unavailable(path, exc)})}\n\n"
                await anyio.sleep(panel.options.sse_interval)
                continue
            key = (-1, 0.0) if snapshot is None else (snapshot.version, snapshot.taken_at)
            if key != last:
                last = key
                yield f"event: queue\ndata: {dumps(queue_view(snapshot))}\n\n"
            else:
                yield ": keep-alive\n\n"
            await anyio.sleep(panel.options.sse_interval)

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def queue_routes() -> list[Route]:
    return [
        Route("/guilds/{guild_id:snowflake}/queue", queue_page, methods=["GET"], name="queue"),
        Route("/guilds/{guild_id:snowflake}/queue/events", queue_events, methods=["GET"]),
        Route(
            "/api/control-panel/guilds/{guild_id:snowflake}/queue",
            queue_api,
            methods=["GET"],
            name="api_queue",
        ),
    ]
