"""Lavalink node routing: node configuration, load scoring, node choice, failover and return plans.

Pure policies: node specs parsed from configuration text, stats converted from Lavalink v4 payloads,
a penalty after Lavalink's load-balancing idea (lower is better), the choice of a node for a guild's
effective region, the spread of a dead node's players over healthy nodes (accounting for the load it
adds), and the return of players to their preferred region once it has been healthy for a while.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import attrs

from vectobeat_core import lavalink_fields as fields
from vectobeat_core.errors import InvalidInput, NodeUnavailable
from vectobeat_core.health import NodeHealth, NodeStatus, is_routable
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.jsontypes import JSON
from vectobeat_core.regions import Region, RegionDecision

__all__ = [
    "FrameStats",
    "MigrationPlan",
    "Move",
    "NodeChoice",
    "NodeSpec",
    "NodeStats",
    "NodeView",
    "PlayerPlacement",
    "ReasonCode",
    "choose_node",
    "extrapolate_position",
    "keep_target_position",
    "parse_node_list",
    "penalty",
    "plan_migration",
    "plan_return",
    "region_healthy_since",
]

ReasonCode = Literal["in_region", "region_unavailable", "auto", "region_restored"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\]")
_PORT = re.compile(r"[0-9]{1,5}")
_PINNABLE = ", ".join(r.value for r in Region if r is not Region.AUTO)


@attrs.frozen
class NodeSpec:
    """One configured Lavalink node. ``uri`` is the http(s) base; the password never shows in repr."""

    name: NodeName
    region: Region
    uri: str
    password: str = attrs.field(repr=lambda _: "'********'")
    secure: bool

    @property
    def websocket_uri(self) -> str:
        scheme = "wss" if self.secure else "ws"
        return f"{scheme}{self.uri.removeprefix('https').removeprefix('http')}/v4/websocket"


def _parse_entry(index: int, entry: str, default_password: str | None) -> NodeSpec:
    where = f"LAVALINK_NODES entry {index}"
    parts = entry.split(":", 2)
    if len(parts) < 3:
        raise InvalidInput(f"{where} must look like region:name:http(s)://host:port[:password]")
    region_text, name, rest = (p.strip() for p in parts)
    try:
        region: Region | None = Region(region_text.lower())
    except ValueError:
        region = None
    if region is None or region is Region.AUTO:
        raise InvalidInput(f"{where}: unknown region {region_text!r} (use one of {_PINNABLE})")
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{where}: node name {name!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    scheme, sep, address = rest.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise InvalidInput(f"{where}: bad URL, it must start with http:// or https://")
    if address.startswith("["):
        host, bracket, after = address.partition("]")
        host += bracket
        host_ok = bool(bracket) and _IPV6.fullmatch(host) is not None
    else:
        host, colon, after = address.partition(":")
        after = colon + after
        host_ok = _HOST.fullmatch(host) is not None
    if not host_ok:
        raise InvalidInput(f"{where}: bad URL, the host is missing or malformed")
    if not after.startswith(":"):
        raise InvalidInput(f"{where}: bad port, the URL must name a port (host:port)")
    port_text, has_password, password = after[1:].partition(":")
    if not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
        raise InvalidInput(f"{where}: bad port, it must be a number from 1 to 65535")
    if not has_password or not password:
        if default_password is None or not default_password:
            raise InvalidInput(f"{where}: missing password and no default password is configured")
        password = default_password
    secure = scheme.lower() == "https"
    uri = f"{scheme.lower()}://{host.lower()}:{int(port_text)}"
    return NodeSpec(NodeName(name), region, uri, password, secure)


def parse_node_list(text: str, default_password: str | None) -> tuple[NodeSpec, ...]:
    """Parse ``region:name:http(s)://host:port[:password],...``; entries are numbered from 1.

    Regions are us, eu or apac. An entry without a password uses ``default_password`` (a password
    containing a comma can only be given that way). Errors name the entry, never the password.
    """
    if not text.strip():
        return ()
    specs: list[NodeSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(text.split(","), start=1):
        entry = raw.strip()
        if not entry:
            raise InvalidInput(f"LAVALINK_NODES entry {index} is empty")
        spec = _parse_entry(index, entry, default_password)
        if spec.name in seen:
            raise InvalidInput(f"LAVALINK_NODES entry {index}: duplicate node name {spec.name!r}")
        seen.add(spec.name)
        specs.append(spec)
    return tuple(specs)


_FRAMES_PER_MINUTE = 3000
"""Audio frames Lavalink expects to send per player and minute (50 per second)."""


def _count(payload: Mapping[str, object], key: str) -> int:
    """A count >= 0; missing or odd reads 0."""
    return fields.amount(payload.get(key), 0)


def _load(cpu: Mapping[str, object], key: str, cores: int) -> float:
    """A CPU load in 0..1; a Unix load average (above 1) is divided by the cores."""
    load = fields.real(cpu.get(key))
    if load is None:
        return 0.0
    if load > 1.0:
        load /= cores
    return min(max(load, 0.0), 1.0)


def _section(payload: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def _frames(raw: object) -> FrameStats | None:
    """Frame stats per minute; counts accumulated over a longer time are scaled to a minute."""
    if not isinstance(raw, Mapping):
        return None
    sent, nulled = _count(raw, "sent"), _count(raw, "nulled")
    deficit = fields.whole(raw.get("deficit"))
    if deficit is None:
        return None
    deficit = max(min(deficit, fields.MAX_LONG), -fields.MAX_LONG)
    total = sent + nulled
    if total > _FRAMES_PER_MINUTE:  # cumulative counters: keep the shares, not the totals
        scale = _FRAMES_PER_MINUTE / total
        sent, nulled, deficit = round(sent * scale), round(nulled * scale), round(deficit * scale)
    return FrameStats(sent=sent, nulled=nulled, deficit=deficit)


@attrs.frozen
class FrameStats:
    """Audio frames over the last minute (3000 expected); ``deficit`` may be negative."""

    sent: int
    nulled: int
    deficit: int


@attrs.frozen
class NodeStats:
    """A node's Lavalink v4 statistics."""

    players: int
    playing_players: int
    uptime_ms: int
    memory_used: int
    memory_free: int
    memory_allocated: int
    memory_reservable: int
    cpu_cores: int
    system_load: float
    lavalink_load: float
    frames: FrameStats | None = None

    @classmethod
    def from_lavalink(cls, payload: Mapping[str, object]) -> NodeStats:
        """From ``GET /v4/stats`` or the websocket ``stats`` op, liberally.

        Only a payload that is not an object is refused. Each field is read on its own: a
        missing or odd count reads 0, a CPU load given as a Unix load average (above 1) is
        divided by the cores, and cumulative frame counts are scaled to one minute's worth.
        """
        if not isinstance(payload, Mapping):
            raise InvalidInput("Lavalink stats must be a JSON object")
        memory = _section(payload, "memory")
        cpu = _section(payload, "cpu")
        cores = max(_count(cpu, "cores"), 1)
        return cls(
            players=_count(payload, "players"),
            playing_players=_count(payload, "playingPlayers"),
            uptime_ms=_count(payload, "uptime"),
            memory_used=_count(memory, "used"),
            memory_free=_count(memory, "free"),
            memory_allocated=_count(memory, "allocated"),
            memory_reservable=_count(memory, "reservable"),
            cpu_cores=cores,
            system_load=_load(cpu, "systemLoad", cores),
            lavalink_load=_load(cpu, "lavalinkLoad", cores),
            frames=_frames(payload.get("frameStats")),
        )

    # Written by hand, not by jsonform: Lavalink's stats format (``GET /v4/stats``), not ours.
    def to_json(self) -> dict[str, JSON]:
        frames: JSON = None
        if self.frames is not None:
            frames = {
                "sent": self.frames.sent,
                "nulled": self.frames.nulled,
                "deficit": self.frames.deficit,
            }
        return {
            "players": self.players,
            "playingPlayers": self.playing_players,
            "uptime": self.uptime_ms,
            "memory": {
                "used": self.memory_used,
                "free": self.memory_free,
                "allocated": self.memory_allocated,
                "reservable": self.memory_reservable,
            },
            "cpu": {
                "cores": self.cpu_cores,
                "systemLoad": self.system_load,
                "lavalinkLoad": self.lavalink_load,
            },
            "frameStats": frames,
        }


