"""``LAVALINK_NODES`` to node specs (the one parser): good values parse, bad ones stop startup with
a clear error naming the variable and the fix."""

from __future__ import annotations

import pytest

from vectobeat_adapters.config import AppConfig, Secret, node_specs
from vectobeat_core.errors import ConfigError
from vectobeat_core.regions import Region


def _nodes(text: str | None, password: str | None) -> AppConfig:
    return AppConfig(
        lavalink_nodes=text, lavalink_password=Secret(password) if password is not None else None
    )


def test_nodes_parse_with_regions_and_the_shared_password() -> None:
    specs = node_specs(
        _nodes(
            "eu:eu-1:http://10.0.0.1:2333, us:us-1:https://lava.example.com:443:own-pass",
            "shared-pass",
        )
    )
    assert [(s.name, s.region, s.uri, s.secure) for s in specs] == [
        ("eu-1", Region.EU, "http://10.0.0.1:2333", False),
        ("us-1", Region.US, "https://lava.example.com:443", True),
    ]
    assert specs[0].password == "shared-pass"
    assert specs[1].password == "own-pass"
    assert "shared-pass" not in repr(specs)
    assert specs[1].websocket_uri == "wss://lava.example.com:443/v4/websocket"


@pytest.mark.parametrize(
    ("text", "password", "message"),
    [
        (None, "pw", "LAVALINK_NODES is not set"),
        ("   ", "pw", "LAVALINK_NODES is not set"),
        ("just-a-name", "pw", "entry 1 must look like region:name"),
        ("mars:m-1:http://h:2333", "pw", "unknown region 'mars'"),
        ("auto:a-1:http://h:2333", "pw", "unknown region 'auto'"),
        ("eu:bad name:http://h:2333", "pw", "node name 'bad name'"),
        ("eu:eu-1:ftp://h:2333", "pw", "must start with http:// or https://"),
        ("eu:eu-1:http://h", "pw", "bad port"),
        ("eu:eu-1:http://h:99999", "pw", "bad port"),
        ("eu:eu-1:http://h:2333", None, "missing password"),
        ("eu:eu-1:http://h:2333,", "pw", "entry 2 is empty"),
        ("eu:n:http://a:1,us:n:http://b:2", "pw", "duplicate node name 'n'"),
    ],
)
def test_malformed_nodes_are_config_errors_naming_the_problem(
    text: str | None, password: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match="LAVALINK_NODES") as caught:
        node_specs(_nodes(text, password))
    assert message in str(caught.value)
    assert "fix: " in str(caught.value)


def test_a_password_in_a_bad_entry_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        node_specs(_nodes("eu:eu-1:http://h:port:s3cret-pass", None))
    assert "bad port" in str(caught.value)
    assert "s3cret-pass" not in str(caught.value)
