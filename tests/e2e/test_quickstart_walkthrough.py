"""The README Quickstart and its "what to try" paragraph, walked as written (issue 20, done means).

`vectobeat-ops up` runs as a real process from this venv (the fresh-venv variant is
`test_newcomer.test_newcomer_fresh_venv`); the sign-in URL it prints is opened in Chromium; each
`.venv/bin/vectobeat-ops ...` command of the paragraph runs as a real process, in the order the
README gives them, each followed by what a newcomer would look at (the live queue, where the player
plays, the nodes page). Then every panel page is screenshotted (test-artifacts/screenshots/
walkthrough-*.png) and read for raw internal names, and Ctrl-C stops everything while the live
queue is still open in the browser.

It fails on a traceback or a discord.py WARNING in the logs, on a printed URL that does not answer
2xx/3xx, on a page showing ``queue_limit``, ``user:1174…``, ``track(s)`` or ``1 players``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.test_newcomer import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    STATE,
    eventually,
    sandbox_environment,
    start,
    wait_until_up,
)

from vectobeat_core.audit import AuditKind
from vectobeat_core.health import HealthEvent
from vectobeat_core.settings import SETTINGS_FIELDS, WEBHOOK_EVENTS
from vectobeat_panel.app import build_routes

SHOTS = ROOT / "test-artifacts" / "screenshots"
BIN = Path(sys.executable).parent
STOP_BOUND_S = 20.0
"""Ctrl-C must stop everything well before this (an open live-queue stream once held it 300 s)."""

INTERNAL_NAMES = sorted(
    {name for name in (*SETTINGS_FIELDS, *WEBHOOK_EVENTS, *AuditKind, *HealthEvent) if "_" in name}
)
RAW = re.compile(
    r"\b(?:" + "|".join(map(re.escape, INTERNAL_NAMES)) + r")\b"  # settings keys, event kinds
    r"|\buser:\d+"  # actor ids
    r"|\w\(s\)"  # "track(s)"
    r"|\b1 (?:players|tracks|events|nodes|tokens)\b"  # "1 players"
)
URL = re.compile(r"https?://[^\s│|)'\"]+")


def what_to_try() -> list[str]:
    """The commands of the README's "what to try" paragraph, in its order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("While the sandbox runs") :].split("\n\n", 1)[0]
    commands = re.findall(r"`(\.venv/bin/vectobeat-ops [^`]+)`", paragraph)
    assert commands, "the README's paragraph names no command to try"
    return commands


def page_paths(guild: str) -> list[str]:
    """Every HTML page of the panel (GET routes that are not APIs, streams or sign-in steps)."""
    paths = []
    for route in build_routes():
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if "GET" not in methods or path.startswith(
            ("/api/", "/auth/", "/static", "/favicon", "/language")
        ):
            continue
        if path.endswith((".jsonl", "/events")):
            continue
        path = path.replace("{guild_id:snowflake}", guild)
        if "{" not in path:  # a page of one record (a care request): none exists on a first walk
            paths.append(path)
    return paths


