"""``LAVALINK_NODES`` (+ ``LAVALINK_PASSWORD``) to `NodeSpec`s: the one place the variable is
parsed (the grammar is the core's `parse_node_list`). Every process and ``validate-env`` get the
same message naming the variable, the entry and the fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vectobeat_adapters.config.fields import Invalid, Lookup
from vectobeat_core.errors import InvalidInput
from vectobeat_core.routing import NodeSpec, parse_node_list

if TYPE_CHECKING:
    from vectobeat_adapters.config.model import AppConfig

__all__ = ["NODES_FIX", "NODES_UNSET_FIX", "check_nodes", "node_specs"]

NODES_UNSET_FIX = (
    "list your Lavalink nodes as region:name:http(s)://host:port[:password], comma separated, "
    "e.g. eu:eu-1:http://10.0.0.5:2333"
)
NODES_FIX = (
    "write each node as region:name:http(s)://host:port[:password] with region us, eu or apac, "
    "comma separated, e.g. eu:eu-1:http://10.0.0.5:2333:pw"
)


def _parse(text: str, password: str | None) -> tuple[NodeSpec, ...] | Invalid:
    try:
        return parse_node_list(text, password)
    except InvalidInput as exc:
        return Invalid(exc.message.removeprefix("LAVALINK_NODES "), NODES_FIX)


def check_nodes(value: str, lookup: Lookup) -> Invalid | None:
    """The `Check` of ``LAVALINK_NODES`` (``validate-env``)."""
    parsed = _parse(value, lookup("LAVALINK_PASSWORD"))
    return parsed if isinstance(parsed, Invalid) else None


def node_specs(config: AppConfig) -> tuple[NodeSpec, ...]:
    """The configured nodes (an entry without a password gets ``LAVALINK_PASSWORD``);
    ``ConfigError`` naming the variable and the fix when it is unset or malformed."""
    text = config.lavalink_nodes
    if text is None or not text.strip():
        raise Invalid("is not set", NODES_UNSET_FIX).error("LAVALINK_NODES")
    password = config.lavalink_password.reveal() if config.lavalink_password else None
    parsed = _parse(text, password)
    if isinstance(parsed, Invalid):
        raise parsed.error("LAVALINK_NODES")
    return parsed
