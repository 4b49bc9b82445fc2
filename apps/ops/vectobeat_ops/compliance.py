"""``vectobeat-ops compliance list``: the operator's view of every compliance request (exports and
erasures of every guild, with their status and progress), from the panel database."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vectobeat_adapters.services import open_services
from vectobeat_adapters.storage_rules import COMPLIANCE_STATUSES
from vectobeat_core.errors import InvalidInput
from vectobeat_core.records import ComplianceStatus
from vectobeat_ops.common import JsonFlag, load, print_json, reporting, run_async, stdout, table
from vectobeat_ops.settings import parse_guild

__all__ = ["app"]

app = typer.Typer(
    help="Compliance requests (data exports and erasures).\n\n"
    "Example: vectobeat-ops compliance list --status running",
    no_args_is_help=True,
)


def _status(text: str | None) -> ComplianceStatus | None:
    if text is None:
        return None
    for status in COMPLIANCE_STATUSES:
        if status == text:
            return status  # type: ignore[return-value]
    raise InvalidInput(f"--status must be one of {', '.join(COMPLIANCE_STATUSES)}.")


@app.command("list")
def list_requests(
    ctx: typer.Context,
    guild: Annotated[str | None, typer.Option(help="Only this guild's requests.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, running, sent or failed.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every compliance request, oldest first (the requester's address is shown: operators only).

    Example: vectobeat-ops compliance list --guild 123456789012345678 --json
    """
    with reporting():
        guild_id = None if guild is None else parse_guild(guild)
        wanted = _status(status)
        config = load(ctx)

        async def read() -> list[dict[str, Any]]:
            async with open_services(config, migrate=False) as services:
                found = await services.compliance.find(guild_id, wanted)
            return [
                {
                    "request_id": r.request_id,
                    "guild_id": str(r.guild_id),
                    "kind": r.kind,
                    "status": r.status,
                    "detail": r.detail,
                    "requested_by": str(r.requested_by),
                    "email": r.email,
                    "created_at": r.created_at,
                    "completed_at": r.completed_at,
                }
                for r in found
            ]

        rows = run_async(read)
    if as_json:
        print_json(rows)
        return
    if not rows:
        stdout().print("no compliance requests.")
        return
    columns = ["id", "guild", "kind", "status", "progress", "requested by", "send to"]
    cells = [
        [
            str(r["request_id"]), r["guild_id"], r["kind"], r["status"], r["detail"] or "-",
            r["requested_by"], r["email"],
        ]
        for r in rows
    ]  # fmt: skip
    stdout().print(table("Compliance requests", columns, cells))
