"""Regional routing (requested region, effective by plan, where it plays now and why, the plan
rule, node health by region) and the
Lavalink nodes page with its JSON twin ``GET /api/control-panel/lavalink/nodes`` and an SVG chart
of players and latency per node over the last hour. The routing page says why in the reader's
language; its JSON twin in English, as before."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vectobeat_adapters.i18n import N_, gettext
from vectobeat_adapters.telemetry_names import node_stats_document
from vectobeat_core.displacement import displacement, displacement_reason
from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import GuildId
from vectobeat_core.messages import Phrase
from vectobeat_core.regions import PINNED_REGIONS, Region, RegionDecision, clamp_region
from vectobeat_core.routing import NodeStats
from vectobeat_panel.chart import Sample, line_chart
from vectobeat_panel.errors import dumps
from vectobeat_panel.queue_pages import latest_snapshot
from vectobeat_panel.settings_flow import current_settings, guild_plan
from vectobeat_panel.state import Panel, current_session, manager_of, panel_of, render

__all__ = ["node_rows", "read_node_rows", "record_samples", "routing_routes"]


async def _stats(panel: Panel, node: str) -> NodeStats | None:
    document = await panel.services.telemetry.get(node_stats_document(node))
    if not isinstance(document, dict):
        return None
    try:
        return NodeStats.from_lavalink(document)
    except InvalidInput:
        return None


async def node_rows(panel: Panel) -> list[dict[str, Any]]:
    """Per node: name, region, status, players, latency, last check, last failover.

    Cached for ``PanelOptions.nodes_cache_seconds`` (the checker probes about once a second).
    """
    return (await _cached_nodes(panel))[0]


async def _cached_nodes(panel: Panel) -> tuple[list[dict[str, Any]], bytes]:
    now = panel.clock()
    cached = panel.node_cache
    if cached is not None and 0 <= now - cached[0] < panel.options.nodes_cache_seconds:
        return cached[1], cached[2]
    rows = await read_node_rows(panel)
    body = dumps({"nodes": rows}).encode()
    panel.node_cache = (now, rows, body)
    return rows, body


async def read_node_rows(panel: Panel) -> list[dict[str, Any]]:
    health = {h.node: h for h in await panel.services.health.all()}
    regions = {spec.name: spec.region.value for spec in panel.node_specs}
    names = sorted(set(health) | set(regions))
    rows: list[dict[str, Any]] = []
    for name in names:
        record = health.get(name) or NodeHealth(node=name)
        stats = await _stats(panel, name)
        rows.append(
            {
                "name": name,
                "region": regions.get(name, "unknown"),
                "status": record.status.value,
                "players": stats.players if stats is not None else None,
                "latency_ms": record.last_latency_ms,
                "last_check_at": record.last_check_at,
                "last_failover_at": record.last_failover_at,
            }
        )
    return rows


def record_samples(panel: Panel, rows: list[dict[str, Any]]) -> None:
    now = panel.clock()
    for row in rows:
        latency = row["latency_ms"] if row["status"] != NodeStatus.DOWN.value else None
        panel.history.record(row["name"], Sample(now, row["players"] or 0, latency))


def by_region(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for region in [r.value for r in PINNED_REGIONS] + ["unknown"]:
        members = [r for r in rows if r["region"] == region]
        if not members and region == "unknown":
            continue
        healthy = sum(1 for r in members if r["status"] in ("up", "degraded"))
        out.append({"region": region, "nodes": members, "healthy": healthy})
    return out


def charts(panel: Panel) -> tuple[str, str]:
    now = panel.clock()
    series = panel.history.series(now)
    start = now - panel.history.window
    players = {n: [(s.at, float(s.players)) for s in samples] for n, samples in series.items()}
    latency = {n: [(s.at, s.latency_ms) for s in samples] for n, samples in series.items()}
    return (
        line_chart(
            gettext("Players per node, last hour"),
            players,
            start=start,
            end=now,
            unit=gettext("players"),
            unit_one=gettext("player"),
        ),
        line_chart(
            gettext("Latency per node, last hour"), latency, start=start, end=now, unit="ms"
        ),
    )


async def nodes_api(request: Request) -> Response:
    current_session(request)
    _, body = await _cached_nodes(panel_of(request))
    return Response(body, media_type="application/json")


async def nodes_page(request: Request) -> Response:
    current_session(request)
    panel = panel_of(request)
    rows = await node_rows(panel)
    record_samples(panel, rows)
    players_svg, latency_svg = charts(panel)
    return render(
        request,
        "nodes.html",
        {"nodes": rows, "players_svg": players_svg, "latency_svg": latency_svg},
    )


async def playing_now(
    panel: Panel, guild_id: GuildId, decision: RegionDecision
) -> dict[str, Any] | None:
    """Where the guild's player runs now (from the bot's queue sync, else its stored snapshot) and
    why (a `Phrase`), against the region the plan gives it; ``None`` when nothing plays."""
    snapshot = await latest_snapshot(panel, guild_id)
    if snapshot is None or snapshot.current is None or snapshot.player.node is None:
        return None
    node = snapshot.player.node
    try:
        actual: Region | None = Region.parse(snapshot.player.region)
    except InvalidInput:
        actual = None
    if actual is None or not actual.pinned:  # a node always sits in a concrete region
        return {"region": "unknown", "node": node, "displaced": False, "reason": None}
    moved = displacement(guild_id, decision.effective, actual, node)
    region = {"region": actual.value}
    if moved is not None:
        why = displacement_reason(decision.effective)
        reason = Phrase(N_("Playing in {region}: {why}."), {**region, "why": why})
    elif decision.effective.pinned:
        reason = Phrase(N_("Playing in {region}, as planned."), region)
    else:
        reason = Phrase(N_("Playing in {region}: auto picks the best healthy node."), region)
    return {"region": actual.value, "node": node, "displaced": moved is not None, "reason": reason}


async def _routing(panel: Panel, guild_id: int) -> dict[str, Any]:
    """What the routing page shows; its reasons are `Phrase`s (`_in_english` for the API)."""
    gid = GuildId(guild_id)
    _, settings = await current_settings(panel, gid)
    _, plan = await guild_plan(panel, gid)
    decision = clamp_region(plan, settings.region, panel.services.catalogue)
    lowest = panel.services.catalogue.lowest_tier_with(lambda p: p.region_pinning)
    rule = (
        Phrase(
            N_("{tier} and above may pin a region (us, eu, apac); below that, auto."),
            {"tier": lowest.label},
        )
        if lowest is not None
        else Phrase(N_("No plan may pin a region; every guild plays on auto."))
    )
    rows = await node_rows(panel)
    return {
        "plan": plan.tier.key,
        "plan_label": plan.label,
        "decision": decision,
        "playing": await playing_now(panel, gid, decision),
        "rule": rule,
        "regions": by_region(rows),
    }


def _in_english(data: dict[str, Any]) -> dict[str, Any]:
    """The routing data as JSON, its reasons in English (the keys programs have read all along;
    the decision also carries its reason as a phrase)."""
    playing = data["playing"]
    if playing is not None and playing["reason"] is not None:
        playing = {**playing, "reason": str(playing["reason"])}
    return {
        **data,
        "decision": data["decision"].to_json(),
        "playing": playing,
        "rule": str(data["rule"]),
    }


async def routing_page(request: Request) -> Response:
    _, guild = manager_of(request)
    data = await _routing(panel_of(request), guild.id)
    return render(request, "routing.html", {"guild": guild, **data})


async def routing_api(request: Request) -> Response:
    _, guild = manager_of(request)
    return JSONResponse(_in_english(await _routing(panel_of(request), guild.id)))


def routing_routes() -> list[Route]:
    return [
        Route("/api/control-panel/lavalink/nodes", nodes_api, methods=["GET"], name="api_nodes"),
        Route("/nodes", nodes_page, methods=["GET"], name="nodes"),
        Route(
            "/guilds/{guild_id:snowflake}/routing", routing_page, methods=["GET"], name="routing"
        ),
        Route(
            "/api/control-panel/guilds/{guild_id:snowflake}/routing",
            routing_api,
            methods=["GET"],
            name="api_routing",
        ),
    ]
