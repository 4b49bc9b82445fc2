"""``vectobeat-ops alarms test``: send a test alarm (then its resolve) to each configured sink."""

from __future__ import annotations

import time

import typer

from vectobeat_core.errors import ConfigError, VectoBeatError
from vectobeat_core.health import Alarm
from vectobeat_ops.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    JsonFlag,
    load,
    print_json,
    reporting,
    run_async,
    stdout,
    table,
)
from vectobeat_ops.wiring import open_alarm_sinks

__all__ = ["app"]

app = typer.Typer(
    help="Alarm sinks (Discord webhook, PagerDuty, generic webhook).\n\nExample: vectobeat-ops alarms test",
    no_args_is_help=True,
)


@app.command("test")
def send_test(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Send a test alarm and its resolve to every configured sink; exit 1 if one fails.

    Example: ALARM_WEBHOOK_URL=https://hooks.example.com/vb vectobeat-ops alarms test
    """
    with reporting():
        config = load(ctx)

        async def send() -> list[dict[str, str]]:
            results: list[dict[str, str]] = []
            async with open_alarm_sinks(config) as sinks:
                if not sinks:
                    raise ConfigError(
                        "No alarm sink is configured: set ALARM_DISCORD_WEBHOOK_URL, "
                        "ALARM_PAGERDUTY_ROUTING_KEY or ALARM_WEBHOOK_URL."
                    )
                now = time.time()
                for name, sink in sinks:
                    try:
                        for status in ("trigger", "resolve"):
                            await sink.send(
                                Alarm(
                                    key="vectobeat:test",
                                    severity="info",
                                    summary="VectoBeat test alarm (vectobeat-ops alarms test)",
                                    status=status,
                                    at=now,
                                )
                            )
                    except VectoBeatError as exc:
                        results.append({"sink": name, "result": "failed", "error": exc.message})
                    else:
                        results.append({"sink": name, "result": "delivered", "error": ""})
            return results

        results = run_async(send)
    failed = any(r["result"] != "delivered" for r in results)
    if as_json:
        print_json({"ok": not failed, "sinks": results})
    else:
        rows = [[r["sink"], r["result"], r["error"]] for r in results]
        stdout().print(table("Test alarm", ["sink", "result", "error"], rows))
    raise typer.Exit(EXIT_PROBLEMS if failed else EXIT_OK)
