"""``vectobeat-ops nodes check`` (one round) and ``nodes watch`` (the health checker service)."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

import anyio
import typer
from rich.live import Live
from rich.text import Text

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.lavalink import HealthChecker
from vectobeat_adapters.lavalink.probe import ResumeCheck
from vectobeat_adapters.logging_setup import configure_logging
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.services import SystemClock
from vectobeat_core.health import NodeStatus, is_routable
from vectobeat_core.ids import NodeName
from vectobeat_core.ports import HealthStore, TelemetryCache
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
from vectobeat_ops.watch_server import WatchServer
from vectobeat_ops.wiring import node_specs, open_alarm_sinks, open_health_store

__all__ = ["app", "node_rows", "render_rows", "watch_nodes"]

app = typer.Typer(
    help="Lavalink node health (one round, or the long-running checker).\n\nExample: vectobeat-ops nodes check",
    no_args_is_help=True,
)


def node_rows(checker: HealthChecker) -> list[dict[str, Any]]:
    """One JSON-able row per node: routing view plus the last error."""
    errors = checker.errors()
    return [
        view.to_json()
        | {"probe": "failed" if view.name in errors else "ok", "error": errors.get(view.name)}
        for view in checker.routing_table()
    ]


def render_rows(rows: list[dict[str, Any]], title: str) -> Any:
    def cell(value: Any) -> str:
        return "—" if value is None else str(value)

    colour = {"up": "green", "degraded": "yellow", "down": "red"}
    lines = [
        [
            row["name"],
            row["region"],
            Text(row["status"], style=colour.get(row["status"], "white")),
            cell(None if row["latency_ms"] is None else f"{row['latency_ms']:.0f} ms"),
            cell(row["players"]),
            cell(row["penalty"]),
            cell(row["error"]),
        ]
        for row in rows
    ]
    headers = ["node", "region", "status", "latency", "players", "penalty", "problem"]
    if rows and "resumes_sessions" in rows[0]:
        headers.insert(-1, "resumes sessions")
        for line, row in zip(lines, rows, strict=True):
            line.insert(-1, row["resumes_sessions"])
    return table(title, headers, lines)


RESUME_CHECK_TIMEOUT_S = 5.0
"""How long ``nodes check --resume`` waits for each node's websocket ``ready`` and PATCH."""

ResumeFlag = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Also open each node's websocket, wait for ready and try the session-resume PATCH "
        "(a node that refuses still plays, but its players end when the websocket drops).",
    ),
]


def add_resume_checks(rows: list[dict[str, Any]], checks: Mapping[NodeName, ResumeCheck]) -> None:
    """Put each node's resume outcome in its row: ``resumes_sessions`` (``yes``, ``no (HTTP
    404)``, ``unknown (why)``) and ``resumes`` (true/false/null)."""
    for row in rows:
        check = checks.get(NodeName(row["name"]), ResumeCheck(None, "not checked"))
        row["resumes"] = check.resumes
        row["resumes_sessions"] = check.label()


@app.command("check")
def check(ctx: typer.Context, as_json: JsonFlag = False, resume: ResumeFlag = False) -> None:
    """Probe every node in LAVALINK_NODES once (/version, /v4/stats); exit 1 if any is not usable.
    With --resume, also check that each node resumes sessions (a websocket that never gets ready
    is a problem; a refused resume is reported, not an exit 1).

    Example: vectobeat-ops nodes check --resume --json
    """
    with reporting():
        config = load(ctx)
        specs = node_specs(config)

        async def probe() -> list[dict[str, Any]]:
            store = MemoryHealthStore(SystemClock())
            async with HealthChecker(specs, store, [], None, SystemClock()) as checker:
                await checker.check_once()
                rows = node_rows(checker)
                if resume:
                    checks = await checker.check_resuming(RESUME_CHECK_TIMEOUT_S)
                    add_resume_checks(rows, checks)
                return rows

        with stdout().status(f"probing {len(specs)} node(s) ..."):
            rows = run_async(probe)
    bad = [
        r
        for r in rows
        if r["error"] or not is_routable(NodeStatus(r["status"])) or r.get("resumes", 1) is None
    ]
    if as_json:
        print_json({"ok": not bad, "nodes": rows})
    else:
        stdout().print(render_rows(rows, "Lavalink nodes"))
    raise typer.Exit(EXIT_PROBLEMS if bad else EXIT_OK)


