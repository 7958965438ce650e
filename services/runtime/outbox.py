"""The outbox relay: publishes committed events with the idempotent producer.

A crash after publishing but before deleting the outbox entry republishes the
same event id; consumers' inboxes make that harmless.
"""

from __future__ import annotations

import asyncio
import inspect
import logging

from aiokafka.errors import MessageSizeTooLargeError
from faststream.kafka import KafkaBroker

from .documents import Documents
from .metrics import Metrics
from .retry import backoff
from .store import OUTBOX

log = logging.getLogger(__name__)
BATCH = 500
IDLE_POLL_S = 0.5  # without a wake-up (an event committed by another replica), look again this often
RETRY_PAUSE_S = 0.5  # first pause after a failed round (broker or database away); it doubles
UNPUBLISHED = "outbox_unpublishable"
# Errors no retry can cure; anything else (broker away, leader moving) is retried.
UNPUBLISHABLE = (MessageSizeTooLargeError, TypeError, ValueError)


class OutboxRelay:
    def __init__(self, documents: Documents, broker: KafkaBroker, metrics: Metrics, service: str) -> None:
        self.documents = documents
        self.broker = broker
        self.metrics, self.service = metrics, service
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Called after a commit that wrote events, so they go out without polling delay."""
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                published = await self.publish_pending()
                failures = 0
            except Exception:
                failures += 1
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(backoff(failures, RETRY_PAUSE_S))
                continue
            if published < BATCH:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=IDLE_POLL_S)
                except TimeoutError:
                    pass

    async def publish_pending(self) -> int:
        """Publish up to BATCH events in id (= emission) order; returns how many."""
        entries = await self.documents.find(OUTBOX, order=[("_id", 1)], limit=BATCH)
        if not entries:
            return 0
        # Enqueue in order (send order is partition order), then wait for every ack.
        acks, done = [], []
        for entry in entries:
            try:
                ack = await self.broker.publish(
                    entry["value"], entry["topic"], key=entry["key"].encode(), headers=entry["headers"], no_confirm=True
                )
                if inspect.isawaitable(ack):
                    acks.append(ack)
            except UNPUBLISHABLE as exc:
                await self.set_aside(entry, exc)
            done.append(entry["_id"])
        await asyncio.gather(*acks)
        await self.documents.delete(OUTBOX, done)
        self.metrics.published.labels(self.service).inc(len(done))
        return len(entries)

    async def set_aside(self, entry: dict, exc: Exception) -> None:
        """Move an event the broker can never take out of the way of the others, for an operator."""
        log.error(
            "event can never be published; moved to %s",
            UNPUBLISHED,
            extra={"fields": {"event_id": entry["_id"], "topic": entry["topic"], "error": repr(exc)}},
        )
        await self.documents.put(UNPUBLISHED, [entry | {"error": repr(exc)}])
