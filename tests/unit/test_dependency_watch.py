"""`DependencyWatch` without a server: the gate, the prepare step, recovery listeners, timeouts."""

from __future__ import annotations

import anyio
import pytest

from vectobeat_adapters.dependency_watch import DependencyWatch
from vectobeat_core.dependencies import DependencyState
from vectobeat_core.errors import BridgeUnavailable, StorageUnavailable

pytestmark = pytest.mark.anyio


class Clock:
    t = 1000.0

    def now(self) -> float:
        return self.t


class Flaky:
    """A probe that fails with ``error`` while ``down``, or never answers while ``hung``."""

    def __init__(self) -> None:
        self.down = True
        self.hung = False
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.hung:
            await anyio.sleep_forever()
        if self.down:
            raise StorageUnavailable("refused")


def fast(name: str, probe: Flaky, clock: Clock, **options: object) -> DependencyWatch:
    return DependencyWatch(
        name, probe, clock, interval=0.05, probe_timeout=0.2, backoff_base=0.01,
        backoff_cap=0.05, **options,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_down_until_the_probe_answers_then_listeners_run() -> None:
    clock, probe = Clock(), Flaky()
    watch = fast("redis", probe, clock, required=True)
    seen: list[DependencyState] = []

    async def listener() -> None:
        seen.append(watch.status.state)
        raise StorageUnavailable("a failing listener is logged, not raised")

    async def broken() -> None:
        raise RuntimeError("a listener's bug is logged, and the watch goes on")

    watch.on_recovered(listener)
    watch.on_recovered(broken)
    async with anyio.create_task_group() as tg:
        await tg.start(watch.run)
        assert watch.status.state is DependencyState.DOWN and watch.status.detail == "refused"
        with pytest.raises(StorageUnavailable, match=r"redis is unavailable \(refused\)"):
            watch.check()
        clock.t = 1005.0
        probe.down = False
        with anyio.fail_after(5):
            await watch.wait_until(DependencyState.UP)
        assert seen == [DependencyState.UP]
        assert watch.status.since == 1005.0
        watch.check()  # passes
        watch.failed(StorageUnavailable("lost"))
        assert watch.status.state is DependencyState.DOWN and watch.status.detail == "lost"
        with anyio.fail_after(5):
            await watch.wait_until(DependencyState.UP)  # woken at once, reprobed
        assert seen == [DependencyState.UP, DependencyState.UP]
        tg.cancel_scope.cancel()


async def test_a_hung_probe_is_bounded_and_errors_have_the_dependency_type() -> None:
    probe = Flaky()
    probe.hung = True
    watch = fast("panel_bridge", probe, Clock(), error=BridgeUnavailable)
    assert await watch.probe_once() is False
    assert watch.status.detail == "no answer within 0.2 s"
    with pytest.raises(BridgeUnavailable):
        watch.check()
    with pytest.raises(ValueError, match="probe_timeout"):
        DependencyWatch("x", probe, Clock(), probe_timeout=10.0)


async def test_prepare_runs_once_before_up_and_a_failure_keeps_it_down() -> None:
    probe = Flaky()
    probe.down = False
    states: list[DependencyState] = []
    watch: DependencyWatch

    async def prepare() -> None:
        states.append(watch.status.state)
        watch.check()  # its own calls pass the gate while it prepares
        if len(states) == 1:
            raise StorageUnavailable("migration failed")

    watch = fast("sql", probe, Clock(), prepare=prepare)
    assert await watch.probe_once() is False
    assert (watch.status.state, watch.status.detail) == (DependencyState.DOWN, "migration failed")
    assert await watch.probe_once() is True
    assert await watch.probe_once() is True
    assert states == [DependencyState.DEGRADED, DependencyState.DEGRADED]
    assert watch.status.state is DependencyState.UP


async def test_an_unexpected_failure_is_logged_once_and_keeps_it_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    probe = Flaky()
    probe.down = False

    async def prepare() -> None:
        raise RuntimeError("Can't locate revision r0099")

    watch = fast("sql", probe, Clock(), prepare=prepare)
    assert await watch.probe_once() is False
    assert await watch.probe_once() is False
    assert watch.status.state is DependencyState.DOWN
    assert (
        watch.status.detail
        == "prepare failed unexpectedly: RuntimeError: Can't locate revision r0099"
    )
    assert caplog.text.count("dependency_prepare_failed") == 1
