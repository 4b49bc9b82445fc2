"""`NodeSources`: the source managers every answering node reports, cached; a node that is down or
answers garbage is skipped (and asked again), and none answering leaves the caller's fallback."""

from __future__ import annotations

from typing import Any, cast

import attrs
import pytest

from vectobeat_adapters.lavalink.node_sources import NodeSources, parse_source_managers
from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_core.errors import NodeUnavailable
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import NodeName
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeView

pytestmark = pytest.mark.anyio


@attrs.define
class Node:
    answer: object
    asked: int = 0

    async def request(self, method: str, path: str, **_: Any) -> object:
        assert (method, path) == ("GET", "/v4/info")
        self.asked += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@attrs.define
class Clock:
    t: float = 0.0

    def now(self) -> float:
        return self.t


@attrs.define
class Cluster:
    """What `NodeSources` uses of a `NodeRegistry`: views, nodes and the clock."""

    nodes: dict[str, Node]
    status: dict[str, NodeStatus]
    clock: Clock = attrs.Factory(Clock)

    def views(self) -> list[NodeView]:
        return [
            NodeView(
                NodeSpec(NodeName(n), Region.EU, "http://127.0.0.1:1", "pw", False), self.status[n]
            )
            for n in self.nodes
        ]

    def node(self, name: NodeName) -> Node:
        return self.nodes[name]


def info(*managers: str) -> dict[str, object]:
    return {"sourceManagers": list(managers), "plugins": []}


async def test_served_is_what_every_answering_routable_node_reports() -> None:
    a, b = Node(info("youtube", "soundcloud", "spotify")), Node(info("YouTube", "soundcloud"))
    cluster = Cluster({"a": a, "b": b}, {"a": NodeStatus.UP, "b": NodeStatus.UP})
    sources = NodeSources(cast(NodeRegistry, cluster), ttl_s=60.0)
    assert await sources.served() == {"youtube", "soundcloud"}
    cluster.status["b"] = NodeStatus.DOWN
    assert await sources.served() == {"youtube", "soundcloud", "spotify"}
    assert (a.asked, b.asked) == (1, 1)  # cached within the ttl
    cluster.clock.t = 61.0
    await sources.served()
    assert a.asked == 2


async def test_a_failing_node_is_skipped_and_none_answering_gives_nothing() -> None:
    broken, garbage = Node(NodeUnavailable("down")), Node({"sourceManagers": "youtube"})
    cluster = Cluster({"x": broken, "y": garbage}, {"x": NodeStatus.UP, "y": NodeStatus.UP})
    sources = NodeSources(cast(NodeRegistry, cluster))
    assert await sources.served() == frozenset()
    broken.answer = info("youtube", "deezer")
    assert await sources.served() == {"youtube", "deezer"}  # asked again, not cached as failed


@pytest.mark.parametrize("bad", [None, [], {"sourceManagers": None}, {"sourceManagers": [1]}])
def test_a_reply_without_a_list_of_names_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="sourceManagers"):
        parse_source_managers(bad)
