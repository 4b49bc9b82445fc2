"""The live queue of a guild: rendered from its latest snapshot (works without JavaScript), then
kept current with server-sent events. Snapshots come from the bot's ``queue-sync`` pushes (kept in
the telemetry cache, `keep_synced`) or, failing that, the durable queue store. A push (or a web
control's answer) wakes the guild's streams at once (`ControlDesk.nudge`); otherwise they look
every ``sse_interval``. While the stores are unavailable the stream stays open and sends
``event: unavailable`` with the reason each tick instead. The view carries the position with the
time it was read and the server's time, so a page moves the progress bar between pushes.

After a guild's erasure its tombstone (`tombstone_of`) holds synced queues to the erasure record:
one the bot sent before it applied the erasure (its ``erasures_applied`` is below the erasure's
place, or missing) is not stored, nor shown if it was stored while the erasure ran."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import anyio
import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vectobeat_adapters.compliance.tombstones import tombstone_of
from vectobeat_adapters.i18n import gettext, phrase_text
from vectobeat_adapters.telemetry_names import QUEUE_SYNC_DOCUMENT, QUEUE_SYNC_TTL
from vectobeat_core.erasures import sent_after
from vectobeat_core.errors import InvalidInput, Unavailable
from vectobeat_core.filters import effect_labels
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import QueueEntry, QueueSnapshot
from vectobeat_core.queue_entry import loop_label
from vectobeat_core.telemetry import ERASURES_APPLIED, erasures_applied
from vectobeat_panel.errors import dumps, unavailable
from vectobeat_panel.sessions import ManagedGuild
from vectobeat_panel.settings_flow import guild_plan
from vectobeat_panel.state import Panel, manager_of, panel_of, render

__all__ = [
    "QUEUE_SYNC_DOCUMENT",
    "SYNC_CAP",
    "keep_synced",
    "latest_snapshot",
    "queue_routes",
    "queue_view",
    "render_queue",
]

SYNC_CAP = 50
"""At most this many upcoming tracks are kept from a queue-sync payload."""


def _web(url: str | None, *, secure: bool = False) -> str | None:
    """``url`` if it is a web link (https only when ``secure``: the page loads it)."""
    schemes = ("https://",) if secure else ("https://", "http://")
    return url if url and url.startswith(schemes) else None


def _entry(entry: QueueEntry, position: int | None = None) -> dict[str, Any]:
    track = entry.track
    row: dict[str, Any] = {
        "title": track.title,
        "author": track.author,
        "length_ms": track.length,
        "is_stream": track.is_stream,
        "uri": _web(track.uri),
        "artwork_url": track.artwork_url if _web(track.artwork_url, secure=True) else None,
    }
    if position is not None:
        row["position"] = position
    return row


def queue_view(snapshot: QueueSnapshot | None, now: float | None = None) -> dict[str, Any]:
    """What the queue page and the queue API show (no encoded tracks, no ids); ``now`` is the
    server's time, for the page's progress bar. ``loop`` is the mode's name for programs,
    ``loop_label`` and the filters' names are in the reader's language."""
    if snapshot is None:
        view: dict[str, Any] = {
            "version": None, "current": None, "upcoming": [], "total": 0, "player": None,
        }  # fmt: skip
    else:
        player = snapshot.player
        view = {
            "version": snapshot.version,
            "taken_at": snapshot.taken_at,
            "current": None if snapshot.current is None else _entry(snapshot.current),
            "upcoming": [_entry(e, i) for i, e in enumerate(snapshot.entries[:SYNC_CAP], start=1)],
            "total": len(snapshot.entries),
            "player": {
                "paused": player.paused,
                "volume": player.volume,
                "loop": player.loop.value,
                "loop_label": gettext(loop_label(player.loop)),
                "position_ms": player.position_ms,
                "position_read_at": player.position_read_at,
                "filters": [phrase_text(label) for label in effect_labels(player.effects)],
                "node": player.node,
                "region": player.region,
            },
        }
    if now is not None:
        view["server_time"] = now
    return view


async def keep_synced(panel: Panel, snapshot: QueueSnapshot, erasures: int | None) -> str | None:
    """Keep a snapshot the bot sent for the guild's pages (plan-gated) and wake its streams;
    the reason when the plan does not include queue sync, or when the bot had not applied the
    guild's latest erasure (``erasures``: how far it had applied the record; ``None``: it does
    not follow it)."""
    _, plan = await guild_plan(panel, snapshot.guild_id)
    if plan.queue_sync == "none":
        return f"Queue sync is not included in {plan.label}."
    telemetry = panel.services.telemetry
    tombstone = await tombstone_of(telemetry, snapshot.guild_id)
    if tombstone is not None and not sent_after(tombstone, erasures):
        return (
            f"The server's data was erased (erasure {tombstone.seq}) before the bot applied "
            "the erasure: this snapshot is not kept."
        )
    capped = attrs.evolve(snapshot, entries=snapshot.entries[:SYNC_CAP], history=())
    document = capped.to_json()
    if erasures is not None:
        document[ERASURES_APPLIED] = erasures
    await telemetry.put(
        QUEUE_SYNC_DOCUMENT.format(guild=snapshot.guild_id), document, QUEUE_SYNC_TTL
    )
    panel.controls.nudge(snapshot.guild_id)
    return None


async def latest_snapshot(panel: Panel, guild_id: GuildId) -> QueueSnapshot | None:
    """The guild's newest snapshot: synced by the bot (unless its erasure's tombstone holds it
    back) or in the queue store."""
    services = panel.services
    document = await services.telemetry.get(QUEUE_SYNC_DOCUMENT.format(guild=guild_id))
    synced: QueueSnapshot | None = None
    if isinstance(document, dict):
        try:
            synced = QueueSnapshot.from_json(document)
            if not sent_after(
                await tombstone_of(services.telemetry, guild_id), erasures_applied(document)
            ):
                synced = None  # stored while the guild's erasure ran
        except InvalidInput:
            synced = None
    try:
        stored = await services.queues.load(guild_id)
    except InvalidInput:
        stored = None
    candidates = [s for s in (synced, stored) if s is not None]
    return max(candidates, key=lambda s: s.taken_at, default=None)


async def render_queue(
    request: Request,
    guild: ManagedGuild,
    *,
    notice: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The queue page, with the answer to a control the page sent (``notice``) if any."""
    panel = panel_of(request)
    view = queue_view(await latest_snapshot(panel, guild.id), panel.clock())
    context = {"guild": guild, "queue": view, "notice": notice}
    return render(request, "queue.html", context, status)


