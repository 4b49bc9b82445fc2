"""Languages: every user-facing string of the bot, the panel (code and templates) and the core's
member-facing errors has a German translation; translations keep their placeholders; the
negotiation of a language; core errors translated in the shells; the bot's command translator;
the panel's language middleware and switcher; refused settings, filter presets, the staff desks,
request statuses, why a value was lowered to the plan and why a guild plays where it does (also
as they travel as JSON), node and dependency states and the loop mode in German."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import string
from pathlib import Path
from typing import Any

import anyio
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

import vectobeat_panel
from tests.unit.test_panel_app import GROWTH_GUILD, PRO_GUILD, _playing_on, open_harness
from vectobeat_adapters.i18n import (
    DOMAIN,
    LANGUAGES,
    error_text,
    gettext,
    language_from_accept,
    language_from_tag,
    ngettext,
    phrase_text,
    problem_texts,
    use_language,
)
from vectobeat_adapters.i18n.extract import (
    catalogue_path,
    extract_messages,
    forms_of,
    untranslated,
)
from vectobeat_adapters.storage_rules import COMPLIANCE_STATUSES
from vectobeat_bot.cogs import all_cogs
from vectobeat_bot.cogs.admin_info import node_line, region_summary
from vectobeat_bot.cogs.care import describe_request
from vectobeat_bot.cogs.compliance import describe_requests
from vectobeat_bot.cogs.filters import FilterCog
from vectobeat_bot.cogs.info import dependency_line
from vectobeat_bot.cogs.music import MusicCog
from vectobeat_bot.cogs.settings import clamp_note, region_text
from vectobeat_bot.command_sync import tree_digest, tree_payload
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import age_text, effects_line, loop_text
from vectobeat_bot.i18n import MAX_DESCRIPTION, CatalogueTranslator
from vectobeat_bot.region_notices import RegionNotices
from vectobeat_bot.settings_sync import GuildSettings, read_clamps
from vectobeat_core import jsonform
from vectobeat_core.channel_access import MemberAccess, missing_permissions
from vectobeat_core.controls import ControlCommand, ControlRequest
from vectobeat_core.dependencies import DependencyState, DependencyStatus
from vectobeat_core.errors import (
    InvalidInput,
    InvalidSettings,
    PermissionDenied,
    PositionOutOfRange,
)
from vectobeat_core.filters import (
    PRESETS,
    Effects,
    equalizer_effect,
    preset_effect,
    timescale_effect,
)
from vectobeat_core.health import NodeHealth, NodeStatus
from vectobeat_core.ids import ChannelId, GuildId, NodeName, RoleId, UserId
from vectobeat_core.messages import Phrase, Term, phrase_json, read_phrase
from vectobeat_core.permissions import MemberFacts, require_control
from vectobeat_core.plan_facts import plan_limits
from vectobeat_core.plans import Tier, default_catalogue
from vectobeat_core.playback import parse_seek
from vectobeat_core.queue import GuildQueue, LoopMode
from vectobeat_core.queue_snapshot import PlayerState
from vectobeat_core.records import ConciergeRequest, status_label
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeView
from vectobeat_core.settings import Clamp, ServerSettings, clamp_to_plan
from vectobeat_panel.languages import SCRIPT_MESSAGES, script_texts
from vectobeat_panel.queue_pages import queue_view

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != "en"]


def _catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


def _extracted() -> tuple[dict[str | tuple[str, ...], list[str]], str]:
    """Every marked string with where it is used, and what the extractor complained about."""
    complaints = io.StringIO()
    found: dict[str | tuple[str, ...], list[str]] = {}
    with contextlib.redirect_stderr(complaints):
        for message, _context, where in extract_messages():
            found.setdefault(message, []).append(where)
    return found, complaints.getvalue()


@pytest.fixture(scope="module")
def extracted() -> tuple[dict[str | tuple[str, ...], list[str]], str]:
    return _extracted()


def test_the_source_has_marked_strings_in_every_part(
    extracted: tuple[dict[str | tuple[str, ...], list[str]], str],
) -> None:
    places = " ".join(w for wheres in extracted[0].values() for w in wheres)
    for part in (
        "apps/bot/vectobeat_bot/cogs/music.py",
        "apps/panel/vectobeat_panel/templates/base.html",
        "apps/panel/vectobeat_panel/errors.py",
        "src/vectobeat_core/permissions.py",
    ):
        assert part in places


def test_no_message_is_an_f_string(
    extracted: tuple[dict[str | tuple[str, ...], list[str]], str],
) -> None:
    """An f-string cannot be looked up in a catalogue: messages are ids with parameters."""
    assert "f-string" not in extracted[1], extracted[1]
    hidden = [  # a gettext call inside an f-string is not seen by the extractor
        f"{path}:{number}"
        for root in ("apps/bot", "apps/panel")
        for path in sorted((ROOT / root).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\{\s*(_|gettext|ngettext|pgettext)\(", line)
    ]
    assert not hidden, hidden


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_user_facing_string_is_translated(
    language: str, extracted: tuple[dict[str | tuple[str, ...], list[str]], str]
) -> None:
    catalog = _catalogue(language)
    missing = []
    for message, wheres in extracted[0].items():
        entry = catalog.get(message)
        if entry is None or entry.fuzzy or not all(forms_of(entry.string)):
            missing.append(f"{message!r} ({', '.join(wheres)})")
    assert not missing, (
        f"{len(missing)} strings have no {language} translation; run "
        "`python -m vectobeat_adapters.i18n.extract` and translate them:\n" + "\n".join(missing)
    )
    assert not untranslated(catalog)


def _fields(text: str) -> set[str]:
    braces = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return braces | set(re.findall(r"%\((\w+)\)s", text))


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language: str) -> None:
    for entry in _catalogue(language):
        if not entry.id:
            continue
        wanted = set().union(*(_fields(i) for i in forms_of(entry.id)))
        for form in forms_of(entry.string):
            assert _fields(form) == wanted, (entry.id, form)


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("de_CH", "de"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("fr", None),
        ("", None),
        (None, None),
        ("de;drop table", None),
        (discord.Locale.german, "de"),
        (discord.Locale.american_english, "en"),
    ],
)
def test_language_from_tag(tag: object, language: str | None) -> None:
    assert language_from_tag(tag) == language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,de;q=0.5", "de"),
        ("fr, it", None),
        ("de;q=0, en;q=0.1", "en"),
        ("de;q=banana", None),
        ("*", None),
        (None, None),
    ],
)
def test_language_from_accept_language(header: str | None, language: str | None) -> None:
    assert language_from_accept(header) == language


def test_gettext_follows_the_current_language() -> None:
    assert gettext("Nothing is playing right now.") == "Nothing is playing right now."
    with use_language("de"):
        assert gettext("Nothing is playing right now.") == "Gerade läuft nichts."
        assert ngettext("{count} track", "{count} tracks", 3).format(count=3) == "3 Titel"
        assert [age_text(s) for s in (1, 42, 200, 7200, 86_400, 200_000)] == [
            "gerade eben", "vor 42 s", "vor 3 Min.", "vor 2 Std.", "vor 1 Tag", "vor 2 Tagen"
        ]  # fmt: skip
        with use_language("xx"):  # not ours: English
            assert gettext("Nothing is playing right now.") == "Nothing is playing right now."
    assert gettext("Nothing is playing right now.") == "Nothing is playing right now."


def test_core_errors_keep_their_english_message_and_translate_in_the_shells() -> None:
    facts = MemberFacts(user_id=UserId(1))
    settings = ServerSettings(dj_role_ids=(RoleId(5),))
    with pytest.raises(PermissionDenied) as caught:
        require_control(facts, settings, "skip tracks")
    error = caught.value
    assert error.message.startswith("Only DJs can skip tracks here")
    assert error_text(error) == error.message
    with use_language("de"):
        assert error_text(error).startswith("Nur DJs dürfen hier Titel überspringen:")
    with pytest.raises(InvalidInput) as seek:
        parse_seek("soon")
    with use_language("de"):
        text = error_text(seek.value)
    assert text.startswith("'soon' ist keine Position: Schreibe Sekunden (90)")
    out = PositionOutOfRange("Position", 9, 1, 3)
    assert out.message == "Position 9 is out of range: choose 1-3."
    with use_language("de"):
        assert error_text(out) == "Position 9 liegt außerhalb des gültigen Bereichs: Wähle 1-3."


def test_core_phrases_are_english_and_translated_in_the_shells() -> None:
    pro = default_catalogue().plan(Tier.PRO)
    limits = plan_limits(pro)
    assert [str(p) for p in limits] == [
        "queue: 500 tracks",
        "playlists: unlimited playlists of 500 tracks",
        "API tokens: 10",
    ]
    with use_language("de"):
        assert [phrase_text(p) for p in limits] == [
            "Warteschlange: 500 Titel",
            "Playlists: unbegrenzt viele Playlists mit je 500 Titel",
            "API-Tokens: 10",
        ]


def test_a_missing_permission_is_explained_in_german() -> None:
    access = MemberAccess(guild_id=1, user_id=2, owner=False, role_ids=frozenset(),
                          role_permissions={1: 0})  # fmt: skip
    first = missing_permissions(access, [], voice=True)[0]
    assert str(first.why) == (
        "no role of the bot grants it in the server settings (needed to see the voice channel)"
    )
    with use_language("de"):
        assert phrase_text(first.why) == (
            "keine Rolle des Bots gewährt sie in den Servereinstellungen "
            "(nötig, um den Sprachkanal zu sehen)"
        )


def test_a_message_without_a_translation_or_with_a_broken_one_is_english() -> None:
    plain = InvalidInput("A message nobody translated: {value}.", value=3)
    wrong_term = InvalidInput(
        "{what} {position} is out of range: the queue is empty.", what=Term("Nope"), position=2
    )
    with use_language("de"):
        assert error_text(plain) == "A message nobody translated: 3."
        assert error_text(wrong_term).startswith("Nope 2 liegt außerhalb")
    with pytest.raises(KeyError):  # an id naming a field it is not given fails where it is raised
        InvalidInput("{shown} is not a position: write {forms}.", shown="'x'")


@pytest.mark.anyio
async def test_the_translator_describes_commands_in_german_and_keeps_names() -> None:
    """The payload discord.py syncs: German descriptions, names as they are, no English copies."""
    command = MusicCog.play  # the real /play
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    payload = await command.get_translated_payload(tree, CatalogueTranslator())
    assert payload["name"] == "play" and not payload.get("name_localizations")
    localized = payload["description_localizations"]
    assert localized == {"de": "Einen Link oder das beste Suchergebnis abspielen"}
    (query,) = payload["options"]
    assert query["description_localizations"] == {"de": "Eine URL oder Suchbegriffe"}
    assert not query.get("name_localizations")


@pytest.mark.anyio
async def test_a_new_translation_changes_the_synced_commands_digest() -> None:
    """The bot syncs its commands only when their digest changes: translations are part of it."""
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    tree.add_command(MusicCog.play)
    plain = tree_digest(await tree_payload(tree))
    await tree.set_translator(CatalogueTranslator())
    (payload,) = await tree_payload(tree)
    assert payload["description_localizations"]["de"].startswith("Einen Link")
    assert tree_digest([payload]) != plain


@pytest.mark.anyio
async def test_every_command_is_described_in_german_within_discords_limits() -> None:
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    translator = CatalogueTranslator()
    german = 0
    for cog in all_cogs():
        for command in cog.__cog_app_commands__:  # type: ignore[attr-defined]
            payload = await command.get_translated_payload(tree, translator)
            described = [payload, *payload.get("options", [])]
            for sub in payload.get("options", []):
                described += sub.get("options", [])
            for item in described:
                localized = item.get("description_localizations") or {}
                assert all(1 <= len(t) <= MAX_DESCRIPTION for t in localized.values()), item
                german += "de" in localized
            assert "de" in payload["description_localizations"], payload["name"]
    assert german > 50


@pytest.mark.anyio
async def test_panel_pages_follow_accept_language_and_the_switcher() -> None:
    async with open_harness() as h:
        english = await h.client.get("/login")
        assert '<html lang="en">' in english.text and "Sign in with Discord" in english.text
        german = await h.client.get("/login", headers={"accept-language": "de-DE,de;q=0.9"})
        assert '<html lang="de">' in german.text and "Mit Discord anmelden" in german.text
        assert 'href="/language?set=en&amp;next=/login"' in german.text

        switched = await h.client.get("/language?set=de&next=/login")
        assert switched.status_code == 303 and switched.headers["location"] == "/login"
        cookie = switched.headers["set-cookie"]
        assert cookie.startswith("vb_lang=de;") and "HttpOnly" in cookie
        chosen = await h.client.get("/login", headers={"accept-language": "en"})
        assert "Mit Discord anmelden" in chosen.text  # the cookie wins over the browser

        bad = await h.client.get("/language?set=fr&next=/login")
        assert bad.status_code == 400 and "keine Sprache dieses Panels" in bad.text
        missing = await h.client.get("/nothing-here")
        assert missing.status_code == 404 and "Unter dieser Adresse gibt es nichts." in missing.text
        api = await h.client.get("/api/v1/nothing", headers={"accept-language": "en"})
        assert "Unter dieser Adresse" in api.json()["error"]  # the cookie still holds


@pytest.mark.parametrize(
    ("sent", "read"), [("de", "de"), ("en", "en"), (None, "en"), ("DE; drop", "en"), (7, "en")]
)
def test_a_control_request_carries_its_language_liberally(sent: object, read: str) -> None:
    request = ControlRequest("request-0001", GuildId(1), ControlCommand.parse({"action": "pause"}),
                             "user:5", UserId(5), "de")  # fmt: skip
    raw = request.to_json()
    assert raw["language"] == "de"
    if sent is None:
        del raw["language"]  # a panel from before languages
    else:
        raw["language"] = sent  # type: ignore[assignment]
    assert ControlRequest.from_json(raw).language == read


def test_every_text_of_the_page_script_is_in_the_catalogue() -> None:
    """panel.js shows only texts it asks for with ``t("...")``; they are `SCRIPT_MESSAGES`,
    which the catalogue test covers."""
    script = (Path(vectobeat_panel.__file__).parent / "static" / "panel.js").read_text()
    asked = set(re.findall(r'\bt\("([^"]+)"', script))
    assert asked == set(SCRIPT_MESSAGES)
    with use_language("de"):
        texts = script_texts()
    assert texts["Remove every upcoming track?"] == "Alle kommenden Titel entfernen?"


@pytest.mark.anyio
async def test_the_settings_page_and_a_save_in_german() -> None:
    german = {"accept-language": "de"}
    async with open_harness() as h:
        csrf = await h.login()
        page = await h.client.get(f"/guilds/{PRO_GUILD}/settings", headers=german)
        assert page.status_code == 200, page.text
        for text in (
            "<h1>Einstellungen</h1>",
            "Warteschlangengrenze",
            "Höchstzahl an Titeln in einer Warteschlange",
            "Bis zu 500 mit Pro; mehr braucht Growth.",
            "braucht Growth",
            "Einstellungen speichern",
        ):
            assert text in page.text, text
        saved = await h.client.post(
            f"/guilds/{PRO_GUILD}/settings",
            data={"csrf_token": csrf, "base_version": "0", "queue_limit": "100000"},
            headers=german,
        )
        assert saved.status_code == 200, saved.text
        assert "Version 1 gespeichert" in saved.text
        assert "Einige Werte wurden an deinen Plan angepasst:" in saved.text
        for path, headline in (
            (f"/guilds/{PRO_GUILD}/routing", "<h1>Regionales Routing</h1>"),
            (f"/guilds/{PRO_GUILD}/tokens", "<h1>API-Tokens</h1>"),
            (f"/guilds/{PRO_GUILD}/queue", "<h1>Live-Warteschlange</h1>"),
            ("/nodes", "<h1>Lavalink-Nodes</h1>"),
            (f"/guilds/{PRO_GUILD}/audit", "Einstellungen an den Plan angepasst"),
            (f"/guilds/{PRO_GUILD}/webhooks", "<h1>Webhook-Zustellungen</h1>"),
            (f"/guilds/{PRO_GUILD}/concierge", "Concierge ist nicht Teil des Plans Pro"),
            (f"/guilds/{PRO_GUILD}/contacts", "Kontakt für Abrechnung speichern"),
        ):
            shown = await h.client.get(path, headers=german)
            assert shown.status_code == 200 and headline in shown.text, (path, shown.text[:300])


@pytest.mark.anyio
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil", ""])
async def test_the_switcher_never_redirects_away(target: str) -> None:
    async with open_harness() as h:
        response = await h.client.get("/language", params={"set": "en", "next": target})
        assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.anyio
async def test_a_refused_setting_is_explained_in_german_on_the_page_and_the_api() -> None:
    german = {"accept-language": "de"}
    async with open_harness() as h:
        csrf = await h.login()
        refused = await h.client.post(
            f"/guilds/{PRO_GUILD}/settings",
            data={"csrf_token": csrf, "base_version": "0", "default_volume": "500",
                  "branding_color": "red"},
            headers=german,
        )  # fmt: skip
        assert refused.status_code == 400, refused.text
        page = html.unescape(refused.text)
        for text in (
            "Ungültige Einstellungen — Embed-Farbe: muss eine Farbe in der Form #RRGGBB sein, "
            "erhalten: 'red'; Standardlautstärke: muss eine ganze Zahl von 0 bis 200 sein",
            '<p class="problem" role="alert">muss eine ganze Zahl von 0 bis 200 sein, '
            "erhalten: 500</p>",
        ):
            assert text in page, text
        assert "must be" not in page
        api = {
            field: await h.client.put(
                f"/api/control-panel/guilds/{PRO_GUILD}/settings",
                json={"version": 0, "settings": {field: value}},
                headers={**german, "x-csrf-token": csrf},
            )
            for field, value in (("region", "mars"), ("webhook_export_url", "https://10.0.0.1/x"))
        }
        assert all(answer.status_code == 400 for answer in api.values())
        assert api["region"].json()["problems"] == {
            "region": "Unbekannte Region 'mars': Wähle eine von auto, us, eu, apac"
        }
        assert api["region"].json()["error"] == (
            "Ungültige Einstellungen — region: Unbekannte Region 'mars': Wähle eine von auto, us, "
            "eu, apac"
        )
        assert api["webhook_export_url"].json()["problems"] == {
            "webhook_export_url": "Der Webhook-Host '10.0.0.1' wird abgelehnt: 10.0.0.1 ist "
            "eine private Adresse. Exporte gehen nur an öffentliche Adressen (ein Betreiber kann "
            "interne Hosts in WEBHOOK_ALLOWED_HOSTS erlauben)"
        }
        english = await h.client.put(
            f"/api/control-panel/guilds/{PRO_GUILD}/settings",
            json={"version": 0, "settings": {"region": "mars"}},
            headers={"accept-language": "en", "x-csrf-token": csrf},
        )  # the cookie-less English reader gets the core's English, as before
        assert english.json()["problems"] == {
            "region": "Unknown region 'mars': choose one of auto, us, eu, apac"
        }


def test_a_settings_problem_is_a_clause_in_every_language() -> None:
    """Each problem follows its field's name: no final period, also where the core reuses
    another error's text (a role id that is not a snowflake)."""
    with pytest.raises(InvalidSettings) as caught:
        ServerSettings(dj_role_ids=("x",))  # type: ignore[arg-type]
    error = caught.value
    english = "each role must be a Discord id (a positive whole number), got 'x'"
    assert error.problems == {"dj_role_ids": english}
    assert problem_texts(error) == error.problems
    with use_language("de"):
        assert problem_texts(error) == {
            "dj_role_ids": "jede Rolle muss eine Discord-ID (eine positive ganze Zahl) sein, "
            "erhalten: 'x'"
        }
        assert (
            error_text(error)
            == "Ungültige Einstellungen — dj_role_ids: " + (problem_texts(error)["dj_role_ids"])
        )


