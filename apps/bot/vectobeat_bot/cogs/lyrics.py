"""Lyrics: /lyrics, the current track's lyrics from the node's LavaLyrics plugin, in pages with
Previous/Next buttons (and a ``page`` option)."""

from __future__ import annotations

import re
from typing import Any

from vectobeat_bot.bot import BotDeps, VectoBeatBot, finish, guild_of, send_error, user_message
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.embeds import branded_embed
from vectobeat_bot.formatting import track_line
from vectobeat_bot.i18n import _, answer_in_language_of, error_text, locale_str
from vectobeat_bot.settings_sync import GuildSettings
from vectobeat_core.errors import PositionOutOfRange, QueueEmpty
from vectobeat_core.lavalink import Lyrics, NoLyricsPlugin

__all__ = ["LINES_PER_PAGE", "LyricsCog", "LyricsPageButton", "lyrics_pages", "pager"]

LINES_PER_PAGE = 20
PAGE_CHARS = 3500
"""An embed description holds 4096 characters; a page stays well below."""


def lyrics_pages(lyrics: Lyrics) -> list[str]:
    """The lyrics cut into pages of at most `LINES_PER_PAGE` lines and `PAGE_CHARS` characters."""
    pages: list[str] = []
    page: list[str] = []
    for row in (full[:PAGE_CHARS] for full in lyrics.rows()):
        if page and (len(page) >= LINES_PER_PAGE or len("\n".join([*page, row])) > PAGE_CHARS):
            pages.append("\n".join(page))
            page = []
        page.append(row)
    if page:
        pages.append("\n".join(page))
    return pages or [""]


def lyrics_embed(
    lyrics: Lyrics, title: str, page: int, held: GuildSettings
) -> tuple[discord.Embed, int]:
    """Page ``page`` (1-based) of the lyrics as an embed, and how many pages there are."""
    pages = lyrics_pages(lyrics)
    if not 1 <= page <= len(pages):
        raise PositionOutOfRange("Page", page, 1, len(pages))
    embed = branded_embed(held.settings, _("Lyrics: {title}").format(title=title))
    embed.description = pages[page - 1] or _("(no words)")
    kind = _("synced, times are where each line starts") if lyrics.synced else _("not synced")
    embed.set_footer(
        text=_("Page {page}/{pages} · {source} via {provider} · {kind}").format(
            page=page,
            pages=len(pages),
            source=lyrics.source,
            provider=lyrics.provider,
            kind=kind,
        )
    )
    return embed, len(pages)


async def lyrics_page(
    deps: BotDeps, interaction: discord.Interaction, page: int
) -> tuple[discord.Embed, int] | str:
    """Page ``page`` of the current track's lyrics and the page count, or what to say instead
    (no lyrics found); `NoLyricsPlugin` when the node has no lyrics plugin."""
    guild = guild_of(interaction)
    session = deps.players.peek(guild)
    current = None if session is None else session.queue.current
    if current is None:
        raise QueueEmpty("Nothing is playing right now.")
    if page < 1:
        raise PositionOutOfRange("Page", page, 1, 1)
    held = await deps.settings.get(guild)
    found = await deps.cluster.lyrics(guild)
    if found is None:
        return _("No lyrics found for {track}.").format(track=track_line(current.track))
    return lyrics_embed(found, current.track.title, page, held)


class LyricsPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"vb:ly:(?P<page>[0-9]{1,4})",
):
    """A Previous/Next button under /lyrics: its page is in its custom id, so it works after a
    restart; a click shows that page of the lyrics of what plays now."""

    def __init__(self, page: int, label: str = "Page", *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=f"vb:ly:{page}",
                disabled=disabled,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> LyricsPageButton:
        return cls(int(match["page"]), getattr(item, "label", None) or "Page")

    async def callback(self, interaction: discord.Interaction) -> None:
        answer_in_language_of(interaction)  # a dynamic item passes no view's check
        try:
            if not isinstance(interaction.client, VectoBeatBot):
                raise QueueEmpty("Lyrics are not available right now.")
            page = await lyrics_page(interaction.client.deps, interaction, self.page)
            if isinstance(page, str):
                await interaction.response.edit_message(content=page, embed=None, view=None)
            else:
                embed, pages = page
                await interaction.response.edit_message(
                    content=None, embed=embed, view=pager(self.page, pages)
                )
        except Exception as exc:  # every failure becomes the user's message
            await send_error(interaction, user_message(exc))


def pager(page: int, pages: int) -> discord.ui.View:
    """Previous and Next under page ``page`` of ``pages``."""
    view = discord.ui.View(timeout=None)
    view.add_item(LyricsPageButton(page - 1, _("Previous"), disabled=page <= 1))
    view.add_item(LyricsPageButton(page + 1, _("Next"), disabled=page >= pages))
    return view


class LyricsCog(CogBase):
    """Lyrics of the current track."""

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(LyricsPageButton)

    @app_commands.command(name="lyrics", description=locale_str("Lyrics of the current track"))
    @app_commands.describe(page=locale_str("Which page of the lyrics (default 1)"))
    async def lyrics(self, interaction: discord.Interaction, page: int = 1) -> None:
        await interaction.response.defer(thinking=True)
        try:
            shown = await lyrics_page(self.deps, interaction, page)
        except NoLyricsPlugin as exc:  # not a failure: this node cannot do it
            await send_error(interaction, error_text(exc))
            return
        if isinstance(shown, str):
            await finish(interaction, shown)
            return
        embed, pages = shown
        await interaction.edit_original_response(embed=embed, view=pager(page, pages))
