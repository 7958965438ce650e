"""Limits that keep a service answering: a budget of requests per client and window, shared by
every replica through the service's database, and a bound on costly work in flight per process.

Both refuse at once with the seconds after which trying again makes sense (`Retry-After`),
and count their refusals in `motcua_requests_limited_total` by limit.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from prometheus_client import Counter

from .clock import utcnow
from .documents import Documents
from .metrics import Metrics

LIMITS = "limits"  # one counter document per (limit, client, window), removed once its window is over


class Limited(Exception):
    """Refused by a limit: try again after `retry_after_s` seconds."""

    def __init__(self, limit: str, retry_after_s: int) -> None:
        super().__init__(f"{limit}: retry after {retry_after_s} s")
        self.limit, self.retry_after_s = limit, retry_after_s


def limited_counter(metrics: Metrics) -> Counter:
    """The service's counter of refusals, by limit (one per service: its limits share it)."""
    return metrics.counter("motcua_requests_limited", "Requests refused by a limit, by limit.", "limit")


class PerWindow:
    """At most `budget` requests per client in each fixed window of `window_s` seconds, counted in
    the database with one atomic increment, so every replica of the service spends the same budget."""

    def __init__(
        self, documents: Documents, name: str, budget: int, window_s: int, refused: Counter, service: str
    ) -> None:
        self.documents, self.name, self.budget, self.window_s = documents, name, budget, window_s
        self.refused = refused.labels(service=service, limit=name)

    async def prepare(self) -> None:
        """Let the database remove counters of windows that are over (once at start)."""
        await self.documents.expire(LIMITS)

    async def spend(self, client: str) -> None:
        """Count one request by `client`; `Limited` (until the window's end) once the budget is spent."""
        now = utcnow().timestamp()
        window = int(now // self.window_s)
        ends = (window + 1) * self.window_s
        used = await self.documents.increment(
            LIMITS, f"{self.name}:{client}:{window}", "used", expires_at=datetime.fromtimestamp(ends, UTC)
        )
        if used > self.budget:
            self.refused.inc()
            raise Limited(self.name, max(1, math.ceil(ends - now)))


class InFlight:
    """At most `limit` at a time in this process; a caller waits up to `wait_s` for a turn and is
    then refused (`Limited`), so that beyond capacity the answer is quick instead of late."""

    def __init__(
        self, name: str, limit: int, wait_s: float, retry_after_s: int, refused: Counter, service: str
    ) -> None:
        self.name, self.wait_s, self.retry_after_s = name, wait_s, retry_after_s
        self.turns = asyncio.Semaphore(limit)
        self.refused = refused.labels(service=service, limit=name)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the turns while the work runs."""
        try:
            async with asyncio.timeout(self.wait_s):
                await self.turns.acquire()
        except TimeoutError:
            self.refused.inc()
            raise Limited(self.name, self.retry_after_s) from None
        try:
            yield
        finally:
            self.turns.release()
