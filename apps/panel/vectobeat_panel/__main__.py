"""Entry point of ``vectobeat-panel``: load the configuration once and serve the panel."""

from __future__ import annotations

import sys

import uvicorn

from vectobeat_adapters.config import load_config
from vectobeat_adapters.logging_setup import configure_logging
from vectobeat_core.errors import ConfigError
from vectobeat_panel.app import create_app
from vectobeat_panel.serving import GRACEFUL_SHUTDOWN_SECONDS, ClosingServer


def main() -> None:
    try:
        config = load_config()
        configure_logging(level=config.log_level, log_format=config.log_format, process="panel")
        app = create_app(config)
    except ConfigError as exc:
        sys.stderr.write(f"vectobeat-panel: {exc}\n")
        raise SystemExit(2) from None
    server = ClosingServer(
        uvicorn.Config(
            app,
            host=config.panel_host,
            port=config.panel_port,
            log_level=config.log_level.lower(),
            log_config=None,  # logging_setup renders uvicorn's logs too
            access_log=False,  # RequestContext logs each request, with its request id
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    )
    server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn logged why (e.g. the port is taken)


if __name__ == "__main__":
    main()
