"""Logging for the bot, the panel and ``vectobeat-ops``: one structlog setup, configured once.

Every line is one event: JSON (one object per line) or a console line, chosen by ``LOG_FORMAT``
(unset: console on a terminal, JSON otherwise). The standard library's loggers (ours,
discord.py, uvicorn, httpx) go through the same renderer, and their ``extra=`` fields become
keys of the event. Context bound with `bound_context` (a request id, a guild id, a shard id) is
added to every event logged inside it, across ``await`` (contextvars).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from vectobeat_core.errors import ConfigError

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "bind_log_context",
    "bound_context",
    "configure_logging",
    "resolve_format",
]

LOG_FORMATS = ("console", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
QUIET_LOGGERS = ("httpx", "httpcore", "alembic", "aiohttp.access")  # the fakes log each request


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the moment of each event."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        return


def resolve_format(log_format: str | None, stream: TextIO | None = None) -> str:
    """``console`` or ``json``: the configured one, else console on a terminal, else JSON."""
    if log_format is None or not log_format.strip():
        isatty = getattr(stream or sys.stderr, "isatty", None)
        return "console" if isatty is not None and isatty() else "json"
    chosen = log_format.strip().lower()
    if chosen not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT is {log_format[:20]!r}; use console or json.")
    return chosen


def _level(log_level: str) -> int:
    chosen = log_level.strip().upper()
    if chosen not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL is {log_level[:20]!r}; use one of {', '.join(LOG_LEVELS)}.")
    return int(logging.getLevelName(chosen))


def _process_name(process: str) -> Any:
    def add(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
        event.setdefault("process", process)
        return event

    return add


_NOT_FIELDS = ("color_message", "message")


def _drop_non_fields(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    """Record attributes that repeat the event: uvicorn's message with terminal colours, and
    ``message`` once another handler has formatted the record."""
    for key in _NOT_FIELDS:
        event.pop(key, None)
    return event


def _shared_processors(process: str) -> list[Any]:
    """What every event gets, whether logged through structlog or the standard library."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_non_fields,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _process_name(process),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(*, level: str, log_format: str | None, process: str) -> str:
    """Route all logging of this process through structlog; returns the format in force.

    Idempotent: a second call replaces the first one's handler (other handlers, such as a test
    runner's, are left alone). ``ConfigError`` for an unknown level or format.
    """
    chosen = resolve_format(log_format)
    numeric = _level(level)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if chosen == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared = _shared_processors(process)
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if chosen == "json":
        final.append(structlog.processors.format_exc_info)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared, processors=[*final, renderer]
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    handler.set_name("vectobeat")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "vectobeat"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "discord"):
        # uvicorn and discord.py may have installed their own handlers: ours renders for them.
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return chosen


@contextmanager
def bound_context(**values: object) -> Iterator[None]:
    """Add ``values`` (``None`` ones skipped) to every event logged inside the block."""
    present = {key: value for key, value in values.items() if value is not None}
    with structlog.contextvars.bound_contextvars(**present):
        yield


def bind_log_context(**values: object) -> None:
    """Add ``values`` (``None`` ones skipped) to every later event of the current task."""
    structlog.contextvars.bind_contextvars(
        **{key: value for key, value in values.items() if value is not None}
    )
