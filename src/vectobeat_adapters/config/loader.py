"""Reading the configuration once at the edge: ``overrides`` > environment > ``.env`` > defaults,
each variable also spelled with a ``VECTOBEAT_`` prefix, which wins.

Nothing deep in the code reads ``os.environ``: apps call :func:`load_config` once and pass the
frozen `AppConfig` down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from vectobeat_adapters.config.fields import Lookup, Secret
from vectobeat_adapters.config.model import FIELDS, AppConfig
from vectobeat_core.errors import ConfigError

__all__ = ["as_environment", "gather_environment", "load_config", "lookup_in", "read_dotenv"]


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file (KEY=VALUE, # comments, optional quotes, optional ``export``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    result: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise ConfigError(f"{path}:{lineno}: expected KEY=VALUE, got {raw.strip()[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result[key] = value
    return result


def gather_environment(environ: Mapping[str, str], dotenv: Path) -> dict[str, str]:
    """``.env`` overlaid by the environment, as the apps read them (``ConfigError`` if unreadable)."""
    merged = dict(read_dotenv(dotenv))
    merged.update(environ)
    return merged


def lookup_in(env: Mapping[str, str]) -> Lookup:
    """A variable's stripped value in ``env`` (``VECTOBEAT_NAME`` wins over ``NAME``); blank is unset."""

    def lookup(name: str) -> str | None:
        for key in (f"VECTOBEAT_{name}", name):
            value = env.get(key)
            if value is not None and value.strip() != "":
                return value.strip()
        return None

    return lookup


def load_config(
    environ: Mapping[str, str] | None = None,
    *,
    dotenv: Path | None = None,
    overrides: Mapping[str, str] | None = None,
) -> AppConfig:
    """The configuration (see the module docstring); a value of the wrong type is a
    ``ConfigError`` naming the variable and the fix."""
    env = gather_environment(os.environ if environ is None else environ, dotenv or Path(".env"))
    env.update(overrides or {})
    lookup = lookup_in(env)
    values: dict[str, object] = {}
    for field in FIELDS:
        raw = lookup(field.env)
        values[field.attr] = field.default if raw is None else field.convert(raw)
    return AppConfig(**values)  # type: ignore[arg-type]


def as_environment(config: AppConfig) -> dict[str, str]:
    """``config`` as the variables that would load it (unset ones left out), so the checks that
    read variables can judge a loaded configuration too."""
    env: dict[str, str] = {}
    for field in FIELDS:
        value = getattr(config, field.attr)
        if value is None:
            continue
        if isinstance(value, Secret):
            env[field.env] = value.reveal()
        elif isinstance(value, bool):
            env[field.env] = "true" if value else "false"
        else:
            env[field.env] = str(value)
    return env
