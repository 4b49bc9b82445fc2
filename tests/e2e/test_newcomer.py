"""The newcomer's first minutes: the README's first Quickstart line brings the whole stack up on
embedded defaults with the sandbox; the panel signs in through the fake OAuth2 and shows the demo
guild; ``/play`` sent with ``vectobeat-ops sandbox send`` shows up in the panel's live queue; a
killed node's player resumes on the other node of its region; Ctrl-C stops everything.

`test_newcomer_fresh_venv` runs the README line verbatim in a copy of the repository (a fresh
virtual environment, pip's cache reused); `test_stack_with_this_install` runs the same scenario
with the package already installed here (fast feedback).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(".vectobeat/sandbox.json")
T = TypeVar("T")
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".hypothesis", ".ruff_cache", ".mypy_cache", ".pytest_cache",
    ".coverage", ".vectobeat", "*.db", ".nox", "*.egg-info", "build", "dist",
)  # fmt: skip


def readme_first_line() -> str:
    """The first command of the README's Quickstart."""
    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)
    return str(blocks[0]).strip()


def sandbox_environment(**extra: str) -> dict[str, str]:
    """A newcomer's environment (no VectoBeat settings) with ephemeral ports for the test."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("VECTOBEAT_", "DISCORD_", "LAVALINK_", "REDIS_", "DATABASE_", "PANEL_")
        )
        and k not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    return env | {"PANEL_PORT": "0", "STATUS_PORT": "0"} | extra


def eventually(probe: Callable[[], T | None], seconds: float, what: str) -> T:
    """Poll ``probe`` until it returns something (the system is asynchronous by nature)."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def start(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_up(
    process: subprocess.Popen[bytes], cwd: Path, log: Path, seconds: float
) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        if process.poll() is not None:
            pytest.fail(f"the stack exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            return dict(json.loads((cwd / STATE).read_text()))
        except (FileNotFoundError, ValueError):
            return None

    return eventually(ready, seconds, "the stack to come up")


def newcomer_scenario(
    ops: list[str], cwd: Path, env: dict[str, str], state: dict[str, Any]
) -> None:
    """Panel -> demo guild -> /play -> live queue -> kill the node -> resumed in the region."""

    def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ops, "sandbox", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    panel, guild = state["panel_url"], state["guild"]["id"]
    with httpx.Client(follow_redirects=True, timeout=15) as client:
        page = client.get(state["login_url"])
        assert page.status_code == 200 and str(page.url) == f"{panel}/guilds"
        assert "Demo Guild" in page.text
        guilds = client.get(f"{panel}/api/control-panel/guilds").json()["guilds"]
        assert [g["name"] for g in guilds] == ["Demo Guild"]

        played = sandbox("send", "/play lofi", "--timeout", "45")
        assert played.returncode == 0, played.stderr
        assert "Lofi" in played.stdout

        def queued() -> dict[str, Any] | None:
            view = client.get(f"{panel}/api/control-panel/guilds/{guild}/queue").json()
            current = view.get("current") or {}
            return view if "Lofi" in str(current.get("title")) else None

        view = eventually(queued, 20, "the track in the panel's queue API")
        with client.stream("GET", f"{panel}/guilds/{guild}/queue/events") as events:
            for line in events.iter_lines():
                if line.startswith("data:"):
                    assert json.loads(line[5:])["current"]["title"] == view["current"]["title"]
                    break

        def placed() -> tuple[str, str, int] | None:
            status = json.loads(sandbox("status", "--json").stdout)
            for node in status["nodes"]:
                for player in node["players"]:
                    if player["guild_id"] == guild and player["track"]:
                        return node["name"], node["region"], int(player["position_ms"])
            return None

        node, region, _ = eventually(placed, 20, "a player on a sandbox node")

        def advanced() -> bool | None:
            where = placed()
            return True if where is not None and where[2] >= 1000 else None

        eventually(advanced, 20, "playback to advance")
        killed = sandbox("kill-node", node)
        assert killed.returncode == 0, killed.stderr

        def resumed() -> tuple[str, str, int] | None:
            where = placed()
            return where if where is not None and where[0] != node else None

        new_node, new_region, position = eventually(resumed, 30, "the player to move")
        assert new_region == region, f"moved from {node} to {new_node} in another region"
        assert position >= 1000, "the track restarted instead of resuming"


def stop(process: subprocess.Popen[bytes], log: Path) -> None:
    """Ctrl-C (SIGINT to the process group, as a terminal does); everything must exit."""
    pgid = os.getpgid(process.pid)
    os.killpg(pgid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        pytest.fail(f"the stack did not stop on Ctrl-C:\n{log.read_text()[-4000:]}")

    def gone() -> bool | None:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        return None

    eventually(gone, 20, "every process of the stack to exit")
    assert "stopped:" in log.read_text()


def test_stack_with_this_install(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    env = sandbox_environment(PYTHONWARNINGS="ignore::DeprecationWarning")
    ops = [sys.executable, "-m", "vectobeat_ops"]
    process = start([*ops, "up"], tmp_path, env, log)
    try:
        state = wait_until_up(process, tmp_path, log, 90)
        newcomer_scenario(ops, tmp_path, env, state)
    finally:
        stop(process, log)
    assert not (tmp_path / STATE).exists()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_newcomer_fresh_venv(tmp_path: Path) -> None:
    line = readme_first_line()
    assert line.endswith("vectobeat-ops up"), line
    checkout = tmp_path / "vectobeat"
    shutil.copytree(ROOT, checkout, ignore=IGNORED)
    log = tmp_path / "readme.log"
    env = sandbox_environment()
    process = start(["timeout", "--signal=INT", "800", "bash", "-c", line], checkout, env, log)
    try:
        state = wait_until_up(process, checkout, log, 700)
        ops = [str(checkout / ".venv" / "bin" / "vectobeat-ops")]
        assert (checkout / ".venv" / "bin" / "python").exists()
        newcomer_scenario(ops, checkout, env, state)
    finally:
        stop(process, log)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


@pytest.mark.browser
def test_stack_in_chromium(tmp_path: Path) -> None:
    """A person's view: sign in with one click, see the demo guild, watch /play arrive live."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("VECTOBEAT_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    log = tmp_path / "up.log"
    env = sandbox_environment(PYTHONWARNINGS="ignore::DeprecationWarning")
    ops = [sys.executable, "-m", "vectobeat_ops"]
    process = start([*ops, "up"], tmp_path, env, log)
    try:
        state = wait_until_up(process, tmp_path, log, 90)
        panel, guild = state["panel_url"], state["guild"]["id"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(panel)
            page.click("#login")
            page.wait_for_url(f"{panel}/guilds")
            expect(page.locator(f'li[data-guild="{guild}"]')).to_contain_text("Demo Guild")
            page.goto(f"{panel}/guilds/{guild}/queue")
            expect(page.locator("#queue")).to_contain_text("Nothing is playing")
            played = subprocess.run(
                [*ops, "sandbox", "send", "/play lofi", "--timeout", "45"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert played.returncode == 0, played.stderr
            expect(page.locator("#queue .q-title")).to_contain_text("Lofi", timeout=20_000)
            browser.close()
    finally:
        stop(process, log)
