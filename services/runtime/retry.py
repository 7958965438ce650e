"""How long to wait before trying again: one rule for every retry loop of the runtime."""

from __future__ import annotations

MAX_PAUSE_S = 30.0
"""No retry loop waits longer than this between attempts, however long an outage lasts."""


def backoff(attempt: int, base: float, cap: float = MAX_PAUSE_S) -> float:
    """The pause before retry number `attempt` (1, 2, ...): `base`, doubling each time, at most `cap`."""
    return min(cap, base * 2 ** min(max(attempt, 1) - 1, 16))