async def queue_page(request: Request) -> Response:
    _, guild = manager_of(request)
    return await render_queue(request, guild)


async def queue_api(request: Request) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    return JSONResponse(queue_view(await latest_snapshot(panel, guild.id), panel.clock()))


async def _next_tick(panel: Panel, guild_id: GuildId, seen: int) -> None:
    """Wait for the guild's next push, the stream interval, or the server stopping."""
    async with anyio.create_task_group() as tg:

        async def first(wait: Awaitable[object]) -> None:
            await wait
            tg.cancel_scope.cancel()

        tg.start_soon(first, panel.controls.changed(guild_id, seen, panel.options.sse_interval))
        tg.start_soon(first, panel.closing.wait())


async def queue_events(request: Request) -> Response:
    _, guild = manager_of(request)
    panel = panel_of(request)
    path = request.url.path

    async def stream() -> AsyncIterator[str]:
        last: tuple[int, float] | None = None
        deadline = panel.clock() + panel.options.sse_max_seconds
        yield "retry: 3000\n\n"
        while panel.clock() < deadline and not panel.closing.is_set():
            seen = panel.controls.tick(guild.id)  # a push from now on wakes the next wait
            try:
                snapshot = await latest_snapshot(panel, guild.id)
            except Unavailable as exc:  # the stream stays open: the next tick may succeed
                last = None
                yield f"event: unavailable\ndata: {dumps({'error': unavailable(path, exc)})}\n\n"
                await _next_tick(panel, guild.id, seen)
                continue
            key = (-1, 0.0) if snapshot is None else (snapshot.version, snapshot.taken_at)
            if key != last:
                last = key
                yield f"event: queue\ndata: {dumps(queue_view(snapshot, panel.clock()))}\n\n"
            else:
                yield ": keep-alive\n\n"
            await _next_tick(panel, guild.id, seen)

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
