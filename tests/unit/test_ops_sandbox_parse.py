"""How ``sandbox send`` reads a slash command line against the bot's registered schema."""

from __future__ import annotations

from typing import Any

import pytest

from vectobeat_core.errors import InvalidInput
from vectobeat_testkit.sandbox import parse_command_line, reply_text

PLAY = {"name": "play", "options": [{"name": "query", "type": 3, "required": True}]}
SEEK = {"name": "seek", "options": [{"name": "position", "type": 3, "required": True}]}
VOLUME = {"name": "volume", "options": [{"name": "level", "type": 4, "required": True}]}
PLAYLIST: dict[str, Any] = {
    "name": "playlist",
    "options": [
        {"name": "save", "type": 1, "options": [{"name": "name", "type": 3, "required": True}]},
        {"name": "list", "type": 1, "options": []},
    ],
}
QUEUE = {"name": "queue", "options": [{"name": "page", "type": 4}]}
MOVE = {
    "name": "move",
    "options": [
        {"name": "from", "type": 4, "required": True},
        {"name": "to", "type": 4, "required": True},
    ],
}


@pytest.mark.parametrize(
    ("line", "command", "expected"),
    [
        ("/play lofi", PLAY, ("play", {"query": "lofi"})),
        ("/play lofi hip hop radio", PLAY, ("play", {"query": "lofi hip hop radio"})),
        ("play query:lofi", PLAY, ("play", {"query": "lofi"})),
        ('/play "a b"', PLAY, ("play", {"query": "a b"})),
        ("/volume 70", VOLUME, ("volume", {"level": 70})),
        ("/playlist save my mix", PLAYLIST, ("playlist save", {"name": "my mix"})),
        ("/playlist list", PLAYLIST, ("playlist list", {})),
        ("/queue", QUEUE, ("queue", {})),
        ("/queue page:2", QUEUE, ("queue", {"page": 2})),
        ("/seek 1:30", SEEK, ("seek", {"position": "1:30"})),
        ("/move 1 5", MOVE, ("move", {"from": 1, "to": 5})),
        ("/move to:5 1", MOVE, ("move", {"from": 1, "to": 5})),
    ],
)
def test_parse(line: str, command: dict[str, Any], expected: tuple[str, dict[str, Any]]) -> None:
    assert parse_command_line(line, command) == expected


@pytest.mark.parametrize(
    ("line", "command", "words"),
    [
        ("", PLAY, "empty command"),
        ("/volume loud", VOLUME, "needs a number"),
        ("/playlist list extra", PLAYLIST, "takes no more text"),
        ('/play "unbalanced', PLAY, "cannot read"),
        ("/play", PLAY, "needs query: write /play query:<value>"),
        ("/move 1", MOVE, "needs to"),
        ("/move 1 5 9", MOVE, "takes no more text"),
        ("/playlist", PLAYLIST, "needs a subcommand: /playlist save, /playlist list"),
    ],
)
def test_parse_errors(line: str, command: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_command_line(line, command)


def test_reply_text_reads_content_and_embeds() -> None:
    embeds = [
        {"title": "Queue", "description": "1. Song", "fields": [{"name": "Node", "value": "eu-1"}]}
    ]
    assert reply_text("Now playing", embeds) == "Now playing\nQueue\n1. Song\nNode: eu-1"


def test_reply_text_lists_an_open_menus_choices_as_pick_numbers() -> None:
    menu = {
        "type": 3,
        "custom_id": "vb:search:1",
        "placeholder": "Pick a track to queue",
        "options": [
            {"label": "Alpha", "value": "0", "description": "Band · 3:00"},
            {"label": "Bravo", "value": "1"},
        ],
    }
    rows = [{"type": 1, "components": [menu]}]
    assert reply_text("Found 2 tracks", [], rows) == (
        "Found 2 tracks\n[menu] Pick a track to queue (sandbox pick N):\n"
        "  1: Alpha (Band · 3:00)\n  2: Bravo"
    )
    closed = [{"type": 1, "components": [{**menu, "disabled": True}]}]
    assert reply_text("Queued", [], closed) == "Queued"
