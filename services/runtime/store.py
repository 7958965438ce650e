"""A service's own MongoDB database, transactions, and the units of work in them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from motcua_contracts import Envelope, Event
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from .telemetry import current_trace_headers

T = TypeVar("T")

INBOX = "inbox"  # ids of handled events: redelivery has no second effect
OUTBOX = "outbox"  # events written with the state change, published by the relay


def outbox_record(envelope: Envelope, topic: str) -> dict[str, Any]:
    """What the relay needs to publish `envelope` later, with the current trace context."""
    return {
        "_id": envelope.id,
        "topic": topic,
        "key": envelope.subject,
        "value": envelope.to_bytes(),
        "headers": current_trace_headers(),
    }


@dataclass
class Tx:
    """One unit of work inside a MongoDB transaction: state changes plus events to emit.

    Handlers write with `session=tx.session` and call `tx.emit(...)`; both commit
    together or not at all (transactional outbox).
    """

    session: AsyncClientSession
    db: AsyncDatabase
    source: str
    cause: Envelope | None = None
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, payload: Event, commune: str | None = None) -> Envelope:
        """Queue `payload` for publication once the transaction commits."""
        commune = commune or (self.cause.commune if self.cause else None)
        if commune is None:
            raise ValueError("an event without a cause needs its commune")
        envelope = Envelope.wrap(payload, source=self.source, commune=commune, cause=self.cause)
        self.outbox.append(outbox_record(envelope, payload.TOPIC.name))
        return envelope


class Store:
    """The service's database; no other service reads it."""

    def __init__(self, url: str, database: str) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(url, tz_aware=True, appname=database)
        self.db: AsyncDatabase = self.client[database]

    async def transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction; transient conflicts are retried by the driver."""
        async with self.client.start_session() as session:
            return await session.with_transaction(work)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()
