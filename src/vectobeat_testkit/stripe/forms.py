"""Stripe's form encoding: ``metadata[guild_id]=1&line_items[0][price]=p`` into nested JSON."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["FormError", "decode_form"]

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


class FormError(ValueError):
    """A form key Stripe would refuse; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _listify(v) for k, v in value.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items
    return value


def decode_form(text: str) -> dict[str, Any]:
    """Nested objects and lists from a Stripe-encoded form or query string."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.fullmatch(key)
        if match is None:
            raise FormError(key, f"Invalid parameter name: {key}")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(key, f"Invalid nesting for parameter: {key}")
            node = child
        node[path[-1]] = value
    result: dict[str, Any] = _listify(root)
    return result
