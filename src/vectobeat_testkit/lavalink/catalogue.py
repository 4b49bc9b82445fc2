"""The deterministic track catalogue behind a fake node's ``/v4/loadtracks`` and players.

Tests add tracks and playlists; identifiers resolve the way Lavalink's sources do for what we
use: a URL or a bare identifier names a track or a playlist, ``ytsearch:``/``ytmsearch:``/
``scsearch:`` (and LavaSrc's ``spsearch:``/``amsearch:``/``dzsearch:``) search titles and authors
(case-insensitive substring) of that source's tracks, if the source is among ``source_managers``
(what ``/v4/info`` reports; a node without it loads ``empty``, as Lavalink does for an unhandled
identifier); anything unknown loads ``empty`` and a configured failing identifier loads ``error``.

YouTube mixes (``https://www.youtube.com/watch?v=<id>&list=RD<id>``, what autoplay loads) of a
catalogue YouTube track load as a playlist ``Mix - <title>``, as YouTube serves them: the seed first,
then up to `MIX_SIZE` - 1 other YouTube tracks, the same author's first, each group in catalogue
order starting after the seed (`Catalogue.mix`).
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

import attrs

from vectobeat_core.tracks import Track, decode_track, encode_track
from vectobeat_testkit.lavalink.lyrics import Lyrics

__all__ = [
    "DEFAULT_SOURCE_MANAGERS",
    "MIX_SIZE",
    "SEARCH_PREFIXES",
    "Catalogue",
    "CatalogueTrack",
    "LoadFailure",
    "Severity",
]

Severity = Literal["common", "suspicious", "fault"]

SEARCH_PREFIXES: dict[str, str] = {
    "ytsearch": "youtube",
    "ytmsearch": "youtube",
    "scsearch": "soundcloud",
    "spsearch": "spotify",
    "amsearch": "applemusic",
    "dzsearch": "deezer",
}
"""Search prefix -> the ``sourceName`` of the tracks it searches."""

MIX_SIZE: Final = 25
"""How many tracks a YouTube mix holds, the seed included."""

_MIX_URL = re.compile(r"https://(?:www\.)?youtube\.com/watch\?v=([^&]+)&list=RD([^&]+)")

DEFAULT_SOURCE_MANAGERS: tuple[str, ...] = ("youtube", "soundcloud", "http")
"""What a stock Lavalink (no plugins) reports in ``/v4/info``."""


@attrs.frozen
class CatalogueTrack:
    """One playable track; ``encoded`` is a real version-3 encoded track."""

    title: str
    author: str
    length: int
    identifier: str
    uri: str | None = None
    source: str = "youtube"
    is_stream: bool = False
    artwork_url: str | None = None
    isrc: str | None = None

    @property
    def encoded(self) -> str:
        return encode_track(self.as_track())

    def as_track(self, position: int = 0) -> Track:
        return Track(
            encoded="",
            title=self.title,
            author=self.author,
            length=self.length,
            identifier=self.identifier,
            is_stream=self.is_stream,
            is_seekable=not self.is_stream,
            uri=self.uri,
            artwork_url=self.artwork_url,
            isrc=self.isrc,
            source=self.source,
            position=position,
        )

    @classmethod
    def from_track(cls, track: Track) -> CatalogueTrack:
        return cls(
            title=track.title,
            author=track.author,
            length=track.length,
            identifier=track.identifier,
            uri=track.uri,
            source=track.source,
            is_stream=track.is_stream,
            artwork_url=track.artwork_url,
            isrc=track.isrc,
        )


@attrs.frozen
class LoadFailure:
    """What ``loadtracks`` answers for a failing identifier (Lavalink's exception object)."""

    message: str
    severity: Severity = "common"
    cause: str = "java.lang.RuntimeException"

    # Written by hand, not by jsonform: Lavalink's exception object, not our format.
    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "severity": self.severity,
            "cause": self.cause,
            "causeStackTrace": f"{self.cause}: {self.message}",
        }


@attrs.frozen
class _Playlist:
    name: str
    tracks: tuple[CatalogueTrack, ...]
    selected: int


