"""Server profiles: the ways real Lavalink-compatible servers deviate from Lavalink's docs.

A fake node made with ``FakeLavalinkNode(profile=parse_profiles("no-resume,odd-lengths"))`` (or
``python -m vectobeat_testkit.lavalink --profile no-resume,odd-lengths``) behaves like such a
server, so a client can be tested against what operators actually run. `PROFILES` names each one
with what it changes; docs/operations.md lists what VectoBeat does on each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from vectobeat_testkit.lavalink import sloppy as _sloppy

__all__ = ["PROFILES", "ServerProfile", "parse_profiles"]


@attrs.frozen
class ServerProfile:
    """The deviations one fake node shows (all off: Lavalink 4 as documented)."""

    no_resume: bool = False
    odd_lengths: bool = False
    busy_delay_s: float = 0.0
    busy_from: int = 8
    seek_after_play: bool = False
    no_metrics: bool = False
    load_average: bool = False
    cumulative_frames: bool = False
    sloppy: bool = False

    def websocket_messages(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """What goes out on the websocket for ``payload`` (`sloppy.websocket` if sloppy)."""
        return _sloppy.websocket(payload) if self.sloppy else [payload]

    def rest_answer(self, path: str, body: Any) -> Any:
        """The JSON answer to ``path`` as sent (`sloppy.rest` if sloppy)."""
        return _sloppy.rest(path, body) if self.sloppy else body

    def track_info(self, info: Mapping[str, Any]) -> dict[str, Any]:
        """A track's ``info`` as this server reports it."""
        shown = dict(info)
        if self.odd_lengths:
            shown["length"] = -1
        return shown


PROFILES: dict[str, tuple[str, dict[str, Any]]] = {
    "no-resume": (
        "PATCH /v4/sessions/{id} answers 404 (no session resuming): players are destroyed "
        "when the websocket closes",
        {"no_resume": True},
    ),
    "odd-lengths": (
        "every track reports length -1 (as some servers do for local and HTTP tracks)",
        {"odd_lengths": True},
    ),
    "slow-replies": (
        "a node busy absorbing players: while 8 or more REST requests arrived within the last "
        "second, every REST answer (health probes too) takes 2 s",
        {"busy_delay_s": 2.0},
    ),
    "seek-after-play": (
        "a play with a position answers position 0 and seeks 0.3 s later",
        {"seek_after_play": True},
    ),
    "no-metrics": ("/metrics answers 404", {"no_metrics": True}),
    "load-average": (
        "cpu.systemLoad and cpu.lavalinkLoad are Unix load averages (0..cores), not 0..1",
        {"load_average": True},
    ),
    "cumulative-frames": (
        "frameStats counts grow since start instead of covering the last minute",
        {"cumulative_frames": True},
    ),
    "sloppy": (
        "loose JSON as NodeLink, forks and proxies send it: guildId a number, numbers in stats "
        "and player states as strings, load types/end reasons/severities upper case, resumed "
        "0/1, extra keys everywhere, no frameStats, track uri/artworkUrl/isrc null, a plugin "
        "event (SegmentsLoaded) before each TrackStartEvent",
        {"sloppy": True},
    ),
}


def parse_profiles(text: str) -> ServerProfile:
    """``"no-resume,odd-lengths"`` (names from `PROFILES`; empty: no deviation)."""
    settings: dict[str, Any] = {}
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        if name not in PROFILES:
            known = ", ".join(sorted(PROFILES))
            raise ValueError(f"unknown server profile {name!r} (known: {known})")
        settings.update(PROFILES[name][1])
    return ServerProfile(**settings)
