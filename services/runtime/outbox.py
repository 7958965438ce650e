"""The outbox relay: publishes committed events with the idempotent producer.

A crash after publishing but before deleting the outbox entry republishes the
same event id; consumers' inboxes make that harmless.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka.errors import MessageSizeTooLargeError
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from .store import OUTBOX

log = logging.getLogger(__name__)
BATCH = 500
UNPUBLISHED = "outbox_unpublishable"
# Errors no retry can cure; anything else (broker away, leader moving) is retried.
UNPUBLISHABLE = (MessageSizeTooLargeError, TypeError, ValueError)


class OutboxRelay:
    def __init__(self, db: AsyncDatabase, broker: KafkaBroker) -> None:
        self.outbox = db[OUTBOX]
        self.unpublished = db[UNPUBLISHED]
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
        pending, done = [], []
        for entry in entries:
            try:
                pending.append(
                    await self.broker.publish(
                        entry["value"],
                        entry["topic"],
                        key=entry["key"].encode(),
                        headers=entry["headers"],
                        no_confirm=True,
                    )
                )
            except UNPUBLISHABLE as exc:
                await self.set_aside(entry, exc)
            done.append(entry["_id"])
        await asyncio.gather(*pending)
        await self.outbox.delete_many({"_id": {"$in": done}})
        return len(entries)

    async def set_aside(self, entry: dict, exc: Exception) -> None:
        """Move an event the broker can never take out of the way of the others, for an operator."""
        log.error(
            "event can never be published; moved to %s",
            UNPUBLISHED,
            extra={"fields": {"event_id": entry["_id"], "topic": entry["topic"], "error": repr(exc)}},
        )
        await self.unpublished.replace_one({"_id": entry["_id"]}, entry | {"error": repr(exc)}, upsert=True)
