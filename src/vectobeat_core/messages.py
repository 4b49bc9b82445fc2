"""Message ids: how the core marks text a person reads so the shells can translate it.

An error's first argument is a message id with ``{fields}`` (its parameters fill them), so is the
text given to `message_id`; a `Term` is one of our words passed as a parameter (a noun, an
action), which the shells translate too. The core itself stays English and never translates.

A `Phrase` travels between processes as JSON (`phrase_json`, `read_phrase`: the panel tells the
bot why it lowered a setting), so the reader's shell translates it, not the writer's.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["Phrase", "Term", "message_id", "phrase_json", "read_phrase"]


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


def phrase_json(phrase: Phrase) -> dict[str, object]:
    """``phrase`` as JSON: ``{"id": ..., "params": {...}}`` (and ``"clause": true`` for a clause).
    A `Phrase` among the parameters is such an object too, a `Term` is ``{"term": ...}``; text,
    numbers, true/false and null stay as they are, anything else becomes its text."""
    out: dict[str, object] = {"id": phrase.template, "params": _params_json(phrase.params)}
    if phrase.clause:
        out["clause"] = True
    return out


def _params_json(params: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, Phrase):
            out[name] = phrase_json(value)
        elif isinstance(value, Term):
            out[name] = {"term": str(value)}
        elif value is None or isinstance(value, str | int | float):  # bool is an int
            out[name] = value
        else:
            out[name] = format(value)  # what the English text shows for it
    return out


_MAX_TEXT = 2000
_MAX_PARAMS = 20
_MAX_DEPTH = 4


def read_phrase(raw: object, depth: int = 0) -> Phrase | None:
    """The `Phrase` that `phrase_json` wrote, or ``None`` when ``raw`` is not one a shell may show:
    its id must name only plain ``{fields}`` it is given (no attribute, index or format spec), so
    text from another process fills in nothing but its own parameters."""
    if not isinstance(raw, Mapping) or depth > _MAX_DEPTH:
        return None
    template, params, clause = raw.get("id"), raw.get("params", {}), raw.get("clause", False)
    if not isinstance(template, str) or not 0 < len(template) <= _MAX_TEXT:
        return None
    if not isinstance(params, Mapping) or len(params) > _MAX_PARAMS or not isinstance(clause, bool):
        return None
    values: dict[str, object] = {}
    for name, value in params.items():
        read = _read_param(value, depth)
        if not isinstance(name, str) or not name.isidentifier() or read is _BAD:
            return None
        values[name] = read
    if not _fills_only(template, values):
        return None
    return Phrase(template, values, clause)


_BAD = object()


def _read_param(value: object, depth: int) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else _BAD
    if isinstance(value, Mapping) and set(value) == {"term"}:
        term = value["term"]
        return Term(term) if isinstance(term, str) and 0 < len(term) <= _MAX_TEXT else _BAD
    nested = read_phrase(value, depth + 1)
    return _BAD if nested is None else nested


def _fills_only(template: str, params: Mapping[str, object]) -> bool:
    """Whether every field of ``template`` is a plain name among ``params``."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:  # an unmatched brace
        return False
    return all(
        name is None or (name in params and not spec and conversion is None)
        for _, name, spec, conversion in fields
    )
