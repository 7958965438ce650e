"""A service's own database, narrowed to what services use: documents by key, simple
queries, atomic counters (optionally expiring), transactions.

Two adapters keep the same contract (`tests/contract/test_documents.py` runs both):

- `MongoDocuments`: MongoDB through PyMongo's async API; transactions are MongoDB's
  multi-document transactions (a write conflict is retried by the driver).
- `MemoryDocuments`: plain dictionaries, for the fast tests; transactions run one at a
  time and roll back on error.

Queries (`Where`) use the MongoDB query language, limited to what both adapters
implement: equality (a list field matches if it contains the value), `$in`, `$nin`,
`$ne`, `$lt`, `$lte`, `$gt`, `$gte`, on top-level or dotted fields. Unique keys are
`_id`s: a service that needs another unique value builds the `_id` from it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pymongo import ASCENDING, AsyncMongoClient, ReplaceOne, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

T = TypeVar("T")
DURABLE = WriteConcern("majority", j=True)
MAJORITY_READ = ReadConcern("majority")
Document = dict[str, Any]
Where = Mapping[str, Any]
Order = Sequence[tuple[str, int]]  # (field, 1 ascending | -1 descending)
EXPIRES_AT = "expires_at"  # when a document of an expiring collection may be removed


class Duplicate(Exception):
    """A document with this `_id` exists already."""


class Reader(Protocol):
    async def get(self, collection: str, key: Any) -> Document | None: ...

    async def get_many(self, collection: str, keys: Iterable[Any]) -> dict[Any, Document]: ...

    async def find(
        self, collection: str, where: Where | None = None, *, order: Order = (), limit: int = 0
    ) -> list[Document]: ...


class Writer(Reader, Protocol):
    """Reads and writes; inside a transaction they commit together or not at all."""

    async def insert(self, collection: str, documents: Sequence[Document]) -> None:
        """Add new documents; `Duplicate` if one's `_id` is taken."""

    async def put(self, collection: str, documents: Sequence[Document]) -> None:
        """Write whole documents by `_id`, replacing or creating them."""

    async def delete(self, collection: str, keys: Iterable[Any]) -> None: ...

    async def increment(
        self, collection: str, key: Any, field: str, by: int = 1, *, expires_at: datetime | None = None
    ) -> int:
        """Add `by` to a counter (created at 0) and return its new value; a counter created here
        carries `expires_at` (for a collection that `expire`s)."""


class Documents(Writer, Protocol):
    """The service's database: writes outside `transaction` apply one call at a time."""

    async def transaction(self, work: Callable[[Writer], Awaitable[T]]) -> T: ...

    async def index(self, collection: str, fields: Order) -> None:
        """A (non-unique) index that the service's queries need."""

    async def expire(self, collection: str) -> None:
        """Documents of `collection` are removed some time after their `expires_at` (MongoDB's TTL
        monitor looks once a minute; in memory, where a database lives as long as a test, never)."""

    async def drop(self, collection: str) -> None:
        """Remove a whole collection (a read model's superseded generation)."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


# --- MongoDB -------------------------------------------------------------------------


class MongoWriter:
    """Collections of one database, optionally inside a session's transaction."""

    def __init__(self, db: AsyncDatabase, session: AsyncClientSession | None = None) -> None:
        self.db, self.session = db, session

    async def get(self, collection: str, key: Any) -> Document | None:
        return await self.db[collection].find_one({"_id": key}, session=self.session)

    async def get_many(self, collection: str, keys: Iterable[Any]) -> dict[Any, Document]:
        wanted = list(keys)
        if not wanted:
            return {}
        cursor = self.db[collection].find({"_id": {"$in": wanted}}, session=self.session)
        return {document["_id"]: document async for document in cursor}

    async def find(
        self, collection: str, where: Where | None = None, *, order: Order = (), limit: int = 0
    ) -> list[Document]:
        cursor = self.db[collection].find(dict(where or {}), session=self.session)
        if order:
            cursor = cursor.sort(list(order))
        return await cursor.limit(limit).to_list(None)

    async def insert(self, collection: str, documents: Sequence[Document]) -> None:
        if not documents:
            return
        try:
            await self.db[collection].insert_many(list(documents), ordered=True, session=self.session)
        except (DuplicateKeyError, BulkWriteError) as error:
            if isinstance(error, BulkWriteError) and not _only_duplicates(error):
                raise
            raise Duplicate(f"{collection}: a document with this _id exists already") from None

    async def put(self, collection: str, documents: Sequence[Document]) -> None:
        if documents:
            replace = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in documents]
            await self.db[collection].bulk_write(replace, ordered=True, session=self.session)

    async def delete(self, collection: str, keys: Iterable[Any]) -> None:
        if wanted := list(keys):
            await self.db[collection].delete_many({"_id": {"$in": wanted}}, session=self.session)

    async def increment(
        self, collection: str, key: Any, field: str, by: int = 1, *, expires_at: datetime | None = None
    ) -> int:
        update: Document = {"$inc": {field: by}}
        if expires_at is not None:
            update["$setOnInsert"] = {EXPIRES_AT: expires_at}
        counter = await self.db[collection].find_one_and_update(
            {"_id": key}, update, upsert=True, return_document=ReturnDocument.AFTER, session=self.session
        )
        return counter[field]


