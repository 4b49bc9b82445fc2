"""Identifier types. Discord snowflakes are ints; node names are the operator's labels."""

from __future__ import annotations

from typing import NewType

__all__ = ["ChannelId", "EntryId", "GuildId", "NodeName", "RoleId", "ShardId", "UserId"]

GuildId = NewType("GuildId", int)
UserId = NewType("UserId", int)
ChannelId = NewType("ChannelId", int)
RoleId = NewType("RoleId", int)
ShardId = NewType("ShardId", int)
EntryId = NewType("EntryId", int)
NodeName = NewType("NodeName", str)
