"""``NodeSources``: which source managers the Lavalink nodes serve, from ``GET /v4/info``.

Each routable node's ``sourceManagers`` (plugins such as LavaSrc register theirs there) is kept for
``ttl_s``; `served` is what every answering node has (a search may land on any of them). A node
that is down, slow or answers garbage is skipped and asked again next time; when no node answers,
`served` is empty and the caller falls back to what every Lavalink serves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from vectobeat_adapters.lavalink.registry import NodeRegistry
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.ids import NodeName

__all__ = ["NodeSources", "parse_source_managers"]

_log = logging.getLogger("vectobeat.lavalink.sources")


def parse_source_managers(info: object) -> frozenset[str]:
    """The ``sourceManagers`` of a ``/v4/info`` reply (lower-cased), or `ValueError`."""
    managers = info.get("sourceManagers") if isinstance(info, Mapping) else None
    if not isinstance(managers, list) or not all(isinstance(m, str) for m in managers):
        raise ValueError("/v4/info has no list of sourceManagers")
    return frozenset(m.lower() for m in managers)


class NodeSources:
    """A cache of each node's source managers (see the module docstring)."""

    def __init__(self, registry: NodeRegistry, *, ttl_s: float = 300.0) -> None:
        self.registry = registry
        self.ttl_s = ttl_s
        self._known: dict[NodeName, tuple[float, frozenset[str]]] = {}

    async def _of(self, name: NodeName) -> frozenset[str] | None:
        now = self.registry.clock.now()
        cached = self._known.get(name)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        try:
            managers = parse_source_managers(
                await self.registry.node(name).request("GET", "/v4/info")
            )
        except (VectoBeatError, ValueError) as exc:
            _log.warning("could not read the sources of Lavalink node %s: %s", name, exc)
            return cached[1] if cached is not None else None
        self._known[name] = (now, managers)
        return managers

    async def served(self) -> frozenset[str]:
        """The sources every answering routable node serves (empty: none answered)."""
        found: frozenset[str] | None = None
        for view in self.registry.views():
            if not view.routable:
                continue
            managers = await self._of(view.name)
            if managers is not None:
                found = managers if found is None else found & managers
        return found or frozenset()