class MongoDocuments(MongoWriter):
    """The service's own MongoDB database; no other service reads it.

    Durable before anything leaves: every write and transaction is acknowledged only once
    journaled on a majority (`w: majority, j: true`), and reads see only majority-committed
    data, so the outbox relay never publishes, and the consumer never commits an offset for,
    a change a crash of the database could still take back.
    """

    def __init__(self, url: str, database: str) -> None:
        self.client: AsyncMongoClient = AsyncMongoClient(
            url, tz_aware=True, appname=database, w="majority", journal=True, readConcernLevel="majority"
        )
        super().__init__(self.client[database])

    async def transaction(self, work: Callable[[Writer], Awaitable[T]]) -> T:
        """Run `work` in a transaction; transient conflicts are retried (from the start) by the driver."""
        async with self.client.start_session() as session:
            return await session.with_transaction(
                lambda s: work(MongoWriter(self.db, s)), read_concern=MAJORITY_READ, write_concern=DURABLE
            )

    async def increment(
        self, collection: str, key: Any, field: str, by: int = 1, *, expires_at: datetime | None = None
    ) -> int:
        """Outside a transaction, each increment is a transaction of its own: concurrent first
        increments of a counter conflict and are retried, so each counts once."""
        return await self.transaction(
            lambda writer: writer.increment(collection, key, field, by, expires_at=expires_at)
        )

    async def index(self, collection: str, fields: Order) -> None:
        await self.db[collection].create_index([(name, direction or ASCENDING) for name, direction in fields])

    async def expire(self, collection: str) -> None:
        await self.db[collection].create_index([(EXPIRES_AT, ASCENDING)], expireAfterSeconds=0)

    async def drop(self, collection: str) -> None:
        await self.db.drop_collection(collection)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()


def _only_duplicates(error: BulkWriteError) -> bool:
    return all(e.get("code") == 11000 for e in error.details.get("writeErrors", []))


# --- in memory -------------------------------------------------------------------------


class MemoryWriter:
    """Dictionaries of documents; a transaction writes to `staged` and merges on success."""

    def __init__(
        self, data: dict[str, dict[Any, Document]], staged: dict[str, dict[Any, Document | None]] | None = None
    ) -> None:
        self.data, self.staged = data, staged

    def _view(self, collection: str) -> dict[Any, Document]:
        base = self.data.get(collection, {})
        changes = (self.staged or {}).get(collection)
        if not changes:
            return base
        merged = dict(base)
        for key, document in changes.items():
            if document is None:
                merged.pop(key, None)
            else:
                merged[key] = document
        return merged

    def _write(self, collection: str, key: Any, document: Document | None) -> None:
        document = None if document is None else _as_stored(document)
        if self.staged is not None:
            self.staged.setdefault(collection, {})[key] = document
        elif document is None:
            self.data.get(collection, {}).pop(key, None)
        else:
            self.data.setdefault(collection, {})[key] = document

    async def get(self, collection: str, key: Any) -> Document | None:
        found = self._view(collection).get(key)
        return copy.deepcopy(found)

    async def get_many(self, collection: str, keys: Iterable[Any]) -> dict[Any, Document]:
        view = self._view(collection)
        return {key: copy.deepcopy(view[key]) for key in keys if key in view}

    async def find(
        self, collection: str, where: Where | None = None, *, order: Order = (), limit: int = 0
    ) -> list[Document]:
        found = [d for d in self._view(collection).values() if matches(d, where or {})]
        for field, direction in reversed(order):
            found.sort(key=lambda d, f=field: _sort_key(_value(d, f)), reverse=direction < 0)
        return copy.deepcopy(found[:limit] if limit else found)

    async def insert(self, collection: str, documents: Sequence[Document]) -> None:
        view = self._view(collection)
        keys = [d["_id"] for d in documents]
        if len(set(keys)) != len(keys) or any(key in view for key in keys):
            raise Duplicate(f"{collection}: a document with this _id exists already")
        for document in documents:
            self._write(collection, document["_id"], document)

    async def put(self, collection: str, documents: Sequence[Document]) -> None:
        for document in documents:
            self._write(collection, document["_id"], document)

    async def delete(self, collection: str, keys: Iterable[Any]) -> None:
        for key in list(keys):
            self._write(collection, key, None)

    async def increment(
        self, collection: str, key: Any, field: str, by: int = 1, *, expires_at: datetime | None = None
    ) -> int:
        counter = self._view(collection).get(key) or {"_id": key, **({EXPIRES_AT: expires_at} if expires_at else {})}
        value = counter.get(field, 0) + by
        self._write(collection, key, {**counter, field: value})
        return value


