"""The outbox relay: publishes committed events with the idempotent producer.

A crash after publishing but before deleting the outbox entry republishes the
same event id; consumers' inboxes make that harmless.
"""

from __future__ import annotations

import asyncio
import logging

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from .store import OUTBOX

log = logging.getLogger(__name__)
BATCH = 500


class OutboxRelay:
    def __init__(self, db: AsyncDatabase, broker: KafkaBroker) -> None:
        self.outbox = db[OUTBOX]
        self.broker = broker
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that wrote events, so they go out without polling delay."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                published = await self.publish_pending()
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(1)
                continue
            if published < BATCH:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5)
                except TimeoutError:
                    pass

    async def publish_pending(self) -> int:
        """Publish up to BATCH events in id (= emission) order; returns how many."""
        entries = await self.outbox.find().sort("_id", 1).limit(BATCH).to_list()
        if not entries:
            return 0
        # Enqueue in order (send order is partition order), then wait for every ack.
        pending = [
            await self.broker.publish(
                e["value"], e["topic"], key=e["key"].encode(), headers=e["headers"], no_confirm=True
            )
            for e in entries
        ]
        await asyncio.gather(*pending)
        await self.outbox.delete_many({"_id": {"$in": [e["_id"] for e in entries]}})
        return len(entries)
