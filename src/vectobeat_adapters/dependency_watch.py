"""``DependencyWatch``: keeps one dependency's state by probing it, and gates calls while it is down.

``run()`` probes (each probe bounded by ``probe_timeout``, at most 3 s) every ``interval`` while the
dependency is up, and with jittered exponential backoff (`vectobeat_core.dependencies.
reconnect_delay`, capped at 30 s) while it is down. An adapter calls ``check()`` before each call,
which raises the dependency's `Unavailable` error at once while it is down (nobody waits on a dead
socket), and ``failed(error)`` when a call lost the connection, which marks it down and wakes the
reconnect loop. A ``prepare`` step (SQL: the migrations) runs once, after the first answered
probe and before the dependency counts as up (it is ``degraded`` meanwhile, so its own calls pass
the gate). Listeners given to ``on_recovered`` run after each change to up (restore queues,
resubscribe, ...). The state, with the time it last changed, is ``status``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio
import anyio.abc
import tenacity

from vectobeat_adapters.retrying import supervise
from vectobeat_core.dependencies import (
    RECONNECT_BASE_S,
    RECONNECT_CAP_S,
    DependencyState,
    DependencyStatus,
    reconnect_delay,
)
from vectobeat_core.errors import StorageUnavailable, Unavailable, VectoBeatError
from vectobeat_core.ports import Clock

__all__ = ["MAX_PROBE_TIMEOUT", "DependencyGate", "DependencyWatch"]

_log = logging.getLogger("vectobeat.dependencies")

MAX_PROBE_TIMEOUT = 3.0

Probe = Callable[[], Awaitable[None]]
Listener = Callable[[], Awaitable[None]]


class DependencyGate(Protocol):
    """What an adapter asks before and tells after each call."""

    def check(self) -> None: ...

    def failed(self, error: VectoBeatError) -> None: ...


class DependencyWatch:
    """One dependency's state, probed in the background (see the module docstring)."""

    def __init__(
        self,
        name: str,
        probe: Probe,
        clock: Clock,
        *,
        required: bool = False,
        error: Callable[[str], Unavailable] = StorageUnavailable,
        interval: float = 2.0,
        probe_timeout: float = MAX_PROBE_TIMEOUT,
        backoff_base: float = RECONNECT_BASE_S,
        backoff_cap: float = RECONNECT_CAP_S,
        draw: Callable[[], float] = random.random,
        prepare: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        if not 0 < probe_timeout <= MAX_PROBE_TIMEOUT:
            raise ValueError(f"probe_timeout must be in (0, {MAX_PROBE_TIMEOUT}] seconds")
        self.name = name
        self._probe = probe
        self._clock = clock
        self._error = error
        self._interval = interval
        self._probe_timeout = probe_timeout
        self._base = backoff_base
        self._cap = backoff_cap
        self._draw = draw
        self._listeners: list[Listener] = []
        self._prepare = prepare
        self._reported: str | None = None
        self._wake = anyio.Event()
        self._changed = anyio.Event()
        self.status = DependencyStatus(
            name, DependencyState.DOWN, clock.now(), 0, "not probed yet", required
        )

    def on_recovered(self, listener: Listener) -> None:
        """Call ``listener`` after each change to up (the first connection included)."""
        self._listeners.append(listener)

    async def wait_until(self, state: DependencyState) -> None:
        """Return once the dependency is in ``state`` (at once if it is)."""
        while self.status.state is not state:
            await self._changed.wait()

    # -- the gate adapters use -------------------------------------------------------------------

    def check(self) -> None:
        """Raise at once while the dependency is down."""
        if not self.status.usable:
            detail = f" ({self.status.detail})" if self.status.detail else ""
            raise self._error(
                f"{self.name} is unavailable{detail}; reconnecting in the background."
            )

    def failed(self, error: VectoBeatError) -> None:
        """A call lost the connection: mark the dependency down and start reconnecting."""
        self._mark(DependencyState.DOWN, error.message)
        self._wake.set()

    # -- probing -----------------------------------------------------------------------------

    def _mark(self, state: DependencyState, detail: str | None) -> bool:
        """Record ``state``; True when it changed."""
        before = self.status
        self.status = before.observe(state, self._clock.now(), detail)
        if self.status.state is before.state:
            return False
        self._changed.set()
        self._changed = anyio.Event()
        if state is DependencyState.DOWN:
            _log.warning("dependency_down name=%s error=%s", self.name, detail)
        else:
            _log.info("dependency_%s name=%s detail=%s", state.value, self.name, detail)
        return True

    def _unexpected(self, step: str, exc: Exception) -> None:
        """A failure no adapter translated (a bug, or e.g. a database at an unknown migration):
        logged with its traceback once per kind, and the dependency stays down, the bot up."""
        detail = f"{step} failed unexpectedly: {type(exc).__name__}: {exc}"
        if self._reported != detail:
            _log.error("dependency_%s_failed name=%s", step, self.name, exc_info=exc)
            self._reported = detail
        self._mark(DependencyState.DOWN, detail)

    async def probe_once(self) -> bool:
        """Probe now (bounded); record and return whether the dependency answered."""
        try:
            with anyio.fail_after(self._probe_timeout):
                await self._probe()
        except TimeoutError:
            self._mark(DependencyState.DOWN, f"no answer within {self._probe_timeout:g} s")
            return False
        except VectoBeatError as exc:
            self._mark(DependencyState.DOWN, exc.message)
            return False
        except Exception as exc:  # untranslated: reported, and the watch keeps running
            self._unexpected("probe", exc)
            return False
        if self._prepare is not None:
            self._mark(DependencyState.DEGRADED, "connected; preparing")
            try:
                await self._prepare()
            except VectoBeatError as exc:
                self._mark(DependencyState.DOWN, exc.message)
                return False
            except Exception as exc:  # untranslated: reported, and the watch keeps running
                self._unexpected("prepare", exc)
                return False
            self._prepare = None
        if self._mark(DependencyState.UP, None):
            await self._recovered()
        return True

    async def _recovered(self) -> None:
        for listener in self._listeners:
            try:
                await listener()
            except VectoBeatError as exc:
                _log.warning("dependency_recovery_failed name=%s error=%s", self.name, exc)
            except Exception as exc:  # a listener's bug must not end the watch (nor the process)
                _log.error("dependency_recovery_failed name=%s", self.name, exc_info=exc)

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Probe once, report started, then keep probing until cancelled."""
        started = False

        async def probe() -> bool:
            nonlocal started
            self._wake = anyio.Event()  # before the probe: a loss reported meanwhile wakes the wait
            ok = await self.probe_once()
            if not started:
                task_status.started()
                started = True
            return ok

        await supervise(
            probe,
            retry=tenacity.retry_if_result(lambda ok: not ok),
            wait=self._reconnect_delay,
            idle=lambda: self._pause(self._interval),
            sleep=self._pause,
        )

    def _reconnect_delay(self, state: tenacity.RetryCallState) -> float:
        attempt = state.attempt_number - 1
        return reconnect_delay(attempt, self._draw(), base=self._base, cap=self._cap)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a call reports the dependency lost."""
        with anyio.move_on_after(seconds):
            await self._wake.wait()
