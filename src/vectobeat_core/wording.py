"""Counts as people write them, for every shell (bot replies, panel pages, CLI tables)."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 track``, ``2 tracks``, ``0 players``: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
