"""``vectobeat-ops plans show``: the plan capability matrix in force (shipped or ``PLANS_FILE``)."""

from __future__ import annotations

import typer

from vectobeat_adapters.services import load_catalogue
from vectobeat_ops.common import JsonFlag, load, print_json, reporting, stdout, table

__all__ = ["app"]

app = typer.Typer(
    help="The plan capability matrix.\n\nExample: vectobeat-ops plans show", no_args_is_help=True
)


def _limit(name: str, value: object) -> str:
    if value is None:
        return "no SLA" if name == "sla_minutes" else "unlimited"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@app.command("show")
def show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show every plan tier and what it may do (the shipped matrix, or PLANS_FILE).

    Example: vectobeat-ops plans show --json
    """
    with reporting():
        catalogue = load_catalogue(load(ctx))
    if as_json:
        print_json({"source": catalogue.source, **catalogue.to_json()})
        return
    columns = ["capability", *(plan.label for plan in catalogue.plans)]
    names = [name for name in catalogue.plans[0].to_json() if name != "tier"]
    rows = [
        [name.replace("_", " "), *(_limit(name, plan.to_json()[name]) for plan in catalogue.plans)]
        for name in names
    ]
    stdout().print(table(f"Plans ({catalogue.source})", columns, rows))
