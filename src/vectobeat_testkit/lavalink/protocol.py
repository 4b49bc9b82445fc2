"""Lavalink v4 payload shapes a fake node sends: errors, info, stats, metrics and events."""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

__all__ = [
    "LavalinkHTTPError",
    "error_body",
    "event",
    "info_json",
    "metrics_text",
    "stats_json",
]

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class LavalinkHTTPError(Exception):
    """Raised by a handler; rendered as Lavalink's (Spring's) error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(request: web.Request, status: int, message: str) -> dict[str, Any]:
    """``{timestamp, status, error, message, path}``, plus ``trace`` when ``?trace=true``."""
    body: dict[str, Any] = {
        "timestamp": int(time.time() * 1000),
        "status": status,
        "error": REASONS.get(status, "Error"),
        "message": message,
        "path": request.path,
    }
    if request.query.get("trace", "").lower() == "true":
        body["trace"] = "".join(traceback.format_stack(limit=4))
    return body


def parse_version(version: str) -> dict[str, Any]:
    core, _, build = version.partition("+")
    core, _, pre = core.partition("-")
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")] + [0, 0, 0]
    return {
        "semver": version,
        "major": parts[0],
        "minor": parts[1],
        "patch": parts[2],
        "preRelease": pre or None,
        "build": build or None,
    }


def info_json(
    version: str,
    started_ms: int,
    source_managers: Sequence[str],
    plugins: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """``GET /v4/info``: ``source_managers`` and ``plugins`` as the node has them."""
    return {
        "version": parse_version(version),
        "buildTime": started_ms,
        "git": {"branch": "main", "commit": "0000000", "commitTime": started_ms},
        "jvm": "21.0.6",
        "lavaplayer": "2.2.6",
        "sourceManagers": list(source_managers),
        "filters": [
            "volume",
            "equalizer",
            "karaoke",
            "timescale",
            "tremolo",
            "vibrato",
            "distortion",
            "rotation",
            "channelMix",
            "lowPass",
        ],
        "plugins": [dict(p) for p in plugins],
    }


def stats_json(
    *,
    players: int,
    playing: int,
    uptime_ms: int,
    system_load: float,
    lavalink_load: float,
    frame_stats: dict[str, int] | None,
) -> dict[str, Any]:
    """The stats object (``GET /v4/stats`` and, with ``op``, the websocket ``stats`` op)."""
    return {
        "players": players,
        "playingPlayers": playing,
        "uptime": uptime_ms,
        "memory": {
            "free": 120_000_000,
            "used": 170_000_000,
            "allocated": 290_000_000,
            "reservable": 2_147_483_648,
        },
        "cpu": {"cores": 4, "systemLoad": system_load, "lavalinkLoad": lavalink_load},
        "frameStats": frame_stats,
    }


_GAUGES = (
    ("lavalink_players_total", "Total number of players connected.", ("players",)),
    (
        "lavalink_playing_players_total",
        "Number of players currently playing audio.",
        ("playingPlayers",),
    ),
    ("lavalink_uptime_milliseconds", "Uptime of the node in milliseconds.", ("uptime",)),
    ("lavalink_memory_free_bytes", "Memory statistics in bytes. (Free)", ("memory", "free")),
    ("lavalink_memory_used_bytes", "Memory statistics in bytes. (Used)", ("memory", "used")),
    (
        "lavalink_memory_allocated_bytes",
        "Memory statistics in bytes. (Allocated)",
        ("memory", "allocated"),
    ),
    (
        "lavalink_memory_reservable_bytes",
        "Memory statistics in bytes. (Reservable)",
        ("memory", "reservable"),
    ),
    ("lavalink_cpu_cores", "CPU statistics. (Cores)", ("cpu", "cores")),
    ("lavalink_cpu_system_load_percentage", "CPU statistics. (System Load)", ("cpu", "systemLoad")),
    (
        "lavalink_cpu_lavalink_load_percentage",
        "CPU statistics. (Lavalink Load)",
        ("cpu", "lavalinkLoad"),
    ),
)


def metrics_text(stats: dict[str, Any]) -> str:
    """Prometheus exposition of Lavalink's own gauges."""
    lines: list[str] = []
    for name, help_text, keys in _GAUGES:
        value: Any = stats
        for key in keys:
            value = value[key]
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {float(value)!r}"]
    return "\n".join(lines) + "\n"


def event(kind: str, guild_id: int, **fields: Any) -> dict[str, Any]:
    """An ``event`` op (``TrackStartEvent``, ``TrackEndEvent``, ...)."""
    return {"op": "event", "type": kind, "guildId": str(guild_id), **fields}
