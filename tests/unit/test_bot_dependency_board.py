"""The bot's dependency board: a node's ``since`` moves only when its state changes; what is not
configured says so."""

from __future__ import annotations

from vectobeat_adapters.dependency_watch import DependencyWatch
from vectobeat_bot.dependency_board import DependencyBoard, node_state
from vectobeat_core.dependencies import DependencyState
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import NodeName
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeView


class Clock:
    t = 100.0

    def now(self) -> float:
        return self.t


async def never() -> None:
    raise AssertionError("not probed in this test")


def test_nodes_and_unconfigured_dependencies() -> None:
    clock = Clock()
    status = {"eu-1": NodeStatus.UP}
    spec = NodeSpec(NodeName("eu-1"), Region.EU, "http://h:1", "pw", False)
    redis = DependencyWatch("redis", never, clock, required=True)
    board = DependencyBoard(
        clock, watches={"redis": redis}, nodes=lambda: [NodeView(spec, status["eu-1"])]
    )
    first = {d.name: d for d in board.statuses()}
    assert sorted(first) == ["lavalink:eu-1", "panel_bridge", "redis", "sql"]
    assert first["sql"].state is DependencyState.NOT_CONFIGURED
    assert first["redis"] == redis.status
    assert (first["lavalink:eu-1"].state, first["lavalink:eu-1"].since) == (
        DependencyState.UP,
        100.0,
    )
    clock.t = 105.0
    board.observe_nodes()
    assert {d.name: d for d in board.statuses()}["lavalink:eu-1"].since == 100.0
    status["eu-1"] = NodeStatus.DOWN
    clock.t = 110.0
    down = {d.name: d for d in board.statuses()}["lavalink:eu-1"]
    assert (down.state, down.since, down.changes) == (DependencyState.DOWN, 110.0, 2)


def test_node_states() -> None:
    assert [node_state(s) for s in NodeStatus] == [
        DependencyState.DOWN, DependencyState.UP, DependencyState.DEGRADED, DependencyState.DOWN,
    ]  # fmt: skip
