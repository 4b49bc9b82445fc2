"""Keep optional extras the bot never uses out of its process (issue 18's memory goal).

httpx imports its command-line client (click, rich, pygments) and structlog its rich traceback
renderer whenever those packages are installed (the ``ops`` extra installs them): about 5 MiB of
resident memory in every bot process, for code it never calls. `skip_unused_extras` marks them
absent before the first import, so both libraries take their documented fallbacks (httpx: no CLI;
structlog: plain tracebacks in console logs). Only the ``vectobeat-bot`` entry point calls it:
processes that import the bot as a library (tests, ``vectobeat-ops``) keep their modules.
"""

from __future__ import annotations

import sys

__all__ = ["UNUSED_EXTRAS", "skip_unused_extras"]

UNUSED_EXTRAS = ("httpx._main", "rich", "pygments", "click")
"""Modules whose absence httpx and structlog handle (their ``try: import ... except ImportError``)."""


def skip_unused_extras() -> list[str]:
    """Mark each of `UNUSED_EXTRAS` not yet imported as absent; the names marked."""
    marked = [name for name in UNUSED_EXTRAS if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    return marked
