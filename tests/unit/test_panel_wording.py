"""Issue 20 #14: the panel puts internal names (settings keys, event kinds, actor ids) in words,
from one mapping, and counts read as people write them."""

from __future__ import annotations

import re

import attrs
import pytest

from tests.unit.test_panel_app import PRO_GUILD, PanelHarness, harness
from vectobeat_core.audit import AuditKind
from vectobeat_core.settings import SETTING_LABELS, SETTINGS_FIELDS, WEBHOOK_EVENTS
from vectobeat_panel.wording import EVENT_LABELS, actor_label, counted, humanize, label


@attrs.frozen
class You:
    user_id: int
    username: str


__all__ = ["harness"]

ME = You(1174109841002594305, "Demo User")


def test_every_internal_name_has_a_label_without_underscores() -> None:
    names = [*SETTINGS_FIELDS, *WEBHOOK_EVENTS, *(k.value for k in AuditKind)]
    for name in names:
        assert label(name) != name and "_" not in label(name), name
    assert set(SETTING_LABELS) == set(SETTINGS_FIELDS)
    assert {k.value for k in AuditKind} <= set(EVENT_LABELS)


def test_stored_summaries_are_put_in_words() -> None:
    text = humanize(
        "user:1174109841002594305 saved settings version 2 (queue_limit, webhook_export_events).",
        ME,
    )
    assert text == "Demo User saved settings version 2 (Queue limit, Exported events)."
    other = humanize("user:1174109841002599999 created API token 'ci' (…3jMs).", ME)
    assert other.startswith("a member (…9999) created")
    assert not re.search(r"user:\d+|\b[a-z]+_[a-z_]+\b", humanize("automation_action", ME))
    assert humanize("a test of the region", ME) == "a test of the region", "prose words stay"


@pytest.mark.parametrize(
    ("actor", "shown"),
    [
        ("user:1174109841002594305", "Demo User"),
        ("user:42", "a member (…42)"),
        ("bot", "the bot"),
        ("automation", "the automation engine"),
        ("token:abcd1234", "API token …1234"),
        (None, "—"),
        ("shard-host-7", "shard-host-7"),
    ],
)
def test_actors_read_as_who_they_are(actor: str | None, shown: str) -> None:
    assert actor_label(actor, ME) == shown


def test_counts_agree_with_their_noun() -> None:
    assert counted(1, "event") == "1 event"
    assert counted(0, "event") == "0 events"
    assert counted(2, "player") == "2 players"


def _visible(html: str) -> str:
    """The text a person sees (no tags, attributes or scripts)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.anyio
async def test_form_errors_name_fields_in_words(harness: PanelHarness) -> None:
    csrf = await harness.login()
    settings = await harness.client.post(
        f"/guilds/{PRO_GUILD}/settings",
        data={"csrf_token": csrf, "base_version": "0", "queue_limit": "999999999"},
    )
    assert settings.status_code == 400, settings.text
    tokens = await harness.client.post(
        f"/guilds/{PRO_GUILD}/tokens",
        data={"csrf_token": csrf, "label": "x", "scopes": "queue:read", "expires_in_days": "3"},
    )
    assert tokens.status_code == 400 and "Expires" in _visible(tokens.text)
    for page in (settings.text, tokens.text):
        assert not re.search(r"\b(queue_limit|expires_in_days)\b", _visible(page)), _visible(page)
