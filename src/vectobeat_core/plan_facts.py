"""A plan's limits and features in words, as /guildinfo and /membership show them."""

from __future__ import annotations

from vectobeat_core.plans import Plan

__all__ = ["plan_features", "plan_limits"]


def _limit(value: int | None, noun: str) -> str:
    if value is None:
        return f"unlimited {noun}s"
    return f"{value} {noun if value == 1 else noun + 's'}"


def plan_limits(plan: Plan) -> list[str]:
    """Queue, playlist and token limits."""
    return [
        f"queue: {_limit(plan.queue_cap, 'track')}",
        f"playlists: {_limit(plan.playlist_limit, 'playlist')} of "
        f"{_limit(plan.playlist_track_limit, 'track')}",
        f"API tokens: {plan.api_tokens}",
    ]


def plan_features(plan: Plan) -> list[str]:
    """What the plan includes, one phrase each."""
    features = [
        f"sources: {plan.source_access}",
        f"playback quality: {plan.playback_quality}",
        f"analytics: {plan.analytics}",
        f"automation: {plan.automation}",
        f"queue sync: {plan.queue_sync}",
        "region pinning" if plan.region_pinning else "automatic region only",
        "webhook exports" if plan.webhook_exports else "no webhook exports",
    ]
    if plan.concierge:
        features.append(f"concierge: {plan.concierge_hours} h per 30 days")
    if plan.success_pod:
        features.append("success pod with an account manager")
    if plan.sla_minutes is not None:
        features.append(f"support answer within {plan.sla_minutes} min")
    return features
