"""Search: /search shows up to 10 results as a select menu; the member who searched picks one
and it is queued like /play would. The menu is disabled once used or after
``SEARCH_TIMEOUT_SECONDS``; a menu this process does not know (it restarted since) answers that the
search is no longer active."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from vectobeat_adapters.i18n import current_language, use_language
from vectobeat_bot.bot import guild_of, send_error, user_message
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.cogs.music import queued_text
from vectobeat_bot.discord_compat import app_commands, commands, discord
from vectobeat_bot.formatting import clip, length_text, tracks_count
from vectobeat_bot.i18n import N_, LocalizedView, _, answer_in_language_of, locale_str
from vectobeat_bot.player_service import PlayOutcome
from vectobeat_core.errors import InvalidInput, VectoBeatError
from vectobeat_core.ids import UserId
from vectobeat_core.tracks import Track

if TYPE_CHECKING:
    from vectobeat_bot.bot import VectoBeatBot

__all__ = ["MAX_RESULTS", "SEARCH_PREFIX", "STALE_MENU", "SearchCog", "SearchPicker"]

MAX_RESULTS = 10
"""How many results the menu offers (Discord allows 25 options; ten fit a phone screen)."""

SEARCH_PREFIX = "vb:search:"
STALE_MENU = N_("This search is no longer active; run /search again.")
"""The English text of the answer to a stale menu (translated when sent)."""

_log = logging.getLogger("vectobeat.bot.search")


def results_text(tracks: Sequence[Track]) -> str:
    return _("Found {tracks}: pick one to queue it.").format(tracks=tracks_count(len(tracks)))


def _option(index: int, track: Track) -> discord.SelectOption:
    return discord.SelectOption(
        label=clip(track.title, 100),
        description=clip(f"{track.author} · {length_text(track)}", 100),
        value=str(index),
    )


class SearchPicker(LocalizedView):
    """The menu under one /search answer; only ``searcher`` may use it, once."""

    def __init__(
        self,
        cog: SearchCog,
        origin: discord.Interaction,
        tracks: Sequence[Track],
        timeout: float,
    ) -> None:
        super().__init__(timeout=timeout)
        self.cog = cog
        self.custom_id = f"{SEARCH_PREFIX}{origin.id}"
        self.origin = origin
        self.searcher = origin.user.id
        self.tracks = tuple(tracks)
        self.language = current_language()
        """The searcher's language, which the timed-out menu keeps."""
        self.picking = False
        """A pick is under way (a second one is refused, not queued twice)."""
        self.menu: discord.ui.Select[SearchPicker] = discord.ui.Select(
            custom_id=self.custom_id,
            placeholder=_("Pick a track to queue"),
            options=[_option(i, t) for i, t in enumerate(self.tracks)],
        )
        self.menu.callback = self._picked  # type: ignore[method-assign]
        self.add_item(self.menu)
        cog.open_menus.add(self.custom_id)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        await super().interaction_check(interaction)
        if interaction.user.id == self.searcher:
            return True
        await send_error(
            interaction,
            _("Only <@{searcher}> can pick from this search; run /search yourself.").format(
                searcher=self.searcher
            ),
        )
        return False

    def _chosen(self) -> Track:
        values = self.menu.values
        if len(values) != 1 or not values[0].isdigit() or int(values[0]) >= len(self.tracks):
            raise InvalidInput(_("Pick one of the results in the menu."))
        return self.tracks[int(values[0])]

    async def _picked(self, interaction: discord.Interaction) -> None:
        if self.picking:
            raise InvalidInput(_("Your pick from this search is being queued already."))
        self.picking = True
        try:
            outcome = await self._queue(interaction, self._chosen())
        finally:
            self.picking = False
        self.stop()
        self.cog.open_menus.discard(self.custom_id)
        self.menu.disabled = True
        await interaction.edit_original_response(content=queued_text(outcome, ""), view=self)

    async def _queue(self, interaction: discord.Interaction, track: Track) -> PlayOutcome:
        cog = self.cog
        guild = guild_of(interaction)
        channel = cog.user_voice_channel(interaction)
        limit = await cog.add_limit(interaction)
        await interaction.response.defer()
        return await cog.deps.players.queue_found(
            guild,
            [track],
            requester=UserId(interaction.user.id),
            voice_channel_id=channel,
            member_limit=limit,
        )

    async def on_timeout(self) -> None:
        self.cog.open_menus.discard(self.custom_id)
        self.menu.disabled = True
        with use_language(self.language):
            content = (
                results_text(self.tracks)
                + "\n-# "
                + _("This search timed out: run /search again to pick.")
            )
        try:
            await self.origin.edit_original_response(content=content, view=self)
        except discord.HTTPException as exc:
            _log.warning("search_timeout_edit_failed error=%s", exc)

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[SearchPicker],
    ) -> None:
        self.cog.deps.metrics.command("search pick", "refused")
        if not isinstance(error, VectoBeatError):
            _log.error("search_pick_failed", exc_info=error)
        await send_error(interaction, user_message(error))


class SearchCog(CogBase):
    """Search and pick."""

    def __init__(self, bot: VectoBeatBot) -> None:
        super().__init__(bot)
        self.open_menus: set[str] = set()
        """The custom ids of the menus this process still serves."""

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A pick on a menu of a search this process never made (it restarted since): say so
        instead of leaving the click unanswered."""
        if interaction.type is not discord.InteractionType.component:
            return
        data = cast("Mapping[str, object]", interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if custom_id.startswith(SEARCH_PREFIX) and custom_id not in self.open_menus:
            answer_in_language_of(interaction)
            await send_error(interaction, _(STALE_MENU))

    @app_commands.command(
        name="search", description=locale_str("Search and pick one of up to 10 results")
    )
    @app_commands.describe(query=locale_str("Words to search for (or a link)"))
    async def search(self, interaction: discord.Interaction, query: str) -> None:
        guild = guild_of(interaction)
        self.user_voice_channel(interaction)
        await self.check_add(interaction)
        await interaction.response.defer(thinking=True)
        result = await self.deps.players.search(guild, query)
        tracks = result.tracks[:MAX_RESULTS]
        picker = SearchPicker(
            self, interaction, tracks, float(self.deps.config.search_timeout_seconds)
        )
        await interaction.edit_original_response(content=results_text(tracks), view=picker)