def penalty(stats: NodeStats | None) -> float:
    """Lavalink's load penalty (lower is better): playing players, CPU, nulled and missing frames.

    As Lavalink clients compute it: ``1.05**(100*systemLoad)*10-10`` for CPU, and exponential
    penalties for nulled frames and the frame deficit per minute. No stats yet scores zero.
    """
    if stats is None:
        return 0.0
    load = min(max(stats.system_load, 0.0), 1.0)
    total = stats.playing_players + float(1.05 ** (100 * load)) * 10 - 10
    if stats.frames is not None and stats.frames.deficit != -1:
        nulled = min(max(stats.frames.nulled, 0), _FRAMES_PER_MINUTE) / _FRAMES_PER_MINUTE
        deficit = min(max(stats.frames.deficit, 0), _FRAMES_PER_MINUTE) / _FRAMES_PER_MINUTE
        total += (float(1.03 ** (500 * nulled)) * 300 - 300) * 2
        total += float(1.03 ** (500 * deficit)) * 600 - 600
    return total


@attrs.frozen
class NodeView:
    """What routing knows about one node right now."""

    spec: NodeSpec
    status: NodeStatus
    stats: NodeStats | None = None
    latency_ms: float | None = None

    @classmethod
    def of(cls, spec: NodeSpec, health: NodeHealth, stats: NodeStats | None = None) -> NodeView:
        """A view from the health checker's record of the node."""
        return cls(spec, health.status, stats, health.last_latency_ms)

    @property
    def name(self) -> NodeName:
        return self.spec.name

    @property
    def routable(self) -> bool:
        return is_routable(self.status)

    # Written by hand, not by jsonform: a row computed from the spec and stats (the penalty).
    def to_json(self) -> dict[str, JSON]:
        """The routing-table row the panel shows (no password)."""
        return {
            "name": self.spec.name,
            "region": self.spec.region.value,
            "uri": self.spec.uri,
            "secure": self.spec.secure,
            "status": self.status.value,
            "latency_ms": self.latency_ms,
            "penalty": round(penalty(self.stats), 3) if self.stats is not None else None,
            "players": self.stats.players if self.stats is not None else None,
            "playing_players": self.stats.playing_players if self.stats is not None else None,
        }


