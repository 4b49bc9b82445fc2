"""Developer sessions. The README names the test command CI runs (it is the `tests` session's)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Unit, contract, integration and e2e tests with branch coverage of vectobeat_core."""
    session.install("-e", ".[all,dev]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src, apps, tests and bench."""
    session.install("-e", ".[all,dev]")
    session.run("mypy", "--strict")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Every benchmark in bench/, each printing a table and a final JSON line.

    ``nox -s bench -- failover_bench --quick``: the leading names pick benches, everything from
    the first option on goes to each of them.
    """
    # Not editable: measure the wheel users get, whose queue hatch_build.py compiles with mypyc.
    session.install(".[all,dev]")
    args = list(session.posargs)
    first_option = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    options = args[first_option:]
    names = args[:first_option] or sorted(
        p.stem for p in __import__("pathlib").Path("bench").glob("*_bench.py")
    )
    for name in names:
        session.run("python", f"bench/{name}.py", *options)
