"""Entry point of ``vectobeat-bot``: load the configuration once and run the bot."""

from __future__ import annotations

import asyncio
import sys

from vectobeat_bot.lean_imports import skip_unused_extras


def main() -> None:
    skip_unused_extras()  # before anything imports httpx or structlog
    from vectobeat_adapters.config import load_config  # noqa: PLC0415
    from vectobeat_adapters.logging_setup import configure_logging  # noqa: PLC0415
    from vectobeat_core.errors import VectoBeatError  # noqa: PLC0415

    try:
        config = load_config()
        configure_logging(level=config.log_level, log_format=config.log_format, process="bot")
        from vectobeat_bot.app import run_bot  # noqa: PLC0415 - imports discord.py

        asyncio.run(run_bot(config))
    except VectoBeatError as exc:
        sys.stderr.write(f"vectobeat-bot: {exc.message}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
