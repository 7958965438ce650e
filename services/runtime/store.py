"""A service's own MongoDB database, transactions, and the units of work in them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from motcua_contracts import Envelope, Event
from pymongo import AsyncMongoClient, ReplaceOne
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
class Pending:
    """What a transaction writes at its end: changed documents, deferred writes, the outbox.

    Keeping a batch's documents here lets a handler read and change a dossier's
    state many times at the cost of one read and one write per batch.
    """

    outbox: list[dict[str, Any]] = field(default_factory=list)
    writes: dict[str, list[Any]] = field(default_factory=dict)
    documents: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)
    changed: dict[str, set[str]] = field(default_factory=dict)

    def clear(self) -> None:
        for part in (self.outbox, self.writes, self.documents, self.changed):
            part.clear()

    async def flush(self, db: AsyncDatabase, session: AsyncClientSession) -> None:
        for collection, keys in self.changed.items():
            replace = [ReplaceOne({"_id": k}, self.documents[collection][k], upsert=True) for k in sorted(keys)]
            await db[collection].bulk_write(replace, ordered=True, session=session)
        for collection, operations in self.writes.items():
            await db[collection].bulk_write(operations, ordered=True, session=session)
        if self.outbox:
            await db[OUTBOX].insert_many(self.outbox, session=session)


@dataclass
class Tx:
    """One unit of work inside a MongoDB transaction: state changes plus events to emit.

    Handlers keep state with `load`/`save` (one read and one write per document
    per batch), `defer` writes they never read back, or write directly with
    `session=tx.session`; they publish with `emit`. All of it commits together or
    not at all (transactional outbox).
    """

    session: AsyncClientSession
    db: AsyncDatabase
    source: str
    cause: Envelope | None = None
    pending: Pending = field(default_factory=Pending)

    def emit(self, payload: Event, commune: str | None = None) -> Envelope:
        """Queue `payload` for publication once the transaction commits."""
        commune = commune or (self.cause.commune if self.cause else None)
        if commune is None:
            raise ValueError("an event without a cause needs its commune")
        envelope = Envelope.wrap(payload, source=self.source, commune=commune, cause=self.cause)
        self.pending.outbox.append(outbox_record(envelope, payload.TOPIC.name))
        return envelope

    async def prefetch(self, collection: str, keys: list[str]) -> None:
        """Read the documents of a whole batch in one round trip."""
        cache = self.pending.documents.setdefault(collection, {})
        wanted = [k for k in keys if k not in cache]
        found = {d["_id"]: d async for d in self.db[collection].find({"_id": {"$in": wanted}}, session=self.session)}
        for key in wanted:
            cache[key] = found.get(key)

    async def load(self, collection: str, key: str) -> dict[str, Any] | None:
        """The document `key` as this transaction sees it (changes saved earlier in the batch included)."""
        cache = self.pending.documents.setdefault(collection, {})
        if key not in cache:
            cache[key] = await self.db[collection].find_one({"_id": key}, session=self.session)
        return cache[key]

    def save(self, collection: str, document: dict[str, Any]) -> None:
        """Write `document` (whole, by `_id`) when the transaction ends."""
        self.pending.documents.setdefault(collection, {})[document["_id"]] = document
        self.pending.changed.setdefault(collection, set()).add(document["_id"])

    def defer(self, collection: str, operation: Any) -> None:
        """Write `operation` (a PyMongo bulk operation) with the rest of the batch, in one round trip.

        Far cheaper than a write per event; only for data no later event of the
        same batch reads back.
        """
        self.pending.writes.setdefault(collection, []).append(operation)


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
