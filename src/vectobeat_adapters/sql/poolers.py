"""PgBouncer in transaction (or statement) pooling mode in front of PostgreSQL: ``DATABASE_URL``'s
``?pgbouncer=true``.

Such a pooler hands a server connection to another client after each transaction, so nothing may
live in a session: asyncpg's statement cache is off (``statement_cache_size=0``), SQLAlchemy's too
(``prepared_statement_cache_size=0``), each prepared statement gets a name of its own (two clients
sharing one server connection never collide), and no startup parameters are sent (PgBouncer
refuses ``statement_timeout``: set it on the role instead, see docs/operations.md). Session
pooling needs none of this. The option is VectoBeat's: it never reaches the driver.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import URL

from vectobeat_core.errors import ConfigError

__all__ = ["PGBOUNCER_OPTION", "behind_pgbouncer", "driver_url", "pgbouncer_connect_args"]

PGBOUNCER_OPTION = "pgbouncer"
_YES = {"true", "1", "yes", "on", "transaction", "statement"}
_NO = {"false", "0", "no", "off", "session"}


def behind_pgbouncer(url: URL) -> bool:
    """Whether ``url`` asks for transaction-pooling mode (``ConfigError`` for a bad value)."""
    raw = url.query.get(PGBOUNCER_OPTION)
    if raw is None:
        return False
    value = (raw if isinstance(raw, str) else raw[-1]).strip().lower()
    if value not in _YES | _NO:
        raise ConfigError(
            f"DATABASE_URL's {PGBOUNCER_OPTION}={value[:20]!r} is not true or false "
            "(true: PgBouncer in transaction or statement pooling mode)."
        )
    if value in _YES and url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"DATABASE_URL's {PGBOUNCER_OPTION}=true is for PostgreSQL (postgresql+asyncpg://...)."
        )
    return value in _YES


def driver_url(url: URL) -> URL:
    """``url`` as the driver gets it: without our option; with SQLAlchemy's statement cache off
    behind PgBouncer."""
    pooled = behind_pgbouncer(url)
    stripped = url.difference_update_query([PGBOUNCER_OPTION])
    if pooled:
        return stripped.update_query_dict({"prepared_statement_cache_size": "0"})
    return stripped


def _statement_name() -> str:
    return f"__vb_{uuid.uuid4().hex}__"


def pgbouncer_connect_args() -> dict[str, Any]:
    """asyncpg's connect arguments behind PgBouncer: no statement cache, unique statement names."""
    return {"statement_cache_size": 0, "prepared_statement_name_func": _statement_name}
