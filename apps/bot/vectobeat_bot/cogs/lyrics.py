"""Lyrics: /lyrics, the current track's lyrics from the node's LavaLyrics plugin, in pages."""

from __future__ import annotations

from vectobeat_adapters.lavalink.lyrics import Lyrics, NodeLyrics, NoLyricsPlugin
from vectobeat_bot.bot import finish, guild_of, send_error
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.embeds import branded_embed
from vectobeat_bot.formatting import track_line
from vectobeat_bot.settings_sync import GuildSettings
from vectobeat_core.errors import PositionOutOfRange, QueueEmpty

__all__ = ["LINES_PER_PAGE", "LyricsCog", "lyrics_pages"]

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
    embed = branded_embed(held.settings, f"Lyrics: {title}")
    embed.description = pages[page - 1] or "(no words)"
    kind = "synced, times are where each line starts" if lyrics.synced else "not synced"
    embed.set_footer(
        text=f"Page {page}/{len(pages)} · {lyrics.source} via {lyrics.provider} · {kind}"
    )
    return embed, len(pages)


class LyricsCog(CogBase):
    """Lyrics of the current track."""

    @app_commands.command(name="lyrics", description="Lyrics of the current track")
    @app_commands.describe(page="Which page of the lyrics (default 1)")
    async def lyrics(self, interaction: discord.Interaction, page: int = 1) -> None:
        guild = guild_of(interaction)
        session = self.deps.players.peek(guild)
        current = None if session is None else session.queue.current
        if current is None:
            raise QueueEmpty("Nothing is playing right now.")
        if page < 1:
            raise PositionOutOfRange("Page", page, 1, 1)
        held = await self.settings_of(interaction)
        await interaction.response.defer(thinking=True)
        try:
            found = await NodeLyrics(self.deps.cluster).current(guild)
        except NoLyricsPlugin as exc:  # not a failure: this node cannot do it
            await send_error(interaction, exc.message)
            return
        if found is None:
            await finish(interaction, f"No lyrics found for {track_line(current.track)}.")
            return
        embed, pages = lyrics_embed(found, current.track.title, page, held)
        more = f"/lyrics page:{page + 1} for the next page." if page < pages else None
        await interaction.edit_original_response(content=more, embed=embed)
