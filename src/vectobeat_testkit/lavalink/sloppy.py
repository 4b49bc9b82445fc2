"""The ``sloppy`` server profile: what a fake node sends, as loose servers send it.

NodeLink, Lavalink forks and proxies in front of Lavalink deviate from the v4 docs in their
JSON while staying usable. Everything the node sends passes through `websocket` (each op) or
`rest` (each JSON answer), and nowhere else is the profile applied:

* ``guildId`` is a JSON number, not a string;
* a player ``state`` has its numbers as strings (``"position": "1234"``) and ``connected`` as
  ``0``/``1``; a ``stats`` object has every number as a string and no ``frameStats``;
* ``loadType``, ``severity`` and a ``TrackEndEvent``'s ``reason`` are upper snake case
  (``"SEARCH"``, ``"LOAD_FAILED"``); ``ready``'s ``resumed`` is ``0``/``1``;
* a track's ``info`` has ``uri``, ``artworkUrl`` and ``isrc`` null;
* every object carries an extra key no client knows (`EXTRA_KEY`), except ``filters`` and
  ``userData``, which a client sends back as it got them;
* a plugin ``event`` (SponsorBlock's ``SegmentsLoaded``) goes out before each
  ``TrackStartEvent``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["EXTRA_KEY", "rest", "websocket"]

EXTRA_KEY = "sloppyExtra"
"""The key added to every object (its value is an object too)."""

_CLIENT_OWNED = frozenset({"filters", "userData"})
_SHOUTED = frozenset({"loadType", "severity"})
_NULLED_INFO = ("uri", "artworkUrl", "isrc")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def websocket(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The websocket messages a sloppy server sends for ``payload``, in order."""
    op = payload.get("op")
    if op == "stats":
        return [_stats(payload)]
    shown: dict[str, Any] = _loose(payload)
    if op == "ready":
        shown["resumed"] = int(bool(payload.get("resumed")))
    if op == "event" and payload.get("type") == "TrackEndEvent":
        shown["reason"] = _shout(payload.get("reason"))
    if op == "event" and payload.get("type") == "TrackStartEvent":
        segments = {
            "op": "event",
            "type": "SegmentsLoaded",
            "guildId": shown.get("guildId"),
            "segments": [{"category": "intro", "start": 0, "end": 4000}],
        }
        return [_loose(segments), shown]
    return [shown]


def rest(path: str, body: Any) -> Any:
    """A JSON answer to ``path`` as a sloppy server writes it."""
    if path == "/v4/stats" and isinstance(body, dict):
        return _stats(body)
    return _loose(body)


def _stats(stats: dict[str, Any]) -> dict[str, Any]:
    """Every number a string, ``frameStats`` left out (the ``op``, if any, kept)."""
    shown: dict[str, Any] = _strings(_loose(stats))
    shown.pop("frameStats", None)
    return shown


def _loose(value: Any, key: str | None = None) -> Any:
    if isinstance(value, list):
        return [_loose(item) for item in value]
    if not isinstance(value, dict) or key in _CLIENT_OWNED:
        return value
    shown = {k: _loose(v, k) for k, v in value.items()}
    guild = shown.get("guildId")
    if isinstance(guild, str) and guild.isdigit():
        shown["guildId"] = int(guild)
    for name in _SHOUTED & shown.keys():
        shown[name] = _shout(shown[name])
    if "encoded" in shown and isinstance(shown.get("info"), dict):
        shown["info"].update(dict.fromkeys(_NULLED_INFO))
    if key == "state":
        shown = _strings(shown)
        if isinstance(shown.get("connected"), bool):
            shown["connected"] = int(shown["connected"])
    shown[EXTRA_KEY] = {"server": "sloppy", "since": "0"}
    return shown


def _strings(value: Any) -> Any:
    """Numbers (not flags) written as strings, all the way down."""
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _shout(name: Any) -> Any:
    """``loadFailed`` -> ``LOAD_FAILED``; anything not a string as it is."""
    return _CAMEL_HUMP.sub("_", name).upper() if isinstance(name, str) else name
