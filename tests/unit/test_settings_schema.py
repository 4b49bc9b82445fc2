"""The settings JSON Schema (served in the panel's OpenAPI document) states exactly the limits
`parse_settings` enforces: both come from the same rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.errors import InvalidSettings
from vectobeat_core.settings import SETTINGS_FIELDS, parse_settings, settings_json_schema
from vectobeat_panel.openapi import document

SCHEMA: dict[str, Any] = dict(settings_json_schema())
PROPERTIES: dict[str, Any] = SCHEMA["properties"]
INTEGERS = sorted(name for name, schema in PROPERTIES.items() if schema.get("type") == "integer")
ENUMS = sorted(name for name, schema in PROPERTIES.items() if "enum" in schema)


def _accepted(field: str, value: object) -> bool:
    try:
        parse_settings({field: value})
    except InvalidSettings:
        return False
    return True


def test_the_schema_covers_every_field_and_nothing_else() -> None:
    assert list(PROPERTIES) == list(SETTINGS_FIELDS)
    assert SCHEMA["additionalProperties"] is False


def test_the_openapi_document_serves_the_generated_schema() -> None:
    schemas = document()["paths"]["/api/control-panel/guilds/{guild_id}/settings"]
    body = schemas["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["settings"] == settings_json_schema()


@pytest.mark.parametrize("field", INTEGERS)
@given(value=st.integers(-1_000, 200_000))
def test_integer_limits_agree(field: str, value: int) -> None:
    schema = PROPERTIES[field]
    inside = schema["minimum"] <= value <= schema["maximum"]
    assert _accepted(field, value) is inside


@pytest.mark.parametrize("field", ENUMS)
@given(value=st.text(max_size=12))
def test_enums_agree(field: str, value: str) -> None:
    allowed = PROPERTIES[field]["enum"]
    assert all(_accepted(field, choice) for choice in allowed)
    if value not in allowed and value.lower() not in allowed:
        assert not _accepted(field, value)


@given(count=st.integers(0, 40))
def test_role_count_limit_agrees(count: int) -> None:
    most = PROPERTIES["dj_role_ids"]["maxItems"]
    roles = [str(10**17 + n) for n in range(count)]
    assert _accepted("dj_role_ids", roles) is (count <= most)


def test_webhook_url_length_limit_agrees() -> None:
    longest = PROPERTIES["webhook_export_url"]["maxLength"]
    base = "https://hooks.example.com/"
    assert _accepted("webhook_export_url", base + "a" * (longest - len(base)))
    assert not _accepted("webhook_export_url", base + "a" * (longest - len(base) + 1))
