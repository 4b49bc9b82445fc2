"""`vectobeat_adapters.logging_setup`: one JSON object per event with its bound context, stdlib
``extra=`` fields kept, console on request, a clear error for an unknown format or level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from vectobeat_adapters.logging_setup import (
    bind_log_context,
    bound_context,
    configure_logging,
    resolve_format,
)
from vectobeat_core.errors import ConfigError


class Stderr:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def getvalue(self) -> str:
        return self._capsys.readouterr().err


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Stderr]:
    """Our handler writes to the ``sys.stderr`` of the moment (captured); logging is restored."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield Stderr(capsys)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def _events(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_stdlib_event_is_one_json_line_with_its_extra_and_context(stderr: Stderr) -> None:
    assert configure_logging(level="INFO", log_format="json", process="panel") == "json"
    log = logging.getLogger("vectobeat.test")
    with bound_context(request_id="abc123", guild_id=42, shard_id=None):
        log.warning("request_failed", extra={"path": "/guilds/42", "error": "Boom: it broke"})
    log.info("outside")
    first, second = _events(stderr.getvalue())
    assert first["event"] == "request_failed" and first["level"] == "warning"
    assert first["path"] == "/guilds/42" and first["error"] == "Boom: it broke"
    assert first["request_id"] == "abc123" and first["guild_id"] == 42
    assert "shard_id" not in first  # None is not bound
    assert first["process"] == "panel" and first["logger"] == "vectobeat.test"
    assert "request_id" not in second


def test_an_exception_stays_on_one_line(stderr: Stderr) -> None:
    configure_logging(level="INFO", log_format="json", process="bot")
    try:
        raise RuntimeError("kaput")
    except RuntimeError:
        logging.getLogger("vectobeat.test").exception("command_failed")
    (event,) = _events(stderr.getvalue())
    assert "RuntimeError: kaput" in str(event["exception"])


def test_bound_for_the_rest_of_a_task(stderr: Stderr) -> None:
    import structlog

    configure_logging(level="DEBUG", log_format="json", process="bot")
    bind_log_context(interaction_id=7)
    try:
        logging.getLogger("discord.gateway").debug("heartbeat")
    finally:
        structlog.contextvars.clear_contextvars()
    (event,) = _events(stderr.getvalue())
    assert event["interaction_id"] == 7 and event["level"] == "debug"


def test_configuring_twice_keeps_one_handler(stderr: Stderr) -> None:
    configure_logging(level="INFO", log_format="json", process="ops")
    configure_logging(level="WARNING", log_format="json", process="ops")
    logging.getLogger("vectobeat.test").info("dropped")
    logging.getLogger("vectobeat.test").warning("kept")
    assert [e["event"] for e in _events(stderr.getvalue())] == ["kept"]


def test_console_format_is_not_json(stderr: Stderr) -> None:
    assert configure_logging(level="INFO", log_format="Console", process="ops") == "console"
    logging.getLogger("vectobeat.test").warning("node_down", extra={"node": "eu-1"})
    line = stderr.getvalue().strip()
    assert "node_down" in line and "node" in line and "eu-1" in line
    assert not line.startswith("{")


def test_unset_format_is_json_off_a_terminal() -> None:
    assert resolve_format(None, io.StringIO()) == "json"
    assert resolve_format("  ", io.StringIO()) == "json"


@pytest.mark.parametrize(("level", "log_format"), [("INFO", "xml"), ("LOUD", "json")])
def test_a_bad_format_or_level_is_a_config_error(level: str, log_format: str) -> None:
    with pytest.raises(ConfigError, match="LOG_"):
        configure_logging(level=level, log_format=log_format, process="bot")
