"""Languages: the message catalogues, the language of the person being answered, and translation.

The catalogues are gettext ``.po`` files under ``locales/<language>/LC_MESSAGES/vectobeat.po``,
read at run time with Babel (no compile step, so an editable install works). English is the
source language: a message id IS the English text, so English needs no catalogue. The language of
the current interaction or request lives in a context variable (`use_language`); `gettext` and
friends translate into it. Core errors carry a message id and parameters (`error_text`; a refused
setting's problems: `problem_texts`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from vectobeat_core.errors import InvalidSettings, VectoBeatError
from vectobeat_core.messages import Phrase, Term

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALES_DIR",
    "N_",
    "current_language",
    "error_text",
    "gettext",
    "language_from_accept",
    "language_from_tag",
    "ngettext",
    "pgettext",
    "phrase_text",
    "problem_texts",
    "set_language",
    "translations",
    "use_language",
]

DOMAIN = "vectobeat"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
#: Every language people can choose, with its own name (the panel's switcher shows these).
LANGUAGES: Mapping[str, str] = {"en": "English", "de": "Deutsch"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "vectobeat_language", default=DEFAULT_LANGUAGE
)
_TAG = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*")


def language_from_tag(tag: object) -> str | None:
    """The supported language of a locale tag (``de``, ``de-AT``, ``en_US``, Discord's
    ``Locale.german``'s value), or ``None`` when it is none of ours or not a tag."""
    text = str(getattr(tag, "value", tag) or "").strip()
    if not _TAG.fullmatch(text):
        return None
    primary = re.split(r"[-_]", text, maxsplit=1)[0].lower()
    return primary if primary in LANGUAGES else None


def language_from_accept(header: str | None) -> str | None:
    """The best supported language of an ``Accept-Language`` header (its q-values honoured,
    ``q=0`` meaning "not this one"); ``None`` when it names none of ours."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = language_from_tag(tag)
        if language is None or not 0 < quality <= 1:
            continue
        if best is None or (quality, -index) > (best[0], best[1]):
            best = (quality, -index, language)
    return None if best is None else best[2]


@functools.cache
def translations(language: str) -> NullTranslations:
    """The catalogue of ``language`` (read from its ``.po`` once); English and unknown languages
    get the identity (message ids are the English text)."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES or not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current_language() -> str:
    """The language of the interaction or request being handled (English outside one)."""
    return _current.get()


def _supported(language: str | None) -> str:
    return language if language is not None and language in LANGUAGES else DEFAULT_LANGUAGE


@contextlib.contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Translate into ``language`` (a supported one, else English) inside the block."""
    chosen = _supported(language)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_language(language: str | None) -> str:
    """Translate into ``language`` for the rest of the current task (an interaction's own task)."""
    chosen = _supported(language)
    _current.set(chosen)
    return chosen


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue where it is defined; translate it where it is shown."""
    return message


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return str(translations(_current.get()).gettext(message))


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in the current language (not yet formatted)."""
    return str(translations(_current.get()).ngettext(singular, plural, count))


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same text by ``context``."""
    return str(translations(_current.get()).pgettext(context, message))


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _shown(value: object) -> object:
    if isinstance(value, Phrase):
        return phrase_text(value)
    return gettext(value) if isinstance(value, Term) else value


def _filled(template: str, params: Mapping[str, object]) -> str:
    """``template`` translated, its fields filled with ``params`` (a `Term` or `Phrase` among
    them translated too); a translation naming other fields falls back to English."""
    translated = gettext(template)
    if not params:
        return translated
    if not _fields(translated) <= set(params):
        translated = template
    return translated.format(**{name: _shown(value) for name, value in params.items()})


def phrase_text(phrase: Phrase) -> str:
    """A core `Phrase` in the current language (a clause without its final period)."""
    text = _filled(phrase.template, phrase.params)
    return text.rstrip(".") if phrase.clause else text


def error_text(error: VectoBeatError) -> str:
    """What a person reads for a core error, in the current language: its message id
    translated, then its parameters filled in (see `phrase_text`)."""
    return _filled(error.template, error.params)


def problem_texts(error: InvalidSettings) -> dict[str, str]:
    """Each refused setting's problem in the current language, by field."""
    return {field: phrase_text(problem) for field, problem in error.details.items()}
