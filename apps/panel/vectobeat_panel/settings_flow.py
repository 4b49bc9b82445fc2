"""Saving settings, the one way every writer goes (panel page, control-panel API, bot bridge).

read the record and the plan (one statement on SQL) -> validate and merge (core; a new webhook
URL by the SSRF rules) -> clamp to the guild's plan (core) -> resolve a new webhook host and
refuse it unless every address is public or allow-listed -> compare-and-set with history and
audit events (one transaction on SQL) -> only once committed, the change feed + settings channel.
The caller learns the stored record, its plan and every clamp with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import attrs

from vectobeat_adapters.i18n import N_
from vectobeat_adapters.webhooks.resolve import WebhookResolveError, allowed_hosts, check_url
from vectobeat_core.audit import AuditEvent
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import InvalidSettings, VectoBeatError
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.plans import Plan, Tier
from vectobeat_core.ports import SettingsChange
from vectobeat_core.records import GuildRecord
from vectobeat_core.settings import (
    Clamp,
    ServerSettings,
    SettingsRecord,
    apply_update,
    changed_fields,
    clamp_to_plan,
    merge_settings,
)
from vectobeat_core.webhook_targets import UnsafeWebhookTarget
from vectobeat_panel.state import Panel

__all__ = ["SaveResult", "current_settings", "guild_plan", "save_settings", "settings_state"]

log = logging.getLogger("vectobeat.panel.settings")
WEBHOOK_RESOLVE_S = 3.0
"""How long a save waits for the webhook host to resolve."""


@attrs.frozen
class SaveResult:
    record: SettingsRecord
    clamps: tuple[Clamp, ...]
    changed: tuple[str, ...]
    plan: Plan

    def state(self) -> dict[str, JSON]:
        return settings_state(self.record.guild_id, plan=self.plan, record=self.record)


def settings_state(
    guild_id: GuildId, *, plan: Plan, record: SettingsRecord | None
) -> dict[str, JSON]:
    """A guild's settings as bots read them (the bridge's answer, the settings channel's state):
    version 0 with the defaults when nothing is stored; ``updated_at`` (panel time, ``None``
    then) lets a bot drop settings stored before an erasure it applied
    (`vectobeat_core.erasures.ErasureLedger.keeps`)."""
    return {
        "guild_id": str(guild_id),
        "version": 0 if record is None else record.version,
        "plan": plan.tier.key,
        "settings": (ServerSettings() if record is None else record.settings).to_json(),
        "updated_at": None if record is None else record.updated_at,
    }


async def guild_plan(panel: Panel, guild_id: GuildId) -> tuple[GuildRecord | None, Plan]:
    """The guild's record (``None`` when the bot never saw it) and its plan (free by default)."""
    services = panel.services
    record = await services.guilds.get(guild_id)
    tier = record.tier if record is not None else Tier.FREE
    return record, services.catalogue.plan(tier)


async def current_settings(panel: Panel, guild_id: GuildId) -> tuple[int, ServerSettings]:
    """(version, settings); version 0 with the defaults when nothing was saved yet."""
    record = await panel.services.settings.get(guild_id)
    if record is None:
        return 0, ServerSettings()
    return record.version, record.settings


async def save_settings(
    panel: Panel,
    guild_id: GuildId,
    *,
    base_version: int,
    patch: Mapping[str, object],
    actor: str,
) -> SaveResult:
    """Apply ``patch`` on top of version ``base_version``; `StaleVersion` if that is not current."""
    if not isinstance(patch, Mapping):
        raise InvalidSettings({"settings": N_("must be an object of fields.")})
    services = panel.services
    now = panel.clock()
    current, plan = await _read(panel, guild_id)
    base_settings = current.settings if current is not None else ServerSettings()
    hosts = allowed_hosts(panel.config.webhook_allowed_hosts)
    merged = merge_settings(base_settings, patch, webhook_hosts=hosts)
    clamped, clamps = clamp_to_plan(merged, plan, services.catalogue)
    await _check_webhook_host(panel, base_settings, clamped, hosts)
    record = apply_update(current, base_version, clamped, now=now, actor=actor, guild_id=guild_id)
    changed = changed_fields(base_settings, clamped)
    events = [AuditEvent.settings_changed(guild_id, record.version, changed, actor, now)]
    if clamps:
        events.append(AuditEvent.settings_clamped(guild_id, plan.tier, clamps, now, actor))
    # compare-and-set with the audit events: one transaction when the stores share a database
    await services.settings.save_audited(record, base_version, events, services.audit)
    result = SaveResult(record, clamps, changed, plan)
    await announce(panel, result)  # committed: now tell bots
    return result


async def _check_webhook_host(
    panel: Panel, old: ServerSettings, new: ServerSettings, hosts: frozenset[str]
) -> None:
    """A new webhook URL must resolve, and only to addresses exports may reach (SSRF rules)."""
    url = new.webhook_export_url
    if url is None or url == old.webhook_export_url:
        return
    try:
        await check_url(url, hosts, resolver=panel.webhook_resolver, timeout_s=WEBHOOK_RESOLVE_S)
    except (UnsafeWebhookTarget, WebhookResolveError) as exc:
        raise InvalidSettings({"webhook_export_url": exc.phrase(clause=True)}) from None


async def _read(panel: Panel, guild_id: GuildId) -> tuple[SettingsRecord | None, Plan]:
    """The current record and the guild's plan: one statement when both live in one SQL
    database, else both reads at once."""
    services = panel.services
    current, tier = await services.settings.read_with_tier(guild_id, services.guilds)
    return current, services.catalogue.plan(tier if tier is not None else Tier.FREE)


async def announce_erasure(panel: Panel, erasure: Erasure) -> None:
    """Tell bots the guild is being erased (the compliance desk calls this once the erasure is in
    the record, before erasing the stores): the long-poll feed and the settings channel, with
    its place in the record; a failed publish is logged (the bots still find it in the record)."""
    guild_id = erasure.guild_id
    panel.changes.erased(guild_id, erasure.seq, erasure.erased_at)
    try:
        await panel.services.settings_channel.publish(
            SettingsChange(guild_id, erasure.seq, erased=True, erased_at=erasure.erased_at)
        )
    except VectoBeatError as exc:
        log.warning("erasure_publish_failed", extra={"guild_id": guild_id, "error": str(exc)})


async def announce(panel: Panel, saved: SaveResult) -> None:
    """Tell bots: the long-poll feed at once, and the settings channel (Redis when configured)
    with the stored state, so they apply it without reading it back."""
    guild_id, version = saved.record.guild_id, saved.record.version
    panel.changes.append(guild_id, version)
    try:
        await panel.services.settings_channel.publish(
            SettingsChange(guild_id, version, saved.state())
        )
    except VectoBeatError as exc:
        panel.metrics.settings_published.labels(outcome="failed").inc()
        log.warning("settings_publish_failed", extra={"guild_id": guild_id, "error": str(exc)})
        return
    panel.metrics.settings_published.labels(outcome="published").inc()