@pytest.mark.anyio
async def test_filter_presets_are_named_in_german_in_discord_replies_and_the_panel() -> None:
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    payload = await FilterCog.filter_group.get_translated_payload(tree, CatalogueTranslator())
    commands = {option["name"]: option for option in payload["options"]}
    (preset,) = commands["preset"]["options"]
    named = {c["value"]: (c["name"], c.get("name_localizations", {})) for c in preset["choices"]}
    assert named["bassboost"] == ("Bass boost", {"de": "Bass-Boost"})
    assert named["lowpass"] == ("Low-pass", {"de": "Tiefpass"})
    assert set(named) == set(PRESETS)
    (equalizer,) = commands["equalizer"]["options"]
    named = {c["value"]: (c["name"], c.get("name_localizations", {})) for c in equalizer["choices"]}
    assert named["classical"] == ("classical", {"de": "Klassik"})

    effects = Effects().with_effect(*preset_effect("lowpass"))
    effects = effects.with_effect(*equalizer_effect("classical")).with_effect(
        *timescale_effect(1.1, 1.0, 1.0)
    )
    snapshot = GuildQueue(GuildId(1), 10).snapshot(PlayerState(effects=effects.to_json()), 5.0)
    assert effects_line(effects) == "Filters: Low-pass, Equalizer: classical, Timescale."
    with use_language("de"):
        assert effects_line(effects) == ("Filter: Tiefpass, Equalizer: Klassik, Tempo und Tonhöhe.")
        assert queue_view(snapshot)["player"]["filters"] == [
            "Tiefpass", "Equalizer: Klassik", "Tempo und Tonhöhe"
        ]  # fmt: skip


