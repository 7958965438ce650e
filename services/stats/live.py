"""What the live pages follow: one look a second at the replicas' notes of what changed,
shared by every open page of this process (however many dashboards are open, one query)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from services.runtime import utcnow
from services.runtime.documents import Reader

from . import store

LOOK_EVERY_S = 1.0


class Changes:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.latest: tuple[datetime, list[str]] = (utcnow(), [])
        self.changed = asyncio.Condition()
        self.followers = 0
        self.looking: asyncio.Task[None] | None = None

    async def follow(self, keepalive_s: float) -> AsyncIterator[dict[str, Any] | None]:
        """Each change (when, and the units touched) as it is seen; None after `keepalive_s` of quiet."""
        self.followers += 1
        if self.looking is None or self.looking.done():
            self.looking = asyncio.create_task(self._look())
        seen = self.latest[0]
        try:
            while True:
                async with self.changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.changed.wait_for(lambda seen=seen: self.latest[0] > seen), keepalive_s
                        )
                if self.latest[0] > seen:
                    seen, units = self.latest
                    yield {"as_of": seen.isoformat(), "units": units}
                else:
                    yield None
        finally:
            self.followers -= 1

    async def _look(self) -> None:
        """Look while anyone follows."""
        last = self.latest[0]
        while self.followers:
            await asyncio.sleep(LOOK_EVERY_S)
            found = await self.reader.find(store.CHANGES, {"at": {"$gt": last}})
            if found:
                units = sorted(store.changed_units(found, last))
                last = max(change["at"] for change in found)
                async with self.changed:
                    self.latest = (last, units)
                    self.changed.notify_all()
