"""What a configuration variable is: `Field` (type, default, docs text, who needs it, its checks)
and `setting`, which declares one on `AppConfig`.

A check reads the variable's text (and, through ``lookup``, any other variable) and returns an
`Invalid` naming the problem and the fix, or ``None``. The same checks back ``validate-env``
and the errors the processes raise when they read a value (`Field.convert`, `Invalid.error`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs

from vectobeat_core.errors import ConfigError

__all__ = [
    "ALL_COMPONENTS",
    "Check",
    "Component",
    "Field",
    "Invalid",
    "Kind",
    "Lookup",
    "Secret",
    "is_placeholder",
    "not_placeholder",
    "setting",
]

Component = Literal["bot", "panel", "ops"]
Kind = Literal["str", "int", "float", "bool", "url"]
ALL_COMPONENTS: tuple[Component, ...] = ("bot", "panel", "ops")
Lookup = Callable[[str], "str | None"]
"""A variable's value by its name (``VECTOBEAT_`` prefix first), ``None`` when unset."""
SPEC_KEY = "vectobeat.field"
PLACEHOLDERS = frozenset(
    {
        "changeme", "change-me", "change_me", "changethis", "replaceme", "replace-me",
        "replace_me", "your-token-here", "your_token_here", "yourtoken", "your-token",
        "your-secret-here", "your_secret_here", "your-key-here", "your_key_here", "token",
        "secret", "password", "xxx", "xxxx", "todo", "tbd", "fixme", "placeholder", "example",
        "dummy", "test", "none", "null", "...",
    }
)  # fmt: skip


@attrs.frozen(repr=False)
class Secret:
    """A secret string whose repr and str are masked, so it never lands in a log by accident."""

    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __bool__(self) -> bool:
        return bool(self._value)


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is a known example value rather than a real secret."""
    lowered = value.strip().strip("\"'").lower()
    if lowered in PLACEHOLDERS:
        return True
    if lowered.startswith("<") and lowered.endswith(">"):
        return True
    return lowered.startswith(("your-", "your_", "changeme", "change-me", "replace-me", "xxxx"))


@attrs.frozen
class Invalid:
    """What is wrong with a variable's value and how to fix it."""

    message: str
    fix: str

    def error(self, env: str) -> ConfigError:
        """The error a process raises for it: the variable, the problem and the fix."""
        return ConfigError(f"{env} {self.message}; fix: {self.fix}.")


Check = Callable[[str, Lookup], "Invalid | None"]


def not_placeholder(value: str, _: Lookup) -> Invalid | None:
    """Every secret: not an example value copied from a README."""
    if is_placeholder(value):
        return Invalid(
            f"holds a placeholder value ({value[:16]!r}), not a real secret",
            "replace it with the real value",
        )
    return None


@attrs.frozen
class FieldSpec:
    """The part of a `Field` declared with `setting` (the rest comes from the attribute)."""

    help: str
    components: tuple[Component, ...]
    secret: bool
    kind: Kind
    checks: tuple[Check, ...]
    required_by: tuple[Component, ...]
    unset_fix: str | None


def setting(
    default: object,
    help: str,
    *,
    components: tuple[Component, ...] = ALL_COMPONENTS,
    secret: bool = False,
    kind: Kind = "str",
    checks: tuple[Check, ...] = (),
    required_by: tuple[Component, ...] = (),
    unset_fix: str | None = None,
) -> Any:
    """Declare one variable on `AppConfig`: default, docs text, who reads it, how it is checked,
    and who cannot run without it (``unset_fix`` tells them how to set it)."""
    spec = FieldSpec(help, components, secret, kind, checks, required_by, unset_fix)
    return attrs.field(default=default, metadata={SPEC_KEY: spec})


def _int(text: str) -> int:
    return int(text)


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(text)


_KIND_RULES: dict[Kind, tuple[Callable[[str], object], str, str]] = {
    "int": (_int, "must be a whole number", "use digits only"),
    "float": (float, "must be a number", "write it like 3 or 1.5"),
    "bool": (_bool, "must be true or false", "use true or false"),
}


@attrs.frozen
class Field:
    """One configuration variable, as declared on `AppConfig`."""

    env: str
    attr: str
    default: object
    help: str
    components: tuple[Component, ...] = ALL_COMPONENTS
    secret: bool = False
    kind: Kind = "str"
    checks: tuple[Check, ...] = ()
    required_by: tuple[Component, ...] = ()
    unset_fix: str | None = None

    @classmethod
    def of(cls, attribute: attrs.Attribute[Any]) -> Field:
        """The field declared by ``setting`` on ``attribute``; secrets are never placeholders."""
        spec: FieldSpec = attribute.metadata[SPEC_KEY]
        if spec.secret:
            spec = attrs.evolve(spec, checks=(not_placeholder, *spec.checks))
        declared = attrs.asdict(spec, recurse=False)
        return cls(attribute.name.upper(), attribute.name, attribute.default, **declared)

    def convert(self, text: str) -> object:
        """The typed value of ``text`` (``ConfigError`` naming the variable and the fix)."""
        rule = _KIND_RULES.get(self.kind)
        if rule is None:
            return Secret(text) if self.secret else text
        parse, message, fix = rule
        try:
            return parse(text)
        except ValueError:
            raise Invalid(f"{message}, got {text!r}", fix).error(self.env) from None

    def invalid(self, text: str, lookup: Lookup) -> Invalid | None:
        """The first problem of ``text``: its type, then the field's checks in order."""
        rule = _KIND_RULES.get(self.kind)
        if rule is not None:
            parse, message, fix = rule
            try:
                parse(text)
            except ValueError:
                return Invalid(f"{message}, got {text!r}", fix)
        for check in self.checks:
            found = check(text, lookup)
            if found is not None:
                return found
        return None
