"""A guild's data export: every section as JSONL and as CSV in one zip, with a manifest.

Sections: settings history, audit log, API tokens (their events: created, used, expired,
revoked; never a secret or hash), playlists, account contact, concierge and success-pod
requests, compliance requests, webhook deliveries and the queue snapshot. ``on_progress`` is
told after each section (done, total, section name).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from vectobeat_adapters.services import Services
from vectobeat_core.ids import GuildId

__all__ = ["SECTIONS", "ExportArchive", "Progress", "build_export", "read_archive"]

EXPORT_ROWS = 1_000_000
"""At most this many rows per section (far above any real guild)."""

Row = dict[str, Any]
Progress = Callable[[int, int, str], Awaitable[None]]


def _plain(value: object) -> Any:
    """attrs instances, enums, sets and tuples as JSON values."""
    if attrs.has(type(value)):
        cls: Any = type(value)
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(cls)}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    enum_value = getattr(value, "value", None)
    if enum_value is not None and type(value).__module__.startswith("vectobeat_core"):
        return enum_value
    return value


async def _settings(services: Services, guild: GuildId) -> list[Row]:
    return [r.to_json() for r in await services.settings.history(guild, EXPORT_ROWS)]


async def _audit(services: Services, guild: GuildId) -> list[Row]:
    return [e.to_json() for e in await services.audit.recent(guild, EXPORT_ROWS)]


async def _tokens(services: Services, guild: GuildId) -> list[Row]:
    return [_plain(t) for t in await services.tokens.for_guild(guild)]


async def _playlists(services: Services, guild: GuildId) -> list[Row]:
    return [_plain(p) for p in await services.playlists.for_guild(guild)]


async def _contacts(services: Services, guild: GuildId) -> list[Row]:
    return [_plain(c) for c in await services.contacts.for_guild(guild)]


async def _concierge(services: Services, guild: GuildId) -> list[Row]:
    return [_plain(r) for r in await services.concierge.find(guild)]


async def _compliance(services: Services, guild: GuildId) -> list[Row]:
    return [_plain(r) for r in await services.compliance.find(guild)]


async def _webhooks(services: Services, guild: GuildId) -> list[Row]:
    return [_plain(d) for d in await services.webhook_log.recent(guild, EXPORT_ROWS)]


async def _queue(services: Services, guild: GuildId) -> list[Row]:
    snapshot = await services.queues.load(guild)
    return [] if snapshot is None else [snapshot.to_json()]


SECTIONS: tuple[tuple[str, Callable[[Services, GuildId], Awaitable[list[Row]]]], ...] = (
    ("settings_history", _settings),
    ("audit_log", _audit),
    ("api_tokens", _tokens),
    ("playlists", _playlists),
    ("account_contact", _contacts),
    ("concierge_requests", _concierge),
    ("compliance_requests", _compliance),
    ("webhook_deliveries", _webhooks),
    ("queue_snapshot", _queue),
)
"""Every section of an export, in order, with how it is read."""


def _jsonl(rows: list[Row]) -> str:
    return "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)


def _csv(rows: list[Row]) -> str:
    """One column per top-level field; nested values as JSON text."""
    columns = sorted({key for row in rows for key in row})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
                for v in (row.get(c) for c in columns)
            ]
        )
    return out.getvalue()


@attrs.frozen
class ExportArchive:
    """The zip's bytes and how many rows each section has."""

    data: bytes
    counts: dict[str, int]

    @property
    def filename(self) -> str:
        return "vectobeat-export.zip"


async def build_export(
    services: Services, guild: GuildId, on_progress: Progress | None = None
) -> ExportArchive:
    """Read every section of ``guild`` and zip it (``<section>.jsonl``, ``<section>.csv``,
    ``manifest.json``)."""
    counts: dict[str, int] = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, (name, read) in enumerate(SECTIONS, start=1):
            rows = await read(services, guild)
            counts[name] = len(rows)
            archive.writestr(f"{name}.jsonl", _jsonl(rows))
            archive.writestr(f"{name}.csv", _csv(rows))
            if on_progress is not None:
                await on_progress(done, len(SECTIONS), name)
        manifest = {"guild_id": str(guild), "sections": counts}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return ExportArchive(buffer.getvalue(), counts)


def read_archive(data: bytes) -> dict[str, list[Row]]:
    """Every section's JSONL rows of an export zip (for people checking one, and tests)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name[: -len(".jsonl")]: [
                json.loads(line) for line in archive.read(name).decode().splitlines() if line
            ]
            for name in archive.namelist()
            if name.endswith(".jsonl")
        }
