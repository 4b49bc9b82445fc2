"""``vectobeat-ops up`` as a real process: ports already taken, dependencies down, the sandbox
lifecycle (sign-in through the fake OAuth2, kill/revive a node) and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

READY_TIMEOUT = 60.0
STATE = Path(".vectobeat/sandbox.json")


def clean_environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("VECTOBEAT_", "DISCORD_", "LAVALINK_", "REDIS_", "DATABASE_", "PANEL_")
        )
    }
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    return env | extra


def ops(*args: str) -> list[str]:
    return [sys.executable, "-m", "vectobeat_ops", *args]


def wait_for_state(process: subprocess.Popen[str], cwd: Path) -> dict[str, Any]:
    """Until ``up`` wrote its state file (it does so once everything answers)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"up exited early with {process.returncode}:\n{out}\n{err}")
        try:
            return dict(json.loads((cwd / STATE).read_text()))
        except (FileNotFoundError, ValueError):
            time.sleep(0.1)
    pytest.fail("up did not become ready in time")


@pytest.fixture
def holder() -> Iterator[socket.socket]:
    """A port someone else already listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock
    sock.close()


@pytest.mark.parametrize("which", ["panel", "status"])
def test_port_already_taken(tmp_path: Path, holder: socket.socket, which: str) -> None:
    port = str(holder.getsockname()[1])
    flags = ["--panel-port", port, "--status-port", "0"]
    if which == "status":
        flags = ["--panel-port", "0", "--status-port", port]
    result = subprocess.run(
        ops("up", *flags),
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr and "already in use" in result.stderr
    assert ("PANEL_PORT" if which == "panel" else "STATUS_PORT") in result.stderr
    assert not (tmp_path / STATE).exists()
    assert not (tmp_path / "vectobeat.db").exists()


def test_unreachable_redis_stops_everything(tmp_path: Path) -> None:
    result = subprocess.run(
        ops("up", "--no-bot", "--panel-port", "0", "--status-port", "0"),
        cwd=tmp_path,
        env=clean_environment(REDIS_URL="redis://127.0.0.1:9/0"),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "Redis at 127.0.0.1:9" in result.stderr
    assert not (tmp_path / STATE).exists()


def test_unreadable_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"PANEL_PORT=\xff\n")
    result = subprocess.run(
        ops("up"),
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_production_mode_refuses_a_bad_config(tmp_path: Path) -> None:
    result = subprocess.run(
        ops("up", "--panel-port", "0", "--status-port", "0"),
        cwd=tmp_path,
        env=clean_environment(DISCORD_TOKEN="your-token-here"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "placeholder" in result.stdout


def test_sandbox_lifecycle_without_the_bot(tmp_path: Path) -> None:
    process = subprocess.Popen(
        ops("up", "--no-bot", "--panel-port", "0", "--status-port", "0"),
        cwd=tmp_path,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        state = wait_for_state(process, tmp_path)
        with httpx.Client(follow_redirects=True, timeout=10) as client:
            signed_in = client.get(state["login_url"])
            assert signed_in.status_code == 200 and str(signed_in.url).endswith("/guilds")
            guilds = client.get(f"{state['panel_url']}/api/control-panel/guilds").json()["guilds"]
            assert [(g["name"], g["plan"]) for g in guilds] == [("Demo Guild", "growth")]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ops("sandbox", *args),
                cwd=tmp_path,
                env=clean_environment(),
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )

        status = run("status", "--json")
        assert status.returncode == 0, status.stderr
        nodes = {n["name"]: n for n in json.loads(status.stdout)["nodes"]}
        assert sorted(nodes) == ["eu-1", "eu-2", "us-1", "us-2"]
        killed = run("kill-node", "eu-1", "--json")
        assert killed.returncode == 0 and json.loads(killed.stdout)["alive"] is False
        with pytest.raises(httpx.ConnectError):
            httpx.get(nodes["eu-1"]["url"] + "/version")
        revived = run("revive-node", "eu-1", "--json")
        assert json.loads(revived.stdout)["alive"] is True
        assert run("kill-node", "mars-1").returncode == 2
        no_bot = run("send", "/play lofi", "--timeout", "1")
        assert no_bot.returncode == 3 and "not connected" in no_bot.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "stopped: SIGTERM" in err
    assert not (tmp_path / STATE).exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(state["control_url"] + "/state")
    with pytest.raises(httpx.ConnectError):
        httpx.get(state["panel_url"] + "/api/health")
