"""SQLAlchemy's asyncio engine without its ORM half: import ``AsyncConnection``, ``AsyncEngine``
and ``create_async_engine`` from here, never from ``sqlalchemy.ext.asyncio``.

That package's ``__init__`` also re-exports the ORM's async sessions, so importing ``AsyncEngine``
from it loads ``sqlalchemy.orm``: about 6 MiB resident in every process (issue 18: the bot's
memory), for code VectoBeat never runs (it uses SQLAlchemy Core). The first import of this module
registers the package without running its ``__init__`` and loads only its ``engine`` module (with
``result``, ``base`` and ``exc``, which it imports). Asking the package for anything else
(``AsyncSession``, ...) runs its own ``__init__`` then, so code that needs the ORM half still gets
the whole package, unchanged. A process that imported the package before keeps it as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["PACKAGE", "AsyncConnection", "AsyncEngine", "create_async_engine"]

PACKAGE = "sqlalchemy.ext.asyncio"


def _register_package() -> None:
    """Put ``sqlalchemy.ext.asyncio`` in ``sys.modules`` with its ``__init__`` deferred to the
    first name asked of it that is not one of its submodules."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not a package as we know it: the plain import below says what is wrong
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    submodules = {info.name for info in pkgutil.iter_modules(spec.submodule_search_locations)}
    completed = False

    def complete(name: str) -> object:
        # the import system asks for a submodule before importing it: not a reason to complete
        nonlocal completed
        if name in submodules or completed:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
        completed = True
        loader.exec_module(package)  # the package's own __init__ (sessions, the ORM)
        return getattr(package, name)

    package.__getattr__ = complete  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    parent = importlib.import_module(PACKAGE.rpartition(".")[0])
    setattr(parent, PACKAGE.rpartition(".")[2], package)


_register_package()

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
else:
    _engine: ModuleType = importlib.import_module(f"{PACKAGE}.engine")
    AsyncConnection = _engine.AsyncConnection
    AsyncEngine = _engine.AsyncEngine
    create_async_engine = _engine.create_async_engine
