"""Entry point of ``vectobeat-ops``."""

from __future__ import annotations

from vectobeat_ops.cli import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()