@attrs.frozen
class NodeChoice:
    """The node a guild plays on and why (the reason goes to the audit log)."""

    node: NodeName
    region: Region
    reason_code: ReasonCode
    reason: str


def _rank(view: NodeView) -> tuple[bool, float, str]:
    return (view.status is not NodeStatus.UP, penalty(view.stats), view.spec.name)


def _candidates(
    nodes: Iterable[NodeView], region: Region, exclude: Iterable[NodeName]
) -> tuple[list[NodeView], list[NodeView]]:
    """(routable nodes of ``region`` — all for AUTO —, all routable nodes), minus ``exclude``."""
    banned = set(exclude)
    usable = [n for n in nodes if n.routable and n.spec.name not in banned]
    local = usable if region is Region.AUTO else [n for n in usable if n.spec.region is region]
    return local, usable


def choose_node(
    nodes: Sequence[NodeView], decision: RegionDecision, *, exclude: Iterable[NodeName] = ()
) -> NodeChoice:
    """The healthy node with the lowest penalty in the effective region, else in any region."""
    region = decision.effective
    local, usable = _candidates(nodes, region, exclude)
    if local:
        best = min(local, key=_rank)
        if region is Region.AUTO:
            return NodeChoice(
                best.spec.name,
                best.spec.region,
                "auto",
                f"region auto: least loaded healthy node {best.spec.name} ({best.spec.region})",
            )
        return NodeChoice(
            best.spec.name,
            best.spec.region,
            "in_region",
            f"least loaded healthy node {best.spec.name} in region {region}",
        )
    if usable:
        best = min(usable, key=_rank)
        return NodeChoice(
            best.spec.name,
            best.spec.region,
            "region_unavailable",
            f"no healthy node in region {region}; using {best.spec.name} in {best.spec.region}",
        )
    raise NodeUnavailable(
        "No Lavalink node is available right now; playback will work again once a node recovers."
    )


def extrapolate_position(
    position_ms: int, read_at: float, now: float, paused: bool, length_ms: int | None
) -> int:
    """Where playback is now, from a position read at ``read_at``; clamped to ``[0, length]``."""
    if not (math.isfinite(read_at) and math.isfinite(now)):
        raise InvalidInput("playback times must be finite numbers of seconds")
    position = float(position_ms)
    if not paused:
        position += max(0.0, now - read_at) * 1000.0
    upper = math.inf if length_ms is None else float(max(length_ms, 0))
    return round(min(max(position, 0.0), upper))


POSITION_AGREES_MS = 1500
"""A node's reported position this close to where we expect agrees with our target."""
TARGET_TRUST_S = 5.0
"""How long our own target position outranks a node that reports otherwise."""


def keep_target_position(expected_ms: int, reported_ms: int, since_target_s: float) -> bool:
    """After telling a node where to play (a move, a seek), whether to keep our own target
    over the node's report: some servers answer a play-with-position with position 0 and seek
    a moment later, so a disagreeing report is believed only once ``TARGET_TRUST_S`` passed."""
    if abs(reported_ms - expected_ms) <= POSITION_AGREES_MS:
        return False
    return 0.0 <= since_target_s < TARGET_TRUST_S


@attrs.frozen
class PlayerPlacement:
    """A guild's player where it runs now; ``preferred_region`` is its decision's effective region."""

    guild_id: GuildId
    node: NodeName
    preferred_region: Region
    position_ms: int
    position_read_at: float
    paused: bool
    track_length_ms: int | None = None


@attrs.frozen
class Move:
    """Move one guild's player; ``position_ms`` is extrapolated to the plan's ``now``."""

    guild_id: GuildId
    from_node: NodeName
    to_node: NodeName
    region: Region
    reason_code: ReasonCode
    position_ms: int
    paused: bool


