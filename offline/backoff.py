"""Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").

A fleet of kiosks that lost the hub together must not all come back in the same second: each
waits a random time up to a ceiling that doubles with every failure in a row.
"""

from __future__ import annotations

from collections.abc import Callable


class Backoff:
    """Exponential backoff with full jitter: a random wait in [0, min(max, base·2ⁿ)), never below Retry-After."""

    def __init__(self, base_s: float, max_s: float, random: Callable[[], float]) -> None:
        self._base, self._max, self._random = base_s, max_s, random
        self.failures = 0

    def failed(self, retry_after: float | None = None) -> float:
        """The wait after one more failure in a row."""
        ceiling = min(self._max, self._base * 2 ** min(self.failures, 32))
        self.failures += 1
        return max(self._random() * ceiling, retry_after or 0.0)

    def succeeded(self) -> None:
        """The next failure starts from the base again."""
        self.failures = 0
