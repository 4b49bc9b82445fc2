"""``vectobeat-ops plans show``: the plan capability matrix in force (shipped or ``PLANS_FILE``)."""

from __future__ import annotations

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from vectobeat_adapters.services import load_catalogue
from vectobeat_ops.common import JsonFlag, load, print_json, reporting, stdout

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
    names = [name for name in catalogue.plans[0].to_json() if name != "tier"]
    labels = [name.replace("_", " ") for name in names]
    cells = [[_limit(name, plan.to_json()[name]) for name in names] for plan in catalogue.plans]
    console = stdout()
    groups = _plans_per_table(
        console.width, labels, [[p.label, *c] for p, c in zip(catalogue.plans, cells, strict=True)]
    )
    for index, group in enumerate(groups):
        title = f"Plans ({catalogue.source})" if index == 0 else ""
        view = Table(title=escape(title) or None, title_justify="left", box=box.SIMPLE_HEAD)
        view.add_column("capability", min_width=_longest_word(["capability", *labels]))
        for at in group:
            column = [catalogue.plans[at].label, *cells[at]]
            view.add_column(catalogue.plans[at].label, min_width=_longest_word(column))
        for row, label in enumerate(labels):
            view.add_row(Text(label), *(Text(cells[at][row]) for at in group))
        console.print(view)


def _longest_word(texts: list[str]) -> int:
    return max(len(word) for text in texts for word in text.split())


def _plans_per_table(width: int, labels: list[str], columns: list[list[str]]) -> list[list[int]]:
    """Plans split over as few tables as fit ``width``, so no word is ever cut in two."""
    first = _longest_word(["capability", *labels]) + 3
    widths = [_longest_word(column) + 3 for column in columns]
    groups: list[list[int]] = [[]]
    used = first
    for at, needed in enumerate(widths):
        if groups[-1] and used + needed > width:
            groups.append([])
            used = first
        groups[-1].append(at)
        used += needed
    return groups
