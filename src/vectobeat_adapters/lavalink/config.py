"""Lavalink nodes from configuration: ``LAVALINK_NODES`` (+ ``LAVALINK_PASSWORD``) to `NodeSpec`s.

The core's `parse_node_list` does the parsing; here its ``InvalidInput`` becomes a ``ConfigError``
that names the variable, so a bad value stops startup with a message an operator can act on.
"""

from __future__ import annotations

from vectobeat_adapters.config import AppConfig
from vectobeat_core.errors import ConfigError, InvalidInput
from vectobeat_core.routing import NodeSpec, parse_node_list

__all__ = ["node_specs", "node_specs_from_config"]


def node_specs(text: str | None, default_password: str | None) -> tuple[NodeSpec, ...]:
    """Parse ``LAVALINK_NODES``; a missing, empty or malformed value is a ``ConfigError``."""
    if text is None or not text.strip():
        raise ConfigError(
            "LAVALINK_NODES is not set: list the nodes as "
            "region:name:http(s)://host:port[:password], comma separated."
        )
    try:
        return parse_node_list(text, default_password)
    except InvalidInput as exc:
        raise ConfigError(f"LAVALINK_NODES is malformed: {exc}") from None


def node_specs_from_config(config: AppConfig) -> tuple[NodeSpec, ...]:
    """The nodes of an `AppConfig` (the password from ``LAVALINK_PASSWORD`` when an entry has none)."""
    password = config.lavalink_password.reveal() if config.lavalink_password else None
    return node_specs(config.lavalink_nodes, password)
