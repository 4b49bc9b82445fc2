"""English and German, end to end.

The bot runs as a real process against the fake Discord and fake Lavalink: a member whose Discord
client is German (interaction locale ``de``) reads German replies, errors and buttons, while an
English member in the same guild reads English; the commands Discord shows carry German
descriptions. The panel in Chromium follows the browser's language (Accept-Language ``de``) and
its switcher; screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import (
    MANAGE_GUILD,
    Answer,
    BotProcess,
    BotWorld,
    E2EGuild,
    bot_world,
    running_bot,
)
from tests.e2e.test_panel_browser import (  # noqa: F401 - the panel stack fixture
    CHROMIUM,
    CHROMIUM_ARGS,
    PRO,
    Stack,
    _shot,
    stack,
)
from tests.e2e.test_panel_control_rules import SIGN_INS, signed_in
from tests.e2e.test_panel_playback_controls import fill_queue
from tests.e2e.test_panel_to_bot_process import panel_world

from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_testkit.discord import UserGuild

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[BotWorld, BotProcess]]:
    tmp: Path = tmp_path_factory.mktemp("languages")
    async with bot_world(tmp, redis_url=None) as built:
        await built.add_guild("mixed", Tier.STARTER, dj_role=True)
        async with running_bot(built) as bot:
            yield built, bot


async def run_in(
    w: BotWorld,
    guild: E2EGuild,
    user: Any,
    name: str,
    options: Mapping[str, Any] | None = None,
    *,
    locale: str,
) -> Answer:
    """``/name options`` by ``user`` whose Discord client speaks ``locale``."""
    record = await w.fake.slash(
        guild_id=guild.id,
        channel_id=guild.text_channel,
        user_id=int(user.id),
        name=name,
        options=dict(options or {}),
        locale=locale,
    )
    return await w.answer(record)


@pytest.mark.slow
async def test_a_german_member_reads_german_and_an_english_one_english(
    world: tuple[BotWorld, BotProcess],
) -> None:
    w, _bot = world
    guild = w.guilds["mixed"]
    await w.voice(guild, guild.dj)
    played = await run_in(w, guild, guild.dj, "play", {"query": "Alpha Song"}, locale="de")
    assert not played.ephemeral
    assert played.content.startswith("Jetzt läuft **Alpha Song** von The Testers (10:00) auf Node")
    await w.wait_player(guild, "Alpha Song")

    queued = await run_in(w, guild, guild.dj, "play", {"query": "Bravo Song"}, locale="en-US")
    assert queued.content == "Queued **Bravo Song** by The Testers (10:00) at position 1."
    queued = await run_in(w, guild, guild.dj, "play", {"query": "Charlie Song"}, locale="de")
    assert queued.content == "**Charlie Song** von The Testers (10:00) an Position 2 eingereiht."

    listing = await run_in(w, guild, guild.dj, "queue", locale="de")
    assert "Jetzt läuft **Alpha Song**" in listing.content
    assert "Seite 1/1 · 2 Titel ·" in listing.content and "Wiederholung aus" in listing.content

    # bad input and a refused permission: ephemeral, in the member's language
    bad = await run_in(w, guild, guild.dj, "seek", {"position": "bald"}, locale="de")
    assert bad.ephemeral
    assert bad.content.startswith("'bald' ist keine Position: Schreibe Sekunden (90)")
    out = await run_in(w, guild, guild.dj, "remove", {"from": 9}, locale="de")
    assert out.ephemeral
    assert out.content == "Position 9 liegt außerhalb des gültigen Bereichs: Wähle 1-2."
    refused = await run_in(w, guild, guild.member, "volume", {"level": 50}, locale="de")
    assert refused.ephemeral
    assert refused.content == (
        "Nur DJs dürfen hier die Lautstärke ändern: Du brauchst eine DJ-Rolle oder die "
        "Berechtigung „Server verwalten“."
    )
    english = await run_in(w, guild, guild.member, "volume", {"level": 50}, locale="en-GB")
    assert english.content.startswith("Only DJs can change the volume here")
    other = await run_in(w, guild, guild.member, "volume", {"level": 50}, locale="fr")
    assert other.content.startswith("Only DJs can change the volume here")  # not ours: English

    # /nowplaying: German text and buttons; a German press answers in German
    shown = await run_in(w, guild, guild.dj, "nowplaying", locale="de")
    assert shown.content.startswith("Jetzt läuft **Alpha Song**")
    assert shown.message is not None
    labels = [c["label"] for row in shown.message.components for c in row["components"]]
    assert labels == ["Pause/Weiter", "Überspringen", "Stopp", "Wiederholung"]
    click = await w.fake.click(
        message_id=shown.message.id,
        user_id=int(guild.dj.id),
        custom_id="vb:np:pause",
        locale="de",
    )
    await w.fake.wait_for_response(click.id)
    edited = w.fake.world.messages[shown.message.id].content
    assert "pausiert" in edited and edited.endswith("-# Pausiert.")

    # /search: the menu and its answer in German
    found = await run_in(w, guild, guild.dj, "search", {"query": "Song"}, locale="de")
    assert re.fullmatch(r"\d+ Titel gefunden: Wähle einen aus, um ihn einzureihen\.", found.content)
    assert found.message is not None
    (menu,) = [c for row in found.message.components for c in row["components"]]
    assert menu["placeholder"] == "Einen Titel zum Einreihen wählen"


@pytest.mark.slow
async def test_why_the_region_was_lowered_and_node_states_in_german(
    world: tuple[BotWorld, BotProcess],
) -> None:
    """The panel lowers a Starter guild's pinned region and says why in the bridge's JSON (a
    phrase beside the English): a German member reads it in German, an English one as before;
    /settings show and /lavalink name the region's reason and the nodes' states in German."""
    w, _bot = world
    guild = w.guilds["mixed"]
    options = {"region": "eu"}
    lowered = await run_in(w, guild, guild.owner, "settings region", options, locale="de")
    assert lowered.content == (
        "Region: gewünscht eu, tatsächlich auto. Dein Plan (Starter) spielt auf auto; eine Region "
        "(us/eu/apac) festzulegen braucht Growth oder höher."
    )
    english = await run_in(w, guild, guild.owner, "settings region", options, locale="en-US")
    assert english.content == (
        "Region: requested eu, effective auto. Your plan (Starter) plays on auto; pinning a "
        "region (us/eu/apac) needs Growth or higher."
    )
    shown = await run_in(w, guild, guild.owner, "settings show", locale="de")
    assert (
        "Region: gewünscht auto, tatsächlich auto. Spielt auf auto: Für jede Sitzung wird die "
        "gesündeste Region gewählt."
    ) in shown.content
    nodes = await run_in(w, guild, guild.member, "lavalink", locale="de")
    assert "• us-1 (us): in Betrieb," in nodes.content, nodes.content


@pytest.mark.slow
async def test_discord_shows_the_commands_with_german_descriptions(
    world: tuple[BotWorld, BotProcess],
) -> None:
    w, _bot = world
    play = w.fake.world.command(None, "play")
    assert play is not None
    assert play["description"] == "Play a link or the top search result"
    assert play["description_localizations"]["de"] == (
        "Einen Link oder das beste Suchergebnis abspielen"
    )
    assert play["options"][0]["description_localizations"]["de"] == "Eine URL oder Suchbegriffe"
    assert not play.get("name_localizations")  # the command is /play in every language


@pytest.mark.browser
async def test_the_panel_in_german_in_chromium(stack: Stack) -> None:  # noqa: F811
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        await page.goto(f"{stack.url}/guilds")
        await expect(page.locator("html")).to_have_attribute("lang", "de")
        await expect(page.locator("h1")).to_have_text("Anmelden")
        await expect(page.locator("#login")).to_have_text("Mit Discord anmelden")
        await _shot(page, "languages-01-login-de")
        await page.click("#login")
        await page.wait_for_url(f"{stack.url}/guilds")
        await expect(page.locator("h1")).to_have_text("Deine Server")
        await page.locator(f'li[data-guild="{PRO}"] a', has_text="Verwalten").click()
        await expect(page.get_by_role("link", name="Live-Warteschlange")).to_be_visible()
        await expect(page.locator("#billing-heading")).to_have_text("Plan & Abrechnung")
        await _shot(page, "languages-02-guild-de")

        # the switcher: English sticks (a cookie) although the browser still asks for German
        await page.get_by_label("Sprache").get_by_role("link", name="English").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.get_by_role("link", name="Live queue")).to_be_visible()
        await page.goto(f"{stack.url}/guilds")
        await expect(page.locator("h1")).to_have_text("Your guilds")
        await _shot(page, "languages-03-guilds-en")
        await page.get_by_label("Language").get_by_role("link", name="Deutsch").click()
        await expect(page.locator("h1")).to_have_text("Deine Server")

        # an error page in German
        response = await page.goto(f"{stack.url}/guilds/{PRO + 99}")
        assert response is not None and response.status == 403
        await expect(page.locator("[role=alert]")).to_contain_text(
            "Du verwaltest diesen Server nicht"
        )
        await _shot(page, "languages-04-error-de")
        await browser.close()


@pytest.mark.slow
async def test_web_controls_answer_in_the_readers_language(tmp_path: Path) -> None:
    """The bot words a web control's answer in the language of the page that sent it."""
    async with panel_world(tmp_path, SIGN_INS) as pw:
        guild = await pw.add_guild("web-de", Tier.GROWTH, dj_role=True)
        async with running_bot(pw):
            await fill_queue(pw, guild)
            claimed = [UserGuild(GuildId(guild.id), guild.guild.name, permissions=MANAGE_GUILD)]
            control = f"/api/control-panel/guilds/{guild.id}/queue/control"
            async with signed_in(pw, guild.member, claimed) as (client, csrf):
                refused = await client.post(
                    control,
                    json={"action": "pause"},
                    headers={"x-csrf-token": csrf, "accept-language": "de-DE,de;q=0.9"},
                )
                assert refused.status_code == 403, refused.text
                assert refused.json()["error"] == (
                    "Nur DJs dürfen hier die Wiedergabe pausieren: Du brauchst eine DJ-Rolle "
                    "oder die Berechtigung „Server verwalten“."
                )
            async with signed_in(pw, guild.dj, claimed) as (client, csrf):
                german = {"x-csrf-token": csrf, "accept-language": "de"}
                done = await client.post(control, json={"action": "pause"}, headers=german)
                assert done.json() == {
                    "outcome": "applied",
                    "message": "**Artwork Song** von The Testers (10:00) pausiert.",
                    "status": 200,
                }
                english = {"x-csrf-token": csrf, "accept-language": "en"}
                again = await client.post(control, json={"action": "resume"}, headers=english)
                assert again.json()["message"] == (
                    "Resumed **Artwork Song** by The Testers (10:00)."
                )
                page = await client.get(
                    f"/guilds/{guild.id}/queue", headers={"accept-language": "de"}
                )
                assert "<h1>Live-Warteschlange</h1>" in page.text
                assert "Alle kommenden Titel entfernen?" in page.text  # panel.js's texts
