"""A service running inside the test process: its real handlers, HTTP routes and
subscriber wiring, on an in-memory database and FastStream's test broker. No Java,
no Kafka, no database server: the fast layer of the tests (`pytest -m "not e2e"`).

    async with Harness.running(payment.create(settings)) as payment:
        await payment.deliver(received, commune="H40.101")      # through the subscriber
        assert [type(e) for e in await payment.emitted()] == [PaymentRequested]
        async with payment.http() as client: ...
"""

from __future__ import annotations

import asyncio
import time as monotonic
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Generic, TypeVar

import httpx
from faststream.kafka import KafkaMessage
from faststream.kafka.testing import TestKafkaBroker
from motcua_contracts import Envelope, Event, dead_letter_topic

from services.runtime import Runtime, Service
from services.runtime.consumer import DLQ_REASON
from services.runtime.documents import MemoryDocuments
from services.runtime.files import MemoryFiles
from services.runtime.service import http_app
from services.runtime.store import OUTBOX

C = TypeVar("C")
E = TypeVar("E", bound=Event)


class Harness(Generic[C]):
    def __init__(self, service: Service[C], files: MemoryFiles | None = None) -> None:
        self.documents = MemoryDocuments()
        self.files = files or MemoryFiles()  # tests of two services share one file store
        self.runtime: Runtime[C] = Runtime(service, self.documents, self.files)
        self.dead_letters: list[tuple[bytes | None, str]] = []  # (key, reason)
        self.seen_outbox: set[str] = set()

        @self.runtime.broker.subscriber(dead_letter_topic(service.name).name, group_id="tests")
        async def park(body: Any, message: KafkaMessage) -> None:  # Any: the parked bytes may be any JSON
            self.dead_letters.append((message.raw_message.key, message.headers.get(DLQ_REASON, "")))

    @classmethod
    @asynccontextmanager
    async def running(cls, service: Service[C], files: MemoryFiles | None = None) -> AsyncIterator[Harness[C]]:
        harness = cls(service, files)
        async with TestKafkaBroker(harness.runtime.broker) as broker:
            harness.broker = broker
            await harness.runtime.start()
            harness.runtime.started = True
            try:
                yield harness
            finally:
                await harness.runtime.stop()

    @property
    def context(self) -> C:
        return self.runtime.context

    async def deliver(
        self, payload: Event, *, commune: str = "H40.101", source: str | None = None, time: datetime | None = None
    ) -> Envelope:
        """Publish `payload` as its owner would (at `time`, default now); returns once the service has handled it."""
        envelope = Envelope.wrap(payload, source=source or payload.TOPIC.owner, commune=commune)
        if time is not None:
            envelope = envelope.model_copy(update={"time": time})
        await self.deliver_raw(envelope.to_bytes(), payload.TOPIC.name, payload.dossier_code.encode())
        return envelope

    async def deliver_raw(self, value: bytes, topic: str, key: bytes, headers: dict[str, str] | None = None) -> None:
        await self.broker.publish(value, topic, key=key, headers=headers or {})

    async def outbox(self) -> list[Envelope]:
        """Every event the service emitted so far, in emission order (the relay is not running)."""
        entries = await self.documents.find(OUTBOX, order=[("_id", 1)])
        return [Envelope.model_validate_json(entry["value"]) for entry in entries]

    async def emitted(self, *types: type[E]) -> list[Any]:
        """Payloads emitted since the last call (of `types`, if given), in order."""
        fresh = [e for e in await self.outbox() if e.id not in self.seen_outbox]
        self.seen_outbox |= {e.id for e in fresh}
        payloads = [e.payload() for e in fresh]
        return [p for p in payloads if not types or isinstance(p, types)]

    @asynccontextmanager
    async def http(self, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client of the service's API, in process."""
        transport = httpx.ASGITransport(app=http_app(self.runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://service", headers=headers) as client:
            yield client


async def until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Wait until `condition()` is true (background jobs, worker processes); fail with `what` after `timeout`."""
    deadline = monotonic.monotonic() + timeout
    while not condition():
        if monotonic.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
