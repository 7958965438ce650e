"""The unit of work: what one transaction reads, changes and emits.

Handlers and HTTP actions keep state with `load`/`save` (one read and one write per
document per batch, however many events of the batch touch it), `add` documents they
never read back, and publish with `emit`. All of it commits together or not at all:
the transactional outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from motcua_contracts import Envelope, Event

from .documents import Document, Order, Where, Writer
from .telemetry import current_trace_headers

INBOX = "inbox"  # ids of handled events: redelivery has no second effect
OUTBOX = "outbox"  # events written with the state change, published by the relay


def outbox_record(envelope: Envelope, topic: str) -> Document:
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
    """What a transaction writes at its end: changed documents, added documents, the outbox."""

    documents: dict[str, dict[Any, Document | None]] = field(default_factory=dict)
    changed: dict[str, set[Any]] = field(default_factory=dict)
    added: dict[str, list[Document]] = field(default_factory=dict)
    outbox: list[Document] = field(default_factory=list)

    def clear(self) -> None:
        for part in (self.documents, self.changed, self.added, self.outbox):
            part.clear()

    async def flush(self, writer: Writer) -> None:
        for collection, keys in self.changed.items():
            cache = self.documents[collection]
            await writer.put(collection, [cache[k] for k in sorted(keys, key=str) if cache[k] is not None])
        for collection, documents in self.added.items():
            await writer.insert(collection, documents)
        await writer.insert(OUTBOX, self.outbox)


@dataclass
class Tx:
    """One unit of work inside a transaction: state changes plus events to emit."""

    writer: Writer
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

    async def prefetch(self, collection: str, keys: list[Any]) -> None:
        """Read the documents of a whole batch in one round trip."""
        cache = self.pending.documents.setdefault(collection, {})
        wanted = [k for k in dict.fromkeys(keys) if k not in cache]
        found = await self.writer.get_many(collection, wanted)
        for key in wanted:
            cache[key] = found.get(key)

    async def load(self, collection: str, key: Any) -> Document | None:
        """The document `key` as this transaction sees it (changes saved earlier in the batch included)."""
        cache = self.pending.documents.setdefault(collection, {})
        if key not in cache:
            cache[key] = await self.writer.get(collection, key)
        return cache[key]

    def save(self, collection: str, document: Document) -> None:
        """Write `document` (whole, by `_id`) when the transaction ends."""
        self.pending.documents.setdefault(collection, {})[document["_id"]] = document
        self.pending.changed.setdefault(collection, set()).add(document["_id"])

    def add(self, collection: str, document: Document) -> None:
        """Insert a new document when the transaction ends (for records no later event of the batch reads)."""
        self.pending.added.setdefault(collection, []).append(document)

    async def find(
        self, collection: str, where: Where | None = None, *, order: Order = (), limit: int = 0
    ) -> list[Document]:
        """Query the database as it stood before this transaction's pending changes."""
        return await self.writer.find(collection, where, order=order, limit=limit)

    async def insert_now(self, collection: str, document: Document) -> None:
        """Insert at once; `Duplicate` if its `_id` is taken (a unique claim, e.g. an idempotency key)."""
        await self.writer.insert(collection, [document])

    async def increment(self, collection: str, key: Any, field: str = "value") -> int:
        """A counter's next value, inside the transaction (so gap-free)."""
        return await self.writer.increment(collection, key, field)
