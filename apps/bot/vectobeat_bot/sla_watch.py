"""`SlaWatch`: every ``SLA_CHECK_SECONDS`` the bot alarms care requests past their SLA deadline.

It runs in the bot because the bot already opens the ``ALARM_*`` sinks (`RoutingAlarms`) and runs
long-lived tasks, while panel replicas serve requests and scale out. Several bot processes may
check at once: each breach is claimed in the store first (`CareDesk.claim_breaches`), so it is
alarmed once. The alarm is resolved when the request is resolved (this process remembers what it
alarmed; after a restart PagerDuty's incident is resolved by hand or by its own auto-resolve).
"""

from __future__ import annotations

import logging

import anyio
import anyio.abc

from vectobeat_adapters.alarms import AlarmDispatcher
from vectobeat_adapters.care_desk import CareDesk
from vectobeat_core.care import sla_alarm, sla_resolved_alarm
from vectobeat_core.errors import VectoBeatError

__all__ = ["SlaWatch"]

_log = logging.getLogger("vectobeat.bot.sla_watch")


class SlaWatch:
    """Claims and alarms SLA breaches; resolves the alarm once the request is resolved."""

    def __init__(self, desk: CareDesk, dispatcher: AlarmDispatcher, *, interval: float) -> None:
        self.desk = desk
        self.dispatcher = dispatcher
        self.interval = interval
        self.alarmed: set[int] = set()

    async def check(self) -> None:
        now = self.dispatcher.clock.now()
        for request in await self.desk.claim_breaches():
            _log.warning("sla_breached request=%d guild=%d", request.request_id, request.guild_id)
            await self.dispatcher.dispatch(sla_alarm(request, now))
            self.alarmed.add(request.request_id)
        for request_id in sorted(self.alarmed):
            found = await self.desk.requests.get(request_id)
            if found is None or found.status == "resolved":
                self.alarmed.discard(request_id)
                if found is not None:
                    await self.dispatcher.dispatch(sla_resolved_alarm(found, now))

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Check every ``interval`` until cancelled; a store that is down is retried next time."""
        task_status.started()
        while True:
            try:
                await self.check()
            except VectoBeatError as exc:
                _log.warning("sla_check_failed error=%s", exc)
            except Exception:  # an alarm bug must not take the bot down
                _log.exception("sla_check_crashed")
            await anyio.sleep(self.interval)
