"""A protocol-faithful fake Lavalink v4 node, served for real on loopback.

Use it in any project's tests of a Lavalink client (pomice, wavelink, lavalink.py, your own)::

    from vectobeat_testkit.lavalink import Catalogue, CatalogueTrack, FakeLavalinkNode

    catalogue = Catalogue()
    song = catalogue.add("Song", "Artist", 180_000)           # a real encoded track
    catalogue.add_playlist("https://example.test/list", "Mix", [song])
    catalogue.fail("https://example.test/broken", "This video is unavailable")

    async with FakeLavalinkNode(password="youshallnotpass", name="eu-1", region="eu",
                                catalogue=catalogue, speed=10.0,
                                player_update_interval=0.2) as node:
        ...  # point the client at node.host / node.port / node.base_url
        await node.wait_for(lambda: 1234 in node.players)    # event waits, never sleeps
        node.players[1234].position, node.events(1234, "TrackEndEvent"), node.requests
        await node.kill(); await node.revive()               # or hang(), slow(ms),
        await node.drop_websocket()                          # refuse_new_players(True)
        node.track_exception(1234); node.track_stuck(1234); node.websocket_closed(1234)

What it serves (Lavalink v4, 4.2.x by default; ``version=`` changes what ``/version`` says):
``/v4/websocket`` (handshake rules, ``ready``, ``stats``, ``playerUpdate``, ``event``), ``/version``,
``/v4/info``, ``/v4/stats``, ``/v4/loadtracks``, ``/v4/decodetrack(s)``, ``/v4/sessions/{id}``
and its players (GET/PATCH/DELETE; filters are checked against Lavalink's ranges and a timescale
changes how fast position advances), the LavaLyrics plugin's routes with ``lyrics_plugin=True``
(``catalogue.add_lyrics``), ``/metrics`` (Prometheus, no auth, ``metrics=False`` turns it
off), with ``Lavalink-Api-Version: 4`` on responses and Lavalink's error body
``{timestamp, status, error, message, path}`` (401 without ``Authorization``, 403 with a wrong
one, 400 bad input, 404 unknown session/player -- also while a session is paused for resuming).

Deliberate differences: auth failures carry the JSON error body (Lavalink sends none) so
clients that read ``message`` do not crash; refusing new players is 503 (a fault Lavalink does
not have); the resume timeout counts real seconds while playback follows the ``speed`` clock.
Run one by hand: ``python -m vectobeat_testkit.lavalink --port 2333 --region eu --name eu-1``.
"""

from __future__ import annotations

from vectobeat_testkit.lavalink.catalogue import Catalogue, CatalogueTrack, LoadFailure
from vectobeat_testkit.lavalink.engine import RecordedRequest
from vectobeat_testkit.lavalink.player import PlaybackClock, PlayerSnapshot
from vectobeat_testkit.lavalink.profiles import PROFILES, ServerProfile, parse_profiles
from vectobeat_testkit.lavalink.server import FakeLavalinkNode

__all__ = [
    "PROFILES",
    "Catalogue",
    "CatalogueTrack",
    "FakeLavalinkNode",
    "LoadFailure",
    "PlaybackClock",
    "PlayerSnapshot",
    "RecordedRequest",
    "ServerProfile",
    "parse_profiles",
]
