"""The sandbox on its own: the demo world, the configuration it hands out and its control API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from vectobeat_core.routing import parse_node_list
from vectobeat_testkit.sandbox import Sandbox, read_state_file

PANEL = "http://127.0.0.1:18080"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(panel_url=PANEL) as running:
        yield running


@pytest.mark.anyio
async def test_demo_world(sandbox: Sandbox) -> None:
    demo = sandbox.demo
    guild = sandbox.discord.guild(demo.guild.id)
    assert guild.name == "Demo Guild" and guild.owner_id == demo.user.id
    assert guild.voice_states[demo.user.id].channel_id == demo.voice_channel
    assert sandbox.discord.oauth.consenting_user == demo.user.id
    assert f"{PANEL}/auth/callback" in sandbox.discord.oauth.redirect_uris


@pytest.mark.anyio
async def test_env_points_at_the_fakes(sandbox: Sandbox) -> None:
    env = sandbox.env()
    specs = parse_node_list(env["LAVALINK_NODES"], env["LAVALINK_PASSWORD"])
    assert sorted((s.region.value, s.name) for s in specs) == [
        ("eu", "eu-1"), ("eu", "eu-2"), ("us", "us-1"), ("us", "us-2"),
    ]  # fmt: skip
    assert env["DISCORD_API_BASE"] == sandbox.discord.api_base
    assert env["SHARD_COUNT"] == "1"
    async with httpx.AsyncClient() as client:
        for spec in specs:
            answer = await client.get(
                f"{spec.uri}/version", headers={"Authorization": spec.password}
            )
            assert answer.status_code == 200


@pytest.mark.anyio
async def test_state_file_has_no_secrets(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / ".vectobeat" / "sandbox.json"
    sandbox.write_state(path, {"pid": 1})
    text = path.read_text()
    for secret in (sandbox.token, sandbox.client_secret, sandbox.lavalink_password):
        assert secret not in text
    state = read_state_file(path)
    assert state["guild"]["name"] == "Demo Guild" and state["pid"] == 1


@pytest.mark.anyio
async def test_control_api(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.control_url) as client:
        state = (await client.get("/state")).json()
        assert [n["alive"] for n in state["nodes"]] == [True] * 4
        killed = await client.post("/nodes/us-2/kill")
        assert killed.status_code == 200 and killed.json()["alive"] is False
        assert sandbox.nodes["us-2"].killed
        revived = await client.post("/nodes/us-2/revive")
        assert revived.json()["alive"] is True
        unknown = await client.post("/nodes/mars-1/kill")
        assert unknown.status_code == 404 and "eu-1" in unknown.json()["error"]
        no_bot = await client.post("/send", json={"command": "/play lofi", "timeout": 1})
        assert no_bot.status_code == 503 and "not connected" in no_bot.json()["error"]
        garbage = await client.post("/send", content=b"not json")
        assert garbage.status_code == 400


def test_missing_state_file_says_how_to_start(tmp_path: Path) -> None:
    from vectobeat_core.errors import Unavailable

    with pytest.raises(Unavailable, match="vectobeat-ops up"):
        read_state_file(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text(json.dumps({"x": 1}))
    with pytest.raises(Unavailable, match="not a sandbox state file"):
        read_state_file(tmp_path / "bad.json")


@pytest.mark.anyio
async def test_nodes_check_finds_the_sandbox_nodes_without_lavalink_nodes(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio
    from typer.testing import CliRunner

    from vectobeat_ops.cli import app

    for key in ("LAVALINK_NODES", "LAVALINK_PASSWORD", "REDIS_URL"):
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(f"VECTOBEAT_{key}", raising=False)
    monkeypatch.chdir(tmp_path)
    sandbox.write_state(tmp_path / ".vectobeat" / "sandbox.json")
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(app, ["nodes", "check", "--json"], env={})
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(n["name"] for n in report["nodes"]) == ["eu-1", "eu-2", "us-1", "us-2"]
    assert report["ok"] is True
    assert sandbox.lavalink_password not in result.output


@pytest.mark.anyio
async def test_pick_chooses_in_the_latest_open_search_menu(sandbox: Sandbox) -> None:
    demo = sandbox.demo
    async with httpx.AsyncClient(base_url=sandbox.control_url) as client:
        none = await client.post("/pick", json={"choice": 1})
        assert none.status_code == 404 and "/search" in none.json()["error"]
        menu = {
            "type": 3,
            "custom_id": "vb:search:1",
            "options": [{"label": "1. A", "value": "0"}, {"label": "2. B", "value": "1"}],
        }
        async with httpx.AsyncClient(
            base_url=sandbox.discord.api_base,
            headers={"Authorization": f"Bot {sandbox.token}"},
        ) as bot:
            sent = await bot.post(
                f"/channels/{demo.text_channel}/messages",
                json={
                    "content": "Found 2 tracks",
                    "components": [{"type": 1, "components": [menu]}],
                },
            )
            assert sent.status_code == 200, sent.text
        beyond = await client.post("/pick", json={"choice": 3})
        assert beyond.status_code == 400 and "from 1 to 2" in beyond.json()["error"]
        assert (await client.post("/pick", json={"choice": "2"})).status_code == 400
        unanswered = await client.post("/pick", json={"choice": 2, "timeout": 0.5})
        assert unanswered.status_code == 503 and "did not answer" in unanswered.json()["error"]
    clicks = [r for r in sandbox.discord.world.interactions.values() if r.type == 3]
    assert [r.payload["data"] for r in clicks] == [
        {"custom_id": "vb:search:1", "component_type": 3, "values": ["1"]}
    ]
    assert clicks[0].payload["member"]["user"]["id"] == str(demo.user.id)
