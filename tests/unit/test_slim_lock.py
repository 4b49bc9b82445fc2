"""`SlimLock`: an anyio lock while in use (exclusive, first come first served, cancellable), nothing
once idle."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from anyio import wait_all_tasks_blocked

from vectobeat_adapters.slim_lock import SlimLock

pytestmark = pytest.mark.anyio


def _state(lock: SlimLock) -> tuple[bool, bool]:
    """(holds an anyio lock, held by a task)"""
    return lock.in_use, lock.locked()


async def test_an_idle_lock_holds_no_anyio_lock() -> None:
    lock = SlimLock()
    assert _state(lock) == (False, False)
    async with lock:
        assert _state(lock) == (True, True)
    assert _state(lock) == (False, False)


async def test_holders_take_turns_in_the_order_they_came() -> None:
    lock = SlimLock()
    order: list[str] = []
    inside = 0
    most_inside = 0

    async def hold(name: str) -> None:
        nonlocal inside, most_inside
        async with lock:
            inside += 1
            most_inside = max(most_inside, inside)
            order.append(name)
            for _ in range(3):
                await anyio.lowlevel.checkpoint()  # the others run, and must wait
            inside -= 1

    async with anyio.create_task_group() as tasks:
        for name in ("a", "b", "c", "d"):
            tasks.start_soon(hold, name)
            await wait_all_tasks_blocked()  # each holds or queues before the next starts
    assert order == ["a", "b", "c", "d"]
    assert most_inside == 1
    assert not lock.in_use


async def test_a_lock_with_a_waiter_is_handed_over_then_let_go_of() -> None:
    lock = SlimLock()
    released = anyio.Event()
    waiter_in = anyio.Event()

    async def waiter() -> None:
        async with lock:
            waiter_in.set()
            await released.wait()

    async with anyio.create_task_group() as tasks:
        async with lock:
            tasks.start_soon(waiter)
            await wait_all_tasks_blocked()  # the waiter queues
        await waiter_in.wait()
        assert lock.locked()  # handed over, not let go of
        released.set()
    assert not lock.in_use


async def test_a_cancelled_waiter_leaves_the_lock_working() -> None:
    lock = SlimLock()
    got: list[str] = []

    async def take(name: str) -> None:
        async with lock:
            got.append(name)

    async with anyio.create_task_group() as tasks, lock:
        tasks.start_soon(take, "later")
        async with anyio.create_task_group() as doomed:
            doomed.start_soon(take, "cancelled")
            await wait_all_tasks_blocked()  # both wait
            doomed.cancel_scope.cancel()
    assert got == ["later"]
    async with lock:
        got.append("again")
    assert got == ["later", "again"]
    assert not lock.in_use


async def test_an_error_inside_releases_the_lock() -> None:
    lock = SlimLock()
    with pytest.raises(ValueError, match="boom"):
        async with lock:
            raise ValueError("boom")
    assert _state(lock) == (False, False)
    with anyio.fail_after(1):
        async with lock:
            pass
