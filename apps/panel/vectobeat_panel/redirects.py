"""Where the panel may send a browser back to: one rule against open redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["local_path"]


def local_path(raw: str | None, default: str) -> str:
    """``raw`` if it is a path on this panel (absolute, no scheme or host, no backslash or
    control character, at most 512 characters), else ``default``."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return default
    if any(ord(ch) < 0x20 for ch in raw) or len(raw) > 512:
        return default
    parts = urlsplit(raw)
    return default if parts.scheme or parts.netloc else raw