@pytest.mark.anyio
async def test_the_staff_desk_and_request_statuses_in_german() -> None:
    """Every heading, label and button of the staff pages, the statuses, the care errors and
    the confirmations of staff actions read German for a German reader."""
    german = {"accept-language": "de"}
    async with open_harness(staff_user_ids="900000000000000001") as h:
        csrf = await h.login()
        ask = {"csrf_token": csrf, "summary": "Regionen", "contact": "a@example.org", "hours": "1"}
        assert (await h.client.post(f"/guilds/{GROWTH_GUILD}/concierge", data=ask)).is_success
        queue = (await h.client.get("/staff/care", headers=german)).text
        request = (await h.client.get("/staff/care/1", headers=german)).text
        desk = (await h.client.get("/staff/compliance", headers=german)).text
        care = (await h.client.get(f"/guilds/{GROWTH_GUILD}/concierge", headers=german)).text
        for page, texts in (
            (queue, ["<h1>Care-Desk</h1>", "<th scope=\"col\">Antwort fällig</th>",
                     "<td>offen</td>", "die dringendsten zuerst"]),
            (request, ["<h2>Verlauf</h2>", '<h2 id="actions-heading">Bearbeiten</h2>',
                       ">Bestätigen</button>", ">Planen</button>", ">Zuweisen</button>",
                       ">Erledigen</button>", "Kontoansprechpartner des Servers",
                       "Concierge · Server", "angefordert von",
                       '<dd class="status status-open">offen</dd>',
                       "Der Eigentümer hat keine Ansprechpartner eingetragen."]),
            (desk, ["<h1>Compliance-Desk</h1>", '<option value="">alle</option>',
                    '<option value="running" >läuft</option>', ">fehlgeschlagen</option>",
                    "<th scope=\"col\">Angefordert von</th>", "<td colspan=\"8\">Keine Anfragen.</td>"]),
            (care, ['<dd class="status status-open">offen</dd>']),
        ):  # fmt: skip
            for text in texts:
                assert text in page, text
        for page in (queue, request, desk):
            for english in ("Care desk", "Compliance desk", "Every ", "Timeline", ">Act<",
                            "Acknowledge", "Account contacts", "Answer due",
                            "Hours spent", "· requested by", "No requests", ">any<", ">open<"):  # fmt: skip
                assert english not in page, english

        acted = await h.client.post("/staff/care/1/acknowledge", data={"csrf_token": csrf},
                                    headers=german, follow_redirects=True)  # fmt: skip
        assert 'id="staff-done"><p>Bestätigt.</p>' in acted.text
        assert '<dd class="status status-in_progress">in Bearbeitung</dd>' in acted.text
        again = await h.client.post("/staff/care/1/acknowledge", data={"csrf_token": csrf},
                                    headers=german)  # fmt: skip
        assert again.status_code == 400
        assert "Anfrage #1 ist bereits bestätigt." in again.text
        late = await h.client.post("/staff/care/1/schedule", data={"csrf_token": csrf,
                                   "when": "soon"}, headers=german)  # fmt: skip
        assert "&#39;soon&#39; ist keine Zeitangabe" in late.text


