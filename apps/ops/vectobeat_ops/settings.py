"""``vectobeat-ops settings show GUILD``: a guild's stored server settings and plan."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vectobeat_adapters.services import open_services
from vectobeat_core.errors import InvalidInput, NotFound
from vectobeat_core.ids import GuildId
from vectobeat_ops.common import JsonFlag, load, print_json, reporting, run_async, stdout, table

__all__ = ["app", "parse_guild"]

app = typer.Typer(
    help="Server settings of a guild.\n\nExample: vectobeat-ops settings show 123456789012345678",
    no_args_is_help=True,
)


def parse_guild(text: str) -> GuildId:
    """A guild id as typed by an operator (a Discord snowflake)."""
    if not text.isdigit() or not 1 <= len(text) <= 20:
        raise InvalidInput(
            f"{text[:30]!r} is not a guild id: use the numeric id (e.g. 123456789012345678)."
        )
    return GuildId(int(text))


@app.command("show")
def show(
    ctx: typer.Context,
    guild: Annotated[str, typer.Argument(help="The guild id (a Discord snowflake).")],
    as_json: JsonFlag = False,
) -> None:
    """Show a guild's settings, their version and its plan, from the panel database.

    Example: vectobeat-ops settings show 123456789012345678 --json
    """
    with reporting():
        guild_id = parse_guild(guild)
        config = load(ctx)

        async def read() -> dict[str, Any]:
            async with open_services(config, migrate=False) as services:
                record = await services.guilds.get(guild_id)
                stored = await services.settings.get(guild_id)
            if record is None and stored is None:
                raise NotFound(
                    f"guild {guild_id} is unknown to this database: the bot was never in it and "
                    "nobody saved settings for it (check the id and DATABASE_URL)."
                )
            return {
                "guild_id": str(guild_id),
                "name": None if record is None else record.name,
                "plan": "free" if record is None else record.tier.key,
                "bot_present": None if record is None else record.bot_present,
                "version": 0 if stored is None else stored.version,
                "updated_by": None if stored is None else stored.updated_by,
                "updated_at": None if stored is None else stored.updated_at,
                "settings": None if stored is None else stored.settings.to_json(),
            }

        data = run_async(read)
    if as_json:
        print_json(data)
        return
    console = stdout()
    console.print(
        f"guild {data['guild_id']} {data['name'] or ''} plan {data['plan']}, "
        f"settings version {data['version']}",
        highlight=False,
    )
    settings = data["settings"] or {}
    if not settings:
        console.print("no settings saved yet: the defaults apply.")
        return
    console.print(
        table("Settings", ["setting", "value"], [[k, str(v)] for k, v in sorted(settings.items())])
    )
