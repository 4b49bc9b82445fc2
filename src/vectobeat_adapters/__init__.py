"""vectobeat_adapters: the I/O edge. Implementations of vectobeat_core.ports over real infrastructure.

The only package that imports redis, SQLAlchemy and its drivers, pomice, httpx, stripe and SMTP.
Nothing here does work at import time.
"""