def test_the_bot_names_request_statuses_in_german() -> None:
    request = ConciergeRequest(
        request_id=7, guild_id=GuildId(1), kind="concierge", subject="Regionen", body="",
        requested_by=UserId(2), status="in_progress", created_at=0.0, due_at=3600.0, hours=1.5,
    )  # fmt: skip
    compliance = [{"request_id": 3, "kind": "export", "status": "running", "detail": ""}]
    assert describe_request(request).startswith("#7 Concierge · in progress · 1.5 h")
    assert describe_requests(compliance) == "#3 export: running"
    with use_language("de"):
        assert describe_request(request).startswith("#7 Concierge · in Bearbeitung · 1.5 h")
        assert describe_requests(compliance) == "#3 Export: läuft"
        assert [gettext(status_label(s)) for s in COMPLIANCE_STATUSES] == [
            "ausstehend", "läuft", "gesendet", "fehlgeschlagen"
        ]  # fmt: skip


# --- why a value was lowered, why a guild plays where it does, and the states of things --------

CATALOGUE = default_catalogue()
ASKED = ServerSettings(
    queue_limit=900, region=Region.EU, stay_connected=True,
    webhook_export_url="https://hooks.example.com/secret/abc",
)  # fmt: skip
LOWERED_EN = [
    "Queue limit 900 is above your plan (Free), which allows 100; it needs Growth or higher.",
    "Your plan (Free) plays on auto; pinning a region (us/eu/apac) needs Growth or higher.",
    "24/7 mode is not included in your plan (Free); it needs Starter or higher.",
    "Webhook exports are not included in your plan (Free); it needs Pro or higher.",
]
LOWERED_DE = [
    "Warteschlangengrenze 900 liegt über deinem Plan (Free), der 100 erlaubt; dafür braucht es "
    "Growth oder höher.",
    "Dein Plan (Free) spielt auf auto; eine Region (us/eu/apac) festzulegen braucht Growth oder "
    "höher.",
    "Der 24/7-Modus ist in deinem Plan (Free) nicht enthalten; dafür braucht es Starter oder höher.",
    "Webhook-Exporte sind in deinem Plan (Free) nicht enthalten; dafür braucht es Pro oder höher.",
]