def track_json(
    track: CatalogueTrack | Track,
    *,
    encoded: str | None = None,
    position: int = 0,
    user_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Lavalink v4's track object."""
    item = track if isinstance(track, CatalogueTrack) else CatalogueTrack.from_track(track)
    return {
        "encoded": encoded if encoded is not None else item.encoded,
        "info": {
            "identifier": item.identifier,
            "isSeekable": not item.is_stream,
            "author": item.author,
            "length": item.length,
            "isStream": item.is_stream,
            "position": position,
            "title": item.title,
            "uri": item.uri,
            "artworkUrl": item.artwork_url,
            "isrc": item.isrc,
            "sourceName": item.source,
        },
        "pluginInfo": {},
        "userData": dict(user_data or {}),
    }


class Catalogue:
    """Tracks, playlists and failures a test controls; lookups are deterministic."""

    def __init__(self, source_managers: tuple[str, ...] = DEFAULT_SOURCE_MANAGERS) -> None:
        self.source_managers = source_managers
        """The sources this node serves (reported by ``/v4/info``); tests may change it."""
        self.plugins: list[dict[str, str]] = []
        """``/v4/info`` plugins, e.g. ``{"name": "lavasrc-plugin", "version": "4.3.0"}``."""
        self._tracks: list[CatalogueTrack] = []
        self._by_key: dict[str, CatalogueTrack] = {}
        self._playlists: dict[str, _Playlist] = {}
        self._failures: dict[str, LoadFailure] = {}
        self.lyrics: dict[str, Lyrics] = {}
        """Lyrics by track identifier, served by the LavaLyrics routes of a node that has it."""

    def add_track(self, track: CatalogueTrack) -> CatalogueTrack:
        """Add ``track``; it resolves by its URI and by its bare identifier."""
        self._tracks.append(track)
        self._by_key[track.identifier] = track
        if track.uri is not None:
            self._by_key[track.uri] = track
        return track

    def add(self, title: str, author: str, length: int, **fields: Any) -> CatalogueTrack:
        """Add a track built from its fields; identifier and URI default from the title."""
        identifier = fields.pop("identifier", None) or f"id-{len(self._tracks) + 1:04d}"
        uri = fields.pop("uri", None) or f"https://example.test/watch?v={identifier}"
        return self.add_track(
            CatalogueTrack(
                title=title, author=author, length=length, identifier=identifier, uri=uri, **fields
            )
        )

    def add_playlist(
        self, url: str, name: str, tracks: list[CatalogueTrack], *, selected: int = -1
    ) -> None:
        """Make ``url`` load as a playlist of ``tracks`` (added to the catalogue too)."""
        for track in tracks:
            if track.identifier not in self._by_key:
                self.add_track(track)
        self._playlists[url] = _Playlist(name=name, tracks=tuple(tracks), selected=selected)

    def add_lyrics(
        self,
        track: CatalogueTrack,
        *,
        lines: list[tuple[int, str]] | None = None,
        text: str | None = None,
        provider: str = "FakeMatch",
    ) -> Lyrics:
        """Give ``track`` lyrics: synced ``lines`` (``(timestamp ms, line)``) or plain ``text``."""
        if not lines and text is None:
            raise ValueError("lyrics need synced lines or a text")
        found = Lyrics(tuple(lines or ()), text, provider)
        self.lyrics[track.identifier] = found
        return found

    def fail(
        self,
        identifier: str,
        message: str,
        *,
        severity: Severity = "common",
        cause: str = "java.lang.RuntimeException",
    ) -> None:
        """Make ``identifier`` load as ``error`` with this exception."""
        self._failures[identifier] = LoadFailure(message=message, severity=severity, cause=cause)

    @property
    def tracks(self) -> tuple[CatalogueTrack, ...]:
        return tuple(self._tracks)

    def resolve(self, identifier: str) -> CatalogueTrack | None:
        """The single track ``identifier`` names (URI or bare identifier), if any."""
        return self._by_key.get(identifier)

    def search(self, prefix: str, query: str) -> list[CatalogueTrack]:
        source = SEARCH_PREFIXES[prefix]
        if source not in self.source_managers:
            return []
        needle = query.strip().casefold()
        return [
            track
            for track in self._tracks
            if track.source == source
            and (needle in track.title.casefold() or needle in track.author.casefold())
        ]

    def mix(self, identifier: str) -> _Playlist | None:
        """The YouTube mix ``identifier`` names, if it is one of a catalogue YouTube track."""
        match = _MIX_URL.fullmatch(identifier)
        if match is None or match[1] != match[2]:
            return None
        seed = self._by_key.get(match[1])
        if seed is None or seed.source != "youtube":
            return None
        at = self._tracks.index(seed)
        ring = [t for t in self._tracks[at + 1 :] + self._tracks[:at] if t.source == "youtube"]
        related = [t for t in ring if t.author == seed.author] + [
            t for t in ring if t.author != seed.author
        ]
        return _Playlist(f"Mix - {seed.title}", (seed, *related[: MIX_SIZE - 1]), 0)

    def load(self, identifier: str) -> dict[str, Any]:
        """The ``/v4/loadtracks`` result for ``identifier``."""
        failure = self._failures.get(identifier)
        if failure is not None:
            return {"loadType": "error", "data": failure.to_json()}
        prefix, sep, query = identifier.partition(":")
        if sep and prefix in SEARCH_PREFIXES:
            found = self.search(prefix, query)
            if not found:
                return {"loadType": "empty", "data": {}}
            return {"loadType": "search", "data": [track_json(track) for track in found]}
        playlist = self._playlists.get(identifier) or self.mix(identifier)
        if playlist is not None:
            return {
                "loadType": "playlist",
                "data": {
                    "info": {"name": playlist.name, "selectedTrack": playlist.selected},
                    "pluginInfo": {},
                    "tracks": [track_json(track) for track in playlist.tracks],
                },
            }
        track = self.resolve(identifier)
        if track is not None:
            return {"loadType": "track", "data": track_json(track)}
        return {"loadType": "empty", "data": {}}

    def decode(self, encoded: str) -> Track:
        """Decode any valid encoded track (raises `InvalidTrack` otherwise)."""
        return decode_track(encoded)
