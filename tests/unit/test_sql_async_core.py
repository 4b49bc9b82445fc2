"""The SQL adapters load SQLAlchemy's asyncio engine without the ORM; the ORM half of
``sqlalchemy.ext.asyncio`` still loads, whole, for whoever asks for it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _probe(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_the_sql_adapters_work_without_loading_the_orm() -> None:
    report = _probe(
        """
        import asyncio, json, sys
        from vectobeat_adapters.sql import open_database, upgrade_database
        from vectobeat_adapters.sql.engine import SqlRepository

        async def main():
            url = "sqlite+aiosqlite:///:memory:"
            async with open_database(url) as db:
                await SqlRepository(db).ping()
                return db.engine.dialect.name

        dialect = asyncio.run(main())
        print(json.dumps({"dialect": dialect, "orm": "sqlalchemy.orm" in sys.modules}))
        """
    )
    assert report == {"dialect": "sqlite", "orm": False}


def test_the_rest_of_the_package_loads_on_first_use() -> None:
    report = _probe(
        """
        import json, sys
        from vectobeat_adapters.sql import async_core
        import sqlalchemy.ext.asyncio as package
        before = "sqlalchemy.orm" in sys.modules
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
        try:
            package.no_such_name
            missing = "found"
        except AttributeError as exc:
            missing = str(exc)
        print(json.dumps({
            "before": before,
            "after": "sqlalchemy.orm" in sys.modules,
            "session": AsyncSession.__module__,
            "same_engine": package.AsyncEngine is async_core.AsyncEngine,
            "same_create": package.create_async_engine is async_core.create_async_engine,
            "missing": missing,
        }))
        """
    )
    assert report == {
        "before": False,
        "after": True,
        "session": "sqlalchemy.ext.asyncio.session",
        "same_engine": True,
        "same_create": True,
        "missing": "module 'sqlalchemy.ext.asyncio' has no attribute 'no_such_name'",
    }


def test_a_package_imported_before_is_kept_as_it_is() -> None:
    report = _probe(
        """
        import json, sys
        import sqlalchemy.ext.asyncio as package
        from vectobeat_adapters.sql import async_core
        print(json.dumps({
            "kept": sys.modules["sqlalchemy.ext.asyncio"] is package,
            "same_engine": package.AsyncEngine is async_core.AsyncEngine,
        }))
        """
    )
    assert report == {"kept": True, "same_engine": True}
