"""Source access: which sources a guild's searches and links may use, and the search order.

* A source is a Lavalink source manager name (``youtube``, ``soundcloud``, ``spotify``, …). Each
  known source needs a `SourceAccess` level (`SOURCE_LEVELS`); one the node reports but this table
  does not know needs the top level (``unlimited``).
* `effective_source_access` is the guild's setting, never above its plan's level.
* `search_chain` is the fallback order of search prefixes (YouTube, then SoundCloud, then the
  extended catalogues) that the level allows and the node reports in ``GET /v4/info``
  (``sourceManagers``, where plugins such as LavaSrc register theirs).
* `url_source` classifies a link by its host (``None``: a host no table knows); `check_source`
  raises `LimitExceeded` naming a source and what would allow it: a higher setting, or the lowest
  plan. The bot checks a link's host before loading it and the loaded tracks' ``sourceName`` after.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from vectobeat_core.errors import InvalidInput, LimitExceeded
from vectobeat_core.plans import SOURCE_ACCESS_LEVELS, Plan, PlanCatalogue, SourceAccess
from vectobeat_core.settings import ServerSettings

__all__ = [
    "ALWAYS_AVAILABLE",
    "SEARCH_PREFIXES",
    "SOURCE_LABELS",
    "SOURCE_LEVELS",
    "check_source",
    "effective_source_access",
    "required_level",
    "search_chain",
    "source_allowed",
    "url_source",
]

SOURCE_LEVELS: dict[str, SourceAccess] = {
    "youtube": "standard",
    "soundcloud": "standard",
    "spotify": "extended",
    "applemusic": "extended",
    "deezer": "extended",
    "yandexmusic": "extended",
    "bandcamp": "extended",
}
"""The level each known source needs; any other source (``http``, ``twitch``, …) needs unlimited."""

SOURCE_LABELS: dict[str, str] = {
    "youtube": "YouTube",
    "soundcloud": "SoundCloud",
    "spotify": "Spotify",
    "applemusic": "Apple Music",
    "deezer": "Deezer",
    "yandexmusic": "Yandex Music",
    "bandcamp": "Bandcamp",
    "twitch": "Twitch",
    "vimeo": "Vimeo",
    "http": "direct links",
}

SEARCH_PREFIXES: tuple[tuple[str, str], ...] = (
    ("ytsearch", "youtube"),
    ("scsearch", "soundcloud"),
    ("spsearch", "spotify"),
    ("amsearch", "applemusic"),
    ("dzsearch", "deezer"),
    ("ymsearch", "yandexmusic"),
    ("bcsearch", "bandcamp"),
)
"""Search prefix and its source, in the order a text search tries them."""

ALWAYS_AVAILABLE: frozenset[str] = frozenset({"youtube", "soundcloud"})
"""What to assume a node serves when none could say (every stock Lavalink has these two)."""

_HOSTS: tuple[tuple[str, str], ...] = (
    ("youtube.com", "youtube"),
    ("youtu.be", "youtube"),
    ("soundcloud.com", "soundcloud"),
    ("snd.sc", "soundcloud"),
    ("spotify.com", "spotify"),
    ("spotify.link", "spotify"),
    ("music.apple.com", "applemusic"),
    ("deezer.com", "deezer"),
    ("deezer.page.link", "deezer"),
    ("music.yandex.ru", "yandexmusic"),
    ("music.yandex.com", "yandexmusic"),
    ("bandcamp.com", "bandcamp"),
    ("twitch.tv", "twitch"),
    ("vimeo.com", "vimeo"),
)


def _rank(level: str) -> int:
    if level not in SOURCE_ACCESS_LEVELS:
        raise InvalidInput(f"Unknown source access level {level!r}.")
    return SOURCE_ACCESS_LEVELS.index(level)


def required_level(source: str) -> SourceAccess:
    """The level ``source`` needs (unknown sources need the top level)."""
    return SOURCE_LEVELS.get(source, SOURCE_ACCESS_LEVELS[-1])


def source_allowed(source: str, level: SourceAccess) -> bool:
    """Whether ``level`` may use ``source``."""
    return _rank(required_level(source)) <= _rank(level)


def effective_source_access(plan: Plan, settings: ServerSettings) -> SourceAccess:
    """The guild's source access: its setting, never above what its plan allows."""
    if _rank(settings.source_access) <= _rank(plan.source_access):
        return settings.source_access
    return plan.source_access


def search_chain(level: SourceAccess, node_sources: Collection[str]) -> tuple[str, ...]:
    """The search prefixes to try in order: allowed by ``level`` and served by the node.

    An empty ``node_sources`` (no node could say) counts as `ALWAYS_AVAILABLE`.
    """
    served = frozenset(node_sources) or ALWAYS_AVAILABLE
    return tuple(
        prefix
        for prefix, source in SEARCH_PREFIXES
        if source in served and source_allowed(source, level)
    )


def url_source(url: str) -> str | None:
    """The source a link belongs to, by host (``None``: a host this table does not know)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    except ValueError:
        raise InvalidInput("That link is not a valid URL.") from None
    for suffix, source in _HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return source
    return None


def check_source(
    source: str, plan: Plan, settings: ServerSettings, catalogue: PlanCatalogue
) -> None:
    """Raise `LimitExceeded` unless the guild may play from ``source``; the message names the
    source and what would allow it: a higher setting (the plan allows it) or the lowest plan."""
    level = effective_source_access(plan, settings)
    if source_allowed(source, level):
        return
    needed = required_level(source)
    label = SOURCE_LABELS.get(source, source)
    if source_allowed(source, plan.source_access):
        raise LimitExceeded(
            f"{label} is off on this server: its source access is {level}; "
            f"a manager can set it to {needed} in the panel."
        )
    tier = catalogue.lowest_tier_with(lambda p: _rank(p.source_access) >= _rank(needed))
    where = f"the {tier.label} plan or higher" if tier is not None else "no plan"
    raise LimitExceeded(
        f"{label} is not included in this server's plan ({plan.label}): "
        f"{needed} source access comes with {where}."
    )
