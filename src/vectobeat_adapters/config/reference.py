"""``docs/configuration.md``, generated from `AppConfig`'s fields and the server settings schema
(``python -m vectobeat_adapters.config --markdown``; a test fails when the doc is stale)."""

from __future__ import annotations

from vectobeat_adapters.config.model import FIELDS
from vectobeat_core.settings import SETTING_HELP, SETTINGS_FIELDS, ServerSettings

__all__ = ["markdown_reference"]


def _shown(value: object) -> str:
    """A default as the docs show it."""
    if value is None or value == ():
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, tuple):
        return f"`{', '.join(map(str, value))}`"
    return f"`{getattr(value, 'value', value)}`"


def markdown_reference() -> str:
    """The configuration reference (docs/configuration.md)."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `vectobeat_adapters.config.AppConfig` (its `FIELDS`) by "
        "`python -m vectobeat_adapters.config --markdown > docs/configuration.md`; "
        "a test fails when this file is stale.",
        "",
        "Every variable may also be given with a `VECTOBEAT_` prefix (which wins) or in `.env`. "
        "`vectobeat-ops validate-env` checks each one with the rules declared next to it and "
        "names the fix.",
        "",
        "| variable | default | secret | used by | required by | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for field in FIELDS:
        lines.append(
            f"| `{field.env}` | {_shown(field.default)} | {'yes' if field.secret else 'no'} | "
            f"{', '.join(field.components)} | {', '.join(field.required_by) or '—'} | "
            f"{field.help} |"
        )
    defaults = ServerSettings()
    lines += [
        "",
        "## Server settings",
        "",
        "Each guild's settings, edited in the panel (or with `/settings`) and clamped to its plan "
        "(`vectobeat_core.settings.SETTING_HELP`):",
        "",
        "| setting | default | what it does |",
        "| --- | --- | --- |",
    ]
    for name in SETTINGS_FIELDS:
        lines.append(f"| `{name}` | {_shown(getattr(defaults, name))} | {SETTING_HELP[name]} |")
    return "\n".join(lines) + "\n"
