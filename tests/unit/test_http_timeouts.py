"""HTTP_TIMEOUT bounds a panel request's calls to Discord (and Stripe): a silent Discord is a
clear 'unavailable' within it, and a nonsensical value is refused."""

from __future__ import annotations

import socket

import anyio
import pytest

from vectobeat_adapters.config import load_config
from vectobeat_adapters.services import http_timeout
from vectobeat_core.errors import ConfigError, Unavailable
from vectobeat_panel.oauth import DiscordOAuth


@pytest.mark.anyio
async def test_a_silent_discord_is_unavailable_within_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        oauth = DiscordOAuth(
            api_base=f"http://127.0.0.1:{port}/api/v10",
            client_id="1",
            client_secret="secret",
            redirect_uri="http://panel/auth/callback",
            timeout=0.2,
        )
        with anyio.fail_after(10), pytest.raises(Unavailable):  # a hang guard, not a timing
            await oauth.identify(code="c", verifier="v")


@pytest.mark.parametrize("value", ["0", "-1", "nan", "601"])
def test_a_nonsensical_http_timeout_is_refused(value: str) -> None:
    config = load_config(environ={"HTTP_TIMEOUT": value})
    with pytest.raises(ConfigError, match=r"HTTP_TIMEOUT must be from 0\.1 to 600 seconds"):
        http_timeout(config)


def test_the_default_is_three_seconds() -> None:
    assert http_timeout(load_config(environ={})) == 3.0
