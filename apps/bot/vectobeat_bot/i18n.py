"""The bot in the member's language: each interaction answers in its ``interaction.locale``
(German or English; anything else is English), and slash commands are described to Discord in
every language the catalogue has (`CatalogueTranslator`, set on the tree).

Mark a reply's text with ``_("...")`` (``ngettext`` for counts; fill ``{fields}`` after
translating) and a command's description with ``locale_str("...")``; see "Languages" in
docs/architecture.md for adding a language or a string.
"""

from __future__ import annotations

from vectobeat_adapters.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    error_text,
    gettext,
    language_from_tag,
    ngettext,
    phrase_text,
    set_language,
    translations,
)
from vectobeat_bot.discord_compat import app_commands, discord

__all__ = [
    "MAX_DESCRIPTION",
    "N_",
    "CatalogueTranslator",
    "LocalizedView",
    "_",
    "answer_in_language_of",
    "channel_language",
    "error_text",
    "locale_str",
    "ngettext",
    "phrase_text",
]

_ = gettext
MAX_DESCRIPTION = 100
"""Discord's limit for a description or a choice name, in every language."""


locale_str = app_commands.locale_str


def answer_in_language_of(interaction: discord.Interaction) -> str:
    """Answer the rest of ``interaction`` (its own task) in its member's language."""
    return set_language(language_from_tag(interaction.locale))


def channel_language(channel: object) -> str | None:
    """The language of a post in ``channel``: a channel is not one member, so its server's
    primary language (Community settings); ``None`` (English) when it is none of ours."""
    return language_from_tag(getattr(getattr(channel, "guild", None), "preferred_locale", None))


class LocalizedView(discord.ui.View):
    """A view whose callbacks answer in the language of the member who pressed or picked."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        answer_in_language_of(interaction)
        return True


class CatalogueTranslator(app_commands.Translator):
    """Command and option descriptions and choice names, from the catalogue of each language
    Discord asks about; names of commands and options stay as they are (see "Languages")."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if context.location in (
            app_commands.TranslationContextLocation.command_name,
            app_commands.TranslationContextLocation.group_name,
            app_commands.TranslationContextLocation.parameter_name,
        ):
            return None
        language = language_from_tag(locale.value)
        if language is None or language == DEFAULT_LANGUAGE:
            return None
        text = translations(language).gettext(string.message)
        if text == string.message or not 1 <= len(text) <= MAX_DESCRIPTION:
            return None  # Discord refuses a longer one: English rather than no commands
        return text
