"""A TCP port on 127.0.0.1 that nothing listens on right now, for a server a test or bench starts."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    """A port the OS just handed out and released (another process could still take it first)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
