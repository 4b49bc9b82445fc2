"""`AlarmDispatcher`: the core's `AlarmThrottle` in front of every configured `AlarmSink`.

One per process (the health checker, the bot): it remembers what it sent per key, so a repeated
trigger is a duplicate, a resolve needs an open trigger and a storm is cut at the global limit.
A sink that still fails after its own retries is logged and counted; it never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio

from vectobeat_core.errors import VectoBeatError
from vectobeat_core.health import Alarm, AlarmThrottle, SentAlarm
from vectobeat_core.ports import AlarmSink, Clock

__all__ = ["AlarmDispatcher"]

_log = logging.getLogger("vectobeat.alarms")


class AlarmDispatcher:
    """Throttle, then send to every sink; ``sent``, ``suppressed`` and ``delivery_failures`` say
    what happened to each alarm."""

    def __init__(
        self, sinks: Sequence[AlarmSink], clock: Clock, throttle: AlarmThrottle | None = None
    ) -> None:
        self.sinks = tuple(sinks)
        self.clock = clock
        self.throttle = throttle or AlarmThrottle()
        self._last_sent: dict[str, SentAlarm] = {}
        self._recent: list[float] = []
        self.sent: list[Alarm] = []
        self.suppressed: list[tuple[Alarm, str]] = []
        self.delivery_failures: list[str] = []

    async def dispatch(self, alarm: Alarm) -> bool:
        """True when at least one sink took ``alarm`` (or there is no sink and it passed)."""
        now = self.clock.now()
        decision = self.throttle.decide(alarm, self._last_sent, self._recent, now)
        if not decision.send:
            self.suppressed.append((alarm, decision.reason))
            _log.info("alarm_suppressed key=%s reason=%s", alarm.key, decision.reason)
            return False
        delivered = 0

        async def deliver(sink: AlarmSink) -> None:
            nonlocal delivered
            try:
                await sink.send(alarm)
                delivered += 1
            except VectoBeatError as exc:
                self.delivery_failures.append(str(exc))
                _log.error("alarm_delivery_failed key=%s error=%s", alarm.key, exc)

        async with anyio.create_task_group() as tg:
            for sink in self.sinks:
                tg.start_soon(deliver, sink)
        if delivered or not self.sinks:
            self._last_sent[alarm.key] = SentAlarm(alarm.status, now)
            if alarm.status == "trigger":
                self._recent = [
                    at for at in self._recent if now - at < self.throttle.global_window_s
                ]
                self._recent.append(now)
            self.sent.append(alarm)
            return True
        return False
