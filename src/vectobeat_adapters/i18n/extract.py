"""Extract every user-facing string of the source tree and keep the catalogues in step.

``python -m vectobeat_adapters.i18n.extract`` (from a source checkout) adds each new string to
every language's ``.po`` with an empty translation, and marks the ones no longer used obsolete;
translate the empty entries and commit. ``tests/unit/test_translations.py`` fails while a string
has no translation. What counts as user-facing: the gettext calls (``_``, ``ngettext``,
``pgettext``, ``N_``) and ``locale_str`` in the bot and panel, the ``{% trans %}`` blocks and
``_()`` calls of the panel's templates, and the message ids of the core's member-facing errors
(the first argument of an error class, ``message_id``, ``Term``, and the queue's named
positions).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from vectobeat_adapters.i18n import DOMAIN, LANGUAGES, LOCALES_DIR

__all__ = [
    "ADAPTER_MODULES",
    "CORE_MARKED_ONLY",
    "CORE_MODULES",
    "KEYWORDS",
    "Message",
    "catalogue_path",
    "extract_messages",
    "main",
    "untranslated",
]

ROOT = Path(__file__).resolve().parents[3]
"""The source checkout (``src/vectobeat_adapters/i18n`` is three levels below it)."""

#: Every core error class a person may see: its first argument is a message id.
_ERRORS = (
    "VectoBeatError",
    "InvalidInput",
    "PositionOutOfRange",
    "InvalidTrack",
    "LimitExceeded",
    "QueueFull",
    "NotFound",
    "NotEnabled",
    "PermissionDenied",
    "NotAuthenticated",
    "Conflict",
    "QueueEmpty",
    "NotBuilt",
    "Unavailable",
    "StorageUnavailable",
    "NodeUnavailable",
    "BridgeUnavailable",
    "OutcomeUnknown",
    "NoLyricsPlugin",
    "BridgeRouteMissing",
    "SettingProblem",
    "WebhookResolveError",
)
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "locale_str": None,
    "Term": None,
    "message_id": None,
    "_position": None,
    "_whole": None,
    **dict.fromkeys(_ERRORS),
}
#: The core modules whose errors reach Discord members and panel users as they are.
CORE_MODULES = (
    "care.py",
    "errors.py",
    "messages.py",
    "permissions.py",
    "playback.py",
    "queue.py",
    "setting_rules.py",
)
#: Core modules read only for the text they mark with ``message_id`` (their errors: not yet).
CORE_MARKED_ONLY = (
    "channel_access.py",
    "dependencies.py",
    "displacement.py",
    "filters.py",
    "health.py",
    "jsontypes.py",
    "plan_facts.py",
    "queue_entry.py",
    "records.py",
    "regions.py",
    "settings.py",
    "webhook_targets.py",
)
_MARKERS = {key: KEYWORDS[key] for key in ("message_id", "Term")}
_SHELLS = ("apps/bot/vectobeat_bot", "apps/panel/vectobeat_panel")
#: Adapter modules whose errors reach people as they are.
ADAPTER_MODULES = ("care_desk.py", "lavalink/lyrics.py", "webhooks/resolve.py")
_METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]

Message = tuple[str | tuple[str, ...], str | None, str]
"""A message id (a pair for singular/plural), its context, and where it was found."""


def _found(path: str, lineno: int, message: str | tuple[str, ...], context: str | None) -> Message:
    return message, context, f"{path}:{lineno}"


def extract_messages(root: Path = ROOT) -> Iterator[Message]:
    """Every marked string of the bot, the panel (code and templates) and the core's errors."""
    for shell in _SHELLS:
        base = root / shell
        for name, lineno, message, _, context in extract_from_dir(
            base, method_map=_METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            yield _found(f"{shell}/{name}", lineno, message, context)
    for module in ADAPTER_MODULES:
        path = root / "src" / "vectobeat_adapters" / module
        for lineno, message, _, context in extract_from_file("python", path, keywords=KEYWORDS):
            yield _found(f"src/vectobeat_adapters/{module}", lineno, message, context)
    for module in (*CORE_MODULES, *CORE_MARKED_ONLY):
        path = root / "src" / "vectobeat_core" / module
        keywords = KEYWORDS if module in CORE_MODULES else _MARKERS
        for lineno, message, _, context in extract_from_file("python", path, keywords=keywords):
            yield _found(f"src/vectobeat_core/{module}", lineno, message, context)


def forms_of(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message id's or translation's forms (one, or one per plural form; none when unset)."""
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def untranslated(catalog: Catalog) -> list[str]:
    """Where the messages of ``catalog`` without a (complete, non-fuzzy) translation are used."""
    empty: list[str] = []
    for message in catalog:
        if not message.id:
            continue  # the header
        if message.fuzzy or not all(forms_of(message.string)):
            where = ", ".join(f"{path}:{line}" for path, line in message.locations)
            empty.append(f"{message.id!r} ({where or 'no longer used'})")
    return empty


def catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _template(root: Path) -> Catalog:
    template = Catalog(domain=DOMAIN, project="VectoBeat", charset="utf-8")
    for message, context, where in extract_messages(root):
        path, _, line = where.rpartition(":")
        template.add(message, None, [(path, int(line))], context=context)
    return template


def main(root: Path = ROOT) -> int:
    """Bring every language's catalogue up to date with the source; print what needs work."""
    template = _template(root)
    missing = 0
    for language in LANGUAGES:
        if language == "en":
            continue
        path = catalogue_path(language)
        if path.is_file():
            with path.open("rb") as source:
                catalog = read_po(source, locale=language, domain=DOMAIN)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN)
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created  # a re-run changes only what the source changed
        catalog.project, catalog.version = "VectoBeat", ""
        catalog.copyright_holder = "VectoBeat contributors"
        catalog.last_translator = catalog.language_team = "VectoBeat contributors"
        catalog.fuzzy = False
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as target:
            write_po(
                target,
                catalog,
                width=100,
                sort_output=False,
                include_previous=False,
                include_lineno=False,  # line numbers would make every edit a catalogue diff
                ignore_obsolete=True,
            )
        empty = untranslated(catalog)
        missing += len(empty)
        print(f"{language}: {len(catalog)} strings, {len(empty)} to translate ({path})")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
