"""The Redis settings channel's message form: a change, optionally with its stored state."""

from __future__ import annotations

import json

import pytest

from vectobeat_adapters.redis.settings_channel import decode_change, encode_change
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.ports import SettingsChange

STATE: dict[str, JSON] = {
    "guild_id": "9",
    "version": 4,
    "plan": "pro",
    "settings": {"default_volume": 50},
}


def test_a_change_round_trips_with_and_without_state() -> None:
    for change in (SettingsChange(GuildId(9), 4), SettingsChange(GuildId(9), 4, dict(STATE))):
        assert decode_change(encode_change(change)) == change


@pytest.mark.parametrize(
    "state",
    [
        "not an object",
        ["a", "list"],
        {**STATE, "version": 5},  # another version than the change's
        {**STATE, "guild_id": "10"},  # another guild
        {k: v for k, v in STATE.items() if k != "version"},
    ],
)
def test_a_state_that_does_not_match_its_change_is_dropped_to_a_hint(state: object) -> None:
    raw = json.dumps({"guild_id": "9", "version": 4, "state": state})
    assert decode_change(raw) == SettingsChange(GuildId(9), 4)


@pytest.mark.parametrize(
    "raw",
    [b"\xff", "[]", "{}", '{"guild_id": "x", "version": 1}', '{"guild_id": 9, "version": -1}'],
)
def test_malformed_messages_are_ignored(raw: bytes | str) -> None:
    assert decode_change(raw) is None


def test_an_erasure_notice_round_trips_and_only_true_means_erased() -> None:
    notice = SettingsChange(GuildId(9), 0, erased=True)
    assert json.loads(encode_change(notice))["erased"] is True
    assert decode_change(encode_change(notice)) == notice
    assert "erased" not in json.loads(encode_change(SettingsChange(GuildId(9), 4)))
    for odd in ("yes", 1, None):
        raw = json.dumps({"guild_id": "9", "version": 0, "erased": odd})
        assert decode_change(raw) == SettingsChange(GuildId(9), 0)


def test_an_erasure_notice_carries_when_the_panel_ran_it() -> None:
    notice = SettingsChange(GuildId(9), 3, erased=True, erased_at=1_700_000_060.5)
    assert json.loads(encode_change(notice))["erased_at"] == 1_700_000_060.5
    assert decode_change(encode_change(notice)) == notice
    for odd in ("soon", True, None):
        raw = json.dumps({"guild_id": "9", "version": 3, "erased": True, "erased_at": odd})
        assert decode_change(raw) == SettingsChange(GuildId(9), 3, erased=True)
