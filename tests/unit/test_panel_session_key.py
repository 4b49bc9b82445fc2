"""The panel's session key: required in production (``DISCORD_TOKEN`` set), a per-process random
key only in the sandbox, and the start-up error names the variable and the fix."""

from __future__ import annotations

import pytest

from vectobeat_adapters.config import AppConfig, Secret
from vectobeat_core.errors import ConfigError
from vectobeat_panel.app import create_app, session_key

TOKEN = Secret("MTIz.fake.production-token-for-the-check")


def test_production_without_a_session_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="SESSION_SECRET is required when DISCORD_TOKEN"):
        create_app(AppConfig(discord_token=TOKEN))


def test_production_with_a_short_session_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="32\\+ random characters"):
        session_key(AppConfig(discord_token=TOKEN, session_secret=Secret("short")))


def test_production_signs_with_the_configured_secret_in_every_replica() -> None:
    config = AppConfig(discord_token=TOKEN, session_secret=Secret("k" * 40))
    assert session_key(config) == session_key(config) == "k" * 40


def test_the_sandbox_falls_back_to_a_random_key_per_process() -> None:
    assert session_key(AppConfig()) != session_key(AppConfig())
