"""What the bot "said", rendered for a terminal: Discord's Markdown as rich styles, mentions by name.

``**bold**``, ``*italic*``/``_italic_``, ``__underline__``, ``~~strike~~``, ``||spoiler||``,
`` `code` ``, ``[label](url)``, ``> quote`` lines; ``<#id>`` as ``#channel``, ``<@id>`` as
``@name``, ``<@&id>`` as ``@role`` (from ``names``, else the id), ``<t:unix:…>`` as a UTC time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from rich.text import Text

__all__ = ["Names", "render_discord"]

Names = Mapping[str, Mapping[str, str]]
"""``{"channels": {id: name}, "users": {id: name}, "roles": {id: name}}`` (any may be missing)."""

_TOKEN = re.compile(
    r"(?P<code>`(?P<code_text>[^`\n]+)`)"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|__(?P<underline>.+?)__"
    r"|~~(?P<strike>.+?)~~"
    r"|\|\|(?P<spoiler>.+?)\|\|"
    r"|\*(?P<italic>[^*\s][^*]*?)\*"
    r"|(?<![\w])_(?P<italic2>[^_\s][^_]*?)_(?![\w])"
    r"|\[(?P<link_text>[^\]\n]+)\]\((?P<link_url>https?://[^)\s]+)\)"
    r"|<#(?P<channel>\d{1,20})>"
    r"|<@!?(?P<user>\d{1,20})>"
    r"|<@&(?P<role>\d{1,20})>"
    r"|<t:(?P<time>-?\d{1,12})(?::[tTdDfFR])?>"
)
_STYLES = {
    "bold": "bold",
    "underline": "underline",
    "strike": "strike",
    "spoiler": "reverse",
    "italic": "italic",
    "italic2": "italic",
}


def _name(names: Names, kind: str, ident: str) -> str:
    return names.get(kind, {}).get(ident) or ident


def _inline(text: str, names: Names, style: str = "") -> Text:
    out = Text(style=style)
    at = 0
    for match in _TOKEN.finditer(text):
        out.append(text[at : match.start()])
        at = match.end()
        kind = match.lastgroup
        if match.group("code") is not None:
            out.append(match.group("code_text"), style="bold cyan")
        elif kind in _STYLES:
            out.append_text(_inline(match.group(kind), names, _STYLES[kind]))
        elif match.group("link_text") is not None:
            out.append(match.group("link_text"), style=f"underline link {match.group('link_url')}")
        elif match.group("channel") is not None:
            out.append(f"#{_name(names, 'channels', match.group('channel'))}", style="blue")
        elif match.group("user") is not None:
            out.append(f"@{_name(names, 'users', match.group('user'))}", style="blue")
        elif match.group("role") is not None:
            out.append(f"@{_name(names, 'roles', match.group('role'))}", style="blue")
        else:
            when = datetime.fromtimestamp(int(match.group("time")), UTC)
            out.append(when.strftime("%Y-%m-%d %H:%M UTC"), style="blue")
    out.append(text[at:])
    return out


def render_discord(text: str, names: Names | None = None) -> Text:
    """``text`` as Discord would show it, for a terminal (no Markdown syntax left)."""
    known: Names = names or {}
    lines = []
    for line in text.split("\n"):
        if line.startswith("> "):
            lines.append(Text("│ ", style="dim") + _inline(line[2:], known))
        elif line.startswith(("# ", "## ", "### ")):
            lines.append(_inline(line.lstrip("#").strip(), known, "bold underline"))
        else:
            lines.append(_inline(line, known))
    return Text("\n").join(lines)