@attrs.frozen
class MigrationPlan:
    """Where the players of a dead node go; ``stranded`` guilds found no healthy node at all."""

    dead: NodeName
    at: float
    moves: tuple[Move, ...]
    stranded: tuple[GuildId, ...]

    def counts(self) -> dict[NodeName, int]:
        """How many players each target node receives."""
        out: dict[NodeName, int] = {}
        for move in self.moves:
            out[move.to_node] = out.get(move.to_node, 0) + 1
        return out


class _Assigner:
    """Greedy placement that counts the players it has already put on each node."""

    def __init__(self, nodes: Sequence[NodeView], exclude: Iterable[NodeName]) -> None:
        banned = set(exclude)
        self.usable = [n for n in nodes if n.routable and n.spec.name not in banned]
        self.load = {n.spec.name: penalty(n.stats) for n in self.usable}

    def place(self, region: Region) -> tuple[NodeView, ReasonCode] | None:
        local = (
            self.usable
            if region is Region.AUTO
            else [n for n in self.usable if n.spec.region is region]
        )
        pool = local
        code: ReasonCode = "auto" if region is Region.AUTO else "in_region"
        if not local:
            pool, code = self.usable, "region_unavailable"
        if not pool:
            return None
        best = min(
            pool, key=lambda n: (n.status is not NodeStatus.UP, self.load[n.spec.name], n.spec.name)
        )
        self.load[best.spec.name] += 1.0  # one more playing player: Lavalink's player penalty
        return best, code


def plan_migration(
    players: Sequence[PlayerPlacement], nodes: Sequence[NodeView], dead: NodeName, now: float
) -> MigrationPlan:
    """Spread the dead node's players over the best healthy nodes of their region, else any."""
    assigner = _Assigner(nodes, exclude=(dead,))
    moves: list[Move] = []
    stranded: list[GuildId] = []
    for player in sorted((p for p in players if p.node == dead), key=lambda p: p.guild_id):
        placed = assigner.place(player.preferred_region)
        if placed is None:
            stranded.append(player.guild_id)
            continue
        target, code = placed
        moves.append(
            Move(
                guild_id=player.guild_id,
                from_node=dead,
                to_node=target.spec.name,
                region=target.spec.region,
                reason_code=code,
                position_ms=extrapolate_position(
                    player.position_ms,
                    player.position_read_at,
                    now,
                    player.paused,
                    player.track_length_ms,
                ),
                paused=player.paused,
            )
        )
    return MigrationPlan(dead, now, tuple(moves), tuple(stranded))


def region_healthy_since(
    healths: Iterable[tuple[Region, NodeHealth]],
) -> dict[Region, float | None]:
    """Per region, since when one of its nodes has been up without interruption (``None``: none)."""
    out: dict[Region, float | None] = {r: None for r in Region if r is not Region.AUTO}
    for region, health in healths:
        if health.status is NodeStatus.UP:
            current = out.get(region)
            out[region] = health.since if current is None else min(current, health.since)
    return out


def plan_return(
    players: Sequence[PlayerPlacement],
    nodes: Sequence[NodeView],
    *,
    health_since: Mapping[Region, float | None],
    now: float,
    hold_seconds: float,
    at_track_boundary: Callable[[PlayerPlacement], bool],
) -> tuple[Move, ...]:
    """Players outside their preferred region go back once it has been healthy for
    ``hold_seconds`` (hysteresis), and only at a track boundary — never mid-song."""
    if not (hold_seconds >= 0 and math.isfinite(hold_seconds)):
        raise InvalidInput(f"hold_seconds must be zero or more, got {hold_seconds!r}")
    region_of = {n.spec.name: n.spec.region for n in nodes}
    assigner = _Assigner(nodes, exclude=())
    moves: list[Move] = []
    for player in sorted(players, key=lambda p: p.guild_id):
        preferred = player.preferred_region
        if preferred is Region.AUTO or region_of.get(player.node) is preferred:
            continue
        since = health_since.get(preferred)
        if since is None or now - since < hold_seconds or not at_track_boundary(player):
            continue
        local = [n for n in assigner.usable if n.spec.region is preferred]
        if not local:
            continue
        placed = assigner.place(preferred)
        assert placed is not None  # local is non-empty
        target, _ = placed
        moves.append(
            Move(
                guild_id=player.guild_id,
                from_node=player.node,
                to_node=target.spec.name,
                region=preferred,
                reason_code="region_restored",
                position_ms=extrapolate_position(
                    player.position_ms,
                    player.position_read_at,
                    now,
                    player.paused,
                    player.track_length_ms,
                ),
                paused=player.paused,
            )
        )
    return tuple(moves)
