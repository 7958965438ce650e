"""Reference data read from the database and kept for a few seconds: what one replica
saves reaches every other replica within `ttl`, without a redeploy or a message."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

from services.runtime.documents import Document, Order, Where

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

NEW_VERSIONS_WITHIN_S = 5.0
"""A change saved by one replica is used by every other replica within this time."""


class Finder(Protocol):
    """What reads reference data: a transaction (`Tx`) or the database outside one."""

    async def find(
        self, collection: str, where: Where | None = None, *, order: Order = (), limit: int = 0
    ) -> list[Document]: ...


class Expiring(Generic[K, V]):
    """Values by key, read again once `ttl` seconds old on `clock` (monotonic seconds)."""

    def __init__(self, ttl: float = NEW_VERSIONS_WITHIN_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self.entries: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, read: Callable[[], Awaitable[V]]) -> V:
        """The value of `key`, from `read()` if it is not cached or too old."""
        now = self.clock()
        cached = self.entries.get(key)
        if cached is None or now - cached[0] >= self.ttl:
            cached = (now, await read())
            self.entries[key] = cached
        return cached[1]

    def forget(self) -> None:
        """Something was saved here: read afresh on next use."""
        self.entries.clear()
