"""A plan's limits and features in words, as /guildinfo and /membership show them: `Phrase`s
(``str()`` is the English; the bot shows them in the member's language)."""

from __future__ import annotations

from vectobeat_core.messages import Phrase, message_id
from vectobeat_core.plans import Plan

__all__ = ["plan_features", "plan_limits"]


def _tracks(value: int | None) -> Phrase:
    if value is None:
        return Phrase(message_id("unlimited tracks"))
    return Phrase(message_id("{n} track") if value == 1 else message_id("{n} tracks"), {"n": value})


def _playlists(value: int | None) -> Phrase:
    if value is None:
        return Phrase(message_id("unlimited playlists"))
    template = message_id("{n} playlist") if value == 1 else message_id("{n} playlists")
    return Phrase(template, {"n": value})


def plan_limits(plan: Plan) -> list[Phrase]:
    """Queue, playlist and token limits."""
    return [
        Phrase(message_id("queue: {tracks}"), {"tracks": _tracks(plan.queue_cap)}),
        Phrase(
            message_id("playlists: {playlists} of {tracks}"),
            {
                "playlists": _playlists(plan.playlist_limit),
                "tracks": _tracks(plan.playlist_track_limit),
            },
        ),
        Phrase(message_id("API tokens: {n}"), {"n": plan.api_tokens}),
    ]


def plan_features(plan: Plan) -> list[Phrase]:
    """What the plan includes, one phrase each."""
    features = [
        Phrase(message_id("sources: {level}"), {"level": plan.source_access}),
        Phrase(message_id("playback quality: {level}"), {"level": plan.playback_quality}),
        Phrase(message_id("analytics: {level}"), {"level": plan.analytics}),
        Phrase(message_id("automation: {level}"), {"level": plan.automation}),
        Phrase(message_id("queue sync: {level}"), {"level": plan.queue_sync}),
        Phrase(
            message_id("region pinning")
            if plan.region_pinning
            else message_id("automatic region only")
        ),
        Phrase(
            message_id("webhook exports")
            if plan.webhook_exports
            else message_id("no webhook exports")
        ),
    ]
    if plan.concierge:
        features.append(
            Phrase(message_id("concierge: {hours} h per 30 days"), {"hours": plan.concierge_hours})
        )
    if plan.success_pod:
        features.append(Phrase(message_id("success pod with an account manager")))
    if plan.sla_minutes is not None:
        features.append(
            Phrase(message_id("support answer within {minutes} min"), {"minutes": plan.sla_minutes})
        )
    return features
