"""Shard leases from configuration: ``SHARD_IDS``, ``SHARD_SPARE`` and what they need
(``SHARD_COUNT``, ``REDIS_URL``). The checks back ``validate-env``; `lease_shard_ids` runs the same
checks on a loaded `AppConfig`, so a bot refuses exactly what ``validate-env`` reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vectobeat_adapters.config.fields import Invalid, Lookup
from vectobeat_core.ids import ShardId

if TYPE_CHECKING:
    from vectobeat_adapters.config.model import AppConfig

__all__ = ["check_shard_ids", "check_shard_spare", "lease_shard_ids"]

SHARD_IDS_FIX = (
    "list the shards this process owns, comma separated, each from 0 to SHARD_COUNT - 1, "
    "e.g. 0,1; or set SHARD_SPARE=true for a hot spare"
)


def _count(lookup: Lookup) -> int | None:
    text = lookup("SHARD_COUNT")
    try:
        count = int(text) if text is not None else None
    except ValueError:
        return None
    return count if count is not None and count >= 1 else None


def _needs_leases(lookup: Lookup) -> Invalid | None:
    if _count(lookup) is None:
        return Invalid(
            "needs SHARD_COUNT (the total shards)", "set SHARD_COUNT to the bot's total shards"
        )
    if lookup("REDIS_URL") is None:
        return Invalid(
            "needs REDIS_URL (the shard leases)",
            "set REDIS_URL to the Redis every bot process shares",
        )
    return None


def _shard_ids(value: str, count: int) -> list[ShardId] | Invalid:
    ids: list[ShardId] = []
    for part in value.split(","):
        if not part.strip():
            continue
        try:
            shard = int(part)
        except ValueError:
            return Invalid(f"must list shard numbers, got {part.strip()!r}", SHARD_IDS_FIX)
        if not 0 <= shard < count:
            return Invalid(f"shard {shard} is outside 0..{count - 1}", SHARD_IDS_FIX)
        ids.append(ShardId(shard))
    return sorted(set(ids))


def _spare(lookup: Lookup) -> bool:
    return (lookup("SHARD_SPARE") or "").lower() in {"1", "true", "yes", "on"}


def check_shard_ids(value: str, lookup: Lookup) -> Invalid | None:
    """The `Check` of ``SHARD_IDS``."""
    needs = _needs_leases(lookup)
    if needs is not None:
        return needs
    count = _count(lookup)
    assert count is not None  # _needs_leases said so
    ids = _shard_ids(value, count)
    if isinstance(ids, Invalid):
        return ids
    if not ids and not _spare(lookup):
        return Invalid("names no shard", SHARD_IDS_FIX)
    return None


def check_shard_spare(value: str, lookup: Lookup) -> Invalid | None:
    """The `Check` of ``SHARD_SPARE``: a spare takes leases too."""
    return _needs_leases(lookup) if _spare(lookup) else None


def lease_shard_ids(config: AppConfig) -> list[ShardId] | None:
    """The shards ``SHARD_IDS`` names (``[]`` for a pure spare); ``None`` without leases;
    ``ConfigError`` (variable, problem, fix) for what ``validate-env`` reports."""
    from vectobeat_adapters.config.loader import as_environment, lookup_in  # noqa: PLC0415
    from vectobeat_adapters.config.model import FIELDS  # noqa: PLC0415 - the model uses us

    if config.shard_ids is None and not config.shard_spare:
        return None
    lookup = lookup_in(as_environment(config))
    for field in FIELDS:
        if field.env in {"SHARD_SPARE", "SHARD_IDS", "SHARD_SPARE_MAX"}:
            value = lookup(field.env)
            invalid = None if value is None else field.invalid(value, lookup)
            if invalid is not None:
                raise invalid.error(field.env)
    count = _count(lookup)
    assert count is not None  # checked above
    ids = _shard_ids(config.shard_ids or "", count)
    assert not isinstance(ids, Invalid)  # checked above
    return ids