async def watch_nodes(
    config: AppConfig,
    *,
    store: HealthStore | None = None,
    telemetry: TelemetryCache | None = None,
    on_round: Callable[[list[dict[str, Any]]], Awaitable[None] | None] | None = None,
    refresh_s: float = 2.0,
    server: WatchServer | None = None,
) -> None:
    """Run the health checker until cancelled: health records, routing table, alarms.

    ``store`` and ``telemetry`` override the configured stores (``up`` shares the panel's);
    ``server`` serves the checker's probes and metrics (`vectobeat_ops.watch_server`).
    """
    specs = node_specs(config)
    async with open_alarm_sinks(config) as named, open_health_store(config) as configured:
        sinks = [sink for _, sink in named]
        health = store if store is not None else configured[0]
        stats = telemetry if telemetry is not None else configured[1]
        checker = HealthChecker(specs, health, sinks, None, SystemClock(), telemetry=stats)
        async with checker, anyio.create_task_group() as tasks:
            if server is not None:
                server.attach(checker)
                await tasks.start(server.serve)
            tasks.start_soon(checker.run)
            while on_round is not None:
                await anyio.sleep(refresh_s)
                result = on_round(node_rows(checker))
                if result is not None:
                    await result
            await anyio.sleep_forever()


def row_line(rows: list[dict[str, Any]]) -> str:
    """One plain line per round, for logs and pipes: ``eu-1=up(12 ms) eu-2=down(reason)``."""

    def one(row: dict[str, Any]) -> str:
        detail = row["error"] or (
            None if row["latency_ms"] is None else f"{row['latency_ms']:.0f} ms"
        )
        return f"{row['name']}={row['status']}" + (f"({detail})" if detail else "")

    return "nodes " + " ".join(one(row) for row in rows)


async def until_stopped(main: Callable[[], Awaitable[None]]) -> None:
    """Run ``main`` until it returns or SIGTERM/SIGINT arrives; a signal is a clean stop."""
    async with anyio.create_task_group() as tasks:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    tasks.cancel_scope.cancel()
                    return

        tasks.start_soon(stop_on_signal)
        await main()
        tasks.cancel_scope.cancel()


@app.command("watch")
def watch(
    ctx: typer.Context,
    refresh: Annotated[
        float, typer.Option("--refresh", min=0.2, help="Seconds between table redraws.")
    ] = 2.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=0,
            max=65535,
            help="Serve /healthz, /readyz and /metrics on this port (0 picks one); unset: none.",
        ),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Address of the --metrics-port server.")
    ] = "127.0.0.1",
) -> None:
    """Run the health checker until Ctrl-C or SIGTERM: record node health, publish the routing
    table (Redis when REDIS_URL is set) and send alarms to the configured sinks. On a terminal
    it redraws a table; piped or logged, it prints one line per round.

    Example: vectobeat-ops nodes watch --refresh 5
    """
    with reporting():
        config = load(ctx)
        configure_logging(
            level=config.log_level, log_format=config.log_format, process="nodes-watch"
        )
        node_specs(config)
        server = None if metrics_port is None else WatchServer(metrics_host, metrics_port)
        console = stdout()
        if not console.is_terminal:

            def log_round(rows: list[dict[str, Any]]) -> None:
                sys.stdout.write(row_line(rows) + "\n")
                sys.stdout.flush()

            run_async(
                lambda: until_stopped(
                    lambda: watch_nodes(
                        config, on_round=log_round, refresh_s=refresh, server=server
                    )
                )
            )
            return
        with Live(render_rows([], "Lavalink nodes (starting)"), console=console) as live:

            def redraw(rows: list[dict[str, Any]]) -> None:
                live.update(render_rows(rows, "Lavalink nodes (watching; Ctrl-C stops)"))

            with contextlib.suppress(KeyboardInterrupt):
                run_async(
                    lambda: until_stopped(
                        lambda: watch_nodes(
                            config, on_round=redraw, refresh_s=refresh, server=server
                        )
                    )
                )
