"""The bot's embeds: every one is built by `branded_embed`, in the guild's ``branding_color``."""

from __future__ import annotations

from vectobeat_bot.discord_compat import discord
from vectobeat_bot.formatting import clip, effect_list, length_text
from vectobeat_bot.i18n import _
from vectobeat_core.filters import Effects
from vectobeat_core.settings import ServerSettings
from vectobeat_core.tracks import Track

__all__ = ["brand_colour", "branded_embed", "track_embed"]


def brand_colour(settings: ServerSettings) -> discord.Colour:
    """The guild's ``branding_color`` (``#RRGGBB``, checked by the core) as a Discord colour."""
    return discord.Colour(int(settings.branding_color[1:], 16))


def branded_embed(settings: ServerSettings, title: str, *, url: str | None = None) -> discord.Embed:
    """An embed for a guild: the one place its colour is chosen."""
    return discord.Embed(title=clip(title, 256), url=url, colour=brand_colour(settings))


def _web(url: str | None) -> str | None:
    return url if url is not None and url.startswith(("https://", "http://")) else None


def track_embed(
    track: Track, settings: ServerSettings, effects: Effects | None = None
) -> discord.Embed:
    """A now-playing embed: title (linked), artist, duration, artwork, who asked for it and the
    filter effects it plays with."""
    embed = branded_embed(settings, track.title or _("Untitled"), url=_web(track.uri))
    embed.add_field(name=_("Artist"), value=clip(track.author or _("Unknown"), 1024))
    embed.add_field(name=_("Duration"), value=length_text(track))
    asked = _("autoplay") if track.requester is None else f"<@{track.requester}>"
    embed.add_field(name=_("Requested by"), value=asked)
    if effects:
        embed.add_field(name=_("Filters"), value=clip(effect_list(effects), 1024))
    artwork = _web(track.artwork_url)
    if artwork is not None:
        embed.set_thumbnail(url=artwork)
    return embed
