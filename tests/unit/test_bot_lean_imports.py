"""The bot process keeps httpx's CLI, rich, SQLAlchemy's ORM, unused SQL dialects and aiohttp's
web framework out, and its logging and HTTP still work."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import json, logging, sys
    from vectobeat_bot.lean_imports import skip_unused_extras
    marked = skip_unused_extras()
    from vectobeat_adapters.logging_setup import configure_logging
    configure_logging(level="INFO", log_format="console", process="bot")
    import httpx, vectobeat_bot.app, vectobeat_bot.cogs
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("probe").exception("failed")
    loaded = sorted({m.split(".")[0] for m, v in sys.modules.items() if v is not None})
    postgresql = "sqlalchemy.dialects.postgresql" in sys.modules
    print(json.dumps({"marked": marked, "loaded": loaded, "client": httpx.AsyncClient.__name__,
                      "postgresql": postgresql, "orm": "sqlalchemy.orm" in sys.modules,
                      "mysql": "sqlalchemy.dialects.mysql" in sys.modules,
                      "web": "aiohttp.web" in sys.modules}))
    """
)


def test_the_bot_process_loads_no_unused_extras_and_still_logs_tracebacks() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["marked"] == ["httpx._main", "rich", "pygments", "click"]
    assert not {"rich", "pygments", "click", "uvicorn", "starlette"} & set(report["loaded"])
    assert {"httpx", "structlog", "aiohttp", "discord"} <= set(report["loaded"])
    assert report["client"] == "AsyncClient"
    assert not report["postgresql"]  # a dialect loads with the engine that speaks it
    assert not report["mysql"]
    assert not report["web"]  # the Status API is aiohttp's low-level server
    assert not report["orm"]  # SQLAlchemy Core only (vectobeat_adapters.sql.async_core)
    assert "ValueError: boom" in done.stderr and "Traceback" in done.stderr


def test_marking_is_skipped_for_modules_already_imported() -> None:
    probe = (
        "import sys, rich; from vectobeat_bot.lean_imports import skip_unused_extras; "
        "print(skip_unused_extras()); print(sys.modules['rich'] is not None)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split("\n")[:2] == ["['httpx._main', 'pygments', 'click']", "True"]