def test_why_a_value_was_lowered_is_english_in_the_core_and_german_in_the_shells() -> None:
    _, clamps = clamp_to_plan(ASKED, CATALOGUE.plan(Tier.FREE), CATALOGUE)
    assert [c.reason for c in clamps] == LOWERED_EN  # the English, as before
    assert [phrase_text(c.why) for c in clamps] == LOWERED_EN
    assert clamp_note(clamps) == "".join(f"\n{text}" for text in LOWERED_EN)
    with use_language("de"):
        assert [phrase_text(c.why) for c in clamps] == LOWERED_DE
        assert clamp_note(clamps) == "".join(f"\n{text}" for text in LOWERED_DE)
        above = clamp_to_plan(ServerSettings(queue_limit=50_000), CATALOGUE.plan(Tier.PRO))[1]
        assert phrase_text(above[0].why) == (
            "Warteschlangengrenze 50000 liegt über deinem Plan (Pro), der 500 erlaubt; kein Plan "
            "erlaubt das."
        )


def test_the_bot_reads_the_panels_reasons_as_phrases_and_older_ones_in_english() -> None:
    """The bridge's JSON keeps ``reason`` (English) and adds ``reason_phrase``: the bot shows the
    phrase in the member's language, and the English where a panel sent none or a bad one."""
    _, clamps = clamp_to_plan(ASKED, CATALOGUE.plan(Tier.FREE), CATALOGUE)
    sent = json.loads(json.dumps([c.to_json() for c in clamps]))
    assert [item["reason"] for item in sent] == LOWERED_EN
    read = read_clamps(sent)
    assert read == clamps and [c.reason_phrase for c in read] == [c.reason_phrase for c in clamps]
    assert [jsonform.load(Clamp, item).reason_phrase for item in sent] == [
        c.reason_phrase for c in clamps
    ]
    older = [{k: v for k, v in item.items() if k != "reason_phrase"} for item in sent]
    forged = [
        {**item, "reason_phrase": {"id": "{p.__class__}", "params": {"p": 1}}} for item in sent
    ]
    with use_language("de"):
        assert [phrase_text(c.why) for c in read] == LOWERED_DE
        assert [phrase_text(c.why) for c in read_clamps(older)] == LOWERED_EN
        assert [phrase_text(c.why) for c in read_clamps(forged)] == LOWERED_EN


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "{p.__class__.__init__}", "params": {"p": "x"}},  # attribute access
        {"id": "{p[0]}", "params": {"p": "x"}},  # indexing
        {"id": "{p:>99999}", "params": {"p": "x"}},  # a format spec
        {"id": "{p!r}", "params": {"p": "x"}},  # a conversion
        {"id": "{q}", "params": {"p": "x"}},  # a field it is not given
        {"id": "{0}", "params": {}},
        {"id": "{", "params": {}},
        {"id": "ok", "params": {"p": [1, 2]}},
        {"id": "ok", "params": "p"},
        {"id": "ok", "clause": 1},
        {"id": "", "params": {}},
        {"params": {}},
        "ok",
        {
            "id": "{p}",
            "params": {
                "p": {
                    "id": "{p}",
                    "params": {
                        "p": {
                            "id": "{p}",
                            "params": {
                                "p": {
                                    "id": "{p}",
                                    "params": {"p": {"id": "{p}", "params": {"p": {"id": "x"}}}},
                                }
                            },
                        }
                    },
                }
            },
        },
    ],
)
def test_a_phrase_from_json_fills_in_nothing_but_its_own_parameters(raw: object) -> None:
    assert read_phrase(raw) is None
    with pytest.raises(InvalidInput, match="A phrase must be an object"):
        jsonform.load(Clamp, {"field": "f", "requested": 1, "effective": 1, "reason": "r",
                              "required_tier": None, "reason_phrase": raw})  # fmt: skip


