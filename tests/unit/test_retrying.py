"""Retries through tenacity and redis-py's ``Retry``: which errors retry, how often, and what a
caller is told (a write whose outcome is unknown is never repeated); `supervise`, the one loop."""

from __future__ import annotations

import random
from typing import cast

import anyio
import anyio.lowlevel
import pytest
import tenacity
from redis.exceptions import AuthenticationError, ConnectionError, ResponseError
from sqlalchemy import exc

from vectobeat_adapters.redis.connection import Client, RedisConnection, RedisSettings
from vectobeat_adapters.retrying import BackoffWait, EqualJitter, failure, supervise
from vectobeat_adapters.sql.engine import open_database
from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.errors import Conflict, StorageUnavailable

pytestmark = pytest.mark.anyio


def test_equal_jitter_doubles_up_to_its_cap_half_fixed_half_random() -> None:
    backoff = EqualJitter(base_s=0.5, cap_s=4.0, rng=random.Random(3))
    for n in range(10):
        ceiling = min(4.0, 0.5 * 2**n)
        assert ceiling / 2 <= backoff.delay(n) <= ceiling
    with pytest.raises(ValueError, match="base_s"):
        EqualJitter(base_s=0.0)


class Steps:
    """Answers ``results`` one call after another (an exception is raised), noting each call,
    each sleep and each idle turn in ``seen``."""

    def __init__(self, *results: bool | BaseException) -> None:
        self.results = list(results)
        self.seen: list[str] = []

    async def step(self) -> bool:
        result = self.results.pop(0)
        self.seen.append(f"step:{result!r}" if isinstance(result, bool) else "step:raised")
        if isinstance(result, BaseException):
            raise result
        return result

    async def sleep(self, seconds: float) -> None:
        self.seen.append(f"sleep:{seconds:g}")

    async def idle(self) -> None:
        self.seen.append("idle")


async def test_supervise_backs_off_after_failures_and_starts_afresh_after_a_success() -> None:
    steps = Steps(False, False, True, False, ValueError("boom"), RuntimeError("a bug"))
    notes: list[str] = []
    with pytest.raises(RuntimeError, match="a bug"):  # an error it does not retry ends it
        await supervise(
            steps.step,
            retry=tenacity.retry_if_result(lambda ok: not ok)
            | tenacity.retry_if_exception_type(ValueError),
            wait=BackoffWait(ExponentialBackoff(1.0, 8.0, spread=0.0)),
            idle=steps.idle,
            sleep=steps.sleep,
            before_sleep=lambda state: notes.append(repr(failure(state))),
        )
    assert steps.seen == [
        "step:False", "sleep:1", "step:False", "sleep:2", "step:True", "idle",
        "step:False", "sleep:1", "step:raised", "sleep:2", "step:raised",
    ]  # fmt: skip
    assert notes == ["None", "None", "None", "ValueError('boom')"]


async def test_supervise_ends_when_cancelled_even_retrying_every_error() -> None:
    calls = 0
    with anyio.CancelScope() as scope:

        async def step() -> None:
            nonlocal calls
            calls += 1
            if calls == 3:
                scope.cancel()
            await anyio.lowlevel.checkpoint()
            raise OSError("lost")

        await supervise(
            step, retry=tenacity.retry_if_exception_type(Exception), wait=tenacity.wait_none()
        )
    assert scope.cancelled_caught
    assert calls == 3


def test_a_backoff_wait_hands_the_retry_after_to_the_rule() -> None:
    wait = BackoffWait(ExponentialBackoff(0.5, 4.0), draw=lambda: 1.0)
    assert [wait.delay(n) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert wait.delay(0, retry_after=3.0) == 3.0
    assert wait.delay(0, retry_after=60.0) == 4.0


class Flaky:
    """Raises ``errors`` one call after another, then answers ``done``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, _arg: object) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def locked() -> exc.OperationalError:
    return exc.OperationalError("UPDATE t", {}, Exception("database is locked"))


def lost() -> exc.OperationalError:
    return exc.OperationalError("SELECT 1", {}, ConnectionResetError("connection reset"))


async def test_sql_retries_a_rolled_back_transaction_even_when_not_idempotent() -> None:
    async with open_database("sqlite+aiosqlite:///:memory:") as db:
        db.backoff = 0.001
        work = Flaky(locked(), locked())
        assert await db.run(work) == "done"
        assert work.calls == 3


async def test_sql_retries_a_lost_connection_only_for_idempotent_work() -> None:
    async with open_database("sqlite+aiosqlite:///:memory:") as db:
        db.backoff = 0.001
        write = Flaky(lost())
        with pytest.raises(StorageUnavailable, match="unavailable"):
            await db.run(write)
        assert write.calls == 1  # it may have been applied: not repeated
        read = Flaky(lost())
        assert await db.run(read, idempotent=True) == "done"
        assert read.calls == 2


async def test_sql_gives_up_after_its_retries_and_never_retries_other_errors() -> None:
    async with open_database("sqlite+aiosqlite:///:memory:") as db:
        db.backoff, db.retries = 0.001, 2
        work = Flaky(*(locked() for _ in range(5)))
        with pytest.raises(StorageUnavailable):
            await db.run(work)
        assert work.calls == 3
        duplicate = Flaky(exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint")))
        with pytest.raises(Conflict):
            await db.run(duplicate, idempotent=True)
        assert duplicate.calls == 1


def redis(retries: int = 2) -> RedisConnection:
    settings = RedisSettings(retries=retries, backoff_base=0.001, backoff_cap=0.002)
    return RedisConnection(cast(Client, object()), "127.0.0.1:6379/0", settings)


async def test_redis_retries_an_idempotent_operation_on_connection_loss() -> None:
    op = Flaky(ConnectionError("Connection closed by server."))
    assert await redis().run("reading", op) == "done"
    assert op.calls == 2


async def test_redis_gives_up_after_its_retries_saying_so() -> None:
    op = Flaky(*(ConnectionError("Connection refused") for _ in range(5)))
    with pytest.raises(StorageUnavailable, match=r"reading failed: .*Gave up after 2 retries\."):
        await redis(retries=2).run("reading", op)
    assert op.calls == 3


async def test_redis_never_repeats_a_write_whose_outcome_is_unknown() -> None:
    op = Flaky(ConnectionError("Connection closed by server."))
    with pytest.raises(StorageUnavailable, match="may or may not have been applied"):
        await redis().run("appending", op, idempotent=False)
    assert op.calls == 1


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (AuthenticationError("invalid password"), "authentication failed"),
        (ResponseError("WRONGTYPE Operation against a key"), "WRONGTYPE"),
    ],
)
async def test_redis_does_not_retry_errors_a_retry_cannot_fix(
    error: Exception, message: str
) -> None:
    op = Flaky(error)
    with pytest.raises(StorageUnavailable, match=message):
        await redis().run("reading", op)
    assert op.calls == 1
