"""Source access policy: the search chain per level and node, link classification, and the
message that names a refused source and what would allow it."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.settings import plans, server_settings
from vectobeat_core.errors import LimitExceeded
from vectobeat_core.plans import SOURCE_ACCESS_LEVELS, Plan, SourceAccess, Tier, default_catalogue
from vectobeat_core.settings import ServerSettings
from vectobeat_core.sources import (
    ALWAYS_AVAILABLE,
    SEARCH_PREFIXES,
    SOURCE_LABELS,
    SOURCE_LEVELS,
    check_source,
    effective_source_access,
    required_level,
    search_chain,
    source_allowed,
    url_source,
)

levels = st.sampled_from(SOURCE_ACCESS_LEVELS)
known_sources = [source for _, source in SEARCH_PREFIXES]
node_sources = st.frozensets(st.sampled_from([*known_sources, "http", "twitch", "vimeo"]))
sources = st.sampled_from([*known_sources, "http", "twitch", "nico", "local"])
labels = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)
CATALOGUE = default_catalogue()


def rank(level: str) -> int:
    return SOURCE_ACCESS_LEVELS.index(level)


@given(levels, node_sources)
def test_the_chain_holds_only_allowed_served_sources_in_fallback_order(
    level: SourceAccess, served: frozenset[str]
) -> None:
    chain = search_chain(level, served)
    order = [prefix for prefix, _ in SEARCH_PREFIXES]
    assert list(chain) == sorted(chain, key=order.index)
    by_prefix = dict(SEARCH_PREFIXES)
    for prefix in chain:
        assert by_prefix[prefix] in (served or ALWAYS_AVAILABLE)
        assert rank(SOURCE_LEVELS[by_prefix[prefix]]) <= rank(level)
    missing = [
        p for p, s in SEARCH_PREFIXES if s in (served or ALWAYS_AVAILABLE) and p not in chain
    ]
    assert all(not source_allowed(by_prefix[p], level) for p in missing)


@given(node_sources)
def test_a_higher_level_searches_at_least_what_a_lower_one_does(served: frozenset[str]) -> None:
    chains = [set(search_chain(level, served)) for level in SOURCE_ACCESS_LEVELS]
    assert chains[0] <= chains[1] <= chains[2]


def test_standard_is_youtube_then_soundcloud_and_extended_adds_what_the_node_reports() -> None:
    lavasrc = {"youtube", "soundcloud", "http", "spotify", "applemusic", "deezer"}
    assert search_chain("standard", lavasrc) == ("ytsearch", "scsearch")
    assert search_chain("extended", lavasrc) == (
        "ytsearch",
        "scsearch",
        "spsearch",
        "amsearch",
        "dzsearch",
    )
    assert search_chain("extended", {"youtube", "soundcloud"}) == ("ytsearch", "scsearch")
    assert search_chain("unlimited", set()) == ("ytsearch", "scsearch")  # no node could say


@given(plans, server_settings())
def test_the_effective_level_never_passes_the_plan_or_the_setting(
    plan: Plan, settings: ServerSettings
) -> None:
    level = effective_source_access(plan, settings)
    assert rank(level) == min(rank(plan.source_access), rank(settings.source_access))


HOSTS = [
    ("youtube.com", "youtube"),
    ("youtu.be", "youtube"),
    ("soundcloud.com", "soundcloud"),
    ("spotify.com", "spotify"),
    ("music.apple.com", "applemusic"),
    ("deezer.com", "deezer"),
    ("twitch.tv", "twitch"),
]


@given(st.sampled_from(HOSTS), st.lists(labels, max_size=2), st.booleans(), labels)
def test_links_are_classified_by_host_and_its_subdomains(
    host_source: tuple[str, str], subdomains: list[str], upper: bool, path: str
) -> None:
    host, source = host_source
    full = ".".join([*subdomains, host])
    url = f"https://{full.upper() if upper else full}/{path}"
    assert url_source(url) == source


@given(labels)
def test_a_lookalike_or_unknown_host_is_not_a_known_source(name: str) -> None:
    assert url_source(f"https://{name}youtube.com/watch") is None
    assert url_source(f"https://youtube.com.{name}.test/watch") is None


@given(sources, plans, server_settings())
def test_a_source_is_refused_exactly_when_the_effective_level_lacks_it(
    source: str, plan: Plan, settings: ServerSettings
) -> None:
    allowed = rank(required_level(source)) <= rank(effective_source_access(plan, settings))
    if allowed:
        check_source(source, plan, settings, CATALOGUE)
        return
    with pytest.raises(LimitExceeded) as caught:
        check_source(source, plan, settings, CATALOGUE)
    message = caught.value.message
    assert SOURCE_LABELS.get(source, source) in message
    if source_allowed(source, plan.source_access):
        assert "in the panel" in message  # the plan allows it: raise the setting
    else:
        tier = CATALOGUE.lowest_tier_with(
            lambda p: rank(p.source_access) >= rank(required_level(source))
        )
        assert tier is not None and f"the {tier.label} plan" in message


def test_a_spotify_link_on_free_names_spotify_and_the_starter_plan() -> None:
    free = CATALOGUE.plan(Tier.FREE)
    source = url_source("https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC")
    assert source == "spotify"
    with pytest.raises(LimitExceeded, match=r"Spotify .*Free.*Starter plan"):
        check_source(source, free, ServerSettings(), CATALOGUE)
    pro = CATALOGUE.plan(Tier.PRO)
    with pytest.raises(LimitExceeded, match="Spotify is off on this server"):
        check_source(source, pro, ServerSettings(source_access="standard"), CATALOGUE)
    check_source(source, pro, attrs.evolve(ServerSettings(), source_access="extended"), CATALOGUE)