def test_a_phrase_travels_as_json_with_its_terms_and_phrases() -> None:
    inner = Phrase("it needs {tier} or higher", {"tier": "Growth"})
    phrase = Phrase("{setting} {requested}: {needs}.", {"setting": Term("Queue limit"),
                    "requested": 900, "needs": inner, "share": 0.5, "none": None})  # fmt: skip
    written = phrase_json(phrase)
    assert written["params"] == {
        "setting": {"term": "Queue limit"}, "requested": 900, "share": 0.5, "none": None,
        "needs": {"id": "it needs {tier} or higher", "params": {"tier": "Growth"}},
    }  # fmt: skip
    read = read_phrase(json.loads(json.dumps(written)))
    assert read == phrase and isinstance(read.params["setting"], Term)
    with use_language("de"):
        assert phrase_text(read) == "Warteschlangengrenze 900: dafür braucht es Growth oder höher."
    assert read_phrase(phrase_json(Phrase("x", clause=True))) == Phrase("x", clause=True)


def _held(tier: Tier, region: Region) -> GuildSettings:
    return GuildSettings(GuildId(1), 3, CATALOGUE.plan(tier), ServerSettings(region=region), None)


def test_why_a_guild_plays_where_it_does_in_the_bots_replies() -> None:
    """/settings (region text and its clamp note) and /guildinfo, for an English and a German
    member."""
    starter, growth = _held(Tier.STARTER, Region.EU), _held(Tier.GROWTH, Region.EU)
    auto = _held(Tier.FREE, Region.AUTO)
    assert region_text(starter) == (
        "Region: requested eu, effective auto. Your plan (Starter) plays on auto; pinning a "
        "region (us/eu/apac) needs Growth or higher."
    )
    assert region_text(growth).endswith("Your plan (Growth) may pin a region; playing on eu as "
                                        "requested.")  # fmt: skip
    assert region_summary(starter.decision) == (
        "auto (asked for eu: Your plan (Starter) plays on auto; pinning a region (us/eu/apac) "
        "needs Growth or higher.)"
    )
    with use_language("de"):
        assert region_text(starter) == (
            "Region: gewünscht eu, tatsächlich auto. Dein Plan (Starter) spielt auf auto; eine "
            "Region (us/eu/apac) festzulegen braucht Growth oder höher."
        )
        assert region_text(growth).endswith(
            "Dein Plan (Growth) darf eine Region festlegen; es spielt wie gewünscht in eu."
        )
        assert region_text(auto).endswith(
            "Spielt auf auto: Für jede Sitzung wird die gesündeste Region gewählt."
        )
        assert region_summary(starter.decision) == (
            "auto (gewünscht: eu: Dein Plan (Starter) spielt auf auto; eine Region (us/eu/apac) "
            "festzulegen braucht Growth oder höher.)"
        )
        assert region_summary(growth.decision) == "eu"


