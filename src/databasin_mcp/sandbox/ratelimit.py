"""Fixed-window rate limiting per token, reported through the X-RateLimit-* headers."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Quota:
    """The state of one caller's window after counting a request."""

    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the window ends
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window ends (at least 1, so clients never busy-loop)."""
        return max(1, math.ceil(self.reset_at - now))


class FixedWindowLimiter:
    """``limit`` requests per ``window`` seconds per key; a key's window starts with its first request.

    Windows start per caller rather than on wall-clock boundaries so a test's burst never straddles a reset.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, requests counted)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def hit(self, key: str) -> Quota:
        """Count one request for ``key``."""
        now = self.clock()
        start, count = self._windows.get(key, (now, 0))
        if now >= start + self.window:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        return Quota(self.limit, max(0, self.limit - count), start + self.window, count > self.limit)
