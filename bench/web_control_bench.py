"""Web control benchmark: a button press on the panel's live queue page until the fake Lavalink
node has applied it, against the same action as a slash command through the fake Discord, in one
run against one REAL bot process (``python -m vectobeat_bot``, the panel's long-poll bridge).

The action is pause and resume (alternately, so every press changes the player). Three ways:

* slash: ``/pause`` or ``/resume`` injected as INTERACTION_CREATE by the fake Discord;
* button: a click on the page's Pause/Resume button in Chromium (the page's script POSTs to the
  panel, the bot takes it from its long poll and applies it with the DJ rule);
* POST: the same JSON POST from an HTTP client with the member's session (the button minus the
  browser).

The button is also reported "in page": from the key event as the page sees it (its capturing
``keydown`` listener's wall-clock time) to the node, i.e. without the test driver's own way from
Python through Playwright's driver to Chromium, which no user's key press takes. The target stays
on the whole press.

Each sample runs from the injection, the key press on the focused button (one input event, no
pointer round trips) or the request until the node reports the new paused state, watched from
before the start (the POST's answer, which comes once the change is durable, is not counted; the
slash command's answer is not either). Between samples the page is waited for until it shows the
state (not timed). The
three ways take turns within every round (the order rotating), so a shared machine's bursts of
noise hit them alike; five warm-up rounds (imports, first connections, the JIT of the page) are
not counted. Target: button p99 within 2x the slash command's. The machine's load average before
and after the run is printed with the figures (a shared machine's neighbours show in the tail).
The last line printed is one JSON object with every figure and the ratios of each percentile.

Run: ``python bench/web_control_bench.py`` (``--rounds 100``; ``--quick``: 25).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import BotWorld, E2EGuild, running_bot  # noqa: E402
from tests.e2e.test_panel_to_bot_process import CHROMIUM, CHROMIUM_ARGS, panel_world  # noqa: E402

from vectobeat_core.ids import GuildId  # noqa: E402
from vectobeat_core.plans import Tier  # noqa: E402
from vectobeat_testkit.discord import UserGuild  # noqa: E402

TARGET = 2.0
WAYS = ("slash", "button", "post")
ROWS = ("slash", "button", "in_page", "post")
KEY_CLOCK = (
    "window.__keyAt = [];"
    "document.addEventListener('keydown',"
    " () => window.__keyAt.push(performance.timeOrigin + performance.now()), true);"
)
"""The page notes each key event's wall-clock time (ms), before any handler of ours runs."""
WARM_UP_ROUNDS = 5
PERCENTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _paused(world: BotWorld, guild: E2EGuild) -> bool:
    found = world.player(guild)
    return bool(found is not None and found[1].paused)


class Bench:
    def __init__(self, world: BotWorld, guild: E2EGuild, page: Any, client: Any) -> None:
        self.world, self.guild, self.page, self.client = world, guild, page, client
        self.csrf = ""
        self.results: dict[str, list[float]] = {row: [] for row in ROWS}
        self.applied_at = 0.0  # wall clock (s) of the last sample's node change

    async def _timed(self, paused: bool, act: Callable[[], Awaitable[None]]) -> float:
        """Milliseconds from starting ``act`` until the node reports ``paused`` (watched from
        before the start, so an answer that comes later, like the POST's, is not counted)."""
        applied: list[float] = []

        async def watch() -> None:
            await self.world.wait_nodes(lambda: _paused(self.world, self.guild) == paused, 15)
            applied.append(time.perf_counter())
            self.applied_at = time.time()

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            await anyio.lowlevel.checkpoint()  # the watch is waiting
            started = time.perf_counter()
            await act()
        return (applied[0] - started) * 1000

    async def _page_shows(self, paused: bool) -> None:
        label = "Resume" if paused else "Pause"
        with anyio.fail_after(15):
            while (await self.page.locator("#q-pause").text_content()) != label:  # noqa: ASYNC110 - another process
                await anyio.sleep(0.01)

    async def once(self, way: str) -> None:
        want = not _paused(self.world, self.guild)
        action = "pause" if want else "resume"
        await self._page_shows(not want)
        guild = self.guild
        if way == "slash":
            records: list[Any] = []

            async def slash() -> None:
                records.append(
                    await self.world.fake.slash(
                        guild_id=guild.id,
                        channel_id=guild.text_channel,
                        user_id=int(guild.owner.id),
                        name=action,
                        options={},
                    )
                )

            elapsed = await self._timed(want, slash)
            answer = await self.world.answer(records[0])
            if not answer.content.startswith(("Paused", "Resumed")):
                raise RuntimeError(f"/{action}: {answer.content}")
        elif way == "button":
            await self.page.focus("#q-pause")  # a keyboard press: no pointer round trips timed

            async def press() -> None:
                await self.page.keyboard.press("Enter")

            elapsed = await self._timed(want, press)
            key_at = float(await self.page.evaluate("() => window.__keyAt.pop()"))
            self.results["in_page"].append(self.applied_at * 1000 - key_at)
        else:
            responses: list[Any] = []

            async def post() -> None:
                responses.append(
                    await self.client.post(
                        f"/api/control-panel/guilds/{guild.id}/queue/control",
                        json={"action": action},
                        headers={"x-csrf-token": self.csrf},
                    )
                )

            elapsed = await self._timed(want, post)
            if responses[0].status_code != 200:
                raise RuntimeError(f"POST {action}: {responses[0].text}")
        self.results[way].append(elapsed)


