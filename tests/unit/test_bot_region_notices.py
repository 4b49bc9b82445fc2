"""`RegionNotices`: a pinned guild is told where it asked for music, once per interval."""

from __future__ import annotations

from vectobeat_bot.region_notices import RegionNotices
from vectobeat_core.ids import ChannelId, GuildId
from vectobeat_core.regions import Region

G = GuildId(811_111_111_111_111_111)
C = ChannelId(822_222_222_222_222_222)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_guild_is_told_when_it_leaves_and_when_it_returns_rate_limited() -> None:
    clock = Clock()
    notices = RegionNotices(min_interval_s=300, now=clock)
    assert notices.moved(G, Region.EU, Region.EU, Region.US) is None  # no channel known yet
    notices.remember(G, C)
    left = notices.moved(G, Region.EU, Region.EU, Region.US)
    assert left is not None and "moved to us" in str(left)
    assert notices.moved(G, Region.EU, Region.EU, Region.US) is None  # flapping: told once
    back = notices.moved(G, Region.EU, Region.US, Region.EU)
    assert back is not None and "plays in eu once more" in str(back)
    clock.t = 301
    assert notices.moved(G, Region.EU, Region.EU, Region.US) is not None
    assert notices.moved(G, Region.AUTO, Region.EU, Region.US) is None  # auto: nothing to tell
