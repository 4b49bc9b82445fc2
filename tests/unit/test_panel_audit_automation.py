"""The panel's audit log names every kind for people and filters the automation engine's events."""

from __future__ import annotations

import pytest

from tests.unit.test_panel_app import PRO_GUILD, PanelHarness, harness
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_panel.audit_pages import KIND_LABELS

__all__ = ["harness"]


def test_every_kind_has_a_human_label() -> None:
    assert set(KIND_LABELS) == set(AuditKind)
    assert all(label and "_" not in label for label in KIND_LABELS.values())


@pytest.mark.anyio
async def test_the_automation_filter_shows_actions_and_throttled_commands(
    harness: PanelHarness,
) -> None:
    await harness.login()
    guild = GuildId(PRO_GUILD)
    audit = harness.services.audit
    await audit.append(
        AuditEvent.automation_action(guild, "restarted the idle player", "idle", 1.0)
    )
    await audit.append(AuditEvent.throttled_command(guild, "someone", "queue", 3.0, 2.0))
    await audit.append(AuditEvent.settings_changed(guild, 2, ["region"], "owner", 3.0))
    api = f"/api/control-panel/guilds/{PRO_GUILD}/audit"
    page = (await harness.client.get(f"{api}?kind=automation")).json()
    assert sorted(e["kind"] for e in page["events"]) == ["automation_action", "throttled_command"]
    assert {e["label"] for e in page["events"]} == {
        "Automation action",
        "Command flood slowed down",
    }
    html = await harness.client.get(f"/guilds/{PRO_GUILD}/audit?kind=automation")
    assert "Everything the automation engine did" in html.text
    assert "Automation: restarted the idle player (idle)." in html.text
    assert "saved settings version 2" not in html.text
    bad = await harness.client.get(f"{api}?kind=nope")
    assert bad.status_code == 400 and "automation" in bad.json()["error"]