async def run(rounds: int) -> dict[str, Any]:
    import httpx
    from playwright.async_api import async_playwright

    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        async with panel_world(Path(tmp)) as world:
            guild = await world.add_guild("bench", Tier.GROWTH)
            world.fake.set_oauth_user(
                guild.owner, [UserGuild(GuildId(guild.id), guild.guild.name, owner=True)]
            )
            async with running_bot(world), async_playwright() as pw:
                await world.voice(guild, guild.owner)
                for title in ("Alpha Song", "Bravo Song"):
                    await world.run(guild, guild.owner, "play", {"query": title})
                await world.wait_player(guild, "Alpha Song")
                browser = await pw.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                try:
                    context = await browser.new_context()
                    await context.add_init_script(KEY_CLOCK)
                    page = await context.new_page()
                    await page.goto(f"{world.panel_url}/guilds")
                    await page.click("#login")
                    await page.wait_for_url(f"{world.panel_url}/guilds")
                    await page.goto(f"{world.panel_url}/guilds/{guild.id}/queue")
                    cookies = {c["name"]: c["value"] for c in await context.cookies()}
                    async with httpx.AsyncClient(
                        base_url=world.panel_url, cookies=cookies
                    ) as client:
                        bench = Bench(world, guild, page, client)
                        bench.csrf = str(await page.locator("#queue").get_attribute("data-csrf"))
                        for _ in range(WARM_UP_ROUNDS):
                            for way in WAYS:
                                await bench.once(way)
                        bench.results = {row: [] for row in ROWS}
                        for index in range(rounds):
                            order = WAYS[index % 3 :] + WAYS[: index % 3]
                            for way in order:
                                await bench.once(way)
                                await bench.once(way)  # pause and resume
                finally:
                    await browser.close()
    return _summary(rounds, bench.results)


def _summary(rounds: int, results: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {"bench": "web_control", "rounds": rounds, "target": TARGET}
    for way, values in results.items():
        out[way] = {"samples": len(values), "mean_ms": round(statistics.fmean(values), 3)}
        for name, q in PERCENTILES:
            out[way][f"{name}_ms"] = round(_percentile(values, q), 3)
    for way in ROWS[1:]:
        for name, _ in PERCENTILES:
            ratio = out[way][f"{name}_ms"] / out["slash"][f"{name}_ms"]
            out[f"{way}_over_slash_{name}"] = round(ratio, 3)
    out["ok"] = out["button_over_slash_p99"] <= TARGET
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/web_control_bench.py")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 25 if args.quick else args.rounds
    load_before = os.getloadavg()
    summary = anyio.run(run, rounds)
    summary["load_average"] = {
        "before": [round(x, 2) for x in load_before],
        "after": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"{'way':<8} {'samples':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'p50 / slash':>12} {'p99 / slash':>12}"
    )
    for way in ROWS:
        row, slash = summary[way], summary["slash"]
        print(
            f"{way.replace('_', ' '):<8} {row['samples']:>8} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} "
            f"{row['p99_ms']:>8.2f} {row['p50_ms'] / slash['p50_ms']:>12.2f} "
            f"{row['p99_ms'] / slash['p99_ms']:>12.2f}"
        )
    load = summary["load_average"]
    print(f"load average (1, 5, 15 min): before {load['before']}, after {load['after']}")
    verdict = "ok" if summary["ok"] else "MISSED"
    print(
        f"button press -> node applied, p99 {summary['button_over_slash_p99']:.2f}x the slash "
        f"command's (target <= {TARGET:.1f}x): {verdict}"
    )
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    main()
