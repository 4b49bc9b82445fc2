"""Configuration: one typed model (`AppConfig`, each variable declared once with `setting`), read
once at the edge (`load_config`) from the environment and ``.env``.

attrs and a small loader rather than pydantic-settings: attrs is the house library (the core's
value objects, the tests build `AppConfig` directly), and the loader keeps the ``VECTOBEAT_``
prefix that wins over the plain name and the ``.env`` grammar exactly as operators know them.
"""

from __future__ import annotations

from vectobeat_adapters.config.fields import Field, Invalid, Lookup, Secret, is_placeholder
from vectobeat_adapters.config.loader import gather_environment, load_config, lookup_in, read_dotenv
from vectobeat_adapters.config.model import FIELDS, AppConfig
from vectobeat_adapters.config.nodes import node_specs
from vectobeat_adapters.config.reference import markdown_reference

__all__ = [
    "FIELDS",
    "AppConfig",
    "Field",
    "Invalid",
    "Lookup",
    "Secret",
    "gather_environment",
    "is_placeholder",
    "load_config",
    "lookup_in",
    "markdown_reference",
    "node_specs",
    "read_dotenv",
]
