"""Pinned guilds playing outside their region: the rule, the reason, and the alarms.

A guild pinned to a region whose nodes are all down is moved to another region by a failover and
comes back at a track change once its region is healthy. `displacement` says whether a player is
displaced (the one rule), `displacement_reason` why (a `Phrase`: the panel's routing page shows it
in the reader's language, the Status API in English), `displaced_summary` bounds the list for the
Status API, `failover_alarm` is one alarm per node failover (with counts, never one per player),
`failover_resolved_alarm` clears it once the node is back, and `evacuation_alarms` trigger when a
pinned region loses its first player and resolve when the last one is back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.health import Alarm, Severity
from vectobeat_core.ids import GuildId
from vectobeat_core.jsonform import dump, json_key
from vectobeat_core.jsontypes import JSON
from vectobeat_core.messages import Phrase, message_id
from vectobeat_core.regions import Region

__all__ = [
    "Displacement",
    "displaced_summary",
    "displacement",
    "displacement_reason",
    "evacuation_alarms",
    "failover_alarm",
    "failover_resolved_alarm",
]


def displacement_reason(wanted: Region) -> Phrase:
    """Why a guild pinned to ``wanted`` plays elsewhere, and when it returns."""
    return Phrase(
        message_id(
            "{wanted} has no healthy Lavalink node; it returns at a track change once {wanted} "
            "is healthy"
        ),
        {"wanted": wanted.value},
    )


@attrs.frozen
class Displacement:
    """A pinned guild's player running outside its region."""

    guild_id: GuildId
    wanted: Region = attrs.field(metadata=json_key("requested_region"))
    actual: Region = attrs.field(metadata=json_key("playing_region"))
    node: str

    def to_json(self) -> dict[str, JSON]:
        """Its fields, and why it plays outside its region."""
        return {**dump(self), "reason": str(displacement_reason(self.wanted))}


def displacement(
    guild_id: GuildId, wanted: Region, actual: Region, node: str
) -> Displacement | None:
    """The displacement when ``wanted`` is a pinned region and the player runs in another."""
    if not wanted.pinned or actual is wanted:
        return None
    return Displacement(guild_id, wanted, actual, node)


def displaced_summary(displaced: Iterable[Displacement], limit: int) -> dict[str, JSON]:
    """``{"count": n, "guilds": [first `limit` by guild id]}`` (bounded for a status payload)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidInput("the displaced-guild limit must be a whole number of at least 0")
    ordered = sorted(displaced, key=lambda d: d.guild_id)
    return {"count": len(ordered), "guilds": [d.to_json() for d in ordered[:limit]]}


def failover_alarm(
    node: str, region: Region, *, players: int, moved: int, stranded: int, out_of_region: int,
    at: float,
) -> Alarm:  # fmt: skip
    """One alarm for one node failover, with counts (``out_of_region``: pinned players that had
    to leave their region)."""
    for name, value in (("players", players), ("moved", moved), ("stranded", stranded)):
        if value < 0:
            raise InvalidInput(f"failover {name} must be at least 0")
    if out_of_region < 0 or moved + stranded > players:
        raise InvalidInput("failover counts do not add up (moved + stranded > players)")
    summary = (
        f"Failover of Lavalink node {node} ({region.value}): {moved} of {players} player(s) moved"
    )
    if stranded:
        summary += f", {stranded} found no healthy node"
    if out_of_region:
        summary += f", {out_of_region} pinned player(s) moved out of their region"
    severity: Severity = "critical" if stranded else "error"
    return Alarm(
        key=f"failover:{node}", severity=severity, summary=summary, status="trigger", at=at
    )


def failover_resolved_alarm(node: str, region: Region, at: float) -> Alarm:
    """The failed-over node is up again: resolves its ``failover:<node>`` alarm."""
    summary = f"Lavalink node {node} ({region.value}) is back after its failover"
    return Alarm(key=f"failover:{node}", severity="info", summary=summary, status="resolve", at=at)


def evacuation_alarms(
    before: Mapping[Region, int], after: Mapping[Region, int], at: float
) -> list[Alarm]:
    """Per pinned region, the count of its guilds playing elsewhere went from none to some (a
    trigger) or from some to none (a resolve)."""
    alarms: list[Alarm] = []
    for region in sorted(set(before) | set(after), key=lambda r: r.value):
        was, now = before.get(region, 0), after.get(region, 0)
        if not region.pinned or (was > 0) == (now > 0):
            continue
        key = f"region:{region.value}:evacuated"
        if now > 0:
            summary = (
                f"Region {region.value} evacuated: {now} pinned guild(s) play outside it "
                f"({displacement_reason(region)})"
            )
            alarms.append(Alarm(key, "error", summary, "trigger", at))
        else:
            summary = f"Region {region.value}: every pinned guild plays in it again"
            alarms.append(Alarm(key, "info", summary, "resolve", at))
    return alarms