class Walk:
    """The running stack and the newcomer's second terminal."""

    def __init__(self, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.cwd, self.env, self.log = cwd, env, log
        self.outputs: list[str] = []

    def run(self, line: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A README command line, with ``.venv/bin/`` meaning this test's virtual environment."""
        argv = shlex.split(line)
        argv[0] = str(BIN / Path(argv[0]).name)
        done = subprocess.run(
            argv, cwd=self.cwd, env=self.env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        # what a person reads (a --json answer holds API bases, not pages to open)
        self.outputs.append(done.stderr if "--json" in argv else done.stdout + done.stderr)
        assert done.returncode == 0, f"{line} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        return done

    def where(self, guild: str) -> tuple[str, int] | None:
        """The node playing the demo guild's track and its position, from `sandbox status`."""
        status = json.loads(self.run(".venv/bin/vectobeat-ops sandbox status --json").stdout)
        for node in status["nodes"]:
            for player in node["players"]:
                if player["guild_id"] == guild and player["track"] and node["alive"]:
                    return node["name"], int(player["position_ms"])
        return None


def assert_urls_answer(text: str) -> None:
    urls = sorted({u.rstrip(".,;") for u in URL.findall(text)})
    assert urls, "nothing printed a URL"
    with httpx.Client(timeout=15, follow_redirects=False) as client:
        for url in urls:
            response = client.get(url)
            if response.status_code == 429:
                # the sign-in routes (/auth/*) allow 5 requests per 15 s per address; the walk's sign-ins
                # may have just used them: a person who waits as asked gets through
                time.sleep(min(20.0, float(response.headers.get("retry-after", "10"))))
                response = client.get(url)
            status = response.status_code
            assert 200 <= status < 400, f"{url} answered {status}"


def assert_clean_logs(text: str) -> None:
    assert "Traceback" not in text, text[text.index("Traceback") - 2000 :][:6000]
    warnings = [line for line in text.splitlines() if re.search(r"WARNING\s+discord\b", line)]
    assert warnings == [], "\n".join(warnings)
    assert "Can't keep up" not in text


def nodes_row(page: Any, name: str) -> dict[str, str]:
    """A row of the nodes page by column: node, region, status, players, ..."""
    cells = page.locator("#nodes tbody tr", has_text=name).first.locator("th, td").all_inner_texts()
    return dict(
        zip(("node", "region", "status", "players"), (c.strip() for c in cells), strict=False)
    )


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_readme_quickstart_walkthrough(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("VECTOBEAT_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "up.log"
    env = sandbox_environment(PYTHONWARNINGS="ignore::DeprecationWarning", COLUMNS="200")
    process = start([str(BIN / "vectobeat-ops"), "up"], tmp_path, env, log)
    walk = Walk(tmp_path, env, log)
    pgid = os.getpgid(process.pid)
    stopped_in: float | None = None
    try:
        state = wait_until_up(process, tmp_path, log, 90)
        eventually(lambda: True if "Ctrl-C" in log.read_text() else None, 30, "the banner")
        panel, guild = state["panel_url"], state["guild"]["id"]
        sign_in = re.search(r"sign in\s*│\s*(\S+)", log.read_text())
        assert sign_in is not None, log.read_text()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[*CHROMIUM_ARGS, "--disable-component-update", "--disable-sync"],
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on(
                "console",
                lambda m: (
                    errors.append(f"{page.url}: {m.text} {m.location}")
                    if m.type == "error"
                    else None
                ),
            )
            page.goto(sign_in.group(1))  # "open the printed sign-in URL"
            page.wait_for_url(f"{panel}/guilds")
            expect(page.locator(f'li[data-guild="{guild}"]')).to_contain_text("Demo Guild")
            page.goto(f"{panel}/guilds/{guild}/queue")  # "watch the live queue"
            expect(page.locator("#queue")).to_contain_text("Nothing is playing")

            for line in what_to_try():
                verb = shlex.split(line)[1:]
                if verb[:2] == ["sandbox", "send"]:
                    said = walk.run(line).stdout
                    assert "Lofi" in said and "**" not in said and "<#" not in said, said
                    expect(page.locator("#queue .q-title")).to_contain_text("Lofi", timeout=20_000)
                    page.screenshot(path=str(SHOTS / "walkthrough-live-queue.png"), full_page=True)
                    first = eventually(lambda: walk.where(guild), 20, "a player on a node")
                    assert first[0] == "eu-1", f"the README promises eu-1 -> eu-2, played {first}"
                    eventually(
                        lambda: True if (w := walk.where(guild)) and w[1] >= 1000 else None,
                        20,
                        "playback to advance",
                    )
                elif verb[:2] == ["sandbox", "kill-node"]:
                    walk.run(line)
                    moved = eventually(
                        lambda: w if (w := walk.where(guild)) and w[0] != "eu-1" else None,
                        30,
                        "the player to move",
                    )
                    assert moved[0] == "eu-2" and moved[1] >= 1000, moved
                    page.goto(f"{panel}/nodes")

                    def eu1_down_without_players() -> bool | None:
                        page.reload()
                        row = nodes_row(page, "eu-1")
                        return True if row["status"] == "down" and row["players"] == "—" else None

                    eventually(eu1_down_without_players, 30, "eu-1 shown down, holding no player")
                    eu2 = nodes_row(page, "eu-2")
                    assert eu2["status"] == "up" and eu2["players"] == "1", eu2
                    page.screenshot(path=str(SHOTS / "walkthrough-after-kill.png"), full_page=True)
                elif verb[:2] == ["sandbox", "status"]:
                    shown = walk.run(line).stdout
                    assert "Demo Guild" in shown and "Lofi" in shown and "eu-2" in shown, shown
                    assert re.search(r"eu-1\s*│\s*eu\s*│\s*dead", shown), shown
                elif verb[:2] == ["sandbox", "revive-node"]:
                    walk.run(line)
                    page.goto(f"{panel}/nodes")

                    def eu1_up() -> bool | None:
                        page.reload()
                        return True if nodes_row(page, "eu-1")["status"] == "up" else None

                    eventually(eu1_up, 30, "eu-1 to be up again")
                else:
                    pytest.fail(f"the README names a command this walk does not know: {line}")

            # a newcomer also tries the panel: a token (reloading must not make a second one) ...
            page.goto(f"{panel}/guilds/{guild}/tokens")
            page.fill("#label", "my script")
            page.click("button.primary")
            expect(page.locator("#secret")).to_be_visible()
            assert page.url == f"{panel}/guilds/{guild}/tokens"
            page.reload()
            expect(page.locator("#secret")).to_have_count(0)
            expect(page.locator("table.tokens tbody tr", has_text="my script")).to_have_count(1)
            # ... and a settings change, so the audit log names a person and a setting
            page.goto(f"{panel}/guilds/{guild}/settings")
            page.fill("#f-queue_limit", "500")
            page.click("#save")
            expect(page.locator("#version")).to_have_text("1")

            for path in page_paths(guild):
                response = page.goto(f"{panel}{path}")
                assert response is not None and response.status < 400, path
                name = path.strip("/").replace("/", "-").replace(guild, "guild") or "root"
                page.screenshot(path=str(SHOTS / f"walkthrough-{name}.png"), full_page=True)
                text = page.locator("body").inner_text()
                found = sorted({m.group(0) for m in RAW.finditer(text)})
                assert found == [], f"{path} shows raw internal names {found}"
            print(f"\nscreenshots: {SHOTS}")
            assert errors == [], errors

            # Ctrl-C with the live queue still open in the browser
            page.goto(f"{panel}/guilds/{guild}/queue")
            expect(page.locator("#queue .q-title")).to_contain_text("Lofi")
            assert_urls_answer(log.read_text() + "\n".join(walk.outputs))
            began = time.monotonic()
            os.killpg(pgid, signal.SIGINT)
            try:
                process.wait(timeout=STOP_BOUND_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"Ctrl-C did not stop the stack within {STOP_BOUND_S:g} s")
            stopped_in = time.monotonic() - began
            browser.close()
    finally:
        if process.poll() is None:
            os.killpg(pgid, signal.SIGKILL)
            process.wait()

    def gone() -> bool | None:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        return None

    eventually(gone, 10, "every process of the stack (the bot too) to exit")
    output = log.read_text()
    assert "stopped: SIGINT" in output
    assert not (tmp_path / STATE).exists()
    assert_clean_logs(output + "\n".join(walk.outputs))
    print(f"Ctrl-C stopped everything in {stopped_in:.1f} s")
