"""The one exponential back-off: how long to wait before retry ``n`` of anything.

Every retry in VectoBeat waits by `ExponentialBackoff` (the adapters through tenacity, see
`vectobeat_adapters.retrying`): the ceiling doubles from ``base`` up to ``cap``, and a random
draw takes up to ``spread`` of it away, so processes that failed together do not come back
together (0.5, "equal jitter": between half and all of the ceiling; 0: no jitter). A receiver's
``Retry-After`` lengthens the wait, never beyond ``cap``. Pure: the caller brings the draw.
"""

from __future__ import annotations

import math

import attrs

from vectobeat_core.errors import InvalidInput

__all__ = ["ExponentialBackoff"]

_MAX_DOUBLINGS = 1023
"""``2.0 ** 1024`` overflows; long before that every ceiling is ``cap``."""


@attrs.frozen(slots=True)
class ExponentialBackoff:
    """Before retry ``n`` (0 first) wait ``c * (1 - spread * draw)``, ``c = min(cap, base * 2**n)``."""

    base: float
    cap: float
    spread: float = 0.5

    def __attrs_post_init__(self) -> None:
        if not (math.isfinite(self.base) and math.isfinite(self.cap) and 0 < self.base <= self.cap):
            raise InvalidInput("A back-off needs 0 < base <= cap, both finite.")
        if not 0.0 <= self.spread <= 1.0:
            raise InvalidInput(f"A back-off's spread must be from 0 to 1, got {self.spread!r}.")

    @classmethod
    def clamped(cls, base: float, cap: float, spread: float = 0.5) -> ExponentialBackoff:
        """The back-off for settings whose ``base`` may exceed ``cap``: every wait is then ``cap``."""
        return cls(min(base, cap), cap, spread)

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry ``attempt`` (0 first): ``min(cap, base * 2**attempt)``."""
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
            raise InvalidInput(f"A retry attempt is a whole number >= 0, got {attempt!r}.")
        return min(self.cap, self.base * 2.0 ** min(attempt, _MAX_DOUBLINGS))

    def delay(self, attempt: int, draw: float = 0.0, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``attempt``; ``draw`` in [0, 1] (0: the whole ceiling),
        ``retry_after`` what the other side asked for (a non-finite one is ignored)."""
        if not 0.0 <= draw <= 1.0:
            raise InvalidInput(f"A back-off draw must be from 0 to 1, got {draw!r}.")
        wait = self.ceiling(attempt) * (1.0 - self.spread * draw)
        if retry_after is not None and math.isfinite(retry_after) and retry_after > wait:
            return min(retry_after, self.cap)
        return wait
