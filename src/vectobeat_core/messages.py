"""Message ids: how the core marks text a person reads so the shells can translate it.

An error's first argument is a message id with ``{fields}`` (its parameters fill them), so is the
text given to `message_id`; a `Term` is one of our words passed as a parameter (a noun, an
action), which the shells translate too. The core itself stays English and never translates.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["Phrase", "Term", "message_id"]


def message_id(text: str) -> str:
    """Mark ``text`` as a message id for the catalogue where it is not an error's first argument
    (the shells translate it when they show it)."""
    return text


class Term(str):
    """A word of ours inside an error's parameters (not a person's input): shells translate it."""

    __slots__ = ()


def _frozen(params: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(params))


@attrs.frozen
class Phrase:
    """Text for a person that is not an error: a message id and what fills its ``{fields}``
    (a `Term` or a `Phrase` among them is translated too). ``str()`` is the English.

    A *clause* follows a name (``queue_limit: must be …``), so it is shown without its final
    period, in every language."""

    template: str
    params: Mapping[str, object] = attrs.field(factory=dict, converter=_frozen)
    clause: bool = False

    def __str__(self) -> str:
        text = self.template.format(**self.params) if self.params else self.template
        return text.rstrip(".") if self.clause else text