class _Channel(discord.abc.Messageable):
    """A channel of a server whose primary language (Community settings) is ``locale``."""

    def __init__(self, locale: discord.Locale) -> None:
        self.guild = type("Guild", (), {"preferred_locale": locale})()
        self.sent: list[str] = []
        self.more = anyio.Event()

    async def send(self, content: str | None = None, **_: Any) -> Any:
        self.sent.append(str(content))
        self.more.set()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("locale", "left"),
    [
        (discord.Locale.german, "Die Region eu hat gerade keinen gesunden Lavalink-Node, daher ist "
         "die Musik nach us umgezogen, um weiterzuspielen."),
        (discord.Locale.british_english, "Region eu has no healthy Lavalink node right now, so "
         "the music moved to us to keep playing."),
    ],
)  # fmt: skip
async def test_a_guild_is_told_its_music_moved_in_the_servers_language(
    locale: discord.Locale, left: str
) -> None:
    notices, channel = RegionNotices(), _Channel(locale)
    notices.remember(GuildId(1), ChannelId(2))
    client = type("Client", (), {"get_channel": lambda _self, _id: channel})()
    async with anyio.create_task_group() as tg:
        await tg.start(notices.run, client)
        notices.moved(GuildId(1), Region.EU, Region.EU, Region.US)
        with anyio.fail_after(10):
            await channel.more.wait()
        tg.cancel_scope.cancel()
    assert channel.sent[0].startswith(left)


def test_states_of_nodes_dependencies_and_the_loop_in_the_bots_replies() -> None:
    spec = NodeSpec(NodeName("us-1"), Region.US, "http://127.0.0.1:1", "pw", False)
    up, down = NodeView(spec, NodeStatus.UP, latency_ms=12.4), NodeView(spec, NodeStatus.DOWN)
    redis = DependencyStatus("redis", DependencyState.DOWN, since=800.0)
    assert (node_line(up), node_line(down)) == ("• us-1 (us): up, 12 ms",
                                                 "• us-1 (us): down, latency unknown")  # fmt: skip
    assert dependency_line(redis, 1000.0) == "redis: down since 3 min ago"
    assert [loop_text(mode) for mode in LoopMode] == ["off", "track", "queue"]
    with use_language("de"):
        assert node_line(up) == "• us-1 (us): in Betrieb, 12 ms"
        assert node_line(down) == "• us-1 (us): ausgefallen, Latenz unbekannt"
        assert dependency_line(redis, 1000.0) == "redis: ausgefallen (vor 3 Min.)"
        assert [gettext(status.label) for status in NodeStatus] == [
            "unbekannt", "in Betrieb", "eingeschränkt", "ausgefallen"
        ]  # fmt: skip
        assert gettext(DependencyState.NOT_CONFIGURED.label) == "nicht eingerichtet"
        assert [loop_text(mode) for mode in LoopMode] == ["aus", "Titel", "Warteschlange"]


