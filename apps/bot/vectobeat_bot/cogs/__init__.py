"""One cog per feature; `all_cogs` lists their factories in load order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vectobeat_bot.cogs.admin_info import AdminInfoCog
from vectobeat_bot.cogs.care import CareCog
from vectobeat_bot.cogs.compliance import ComplianceCog
from vectobeat_bot.cogs.dj import DjCog
from vectobeat_bot.cogs.filters import FilterCog
from vectobeat_bot.cogs.info import InfoCog
from vectobeat_bot.cogs.lyrics import LyricsCog
from vectobeat_bot.cogs.music import MusicCog
from vectobeat_bot.cogs.playlists import PlaylistCog
from vectobeat_bot.cogs.queue import QueueCog
from vectobeat_bot.cogs.search import SearchCog
from vectobeat_bot.cogs.settings import SettingsCog
from vectobeat_bot.cogs.stay import StayCog
from vectobeat_bot.cogs.voice import VoiceCog
from vectobeat_bot.discord_compat import commands

if TYPE_CHECKING:
    from vectobeat_bot.bot import VectoBeatBot

__all__ = ["all_cogs"]


def all_cogs() -> list[Callable[[VectoBeatBot], commands.Cog]]:
    return [
        MusicCog,
        QueueCog,
        SearchCog,
        PlaylistCog,
        VoiceCog,
        DjCog,
        SettingsCog,
        InfoCog,
        AdminInfoCog,
        CareCog,
        FilterCog,
        StayCog,
        LyricsCog,
        ComplianceCog,
    ]