class MemoryDocuments(MemoryWriter):
    """An in-memory database for the fast tests: same contract, no server."""

    def __init__(self) -> None:
        super().__init__({})
        self._lock = asyncio.Lock()

    async def transaction(self, work: Callable[[Writer], Awaitable[T]]) -> T:
        async with self._lock:  # one at a time: what MongoDB's conflict retries amount to
            staged: dict[str, dict[Any, Document | None]] = {}
            result = await work(MemoryWriter(self.data, staged))
            committed = MemoryWriter(self.data)
            for collection, changes in staged.items():
                for key, document in changes.items():
                    committed._write(collection, key, document)
            return result

    async def index(self, collection: str, fields: Order) -> None:
        return None

    async def expire(self, collection: str) -> None:
        return None

    async def drop(self, collection: str) -> None:
        async with self._lock:
            self.data.pop(collection, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


# --- the query subset -----------------------------------------------------------------


def _value(document: Mapping[str, Any], path: str) -> Any:
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _candidates(value: Any) -> list[Any]:
    """A list field matches by any of its elements, as in MongoDB."""
    return [value, *value] if isinstance(value, list) else [value]


def _compare(operator: str, value: Any, expected: Any) -> bool:
    if operator == "$all":
        held = value if isinstance(value, list) else [value]
        return all(item in held for item in expected)
    if operator == "$in":
        return any(v in expected for v in _candidates(value))
    if operator == "$nin":
        return not any(v in expected for v in _candidates(value))
    if operator == "$ne":
        return all(v != expected for v in _candidates(value))
    if operator in ("$lt", "$lte", "$gt", "$gte"):
        for v in _candidates(value):
            if v is None or expected is None or not _comparable(v, expected):
                continue
            if {"$lt": v < expected, "$lte": v <= expected, "$gt": v > expected, "$gte": v >= expected}[operator]:
                return True
        return False
    raise ValueError(f"query operator {operator} is not supported")


def _comparable(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (
        (isinstance(a, numbers) and isinstance(b, numbers))
        or type(a) is type(b)
        or (isinstance(a, datetime) and isinstance(b, datetime))
    )


def matches(document: Mapping[str, Any], where: Where) -> bool:
    """True if `document` satisfies `where` (the supported subset of MongoDB's query language)."""
    for path, condition in where.items():
        value = _value(document, path)
        if isinstance(condition, Mapping) and condition and all(k.startswith("$") for k in condition):
            if not all(_compare(op, value, expected) for op, expected in condition.items()):
                return False
        elif not any(v == condition for v in _candidates(value)):
            return False
    return True


def _as_stored(value: Any) -> Any:
    """A copy of `value` as it comes back from MongoDB: times in UTC to the millisecond, tuples as lists."""
    if isinstance(value, Mapping):
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_stored(item) for item in value]
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return copy.deepcopy(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    """MongoDB's order across types, for the types services store: null, numbers, strings, dates."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (5, value)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, datetime):
        return (4, value)
    return (3, str(value))