@pytest.mark.anyio
async def test_the_panel_says_why_and_names_states_in_german() -> None:
    """A save lowered to the plan, the routing page (why, where it plays now, the plan rule, node
    states), the nodes page and the live queue's loop mode, for a German reader; English pages
    and the JSON APIs read as before."""
    german, english = {"accept-language": "de"}, {"accept-language": "en"}
    async with open_harness() as h:
        csrf = await h.login()
        saved = await h.client.post(
            f"/guilds/{PRO_GUILD}/settings",
            data={"csrf_token": csrf, "base_version": "0", "queue_limit": "900", "region": "eu"},
            headers=german,
        )
        page = html.unescape(saved.text)
        assert "Warteschlangengrenze 900 liegt über deinem Plan (Pro), der 500 erlaubt; dafür " \
               "braucht es Growth oder höher." in page  # fmt: skip
        assert "Dein Plan (Pro) spielt auf auto; eine Region (us/eu/apac) festzulegen braucht " \
               "Growth oder höher." in page  # fmt: skip
        assert "is above your plan" not in page and "plays on auto" not in page
        api = await h.client.put(
            f"/api/control-panel/guilds/{PRO_GUILD}/settings",
            json={"version": 1, "settings": {"queue_limit": 901}},
            headers={**german, "x-csrf-token": csrf},
        )
        (clamp,) = api.json()["clamps"]
        assert clamp["reason"].startswith("Queue limit 901 is above your plan (Pro)")
        assert clamp["reason_phrase"]["params"]["needs"]["params"] == {"tier": "Growth"}

        await h.services.health.put(NodeHealth(node=NodeName("us-1"), status=NodeStatus.UP,
                                               last_check_at=h.now), ttl=60)  # fmt: skip
        await h.services.health.put(NodeHealth(node=NodeName("eu-1"), status=NodeStatus.DOWN,
                                               last_check_at=h.now), ttl=60)  # fmt: skip
        await _playing_on(h, PRO_GUILD, "odd-1", "auto")  # a node outside every region
        routing = (await h.client.get(f"/guilds/{PRO_GUILD}/routing", headers=german)).text
        for text in (
            '<dd id="reason">Spielt auf auto: Für jede Sitzung wird die gesündeste Region '
            "gewählt.</dd>",
            "<dd>Ab Growth lässt sich eine Region festlegen (us, eu, apac); darunter gilt auto.</dd>",
            '<dd id="playing">unbekannt <span class="muted">(odd-1)</span>',
            '<span class="status status-up">in Betrieb</span> us-1',
            '<span class="status status-down">ausgefallen</span> eu-1',
        ):
            assert text in routing, text
        nodes = (await h.client.get("/nodes", headers=german)).text
        assert '<span class="status status-down">ausgefallen</span>' in nodes
        for text in ('aria-label="Player pro Node, letzte Stunde"', ">-60 Min.</text>",
                     ">jetzt</text>", "<title>Latenz pro Node, letzte Stunde</title>"):  # fmt: skip
            assert text in nodes, text
        assert "last hour" not in nodes and ">now<" not in nodes
        english_nodes = (await h.client.get("/nodes", headers=english)).text
        assert '<span class="status status-down">down</span>' in english_nodes

        await h.client.post(f"/guilds/{GROWTH_GUILD}/settings", data={
            "csrf_token": csrf, "base_version": "0", "region": "apac"})  # fmt: skip
        await _playing_on(h, GROWTH_GUILD, "eu-1", "eu", loop=LoopMode.TRACK)  # apac is down
        shown = (await h.client.get(f"/guilds/{GROWTH_GUILD}/routing", headers=german)).text
        assert (
            "<br>Spielt in eu: apac hat keinen gesunden Lavalink-Node; die Musik kehrt bei einem "
            "Titelwechsel zurück, sobald apac wieder gesund ist.</dd>"
        ) in shown
        assert "Dein Plan (Growth) darf eine Region festlegen; es spielt wie gewünscht in apac." \
            in shown  # fmt: skip
        as_json = (
            await h.client.get(f"/api/control-panel/guilds/{GROWTH_GUILD}/routing", headers=german)
        ).json()
        assert as_json["playing"]["reason"].startswith("Playing in eu: apac has no healthy")
        assert (
            as_json["rule"] == "Growth and above may pin a region (us, eu, apac); below that, auto."
        )
        assert as_json["decision"]["reason"] == (
            "Your plan (Growth) may pin a region; playing on apac as requested."
        )
        in_english = (await h.client.get(f"/guilds/{GROWTH_GUILD}/routing", headers=english)).text
        assert "<br>Playing in eu: apac has no healthy Lavalink node;" in in_english

        queue = (await h.client.get(f"/guilds/{GROWTH_GUILD}/queue", headers=german)).text
        assert '<span id="loop">Titel</span>' in queue
        queue_api = (
            await h.client.get(f"/api/control-panel/guilds/{GROWTH_GUILD}/queue", headers=german)
        ).json()
        assert (queue_api["player"]["loop"], queue_api["player"]["loop_label"]) == (
            "track", "Titel"
        )  # fmt: skip
        english_queue = await h.client.get(f"/guilds/{GROWTH_GUILD}/queue", headers=english)
        assert '<span id="loop">track</span>' in english_queue.text
