"""One back-off rule (`vectobeat_core.backoff.ExponentialBackoff`) and no hand-written retry loop.

The rule's properties are checked with hypothesis; a scan of the source tree keeps a second
formula or a sleep-and-retry loop from coming back: no ``2 ** n`` outside the rule, no delay
doubled from itself, no tenacity exponential wait of its own, no sleep inside an ``except``.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import TypeGuard

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "apps")
THE_RULE = Path("src/vectobeat_core/backoff.py")
TENACITY_FORMULAS = {"wait_exponential", "wait_random_exponential", "wait_exponential_jitter"}

bases = st.floats(0.001, 10)
spreads = st.floats(0, 1)
draws = st.floats(0, 1)
attempts = st.integers(0, 5000)


@st.composite
def backoffs(draw: st.DrawFn) -> ExponentialBackoff:
    base = draw(bases)
    return ExponentialBackoff(base, base * draw(st.floats(1, 1e4)), draw(spreads))


@given(backoffs(), attempts, draws)
def test_a_delay_lies_between_the_spread_and_the_ceiling_which_is_capped(
    backoff: ExponentialBackoff, attempt: int, draw: float
) -> None:
    ceiling = backoff.ceiling(attempt)
    assert backoff.base <= ceiling <= backoff.cap
    assert attempt > 1000 or ceiling == min(backoff.cap, backoff.base * 2.0**attempt)
    delay = backoff.delay(attempt, draw)
    assert ceiling * (1 - backoff.spread) * (1 - 1e-12) <= delay <= ceiling
    assert backoff.delay(attempt, 0.0) == ceiling  # a draw of 0 waits the whole ceiling


@given(backoffs(), attempts, draws)
def test_the_ceiling_doubles_until_the_cap_and_never_shrinks(
    backoff: ExponentialBackoff, attempt: int, draw: float
) -> None:
    now, after = backoff.ceiling(attempt), backoff.ceiling(attempt + 1)
    assert after == min(backoff.cap, now * 2) or attempt >= 1023
    assert after >= now
    assert backoff.delay(attempt + 1, draw) >= backoff.delay(attempt, draw) * (1 - 1e-12)


@given(backoffs(), attempts, draws, st.floats(allow_nan=True, allow_infinity=True))
def test_retry_after_lengthens_the_wait_up_to_the_cap_only(
    backoff: ExponentialBackoff, attempt: int, draw: float, retry_after: float
) -> None:
    plain = backoff.delay(attempt, draw)
    asked = backoff.delay(attempt, draw, retry_after)
    if not math.isfinite(retry_after) or retry_after <= plain:
        assert asked == plain
    else:
        assert asked == min(retry_after, backoff.cap)
    assert plain <= asked <= backoff.cap


@pytest.mark.parametrize(
    ("options", "call"),
    [({"base": 0.0, "cap": 1.0}, None), ({"base": 2.0, "cap": 1.0}, None),
     ({"base": 1.0, "cap": math.inf}, None), ({"base": math.nan, "cap": 1.0}, None),
     ({"base": 1.0, "cap": 2.0, "spread": 1.5}, None), ({"base": 1.0, "cap": 2.0}, (-1, 0.5)),
     ({"base": 1.0, "cap": 2.0}, (True, 0.5)), ({"base": 1.0, "cap": 2.0}, (0, 1.5)),
     ({"base": 1.0, "cap": 2.0}, (0, math.nan))],
)  # fmt: skip
def test_nonsense_is_refused(options: dict[str, float], call: tuple[int, float] | None) -> None:
    with pytest.raises(InvalidInput):
        ExponentialBackoff(**options).delay(*(call or (0, 0.0)))


@given(st.floats(0.001, 100), st.floats(0.001, 100), st.integers(0, 1000))
def test_clamped_lets_a_base_above_the_cap_mean_the_cap(base: float, cap: float, n: int) -> None:
    assert ExponentialBackoff.clamped(base, cap).ceiling(n) == min(cap, base * 2.0**n)


def test_equal_jitter_by_default_and_none_at_spread_0() -> None:
    backoff = ExponentialBackoff(0.5, 30.0)
    assert [backoff.delay(n, 1.0) for n in range(4)] == [0.25, 0.5, 1.0, 2.0]
    assert backoff.delay(10, 0.5) == 22.5
    assert ExponentialBackoff(0.5, 30.0, 0.0).delay(3, 0.9) == 4.0


# -- the scan ------------------------------------------------------------------------------------


def _is_two(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (2, 2.0) and node.value is not True


def _doubles(target: ast.expr, value: ast.expr) -> bool:
    """``value`` multiplies ``target`` itself by 2 somewhere (``delay = min(delay * 2, cap)``)."""
    shape = ast.dump(target, include_attributes=False).replace("Store()", "Load()")
    for node in ast.walk(value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for one, other in ((node.left, node.right), (node.right, node.left)):
                if _is_two(one) and ast.dump(other, include_attributes=False) == shape:
                    return True
    return False


def _sleeps(node: ast.AST) -> TypeGuard[ast.Await]:
    if not isinstance(node, ast.Await) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "sleep"


def hand_written_backoff(source: str) -> list[str]:
    """Each line of ``source`` with a back-off formula or a retry loop of its own, and why."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _is_two(node.left):
            if not isinstance(node.right, ast.Constant):
                found.append(f"{line}: 2 ** n (use ExponentialBackoff)")
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Mult):
            if _is_two(node.value):
                found.append(f"{line}: *= 2 (use ExponentialBackoff)")
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_doubles(target, node.value) for target in targets):
                found.append(f"{line}: a value doubled from itself (use ExponentialBackoff)")
        elif isinstance(node, ast.Attribute | ast.Name):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in TENACITY_FORMULAS:
                found.append(f"{line}: tenacity's {name} (wait by ExponentialBackoff)")
        elif isinstance(node, ast.ExceptHandler):
            for inner in ast.walk(node):
                if _sleeps(inner):
                    found.append(f"{inner.lineno}: a sleep in an except (retry with tenacity)")
    return sorted(found, key=lambda hit: (int(hit.split(":")[0]), hit))


def test_no_back_off_formula_or_retry_loop_besides_the_one_rule() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{hit}"
        for top in SCANNED
        for path in sorted((ROOT / top).rglob("*.py"))
        if path.relative_to(ROOT) != THE_RULE
        for hit in hand_written_backoff(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "\n".join(found)


def test_the_scan_finds_each_kind_of_hand_written_retry() -> None:
    source = """
async def reconnect(open, cap):
    delay = 0.05
    while True:
        try:
            return await open()
        except OSError:
            await anyio.sleep(delay)
            delay = min(delay * 2, cap)

def wait(n, base):
    pause = base
    pause *= 2
    return base * 2.0 ** n, tenacity.wait_exponential(multiplier=base)

size, offset = 2**63 - 1, 2 * base  # constants and scaling are not back-off
"""
    assert hand_written_backoff(source) == [
        "8: a sleep in an except (retry with tenacity)",
        "9: a value doubled from itself (use ExponentialBackoff)",
        "13: *= 2 (use ExponentialBackoff)",
        "14: 2 ** n (use ExponentialBackoff)",
        "14: tenacity's wait_exponential (wait by ExponentialBackoff)",
    ]
