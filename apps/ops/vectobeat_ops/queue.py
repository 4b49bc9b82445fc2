"""``vectobeat-ops queue inspect|export|restore GUILD``: the durable queue store (Redis when
``REDIS_URL`` is set, else the SQL database of ``DATABASE_URL``)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.services import Services, open_services
from vectobeat_core.errors import ConfigError, InvalidSnapshot, NotFound
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.wording import counted
from vectobeat_ops.common import (
    JsonFlag,
    load,
    print_json,
    progress_bar,
    reporting,
    run_async,
    stdout,
    table,
)
from vectobeat_ops.settings import parse_guild

__all__ = ["app", "export_lines", "snapshot_summary"]

app = typer.Typer(
    help="Durable queue snapshots (inspect, export, restore).\n\nExample: vectobeat-ops queue export -o queues.jsonl",
    no_args_is_help=True,
)


@asynccontextmanager
async def _store(config: AppConfig) -> AsyncIterator[Services]:
    """The bot's queue store: set REDIS_URL and DATABASE_URL here as the bot has them."""
    async with open_services(config, migrate=False) as services:
        yield services


async def _load(services: Services, guild_id: GuildId) -> QueueSnapshot:
    snapshot = await services.queues.load(guild_id)
    if snapshot is None:
        raise NotFound(
            f"no queue is stored for guild {guild_id} (unknown guild, nothing played yet, or the "
            "snapshot expired)."
        )
    return snapshot


def snapshot_summary(snapshot: QueueSnapshot) -> dict[str, Any]:
    """What ``queue inspect --json`` prints: player state, current track and upcoming tracks."""
    player = snapshot.player

    def entry(e: Any) -> dict[str, Any]:
        t = e.track
        return {"title": t.title, "author": t.author, "length_ms": t.length, "uri": t.uri}

    return {
        "guild_id": str(snapshot.guild_id),
        "version": snapshot.version,
        "taken_at": snapshot.taken_at,
        "node": player.node,
        "region": player.region,
        "paused": player.paused,
        "volume": player.volume,
        "loop": player.loop.value,
        "position_ms": player.position_ms,
        "current": None if snapshot.current is None else entry(snapshot.current),
        "upcoming": [entry(e) for e in snapshot.entries],
        "history": len(snapshot.history),
    }


def export_lines(snapshots: list[QueueSnapshot]) -> str:
    """JSONL: one complete snapshot per line, readable by ``queue restore``."""
    return "".join(json.dumps(s.to_json(), sort_keys=True) + "\n" for s in snapshots)


@app.command("inspect")
def inspect(
    ctx: typer.Context,
    guild: Annotated[str, typer.Argument(help="The guild id.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a guild's stored queue: player state, node, current and upcoming tracks.

    Example: vectobeat-ops queue inspect 123456789012345678 --json
    """
    with reporting():
        guild_id = parse_guild(guild)
        config = load(ctx)

        async def read() -> QueueSnapshot:
            async with _store(config) as services:
                return await _load(services, guild_id)

        data = snapshot_summary(run_async(read))
    if as_json:
        print_json(data)
        return
    console = stdout()
    current = data["current"]
    state = "stopped" if not current else ("paused" if data["paused"] else "playing")
    now = f"now: {current['title']} - {current['author']}" if current else "nothing playing"
    console.print(
        f"guild {data['guild_id']} on node {data['node']} ({data['region']}), "
        f"{state}, volume {data['volume']}, loop {data['loop']}; {now}",
        highlight=False,
    )
    rows = [
        [str(i), e["title"], e["author"], str(e["length_ms"])]
        for i, e in enumerate(data["upcoming"], 1)
    ]
    if not rows:
        console.print("nothing up next", highlight=False)
        return
    console.print(
        table(
            f"Up next ({counted(len(rows), 'track')})", ["#", "title", "author", "length ms"], rows
        )
    )


@app.command("export")
def export(
    ctx: typer.Context,
    guilds: Annotated[
        list[str] | None, typer.Argument(help="Guild ids; none exports every stored queue.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export stored queues as JSONL (one full snapshot per line) for backups and restores.

    Example: vectobeat-ops queue export 123456789012345678 -o queues.jsonl
    """
    with reporting():
        ids = [parse_guild(g) for g in guilds or []]
        config = load(ctx)

        async def read() -> list[QueueSnapshot]:
            async with _store(config) as services:
                wanted = ids or await services.queues.guilds()
                snapshots: list[QueueSnapshot] = []
                with progress_bar("exporting queues", len(wanted)) as advance:
                    for guild_id in wanted:
                        snapshots.append(await _load(services, guild_id))
                        advance()
                return snapshots

        text = export_lines(run_async(read))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        stdout().print(f"wrote {text.count(chr(10))} queue(s) to {output}", highlight=False)


@app.command("restore")
def restore(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A JSONL file written by `queue export`.")],
) -> None:
    """Write exported snapshots back into the queue store (the bot resumes them on start).

    Example: vectobeat-ops queue restore queues.jsonl
    """
    with reporting():
        config = load(ctx)
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {source}: {exc}") from None
        snapshots: list[QueueSnapshot] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                snapshots.append(QueueSnapshot.from_json(json.loads(line)))
            except (ValueError, InvalidSnapshot) as exc:
                raise InvalidSnapshot(f"{source}:{number}: not a queue snapshot ({exc})") from None

        async def write() -> None:
            async with _store(config) as services:
                with progress_bar("restoring queues", len(snapshots)) as advance:
                    for snapshot in snapshots:
                        await services.queues.save(snapshot)
                        advance()

        run_async(write)
    stdout().print(
        f"[green]ok[/]: restored {len(snapshots)} queue(s) from {source}", highlight=False
    )
